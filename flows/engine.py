"""Take one turn of a conversation: saved position + the person's input -> what next.

The engine is pure. It never touches Telegram, a database or a file: an adapter
gives it the person's saved position and one action (:mod:`flows.turns`), and
gets back a turn saying what to show, which answers to save and where the
person now is. Storage commits that before the adapter replies.

The engine composes the parts that each do one job, all built once when
content loads and shared by everyone:

- :mod:`flows.machine`: one ``transitions`` machine per flow, where to go next;
- :mod:`flows.reading`: what the person typed or pressed, as an answer;
- :mod:`flows.prompts`: the question with its buttons, answers in words.

What is left here is the turn itself: navigation (back, skip, pause, start
again), answering, checklists, "add another?", and moving on through messages
to the next question. Bad input is never an error here: it is a re-ask with a
kind explanation, and the position and answers stay exactly as they were.
"""

from __future__ import annotations

from typing import Any

from flows.catalog import Catalog
from flows.machine import AGAIN, FlowMachine, step_of, valid_state
from flows.prompts import Prompts
from flows.reading import Words, clean_text, match_option, read_answer
from flows.schema import END, NONE_OPTION, Flow, Step, StepType
from flows.turns import (
    BACK,
    DONE,
    KEEP,
    MORE_NO,
    MORE_YES,
    NAVIGATION,
    PAUSE,
    RESTART,
    WHY,
    Action,
    Button,
    Context,
    Position,
    Pressed,
    Turn,
    Typed,
)


class Engine:
    """Runs turns for every flow in a catalog. Build once; share freely."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.machines = {flow_id: FlowMachine(flow) for flow_id, flow in catalog.flows.items()}
        self.prompts = Prompts(catalog)
        self.words = Words(catalog.ui)
        self._steps = self.prompts.steps

    # ----------------------------------------------------------------- entry points

    def start(self, flow_id: str, context: Context, last_time: dict[str, Any] | None = None) -> Turn:
        """Begin a flow from its first step. ``last_time``: the answers of the person's last
        finished run of it, which each question then offers to keep."""
        flow = self.catalog.flows[flow_id]
        position = Position(flow=flow_id, step=flow.steps[0].id, last_time=dict(last_time or {}))
        turn = Turn(position=position, status="active")
        if position.last_time:
            turn.messages.append(self._ui("doing_again", context))
        self._settle(flow, turn, context)
        return turn

    def show(self, position: Position, context: Context) -> Turn:
        """Ask the current question again (after a pause, a restart, or a stray message)."""
        flow = self.catalog.flows[position.flow]
        turn = Turn(position=position.copy(), status="active")
        self._settle(flow, turn, context)
        return turn

    def take(self, position: Position, action: Action, context: Context) -> Turn:
        """One turn: apply the person's action to their saved position."""
        flow = self.catalog.flows.get(position.flow)
        if flow is None or not valid_state(self._steps[flow.id], position.step):
            # Content changed under a saved position (a step was removed):
            # start the flow again, keeping nothing from the stale position.
            # Answers already committed stay in storage.
            turn = self.start(position.flow, context) if flow else None
            if turn is None:
                raise KeyError(position.flow)
            turn.status = "restarted"
            turn.messages.insert(0, self._ui("content_changed", context))
            return turn
        turn = Turn(position=position.copy(), status="active")
        if turn.position.step == END:
            turn.status = "finished"
            return turn
        if isinstance(action, Pressed) and action.button in NAVIGATION:
            return self._navigate(flow, turn, action.button, context)
        step_id, asking_again = step_of(turn.position.step)
        step = self._steps[flow.id][step_id]
        if isinstance(action, Pressed) and action.button == WHY and step.why:
            turn.messages.append(step.why.get(context.language))
            turn.prompt = self.prompts.prompt(flow, step, turn.position, context)
            return turn
        if asking_again:
            self._more(flow, step, turn, action, context)
        elif step.type is StepType.message:
            self._advance(flow, step, turn, context)
        else:
            self._answer(flow, step, turn, action, context)
        return turn

    def describe(self, flow: Flow, step_id: str, answers: dict[str, Any], language: str) -> str:
        """An answer in words, in the person's language (for quoting and summaries)."""
        return self.prompts.describe(flow, step_id, answers, language)

    def answer_options(self, flow: Flow, source: str, answers: dict[str, Any], language: str) -> list[Button]:
        """Earlier answers offered as options: chosen options keep their id, typed items get ``step.n``."""
        return self.prompts.answer_options(flow, source, answers, language)

    # ----------------------------------------------------------------- navigation

    def _navigate(self, flow: Flow, turn: Turn, button: str, context: Context) -> Turn:
        position = turn.position
        step_id, asking_again = step_of(position.step)
        step = self._steps[flow.id][step_id]
        if button == PAUSE:
            turn.status = "paused"
            turn.messages.append(self._ui("paused", context, flow=flow.title.get(context.language)))
            return turn
        if button == RESTART:
            fresh = self.start(flow.id, context, position.last_time)
            fresh.position.about = dict(position.about)
            fresh.status = "restarted"
            fresh.messages.insert(0, self._ui("restarted", context))
            return fresh
        if button == BACK:
            if asking_again:
                # "Add another?" -> back to the last item, to change it.
                position.step = step_id
                position.revisiting = True
            elif position.history:
                position.step = position.history.pop()
                position.revisiting = True
                previous = self._steps[flow.id][step_of(position.step)[0]]
                if previous.type is StepType.checklist:
                    position.ticks = list(position.answers.get(previous.id) or [])
            else:
                turn.problem = "first_question"
                turn.messages.append(self._ui("first_question", context))
                turn.prompt = self.prompts.prompt(flow, step, position, context)
                return turn
            self._settle(flow, turn, context)
            return turn
        # SKIP
        if asking_again:
            return self._take_more(flow, turn, False, context)
        if step.required:
            turn.problem = "required"
            turn.messages.append(self._ui("required", context))
            turn.prompt = self.prompts.prompt(flow, step, position, context)
            return turn
        # Skipping never removes an answer given before: it only moves on.
        # At a repeating step it also ends the "add another?" loop.
        self._advance(flow, step, turn, context, leave_loop=True)
        return turn

    # ----------------------------------------------------------------- answering

    def _answer(self, flow: Flow, step: Step, turn: Turn, action: Action, context: Context) -> None:
        position = turn.position
        if isinstance(action, Pressed) and action.button == KEEP and step.id in position.answers:
            self._advance(flow, step, turn, context)
            return
        if isinstance(action, Pressed) and action.button == KEEP and self.prompts.offers_last_time(step, position):
            # Doing the part again: the earlier answer is kept, as this run's own.
            self._save(turn, step.id, position.last_time[step.id])
            self._advance(flow, step, turn, context)
            return
        if step.type is StepType.checklist:
            self._checklist(flow, step, turn, action, context)
            return
        if step.can_say_none and isinstance(action, Typed) and self.words.says_none(action.text):
            # "Is there anything else?" - "No": nothing to save, and no "No" on the summary.
            turn.messages.append(self._ui("nothing_to_add", context))
            self._advance(flow, step, turn, context, leave_loop=True)
            return
        if step.type is StepType.text:
            options: list[Button] = []
            suggestion = self.prompts.suggestion(flow, step, position, context) if isinstance(action, Pressed) else None
        else:
            options, suggestion = self.prompts.options(flow, step, position, context), None
        value, problem, params = read_answer(step, action, options, suggestion, self.words, context)
        if problem is not None:
            self._reask(flow, step, turn, problem, context, **params)
            return
        leave_loop = False
        if step.repeat:
            items = list(position.answers.get(step.id) or [])
            if position.revisiting and items:
                items[-1] = value
            else:
                items.append(value)
            value = items
            leave_loop = len(items) >= step.repeat.max
        self._save(turn, step.id, value)
        self._advance(flow, step, turn, context, leave_loop=leave_loop)

    def _checklist(self, flow: Flow, step: Step, turn: Turn, action: Action, context: Context) -> None:
        position = turn.position
        options = self.prompts.options(flow, step, position, context)
        ids = [button.id for button in options]
        if isinstance(action, Pressed) and action.button == DONE:
            picked = [option_id for option_id in ids if option_id in position.ticks]
            if not picked and step.required:
                self._reask(flow, step, turn, "pick_one", context)
                return
            position.ticks = []
            if picked:
                self._save(turn, step.id, picked)
            self._advance(flow, step, turn, context)
            return
        # "+id" ticks and "-id" unticks whatever the state: a button that says what it
        # does, so a double tap (two presses of the same old button) changes it once.
        # A plain id toggles (typed numbers in the console).
        wanted: bool | None = None
        if isinstance(action, Pressed):
            button = action.button
            if button[:1] in ("+", "-") and button[1:] in ids:
                wanted, button = button[0] == "+", button[1:]
            chosen = button if button in ids else None
        else:
            chosen = match_option(clean_text(action.text), options, {})
        if chosen is None:
            self._reask(flow, step, turn, "tick_then_done", context)
            return
        ticked = chosen in position.ticks
        if wanted is None:
            wanted = not ticked
        if wanted and not ticked:
            if step.max_picks is not None and len(position.ticks) >= step.max_picks:
                self._reask(flow, step, turn, "pick_limit", context, limit=step.max_picks)
                return
            position.ticks = [*position.ticks, chosen]
            if step.can_say_none:
                # "None of these" stands alone: it unticks the others, and another tick unticks it.
                position.ticks = [tick for tick in position.ticks if (tick == NONE_OPTION) == (chosen == NONE_OPTION)]
        elif not wanted and ticked:
            position.ticks = [tick for tick in position.ticks if tick != chosen]
        turn.prompt = self.prompts.prompt(flow, step, position, context)

    def _more(self, flow: Flow, step: Step, turn: Turn, action: Action, context: Context) -> None:
        """Answer to "add another?" after a repeating step."""
        if isinstance(action, Pressed) and action.button in (MORE_YES, MORE_NO):
            self._take_more(flow, turn, action.button == MORE_YES, context)
            return
        if isinstance(action, Typed):
            match = match_option(clean_text(action.text), (), self.words.yes_no())
            if match in ("yes", "no"):
                self._take_more(flow, turn, match == "yes", context)
                return
        turn.problem = "unknown_option"
        turn.messages.append(self._ui("unknown_option", context))
        self._settle(flow, turn, context)

    def _take_more(self, flow: Flow, turn: Turn, more: bool, context: Context) -> Turn:
        position = turn.position
        machine = self.machines[flow.id]
        position.revisiting = False
        position.history.append(position.step)
        if more:
            position.step = machine.again_state(position.step, position.answers)
        else:
            position.step = machine.next_state(position.step, position.answers)
        self._settle(flow, turn, context)
        return turn

    # ----------------------------------------------------------------- moving on

    def _save(self, turn: Turn, key: str, value: Any) -> None:
        turn.position.answers[key] = value
        turn.saved[key] = value

    def _advance(self, flow: Flow, step: Step, turn: Turn, context: Context, leave_loop: bool = False) -> None:
        """Leave the current step by the machine's ``next`` transition.

        A repeating step goes on to "add another?" unless ``leave_loop`` (the
        person skipped, or the list is full), which leaves from that state.
        """
        position = turn.position
        position.history.append(position.step)
        position.revisiting = False
        position.ticks = []
        state = position.step
        if step.repeat and (leave_loop or not position.answers.get(step.id)):
            state = step.id + AGAIN
        position.step = self.machines[flow.id].next_state(state, position.answers)
        self._settle(flow, turn, context)

    def _settle(self, flow: Flow, turn: Turn, context: Context) -> None:
        """Say any messages on the way, then stop at the next question (or the end)."""
        position = turn.position
        machine = self.machines[flow.id]
        prompts = self.prompts
        for _ in range(len(flow.steps) * 2 + 2):
            if position.step == END:
                turn.status = "finished"
                turn.prompt = None
                done = flow.done.get(context.language) if flow.done else self._ui("flow_done", context)
                turn.messages.append(prompts.quote(flow, done, position, context))
                return
            step_id, asking_again = step_of(position.step)
            step = self._steps[flow.id][step_id]
            if step.stop_reminder and not context.reminded:
                turn.reminded = True
            if step.type is StepType.message and not step.wait:
                turn.messages.append(prompts.quote(flow, prompts.said(step, context), position, context))
                position.step = machine.next_state(position.step, position.answers)
                continue
            if (
                step.type in (StepType.choice, StepType.checklist)
                and not asking_again
                and not prompts.options(flow, step, position, context)
            ):
                # Nothing to choose from (earlier steps were skipped): move on quietly.
                position.step = machine.next_state(position.step, position.answers)
                continue
            turn.prompt = prompts.prompt(flow, step, position, context, asking_again=asking_again)
            return
        raise RuntimeError(f"flow '{flow.id}' loops through messages without a question")

    def _reask(self, flow: Flow, step: Step, turn: Turn, problem: str, context: Context, **params: Any) -> None:
        turn.problem = problem
        turn.messages.append(self._ui(problem, context, **params))
        turn.prompt = self.prompts.prompt(flow, step, turn.position, context)

    def _ui(self, key: str, context: Context, **params: Any) -> str:
        return self.prompts.ui(key, context, **params)
