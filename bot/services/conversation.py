"""The companion as every adapter sees it: one turn in, one reply out.

Data flows one way. An adapter (Telegram, the console) calls a method here
with who the person is and what they did; this module loads their position,
lets the engine take the turn, commits the position and answers in one
transaction, and only then returns the :class:`Reply` for the adapter to send.

If another turn for the same person committed first (two processes, or a
double tap), the version check fails and the whole turn is retried on the
fresh position. A redelivered update id is recognised and answered with
nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services import forms
from bot.services.counts import Counts
from bot.services.safety import HELD, Held, SafetyChoice, SafetyPrompt, SafetyWords
from bot.storage.outbox import OutboxRows
from bot.storage.repository import (
    COMPLETED,
    IN_PROGRESS,
    ActiveRun,
    Conversation,
    PersonRecord,
    RunRecord,
    StaleConversation,
    Storage,
    Transaction,
    utcnow,
)
from flows.crisis import CrisisDetector
from flows.engine import Engine
from flows.safety import NOTHING, Answer, Assessment, Decision, Response, SafetyState, answered, decide
from flows.schema import LANGUAGES, StepType, quoted_flows
from flows.turns import PAUSE, Action, Button, Context, Position, Pressed, Prompt, Turn, Typed

MAX_ATTEMPTS = 8
FAST_PATH_LEASE_SECONDS = 5.0
"""How long the process that took a turn has to deliver its reply before the sender loop
(of any process) may: a reply left by a killed process goes out soon after. A send that
waits longer in this process (flood control) is never taken by its own loop; another
process sharing the database could send it a second time."""
DEFAULT_TIMEZONE = "Europe/London"
TIMEZONES = {"en": "Europe/London", "sv": "Europe/Stockholm"}
"""A person's time zone until they choose one: their language's (the companion serves the UK and Sweden)."""
STOPPING_MEDICINE = "stopping_medicine"
"""The mark on an answer in which the person says they have stopped, or are stopping, a medicine."""


@dataclass(frozen=True, slots=True)
class Finished:
    """A run someone has just finished, as listeners see it."""

    person: PersonRecord
    flow_id: str
    run_id: int
    answers: dict[str, Any]
    about: dict[str, Any]
    """What the run was about (see Position.about); empty for the person's own flows."""
    now: dt.datetime


FinishedListener = Callable[["Transaction", Finished], Any]
"""Called inside the turn's transaction when a flow is finished, so follow-up
rows (reminders, a copy on another person's record) commit with the answers,
or not at all. What it returns (if not None) is put on the turn's
``Reply.outcomes``, for the adapter to act on after the commit: only the
attempt that committed returns a reply, so a retried turn leaves nothing stale."""


class NotRegistered(Exception):
    """The person has not agreed to the privacy notice, so nothing may be stored for them."""


@dataclass(frozen=True, slots=True)
class Who:
    """A person as a channel knows them: ("telegram", "12345") or ("console", "default")."""

    channel: str
    external_id: str


class ReplyStatus(StrEnum):
    """Where the person is after a turn (the first four are the engine's own)."""

    ACTIVE = "active"
    PAUSED = "paused"
    FINISHED = "finished"
    RESTARTED = "restarted"
    IDLE = "idle"
    """No flow open."""
    DUPLICATE = "duplicate"
    """The update was handled before: nothing to show."""
    MOVED_ON = "moved_on"
    """A button from a question the person is no longer on: nothing was changed."""


@dataclass(slots=True)
class Reply:
    """What the adapter should show, in order: ``messages``, then ``prompt``."""

    messages: list[str] = field(default_factory=list)
    prompt: Prompt | None = None
    status: ReplyStatus = ReplyStatus.IDLE
    flow_id: str | None = None
    outcomes: list[Any] = field(default_factory=list)
    """What listeners returned when this turn finished a flow (see FinishedListener)."""
    crisis: bool = False
    """``messages[0]`` is a card (the crisis card, or the card for someone worried about
    another person) that stands apart, before anything else."""
    safety: SafetyPrompt | None = None
    """A safety question, or what follows the card, with its buttons: shown after
    ``messages`` instead of ``prompt`` (the flow's question comes back once the person
    has chosen). The message that brought it was not saved (see bot.services.safety)."""
    language: str | None = None
    """The person's language, when the turn read it (saves adapters a query)."""

    def outcome(self, kind: type[OutcomeT]) -> OutcomeT | None:
        """The outcome of that kind a listener returned when this turn finished a flow, if any."""
        return next((item for item in self.outcomes if isinstance(item, kind)), None)

    role_task: bool = False
    """The flow is a coordinator's or facilitator's own task (see forms.Form.for_role, and
    runs about someone else): when it is finished, their feature says what happened next,
    not the service user's menu."""
    outbox_id: int | None = None
    """The outbox row this reply was saved as, in the turn's own transaction (see
    bot/services/outbox.py): the adapter delivers it through the outbox, which records it
    as delivered. None on channels that print at once (the console) and for a duplicate."""
    outbox_waits: bool = False
    """An older reply to the same chat is still undelivered: it must go first."""

    def to_dict(self) -> dict[str, Any]:
        """What to say, channel-neutral, as stored in the outbox (never the listeners' outcomes:
        they are for the adapter that took the turn, at once)."""
        return {
            "messages": list(self.messages),
            "prompt": _prompt_dict(self.prompt) if self.prompt is not None else None,
            "status": self.status.value,
            "flow_id": self.flow_id,
            "crisis": self.crisis,
            "safety": _safety_dict(self.safety) if self.safety is not None else None,
            "language": self.language,
            "role_task": self.role_task,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], outbox_id: int | None = None) -> Reply:
        prompt, safety = data.get("prompt"), data.get("safety")
        return cls(
            messages=list(data.get("messages") or []),
            prompt=_prompt_of(prompt) if prompt else None,
            status=ReplyStatus(data.get("status", ReplyStatus.IDLE.value)),
            flow_id=data.get("flow_id"),
            crisis=bool(data.get("crisis")),
            safety=_safety_of(safety) if safety else None,
            language=data.get("language"),
            role_task=bool(data.get("role_task")),
            outbox_id=outbox_id,
        )


def _buttons(buttons: tuple[Button, ...]) -> list[list[Any]]:
    return [[button.id, button.label, button.ticked] for button in buttons]


def _buttons_of(data: list[list[Any]]) -> tuple[Button, ...]:
    return tuple(Button(str(item[0]), str(item[1]), bool(item[2])) for item in data)


def _prompt_dict(prompt: Prompt) -> dict[str, Any]:
    return {
        "step": prompt.step,
        "kind": prompt.kind.value,
        "text": prompt.text,
        "options": _buttons(prompt.options),
        "navigation": _buttons(prompt.navigation),
        "max_length": prompt.max_length,
        "hint": prompt.hint,
        "shared": prompt.shared,
    }


def _prompt_of(data: dict[str, Any]) -> Prompt:
    return Prompt(
        step=data["step"],
        kind=StepType(data["kind"]),
        text=data["text"],
        options=_buttons_of(data.get("options") or []),
        navigation=_buttons_of(data.get("navigation") or []),
        max_length=data.get("max_length"),
        hint=data.get("hint"),
        shared=bool(data.get("shared")),
    )


def _safety_dict(safety: SafetyPrompt) -> dict[str, Any]:
    return {"text": safety.text, "buttons": _buttons(safety.buttons), "token": safety.token}


def _safety_of(data: dict[str, Any]) -> SafetyPrompt:
    return SafetyPrompt(text=data["text"], buttons=_buttons_of(data.get("buttons") or []), token=data.get("token", ""))


Person = PersonRecord
"""A person's record, as services hand it to adapters (adapters never import storage)."""

OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True, slots=True)
class FlowProgress:
    flow_id: str
    title: str
    description: str
    state: str
    """not_started, in_progress or done."""
    done_on: dt.date | None


class Companion:
    """The conversation service shared by all adapters. Build once per process."""

    def __init__(
        self,
        storage: Storage,
        engine: Engine,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        crisis: CrisisDetector | None = None,
    ) -> None:
        self.storage = storage
        self.engine = engine
        self.catalog = engine.catalog
        self.clock = clock
        self._quotes = {flow_id: quoted_flows(flow) for flow_id, flow in self.catalog.flows.items()}
        # Every language's lexicon must be there: a companion that cannot read
        # crisis language in one of its languages must not start.
        self.crisis = crisis or CrisisDetector.from_catalog(self.catalog, required=LANGUAGES)
        self.safety_words = SafetyWords(self.catalog.ui, self.crisis)
        self.retries = 0
        """How many turns had to be retried because another turn won (for tests and metrics)."""
        self.counts = Counts()
        """Turns and crisis cards since the process started (the metrics endpoint reads them)."""
        self._finished: dict[str, list[FinishedListener]] = {}
        self._reminding = frozenset(
            flow_id for flow_id, flow in self.catalog.flows.items() if any(step.stop_reminder for step in flow.steps)
        )
        """Flows with a reminder not to stop medicine suddenly (given once a day): only their turns
        read whether the person has had it today."""
        self._role_flows = frozenset(form.flow for form in forms.FORMS if form.for_role)
        self._outboxed: set[str] = set()

    def deliver_through_outbox(self, channel: str) -> None:
        """Turns of ``channel`` write what they say to the outbox in their own transaction, and
        are taken on the question the person was last shown (see :meth:`_as_shown`).

        Called by an adapter that delivers through the outbox when it is composed (Telegram);
        a channel that prints at once (the console) does not. Only turns answering one of the
        channel's updates (with an update id) go through it."""
        self._outboxed.add(channel)

    def when_finished(self, flow_id: str, listener: FinishedListener) -> None:
        """Run ``listener`` in the same transaction whenever someone finishes ``flow_id``."""
        if flow_id not in self.catalog.flows:
            raise KeyError(flow_id)
        self._finished.setdefault(flow_id, []).append(listener)

    # ------------------------------------------------------------------ people

    async def person(self, who: Who) -> PersonRecord | None:
        return await self.storage.run(lambda tx: tx.person(who.channel, who.external_id))

    async def join(self, who: Who, language: str = "en", timezone: str | None = None) -> PersonRecord:
        """Create the person's record. Call only after they agreed to the privacy notice.

        Without a ``timezone`` the person gets their language's (:data:`TIMEZONES`): reminders
        and "today" for someone speaking Swedish follow Stockholm's clock, not London's."""
        language = language if language in LANGUAGES else "en"
        timezone = timezone or TIMEZONES.get(language, DEFAULT_TIMEZONE)
        now = self.clock()
        return await self.storage.run(
            lambda tx: tx.create_person(who.channel, who.external_id, language, now, timezone)
        )

    async def set_language(self, who: Who, language: str) -> bool:
        if language not in LANGUAGES:
            return False

        def work(tx: Transaction) -> bool:
            person = tx.person(who.channel, who.external_id)
            if person is None:
                return False
            changes: dict[str, Any] = {"language": language}
            if person.timezone == TIMEZONES.get(person.language, DEFAULT_TIMEZONE):
                # Still the old language's own time zone, never one chosen: it follows the language.
                changes["timezone"] = TIMEZONES.get(language, DEFAULT_TIMEZONE)
            tx.update_person(person.id, **changes)
            return True

        return await self.storage.run(work)

    # ------------------------------------------------------------------ menu

    async def menu(self, who: Who) -> list[FlowProgress]:
        def work(tx: Transaction) -> tuple[PersonRecord | None, list[RunRecord]]:
            person = tx.person(who.channel, who.external_id)
            return person, tx.runs(person.id) if person else []

        person, records = await self.storage.run(work)
        language = person.language if person else "en"
        out = []
        for flow in self.catalog.ordered_flows():
            if not flow.menu:
                continue
            mine = [run for run in records if run.flow_id == flow.id]
            done = [run.completed_at for run in mine if run.status == COMPLETED and run.completed_at]
            if any(run.status == IN_PROGRESS for run in mine):
                state = "in_progress"
            elif done:
                state = "done"
            else:
                state = "not_started"
            out.append(
                FlowProgress(
                    flow_id=flow.id,
                    title=flow.title.get(language),
                    description=flow.description.get(language),
                    state=state,
                    done_on=self._local_date(max(done), person) if done else None,
                )
            )
        return out

    # ------------------------------------------------------------------ turns

    async def open(
        self, who: Who, flow_id: str, update_id: int | None = None, *, about: dict[str, Any] | None = None
    ) -> Reply:
        """Start a flow, or resume it at the same step if it is in progress.

        ``about`` says what the run is about when that is not the person (set
        by server code after its own access checks, never taken from a button).
        A run in progress about something else is closed and a fresh one begun.
        """
        if flow_id not in self.catalog.flows:
            raise KeyError(flow_id)
        subject = dict(about or {})

        def step(tx: Transaction, conversation: Conversation, now: dt.datetime) -> Reply:
            person = conversation.person
            existing = tx.run_in_progress(person.id, flow_id)
            resuming = existing is not None and (existing.position.get("about") or {}) == subject
            reminded = self._reminded(tx, person, flow_id, now, existing.position if existing and resuming else None)
            context = self._context(person, now, self._earlier(tx, person.id, flow_id), reminded)
            if existing is not None and resuming:
                turn = self.engine.show(Position.from_dict(existing.position), context)
                return self._save(tx, conversation, existing.id, flow_id, turn, now)[0]
            turn = self.engine.start(flow_id, context, self._last_time(tx, person.id, flow_id, subject))
            turn.position.about = subject
            if existing is not None:
                turn.status = "restarted"
            return self._save(tx, conversation, existing.id if existing else None, flow_id, turn, now)[0]

        return await self._turn(who, update_id, step)

    async def act(
        self,
        who: Who,
        action: Action,
        update_id: int | None = None,
        *,
        expect: Callable[[str, str], bool] | None = None,
    ) -> Reply:
        """Apply a button press or typed text to the person's current question.

        Typed text is read for signs of risk before anything else (see
        :mod:`flows.safety`): a card or the safety question comes first, and the
        text is held until the person chooses. With ``expect`` (flow id, step ->
        bool) a button from an older question is recognised inside the same
        transaction and changes nothing.
        """
        assessment = self.crisis.assess(action.text) if isinstance(action, Typed) else NOTHING

        def step(tx: Transaction, conversation: Conversation, now: dt.datetime) -> Reply:
            if assessment == NOTHING:
                return self._apply(tx, conversation, now, action, expect)[0]
            assert isinstance(action, Typed)
            return self._safety_turn(tx, conversation, now, action.text, assessment)

        saw = None
        if expect is not None:
            # A flow button names the question it was under: pressing one of the newest
            # question's buttons shows that question reached the person.
            saw = lambda run: expect(run.flow_id, str(run.position.get("step", "")))  # noqa: E731
        return await self._turn(who, update_id, step, saw, typed=isinstance(action, Typed))

    async def answer_safety(
        self, who: Who, choice: SafetyChoice, token: str = "", update_id: int | None = None
    ) -> Reply:
        """The person pressed a button under a card or the safety question.

        Yes and "I'd rather not say" always bring the card, however old the
        button. No thanks them, rests the question and keeps their message as
        their answer. "Keep it as my answer" saves the held message only if
        ``token`` is the one it was held with.
        """

        def step(tx: Transaction, conversation: Conversation, now: dt.datetime) -> Reply:
            person, run = conversation.person, conversation.run
            language = person.language
            words = self.safety_words
            held = Held.from_position(run.position, token) if run is not None and token else None
            if choice in (SafetyChoice.YES, SafetyChoice.RATHER_NOT):
                safety = words.after_card(language, held, in_flow=run is not None)
                return self._safety_reply(conversation, [words.card(language)], safety, crisis=True)
            if choice is SafetyChoice.NO:
                state = SafetyState.from_dict(tx.safety_state(person.id))
                tx.save_safety_state(person.id, answered(Answer.NO, state, now)[1].to_dict(), now)
                if held is not None:
                    return self._keep(tx, conversation, now, held, "safety_thanks_kept")
                return self._current(tx, conversation, now, [words.text("safety_thanks", language)])
            if choice is SafetyChoice.SAVE:
                if held is not None:
                    return self._keep(tx, conversation, now, held, "safety_saved")
                return self._current(tx, conversation, now, [words.text("safety_not_held", language)])
            if choice is SafetyChoice.PAUSE and run is not None:
                return self._apply(tx, conversation, now, Pressed(PAUSE), None)[0]
            if run is not None and HELD in run.position:
                # Carry on: what was held is let go, unsaved.
                unheld = {key: value for key, value in run.position.items() if key != HELD}
                tx.save_turn(
                    person,
                    run_id=run.id,
                    flow_id=run.flow_id,
                    position=unheld,
                    status=ReplyStatus.ACTIVE,
                    active_flow=run.flow_id,
                    saved={},
                    now=now,
                )
            return self._current(tx, conversation, now, [])

        return await self._turn(who, update_id, step)

    def outside(self, text: str, language: str) -> Reply | None:
        """Signs of risk in text that is not part of a conversation turn (before consent,
        an edited message, a photo's caption): the card or the question, nothing stored."""
        decision = decide(self.crisis.assess(text), SafetyState(), self.clock(), self.clock().date())
        if decision.response in (Response.NONE, Response.HELP_LINE):
            return None
        reply = self._interruption(decision, language, None, in_flow=False)
        self.counts.crisis_cards += reply.crisis
        return reply

    def outside_answer(self, choice: SafetyChoice, language: str) -> Reply:
        """A safety button pressed by someone with no record: nothing is stored."""
        words = self.safety_words
        if choice in (SafetyChoice.YES, SafetyChoice.RATHER_NOT):
            self.counts.crisis_cards += 1
            return Reply(messages=[words.card(language)], crisis=True, language=language)
        return Reply(messages=[words.text("safety_thanks", language)], status=ReplyStatus.IDLE, language=language)

    async def pause(self, who: Who, update_id: int | None = None) -> Reply:
        return await self.act(who, Pressed(PAUSE), update_id)

    async def current(self, who: Who) -> Reply:
        """The question the person is on, asked again (nothing is written)."""

        def read(tx: Transaction) -> Conversation | None:
            conversation = tx.conversation(who.channel, who.external_id)
            if conversation is not None and who.channel in self._outboxed:
                conversation = self._as_shown(OutboxRows(tx.connection), conversation, self.clock(), settle=False)
            return conversation

        conversation = await self.storage.run(read)
        if conversation is None or conversation.run is None:
            return Reply(status=ReplyStatus.IDLE)
        person, run = conversation.person, conversation.run
        context = self._context(person, self.clock())
        if self._quotes.get(run.flow_id) or run.flow_id in self._reminding:
            now = self.clock()
            earlier, reminded = await self.storage.run(
                lambda tx: (
                    self._earlier(tx, person.id, run.flow_id),
                    self._reminded(tx, person, run.flow_id, now, run.position),
                )
            )
            context = self._context(person, now, earlier, reminded)
        turn = self.engine.show(Position.from_dict(run.position), context)
        return Reply(messages=[], prompt=turn.prompt, status=ReplyStatus(turn.status), flow_id=run.flow_id)

    async def claim(self, who: Who, update_id: int) -> bool:
        """Record an update that needs no turn (a command); False if it was seen before."""
        now = self.clock()
        return await self.storage.run(lambda tx: tx.claim_update(who.channel, update_id, now))

    # ------------------------------------------------------------------ internals

    def _apply(
        self,
        tx: Transaction,
        conversation: Conversation,
        now: dt.datetime,
        action: Action,
        expect: Callable[[str, str], bool] | None,
    ) -> tuple[Reply, int | None, dict[str, Any]]:
        """One ordinary turn: the reply, the run it was saved on, and the answers saved
        (empty when the input did not fit the question and it is asked again)."""
        run = conversation.run
        if expect is not None and (run is None or not expect(run.flow_id, run.position.get("step", ""))):
            return self._moved_on(tx, conversation, now), None, {}
        if run is None:
            return Reply(status=ReplyStatus.IDLE, language=conversation.person.language), None, {}
        person = conversation.person
        context = self._context(
            person, now, self._earlier(tx, person.id, run.flow_id), self._reminded(tx, person, run.flow_id, now)
        )
        turn = self.engine.take(Position.from_dict(run.position), action, context)
        reply, run_id = self._save(tx, conversation, run.id, run.flow_id, turn, now)
        return reply, run_id, turn.saved

    def _safety_turn(
        self, tx: Transaction, conversation: Conversation, now: dt.datetime, text: str, assessment: Assessment
    ) -> Reply:
        """Typed text with a sign of risk (or of stopping a medicine) in it."""
        person = conversation.person
        state = SafetyState.from_dict(tx.safety_state(person.id))
        decision = decide(assessment, state, now, self._local_date(now, person))
        if decision.state != state:
            tx.save_safety_state(person.id, decision.state.to_dict(), now)
        words = self.safety_words
        if decision.interrupts:
            run = conversation.run
            held = None
            if run is not None and self._takes_text(run):
                held = Held.new(
                    text,
                    stopping_medicine=assessment.stopping_medicine,
                    medicine_warning=decision.medicine_warning and decision.response is not Response.CARD,
                )
                tx.save_turn(
                    person,
                    run_id=run.id,
                    flow_id=run.flow_id,
                    position={**run.position, HELD: held.to_dict()},
                    status=ReplyStatus.ACTIVE,
                    active_flow=run.flow_id,
                    saved={},
                    now=now,
                )
            reply = self._interruption(decision, person.language, held, in_flow=run is not None)
            reply.flow_id = run.flow_id if run is not None else None
            reply.status = ReplyStatus.ACTIVE if run is not None else ReplyStatus.IDLE
            return reply
        reply, run_id, saved = self._apply(tx, conversation, now, Typed(text), None)
        if decision.response is Response.HELP_LINE:
            reply.messages.insert(0, words.help_line(person.language))
        if decision.medicine_warning:
            reply.messages.append(words.medicine(person.language))
        if assessment.stopping_medicine and run_id is not None and saved:
            tx.mark_answers(person.id, run_id, saved, STOPPING_MEDICINE, now)
        return reply

    def _interruption(self, decision: Decision, language: str, held: Held | None, *, in_flow: bool) -> Reply:
        """The card, the supporter's card or the safety question, before anything else."""
        words = self.safety_words
        messages: list[str] = []
        if decision.response is Response.CARD:
            messages.append(words.card(language))
            safety = words.after_card(language, held, in_flow=in_flow)
        else:
            if decision.response is Response.SUPPORTER:
                messages.append(words.supporter_card(language))
            safety = words.question(decision.response, language, held)
        if decision.medicine_warning and (held is None or not held.medicine_warning):
            messages.append(words.medicine(language))
        return Reply(
            messages=messages,
            safety=safety,
            crisis=decision.response in (Response.CARD, Response.SUPPORTER),
            language=language,
        )

    def _keep(self, tx: Transaction, conversation: Conversation, now: dt.datetime, held: Held, key: str) -> Reply:
        """Save a held message as the answer it was typed as, and go on."""
        language = conversation.person.language
        reply, run_id, saved = self._apply(tx, conversation, now, Typed(held.text), None)
        if not saved:
            # The question could not take it as typed (too long, say): its own re-ask explains why.
            if key == "safety_thanks_kept":
                reply.messages.insert(0, self.safety_words.text("safety_thanks", language))
            return reply
        reply.messages.insert(0, self.safety_words.text(key, language))
        if held.medicine_warning:
            reply.messages.insert(1, self.safety_words.medicine(language))
        if held.stopping_medicine and run_id is not None and saved:
            tx.mark_answers(conversation.person.id, run_id, saved, STOPPING_MEDICINE, now)
        return reply

    def _current(self, tx: Transaction, conversation: Conversation, now: dt.datetime, messages: list[str]) -> Reply:
        """The question the person is on, after ``messages``; nothing written."""
        reply = self._moved_on(tx, conversation, now)
        reply.messages = [*messages, *reply.messages]
        reply.status = ReplyStatus.ACTIVE if reply.prompt is not None else ReplyStatus.IDLE
        return reply

    @staticmethod
    def _safety_reply(
        conversation: Conversation, messages: list[str], safety: SafetyPrompt | None, *, crisis: bool
    ) -> Reply:
        run = conversation.run
        return Reply(
            messages=messages,
            safety=safety,
            crisis=crisis,
            status=ReplyStatus.ACTIVE if run is not None else ReplyStatus.IDLE,
            flow_id=run.flow_id if run is not None else None,
            language=conversation.person.language,
        )

    def _takes_text(self, run: ActiveRun) -> bool:
        """Whether the person's current question is answered by typing (so their words can be kept)."""
        flow = self.catalog.flows.get(run.flow_id)
        step_id = str(run.position.get("step", ""))
        step = next((s for s in flow.steps if s.id == step_id), None) if flow else None
        return step is not None and step.type is StepType.text

    def _moved_on(self, tx: Transaction, conversation: Conversation, now: dt.datetime) -> Reply:
        """The current question as it stands, with nothing written."""
        run = conversation.run
        if run is None:
            return Reply(status=ReplyStatus.MOVED_ON, language=conversation.person.language)
        person = conversation.person
        reminded = self._reminded(tx, person, run.flow_id, now, run.position)
        context = self._context(person, now, self._earlier(tx, person.id, run.flow_id), reminded)
        turn = self.engine.show(Position.from_dict(run.position), context)
        return Reply(
            prompt=turn.prompt, status=ReplyStatus.MOVED_ON, flow_id=run.flow_id, language=conversation.person.language
        )

    async def _turn(
        self,
        who: Who,
        update_id: int | None,
        step: Callable[[Transaction, Conversation, dt.datetime], Reply],
        saw: Callable[[ActiveRun], bool] | None = None,
        *,
        typed: bool = False,
    ) -> Reply:
        def work(tx: Transaction) -> Reply:
            now = self.clock()
            new, conversation = tx.claim_and_read(who.channel, who.external_id, update_id, now)
            if not new:
                return Reply(status=ReplyStatus.DUPLICATE)
            if conversation is None:
                raise NotRegistered(who)
            if who.channel not in self._outboxed or update_id is None:
                # A channel that prints at once, or server code taking a turn for the person
                # (a service opening a flow, a test): the caller shows the reply itself.
                return step(tx, conversation, now)
            rows = OutboxRows(tx.connection)
            shown = self._as_shown(rows, conversation, now, settle=True, saw=saw, typed=typed)
            reply = step(tx, shown, now)
            if shown.run is None and conversation.run is not None and reply.prompt is None:
                # Taken as the person saw it, with no question open: the question that was
                # never delivered waits in the menu, in progress, rather than for their next words.
                self._leave_flow(tx, shown.person)
            reply.outbox_id = rows.add(
                person_id=shown.person.id,
                channel=who.channel,
                chat=who.external_id,
                update_id=update_id,
                body=reply.to_dict(),
                shown_before=self._shown_before(shown, reply),
                now=now,
                lease_until=time.time() + FAST_PATH_LEASE_SECONDS,
            )
            reply.outbox_waits = rows.has_pending_before(who.channel, who.external_id, reply.outbox_id)
            return reply

        for _attempt in range(MAX_ATTEMPTS):
            try:
                reply = await self.storage.run(work)
            except StaleConversation:
                # Another turn for this person committed first. Everything in
                # that transaction (the update claim too) was rolled back: run
                # the turn again on the fresh position.
                self.retries += 1
                continue
            if reply.status is not ReplyStatus.DUPLICATE:
                self.counts.turns += 1
                self.counts.crisis_cards += reply.crisis
            return reply
        raise RuntimeError(f"a turn kept conflicting after {MAX_ATTEMPTS} attempts")

    def _as_shown(
        self,
        rows: OutboxRows,
        conversation: Conversation,
        now: dt.datetime,
        *,
        settle: bool,
        saw: Callable[[ActiveRun], bool] | None = None,
        typed: bool = False,
    ) -> Conversation:
        """The conversation as the person last saw it.

        When the reply to their last turn is known not to have arrived (Telegram refused it or
        timed out on it), they are still looking at the question before it, so what they do now
        is taken on that question: it never lands under a question they have not seen. With
        ``settle`` the undelivered reply is marked replaced: this turn's reply says where they
        are now, in its place. ``saw`` tells from the input itself whether the person saw a
        question (a button names its own): a press on the newest question shows it arrived.

        A reply left pending with no failure recorded was being sent when the process was
        killed: Telegram may or may not have taken it. A person's updates are handled one after
        another, each after the last one's reply was sent, so it counts as delivered, unless
        what they ``typed`` fits only the question before it (words, while the newest question
        is answered with buttons): then it did not arrive."""
        unseen = rows.unseen(conversation.person.id)
        if unseen is None:
            return conversation
        current = conversation.run
        if saw is not None and current is not None and saw(current):
            if settle:
                rows.delivered(unseen.id, now)
            return conversation
        shown = self._shown_run(rows, conversation, unseen.shown_before)
        if shown is None and unseen.shown_before.get("run") is not None:
            return conversation
        if unseen.attempts == 0:
            before_took_words = shown is not None and self._takes_text(shown)
            now_takes_words = current is not None and self._takes_text(current)
            if not (typed and before_took_words and not now_takes_words):
                if settle:
                    rows.delivered(unseen.id, now)
                return conversation
        if settle:
            rows.replace(unseen.id, now)
        return Conversation(conversation.person, shown)

    @staticmethod
    def _shown_run(rows: OutboxRows, conversation: Conversation, before: dict[str, Any]) -> ActiveRun | None:
        """The run at the position kept with an undelivered reply (None: no flow was open, or it
        cannot be had back: the run was closed since)."""
        run_id, position = before.get("run"), before.get("position")
        if run_id is None or not isinstance(position, dict):
            return None
        current = conversation.run
        if current is not None and current.id == run_id:
            return ActiveRun(current.id, current.flow_id, position)
        if before.get("finished"):
            # The reply that finished the flow never arrived: they are still on its last question.
            found = rows.finished_run(conversation.person.id, int(run_id))
        else:
            found = rows.run_in_progress(conversation.person.id, int(run_id))
        return ActiveRun(found.id, found.flow_id, position) if found is not None else None

    def _shown_before(self, conversation: Conversation, reply: Reply) -> dict[str, Any] | None:
        """Where the person was before this turn, kept with its reply until the reply is delivered,
        for :meth:`_as_shown`: for a next question, and for the end of a flow nobody listens to.
        A card and a safety question are always delivered, never taken back, and so is the end
        of a flow whose listeners have acted (planned reminders, a copy on someone's record)."""
        if reply.crisis or reply.safety is not None or reply.outcomes:
            return None
        run = conversation.run
        if reply.status is ReplyStatus.FINISHED:
            if run is None or run.flow_id in self._finished or reply.role_task:
                return None
            return {"run": run.id, "position": run.position, "finished": True}
        if reply.prompt is None:
            return None
        return {"run": run.id if run is not None else None, "position": run.position if run is not None else None}

    @staticmethod
    def _leave_flow(tx: Transaction, person: PersonRecord) -> None:
        if person.active_flow is not None:
            tx.set_active_flow(person, None)

    def _save(
        self,
        tx: Transaction,
        conversation: Conversation,
        run_id: int | None,
        flow_id: str,
        turn: Turn,
        now: dt.datetime,
    ) -> tuple[Reply, int]:
        active = flow_id if turn.status in ("active", "restarted") else None
        outcomes: list[Any] = []
        if turn.reminded:
            self._note_reminded(tx, conversation.person, now)
        run_id = tx.save_turn(
            conversation.person,
            run_id=run_id,
            flow_id=flow_id,
            position=turn.position.to_dict(),
            status=turn.status,
            active_flow=active,
            saved=turn.saved,
            now=now,
        )
        status = ReplyStatus(turn.status)
        about = bool(turn.position.about)
        messages = turn.messages
        if status is ReplyStatus.FINISHED:
            if about:
                # Notes written about someone else: "your answers are saved" is not true for
                # the one writing; the feature that opened the run says what happened.
                messages = []
            finished = Finished(
                person=conversation.person,
                flow_id=flow_id,
                run_id=run_id,
                answers=dict(turn.position.answers),
                about=dict(turn.position.about),
                now=now,
            )
            for listener in self._finished.get(flow_id, ()):
                outcome = listener(tx, finished)
                if outcome is not None:
                    outcomes.append(outcome)
        return Reply(
            messages=messages,
            prompt=turn.prompt,
            status=status,
            flow_id=flow_id,
            language=conversation.person.language,
            outcomes=outcomes,
            role_task=about or flow_id in self._role_flows,
        ), run_id

    def _context(
        self,
        person: PersonRecord,
        now: dt.datetime,
        earlier: dict[str, dict[str, Any]] | None = None,
        reminded: bool = False,
    ) -> Context:
        return Context(
            language=person.language,
            today=self._local_date(now, person),
            earlier=earlier or {},
            reminded=reminded,
            channel=person.channel,
        )

    def _last_time(self, tx: Transaction, person_id: int, flow_id: str, about: dict[str, Any]) -> dict[str, Any]:
        """The answers of the person's last finished run of a menu flow, to offer again when they
        do it again (nothing for a run about someone else, or a flow the companion offers itself)."""
        if about or not self.catalog.flows[flow_id].menu:
            return {}
        latest = tx.latest_completed(person_id).get(flow_id)
        if latest is None:
            return {}
        return {key: value for key, (value, _) in tx.answers([latest.id])[latest.id].items()}

    def _reminded(
        self,
        tx: Transaction,
        person: PersonRecord,
        flow_id: str,
        now: dt.datetime,
        showing: dict[str, Any] | None = None,
    ) -> bool:
        """Whether the person has had the reminder not to stop medicine suddenly today (local date).

        The same record as the reminder after a typed message about stopping (flows.safety), so
        however it comes up, it is given once a day. Read only for flows that give it. A position
        ``showing`` again (resumed, or asked again) whose current step is the reminder keeps its
        whole words: the message someone is reading does not change under them."""
        if flow_id not in self._reminding:
            return False
        if showing is not None:
            flow = self.catalog.flows[flow_id]
            step = str(showing.get("step", ""))
            if flow.has_step(step) and flow.step(step).stop_reminder:
                return False
        state = SafetyState.from_dict(tx.safety_state(person.id))
        return state.medicine_told_on == self._local_date(now, person)

    def _note_reminded(self, tx: Transaction, person: PersonRecord, now: dt.datetime) -> None:
        state = SafetyState.from_dict(tx.safety_state(person.id))
        today = self._local_date(now, person)
        if state.medicine_told_on != today:
            tx.save_safety_state(person.id, replace(state, medicine_told_on=today).to_dict(), now)

    def _earlier(self, tx: Transaction, person_id: int, flow_id: str) -> dict[str, dict[str, Any]]:
        """Latest finished answers of the flows this flow quotes (no query if it quotes none)."""
        wanted = self._quotes.get(flow_id)
        if not wanted:
            return {}
        latest = {other: run for other, run in tx.latest_completed(person_id).items() if other in wanted}
        by_run = tx.answers(run.id for run in latest.values())
        return {other: {key: value for key, (value, _) in by_run[run.id].items()} for other, run in latest.items()}

    @staticmethod
    def _local_date(moment: dt.datetime, person: PersonRecord | None) -> dt.date:
        """The date where the person lives (a turn at 00:30 in Stockholm is already tomorrow)."""
        try:
            zone = ZoneInfo(person.timezone if person else DEFAULT_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(DEFAULT_TIMEZONE)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(zone).date()
