"""Take one turn of a conversation: saved position + the person's input -> what next.

The engine is pure. It never touches Telegram, a database or a file: an adapter
gives it the person's saved :class:`Position` and one :class:`Action`, and gets
back a :class:`Turn` saying what to show, which answers to save and where the
person now is. Storage commits that before the adapter replies.

One ``transitions`` machine per flow is built once, when content loads
(:class:`FlowMachine`). Each turn lends the machine a tiny throw-away model
holding the person's state and answers, so a turn costs microseconds and no
machine is ever built per person.

Bad input is never an error here: it is a re-ask with a kind explanation, and
the position and answers stay exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from transitions import Machine

from flows.catalog import Catalog
from flows.schema import END, QUOTE, Flow, Step, StepType

AGAIN = "__again"
"""Suffix of the machine state that asks "add another?" after a repeating step."""

# Button ids for navigation. They start with "~" so they never clash with
# option ids, which content writes as plain lowercase words.
BACK, SKIP, PAUSE, RESTART = "~back", "~skip", "~pause", "~restart"
DONE, NEXT, KEEP, WHY = "~done", "~next", "~keep", "~why"
USE_SUGGESTION, MORE_YES, MORE_NO = "~suggested", "~more", "~enough"
NAVIGATION = frozenset({BACK, SKIP, PAUSE, RESTART})

Status = Literal["active", "paused", "finished", "restarted"]


@dataclass(slots=True)
class Position:
    """Where one person is in one flow, as plain data (saved as JSON).

    ``answers`` is this run's working copy of the answers, so a turn needs one
    read; every change to it is also written as an answer row in the same
    transaction.
    """

    flow: str
    step: str
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    ticks: list[str] = field(default_factory=list)
    revisiting: bool = False
    about: dict[str, Any] = field(default_factory=dict)
    """What this run is about when that is not the person answering (e.g. the
    person a care coordinator is reviewing with). Set by the service, carried
    unchanged by the engine, handed to listeners when the flow is finished."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "answers": self.answers,
            "history": self.history,
            "ticks": self.ticks,
            "revisiting": self.revisiting,
            "about": self.about,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Position:
        return cls(
            flow=data["flow"],
            step=data["step"],
            answers=dict(data.get("answers") or {}),
            history=list(data.get("history") or []),
            ticks=list(data.get("ticks") or []),
            revisiting=bool(data.get("revisiting", False)),
            about=dict(data.get("about") or {}),
        )


@dataclass(frozen=True, slots=True)
class Typed:
    """Text the person typed."""

    text: str


@dataclass(frozen=True, slots=True)
class Pressed:
    """A button the person pressed: an option id or a navigation id."""

    button: str


Action = Typed | Pressed


@dataclass(frozen=True, slots=True)
class Context:
    """What a turn needs from outside: the person's language, today's date, and
    their latest finished answers in other flows this flow quotes (flow id ->
    step id -> value)."""

    language: str = "en"
    today: dt.date = field(default_factory=dt.date.today)
    earlier: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Button:
    id: str
    label: str
    ticked: bool = False


@dataclass(frozen=True, slots=True)
class Prompt:
    """The question now waiting for the person, ready to render in any adapter."""

    step: str
    kind: StepType
    text: str
    options: tuple[Button, ...] = ()
    navigation: tuple[Button, ...] = ()
    max_length: int | None = None
    hint: str | None = None
    shared: bool = field(default=False, compare=False)
    """Built once from the content and shown to everyone at this step: it holds
    nothing a person wrote, so adapters may keep it (rendered) as long as they like."""


@dataclass(slots=True)
class Turn:
    """The result of one turn. ``saved`` holds answers to write, by step id."""

    position: Position
    status: Status
    messages: list[str] = field(default_factory=list)
    prompt: Prompt | None = None
    saved: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    """Why the input was not accepted (a ui text key), or None."""


class _Model:
    """The per-turn model lent to a shared machine: just a state and the answers."""

    __slots__ = ("answers", "state")

    def __init__(self, state: str, answers: dict[str, Any]) -> None:
        self.state = state
        self.answers = answers


class FlowMachine:
    """One flow's states and transitions, built once and shared by everyone.

    States are the step ids, ``<id>__again`` for repeating steps, and ``end``.
    The ``next`` trigger follows the flow's rules (conditions are checked on
    the model's answers, first match wins); ``again`` loops a repeating step.
    """

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        states = [step.id for step in flow.steps]
        states += [step.id + AGAIN for step in flow.steps if step.repeat]
        states.append(END)
        self.machine = Machine(
            model=None,
            states=states,
            initial=flow.steps[0].id,
            auto_transitions=False,
            send_event=True,
        )
        for step in flow.steps:
            source = step.id
            if step.repeat:
                self.machine.add_transition("next", step.id, step.id + AGAIN)
                self.machine.add_transition("again", step.id + AGAIN, step.id)
                source = step.id + AGAIN
            for rule in step.next_rules(flow.following(step.id)):
                conditions = [_condition(rule.when)] if rule.when else []
                self.machine.add_transition("next", source, rule.go, conditions=conditions)
        self._next = self.machine.events["next"]
        self._again = self.machine.events["again"] if any(s.repeat for s in flow.steps) else None

    def next_state(self, state: str, answers: dict[str, Any]) -> str:
        model = _Model(state, answers)
        self._next.trigger(model)
        return model.state

    def again_state(self, state: str, answers: dict[str, Any]) -> str:
        model = _Model(state, answers)
        assert self._again is not None
        self._again.trigger(model)
        return model.state

    def transitions(self) -> list[tuple[str, str, str, bool]]:
        """(trigger, source, dest, conditional) for every transition, for graphs and checks."""
        out = []
        for name, event in self.machine.events.items():
            for source, transitions in event.transitions.items():
                for transition in transitions:
                    out.append((name, source, transition.dest, bool(transition.conditions)))
        return out


def _condition(conditions: list[Any]) -> Any:
    def holds(event_data: Any) -> bool:
        answers = event_data.model.answers
        return all(condition.holds(answers) for condition in conditions)

    return holds


def step_of(state: str) -> tuple[str, bool]:
    """Split a machine state into (step id, asking "add another?")."""
    if state.endswith(AGAIN):
        return state[: -len(AGAIN)], True
    return state, False


class Engine:
    """Runs turns for every flow in a catalog. Build once; share freely."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.machines = {flow_id: FlowMachine(flow) for flow_id, flow in catalog.flows.items()}
        self._steps = {flow_id: {step.id: step for step in flow.steps} for flow_id, flow in catalog.flows.items()}
        self._fixed_options: dict[tuple[str, str, str], tuple[Button, ...]] = {}
        self._ui_cache: dict[tuple[str, str], str] = {}
        self._prompt_cache: dict[tuple[Any, ...], Prompt] = {}
        self._static = {
            flow_id: {step.id: _is_static(step) for step in flow.steps} for flow_id, flow in catalog.flows.items()
        }

    # ----------------------------------------------------------------- entry points

    def start(self, flow_id: str, context: Context) -> Turn:
        """Begin a flow from its first step."""
        flow = self.catalog.flows[flow_id]
        position = Position(flow=flow_id, step=flow.steps[0].id)
        turn = Turn(position=position, status="active")
        self._settle(flow, turn, context)
        return turn

    def show(self, position: Position, context: Context) -> Turn:
        """Ask the current question again (after a pause, a restart, or a stray message)."""
        flow = self.catalog.flows[position.flow]
        turn = Turn(position=_copy(position), status="active")
        self._settle(flow, turn, context)
        return turn

    def take(self, position: Position, action: Action, context: Context) -> Turn:
        """One turn: apply the person's action to their saved position."""
        flow = self.catalog.flows.get(position.flow)
        if flow is None or not self._valid_state(flow, position.step):
            # Content changed under a saved position (a step was removed):
            # start the flow again, keeping nothing from the stale position.
            # Answers already committed stay in storage.
            turn = self.start(position.flow, context) if flow else None
            if turn is None:
                raise KeyError(position.flow)
            turn.status = "restarted"
            turn.messages.insert(0, self._ui("content_changed", context))
            return turn
        turn = Turn(position=_copy(position), status="active")
        if turn.position.step == END:
            turn.status = "finished"
            return turn
        if isinstance(action, Pressed) and action.button in NAVIGATION:
            return self._navigate(flow, turn, action.button, context)
        step_id, asking_again = step_of(turn.position.step)
        step = self._steps[flow.id][step_id]
        if isinstance(action, Pressed) and action.button == WHY and step.why:
            turn.messages.append(step.why.get(context.language))
            turn.prompt = self._prompt(flow, step, turn.position, context)
            return turn
        if asking_again:
            self._more(flow, step, turn, action, context)
        elif step.type is StepType.message:
            self._advance(flow, step, turn, context)
        else:
            self._answer(flow, step, turn, action, context)
        return turn

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
            fresh = self.start(flow.id, context)
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
                turn.prompt = self._prompt(flow, step, position, context)
                return turn
            self._settle(flow, turn, context)
            return turn
        # SKIP
        if asking_again:
            return self._take_more(flow, step, turn, False, context)
        if step.required:
            turn.problem = "required"
            turn.messages.append(self._ui("required", context))
            turn.prompt = self._prompt(flow, step, position, context)
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
        if step.type is StepType.checklist:
            self._checklist(flow, step, turn, action, context)
            return
        if step.can_say_none and isinstance(action, Typed) and self._says_none(action.text, context):
            # "Is there anything else?" - "No": nothing to save, and no "No" on the summary.
            turn.messages.append(self._ui("nothing_to_add", context))
            self._advance(flow, step, turn, context, leave_loop=True)
            return
        value, problem, params = self._parse(flow, step, position, action, context)
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

    def _parse(
        self, flow: Flow, step: Step, position: Position, action: Action, context: Context
    ) -> tuple[Any, str | None, dict[str, Any]]:
        """Turn an action into a value for this step, or say why it does not fit."""
        kind = step.type
        if kind is StepType.text:
            if isinstance(action, Pressed):
                suggestion = self._suggestion(flow, step, position, context)
                if action.button == USE_SUGGESTION and suggestion is not None:
                    return suggestion, None, {}
                return None, "use_typing", {}
            text = clean_text(action.text)
            if not text:
                return None, "empty", {}
            if len(text) > step.max_length:
                return None, "too_long", {"limit": step.max_length, "length": len(text)}
            return text, None, {}
        options = self._options(flow, step, position, context)
        if isinstance(action, Pressed):
            if not any(button.id == action.button for button in options):
                return None, "unknown_option", {}
            if kind is StepType.date:
                return self._parse_date(step, action.button, context)
            if kind is StepType.time:
                return self._parse_time(action.button)
            return int(action.button) if kind is StepType.scale else action.button, None, {}
        typed = clean_text(action.text)
        if not typed:
            return None, "empty", {}
        if kind is StepType.scale:
            number = _parse_int(typed)
            if number is None:
                return None, "not_a_number", {"low": step.min, "high": step.max}
            if not step.min <= number <= step.max:
                return None, "out_of_range", {"low": step.min, "high": step.max}
            return number, None, {}
        if kind is StepType.date:
            return self._parse_date(step, typed, context)
        if kind is StepType.time:
            return self._parse_time(typed)
        match = _match_option(typed, options, self._yes_no_words(context))
        if match is None or not any(button.id == match for button in options):
            return None, "unknown_option", {}
        return match, None, {}

    @staticmethod
    def _parse_time(typed: str) -> tuple[Any, str | None, dict[str, Any]]:
        moment = parse_time(typed)
        if moment is None:
            return None, "not_a_time", {}
        return moment.strftime("%H:%M"), None, {}

    def _parse_date(self, step: Step, typed: str, context: Context) -> tuple[Any, str | None, dict[str, Any]]:
        day = parse_date(
            typed, context.today, self._ui_words("words_today", context), self._ui_words("words_tomorrow", context)
        )
        if day is None:
            return None, "not_a_date", {"example": _example_date(context)}
        if step.when == "future" and day < context.today:
            return None, "date_in_past", {"example": _example_date(context)}
        if step.when == "past" and day > context.today:
            return None, "date_in_future", {}
        return day.isoformat(), None, {}

    def _checklist(self, flow: Flow, step: Step, turn: Turn, action: Action, context: Context) -> None:
        position = turn.position
        options = self._options(flow, step, position, context)
        ids = [button.id for button in options]
        if isinstance(action, Pressed) and action.button == DONE:
            ticked = [option_id for option_id in ids if option_id in position.ticks]
            if not ticked and step.required:
                self._reask(flow, step, turn, "pick_one", context)
                return
            position.ticks = []
            if ticked:
                self._save(turn, step.id, ticked)
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
            chosen = _match_option(clean_text(action.text), options, {})
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
        elif not wanted and ticked:
            position.ticks = [tick for tick in position.ticks if tick != chosen]
        turn.prompt = self._prompt(flow, step, position, context)

    def _more(self, flow: Flow, step: Step, turn: Turn, action: Action, context: Context) -> None:
        """Answer to "add another?" after a repeating step."""
        if isinstance(action, Pressed) and action.button in (MORE_YES, MORE_NO):
            self._take_more(flow, step, turn, action.button == MORE_YES, context)
            return
        if isinstance(action, Typed):
            match = _match_option(clean_text(action.text), (), self._yes_no_words(context))
            if match in ("yes", "no"):
                self._take_more(flow, step, turn, match == "yes", context)
                return
        turn.problem = "unknown_option"
        turn.messages.append(self._ui("unknown_option", context))
        self._settle(flow, turn, context)

    def _take_more(self, flow: Flow, step: Step, turn: Turn, more: bool, context: Context) -> Turn:
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
        for _ in range(len(flow.steps) * 2 + 2):
            if position.step == END:
                turn.status = "finished"
                turn.prompt = None
                done = flow.done.get(context.language) if flow.done else self._ui("flow_done", context)
                turn.messages.append(self._quote(flow, done, position, context))
                return
            step_id, asking_again = step_of(position.step)
            step = self._steps[flow.id][step_id]
            if step.type is StepType.message and not step.wait:
                turn.messages.append(self._quote(flow, step.say.get(context.language), position, context))
                position.step = machine.next_state(position.step, position.answers)
                continue
            if (
                step.type in (StepType.choice, StepType.checklist)
                and not asking_again
                and not self._options(flow, step, position, context)
            ):
                # Nothing to choose from (earlier steps were skipped): move on quietly.
                position.step = machine.next_state(position.step, position.answers)
                continue
            turn.prompt = self._prompt(flow, step, position, context, asking_again=asking_again)
            return
        raise RuntimeError(f"flow '{flow.id}' loops through messages without a question")

    def _reask(self, flow: Flow, step: Step, turn: Turn, problem: str, context: Context, **params: Any) -> None:
        turn.problem = problem
        turn.messages.append(self._ui(problem, context, **params))
        turn.prompt = self._prompt(flow, step, turn.position, context)

    # ----------------------------------------------------------------- rendering

    def _prompt(
        self, flow: Flow, step: Step, position: Position, context: Context, asking_again: bool = False
    ) -> Prompt:
        """The question as an adapter shows it. Prompts that depend on nothing but
        the step (no quotes, no earlier answers as options) are built once and
        shared; they are immutable."""
        if position.revisiting or not self._static[flow.id][step.id]:
            return self._build_prompt(flow, step, position, context, asking_again)
        key = (flow.id, position.step, context.language, bool(position.history), tuple(position.ticks))
        prompt = self._prompt_cache.get(key)
        if prompt is None:
            prompt = replace(self._build_prompt(flow, step, position, context, asking_again), shared=True)
            if len(self._prompt_cache) < 50_000:
                self._prompt_cache[key] = prompt
        return prompt

    def _build_prompt(
        self, flow: Flow, step: Step, position: Position, context: Context, asking_again: bool = False
    ) -> Prompt:
        language = context.language
        navigation: list[Button] = []
        if position.history or asking_again:
            navigation.append(Button(BACK, self._ui("button_back", context)))
        if asking_again:
            assert step.repeat is not None
            text = self._quote(flow, step.repeat.ask.get(language), position, context)
            options = (
                Button(MORE_YES, self._ui("button_add_another", context)),
                Button(MORE_NO, self._ui("button_no_more", context)),
            )
            navigation.append(Button(PAUSE, self._ui("button_pause", context)))
            return Prompt(
                step=position.step, kind=StepType.yes_no, text=text, options=options, navigation=tuple(navigation)
            )
        text = self._quote(flow, step.say.get(language), position, context)
        options: list[Button] = []
        hint: str | None = None
        if step.type is StepType.message:
            options.append(Button(NEXT, self._ui("button_next", context)))
        elif step.type is StepType.checklist:
            ticks = position.ticks
            options.extend(
                Button(button.id, button.label, button.id in ticks) if button.id in ticks else button
                for button in self._options(flow, step, position, context)
            )
            options.append(Button(DONE, self._ui("button_done", context)))
            hint = (
                self._ui("hint_checklist", context)
                if step.max_picks is None
                else self._ui("hint_checklist_limit", context, limit=step.max_picks)
            )
        elif step.type is StepType.text:
            suggestion = self._suggestion(flow, step, position, context)
            if suggestion is not None:
                text = f"{text}\n\n{suggestion}"
                options.append(Button(USE_SUGGESTION, self._ui("button_use_suggestion", context)))
            hint = self._ui("hint_text", context, limit=step.max_length)
        elif step.type is StepType.scale:
            options.extend(self._options(flow, step, position, context))
            if step.min_label and step.max_label:
                hint = self._ui(
                    "hint_scale",
                    context,
                    low=step.min,
                    high=step.max,
                    low_label=step.min_label.get(language),
                    high_label=step.max_label.get(language),
                )
        elif step.type is StepType.date:
            options.extend(self._options(flow, step, position, context))
            hint = self._ui("hint_date", context, example=_example_date(context))
        elif step.type is StepType.time:
            options.extend(self._options(flow, step, position, context))
            hint = self._ui("hint_time", context)
        else:
            options.extend(self._options(flow, step, position, context))
        if position.revisiting and step.id in position.answers and step.type is not StepType.message:
            shown = self.describe(flow, step.id, position.answers, language)
            if step.repeat:
                shown = str(position.answers[step.id][-1])
            text = f"{text}\n\n{self._ui('your_answer', context, answer=shown)}"
            options.append(Button(KEEP, self._ui("button_keep", context)))
        if step.why:
            navigation.append(Button(WHY, self._ui("button_why", context)))
        if not step.required and step.type is not StepType.message:
            navigation.append(Button(SKIP, self._ui("button_skip", context)))
        navigation.append(Button(PAUSE, self._ui("button_pause", context)))
        return Prompt(
            step=position.step,
            kind=step.type,
            text=text,
            options=tuple(options),
            navigation=tuple(navigation),
            max_length=step.max_length if step.type is StepType.text else None,
            hint=hint,
        )

    def _options(self, flow: Flow, step: Step, position: Position, context: Context) -> list[Button]:
        """The buttons for a step: its fixed options (built once per language) plus earlier answers."""
        key = (flow.id, step.id, context.language)
        fixed = self._fixed_options.get(key)
        if fixed is None:
            fixed = self._fixed_options[key] = tuple(self._build_options(step, context))
        if not step.options_from:
            return list(fixed)
        buttons = list(fixed)
        for source in step.options_from:
            buttons.extend(self.answer_options(flow, source, position.answers, context.language))
        return buttons

    def _build_options(self, step: Step, context: Context) -> list[Button]:
        if step.type is StepType.yes_no:
            return [Button("yes", self._ui("button_yes", context)), Button("no", self._ui("button_no", context))]
        if step.type is StepType.scale:
            return [Button(str(n), str(n)) for n in range(step.min, step.max + 1)]
        if step.type is StepType.date:
            if step.when == "past":
                return [Button("+0", self._ui("button_today", context))]
            return [
                Button("+7", self._ui("button_in_a_week", context)),
                Button("+14", self._ui("button_in_two_weeks", context)),
                Button("+28", self._ui("button_in_four_weeks", context)),
            ]
        if step.type is StepType.time:
            return [Button(f"{hour:02d}:00", f"{hour:02d}:00") for hour in COMMON_HOURS]
        return [Button(option.id, option.get(context.language)) for option in step.options]

    def answer_options(self, flow: Flow, source: str, answers: dict[str, Any], language: str) -> list[Button]:
        """Earlier answers offered as options: chosen options keep their id, typed items get ``step.n``."""
        value = answers.get(source)
        if value is None or (source) not in self._steps[flow.id]:
            return []
        source_step = self._steps[flow.id][source]
        values = value if isinstance(value, list) else [value]
        if source_step.type in (StepType.choice, StepType.checklist):
            labels = {
                button.id: button.label
                for button in self._options(flow, source_step, Position(flow.id, source, answers), Context(language))
            }
            return [Button(item, labels.get(item, item)) for item in values]
        return [Button(f"{source}.{index}", str(item)) for index, item in enumerate(values, start=1)]

    def describe(self, flow: Flow, step_id: str, answers: dict[str, Any], language: str) -> str:
        """An answer in words, in the person's language (for quoting and summaries)."""
        value = answers.get(step_id)
        if value is None or (step_id) not in self._steps[flow.id]:
            return self.catalog.ui.get("not_answered", language)
        step = self._steps[flow.id][step_id]
        if step.type is StepType.yes_no:
            return self.catalog.ui.get("button_yes" if value == "yes" else "button_no", language)
        if step.type in (StepType.choice, StepType.checklist):
            labels = {
                button.id: button.label
                for button in self._options(flow, step, Position(flow.id, step_id, answers), Context(language))
            }
            values = value if isinstance(value, list) else [value]
            return ", ".join(labels.get(str(item), str(item)) for item in values)
        if step.type is StepType.date:
            return format_date(value, language)
        if isinstance(value, list):
            return "; ".join(str(item) for item in value)
        return str(value)

    def _suggestion(self, flow: Flow, step: Step, position: Position, context: Context) -> str | None:
        """The ready-made answer, or None if it quotes something the person did not answer:
        a one-tap answer must never save "(not answered)" in their words."""
        if step.suggest is None:
            return None
        template = step.suggest.get(context.language)
        for match in QUOTE.finditer(template):
            other, step_id = match.group(1), match.group(2)
            answers = position.answers if other is None or other == flow.id else context.earlier.get(other, {})
            if answers.get(step_id) in (None, "", []):
                return None
        return self._quote(flow, template, position, context)

    def _quote(self, flow: Flow, text: str, position: Position, context: Context) -> str:
        if "{" not in text:
            return text
        return QUOTE.sub(lambda match: self._quoted(flow, match, position, context), text)

    def _quoted(self, flow: Flow, match: Any, position: Position, context: Context) -> str:
        other, step_id = match.group(1), match.group(2)
        if other is None or other == flow.id:
            if step_id in self._steps[flow.id]:
                return self.describe(flow, step_id, position.answers, context.language)
            return match.group(0)
        source = self.catalog.flows.get(other)
        if source is None or step_id not in self._steps[other]:
            return match.group(0)
        return self.describe(source, step_id, context.earlier.get(other, {}), context.language)

    def _valid_state(self, flow: Flow, state: str) -> bool:
        if state == END:
            return True
        step_id, asking_again = step_of(state)
        step = self._steps[flow.id].get(step_id)
        return step is not None and (not asking_again or step.repeat is not None)

    def _ui(self, key: str, context: Context, **params: Any) -> str:
        if params:
            return self.catalog.ui.get(key, context.language, **params)
        cache_key = (key, context.language)
        text = self._ui_cache.get(cache_key)
        if text is None:
            text = self._ui_cache[cache_key] = self.catalog.ui.get(key, context.language)
        return text

    def _ui_words(self, key: str, context: Context) -> frozenset[str]:
        return self.catalog.ui.words(key)

    def _says_none(self, typed: str, context: Context) -> bool:
        words = " ".join(clean_text(typed).lower().replace(",", " ").split()).rstrip(".!")
        return words in self._ui_words("words_none", context) or words in self._ui_words("words_no", context)

    def _yes_no_words(self, context: Context) -> dict[str, str]:
        mapping = {w: "yes" for w in self._ui_words("words_yes", context)}
        mapping.update({w: "no" for w in self._ui_words("words_no", context)})
        return mapping


# --------------------------------------------------------------------- helpers


def _is_static(step: Step) -> bool:
    """True if the step's prompt never depends on the person's answers."""
    texts = [step.say, step.suggest, step.repeat.ask if step.repeat else None]
    quotes = any("{" in value for text in texts if text for value in text.translations().values() if value)
    return not quotes and not step.options_from


def _copy(position: Position) -> Position:
    return Position(
        flow=position.flow,
        step=position.step,
        answers=dict(position.answers),
        history=list(position.history),
        ticks=list(position.ticks),
        revisiting=position.revisiting,
        about=dict(position.about),
    )


def _match_option(typed: str, options: Any, words: dict[str, str]) -> str | None:
    """Match typed text to an option: its number in the list, its label, or yes/no words."""
    lowered = typed.strip().lower().rstrip(".!")
    options = list(options)
    index = list_number(lowered)
    if index is not None and options and 1 <= index <= len(options):
        return options[index - 1].id
    for button in options:
        if lowered in (button.label.lower(), button.id):
            return button.id
    return words.get(lowered)


def list_number(typed: str) -> int | None:
    """A small whole number typed with ASCII digits ("3"), or None.

    ``str.isdigit`` is true for "¹" and "٣", which ``int`` may refuse; people
    pick options with plain digits, so accept only those.
    """
    text = typed.strip()
    if text.isascii() and text.isdigit() and len(text) <= 3:
        return int(text)
    return None


def _parse_int(typed: str) -> int | None:
    text = typed.strip()
    if text.startswith(("+", "-")):
        sign, digits = text[0], text[1:]
    else:
        sign, digits = "", text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 6:
        return None
    return int(sign + digits)


_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


def clean_text(text: str) -> str:
    """Strip control and invisible characters (keeping new lines) and outer spaces."""
    kept = []
    for char in text:
        if char in "\n\t" or unicodedata.category(char) not in _CONTROL or char == "\u200d":
            kept.append(char)
    return "".join(kept).strip()


def parse_date(typed: str, today: dt.date, today_words: set[str], tomorrow_words: set[str]) -> dt.date | None:
    """Read a date the way people in the UK and Sweden write it (day first, or ISO)."""
    text = typed.strip().lower()
    if text.startswith("+") and text[1:].isascii() and text[1:].isdigit() and len(text) <= 4:
        return today + dt.timedelta(days=int(text[1:]))
    if text in today_words:
        return today
    if text in tomorrow_words:
        return today + dt.timedelta(days=1)
    for separator in ("-", "/", ".", " "):
        parts = [p for p in text.split(separator) if p]
        if len(parts) in (2, 3) and all(p.isascii() and p.isdigit() for p in parts):
            break
    else:
        return None
    numbers = [int(p) for p in parts]
    try:
        if len(parts[0]) == 4 and len(numbers) == 3:
            return dt.date(numbers[0], numbers[1], numbers[2])
        day, month = numbers[0], numbers[1]
        if len(numbers) == 3:
            year = numbers[2] + (2000 if numbers[2] < 100 else 0)
            return dt.date(year, month, day)
        candidate = dt.date(today.year, month, day)
        # "3/4" written in December means next April.
        if candidate < today - dt.timedelta(days=180):
            candidate = dt.date(today.year + 1, month, day)
        return candidate
    except ValueError:
        return None


COMMON_HOURS = (9, 10, 11, 12, 13, 14, 15, 16)
"""Times offered as buttons for a time question; others can be typed."""


def parse_time(typed: str) -> dt.time | None:
    """Read a time of day: 14:30, 14.30, 1430, 9, 2pm, 2.30 pm, kl 14."""
    text = typed.strip().lower().replace(" ", "")
    if text.startswith("kl"):
        text = text[2:].lstrip(".")
    suffix = None
    for marker in ("am", "pm"):
        if text.endswith(marker):
            suffix, text = marker, text[: -len(marker)]
    for separator in (":", "."):
        if separator in text:
            hours, _, minutes = text.partition(separator)
            break
    else:
        hours, minutes = (text[:-2], text[-2:]) if len(text) in (3, 4) else (text, "0")
    if not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit()):
        return None
    hour, minute = int(hours), int(minutes)
    if suffix is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return dt.time(hour, minute)
    return None


def format_date(value: Any, language: str) -> str:
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if language == "sv":
        return day.isoformat()
    return day.strftime("%d/%m/%Y")


def _example_date(context: Context) -> str:
    return format_date((context.today + dt.timedelta(days=14)).isoformat(), context.language)
