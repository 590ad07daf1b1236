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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.storage.repository import (
    COMPLETED,
    IN_PROGRESS,
    Conversation,
    PersonRecord,
    RunRecord,
    StaleConversation,
    Storage,
    Transaction,
    utcnow,
)
from flows.crisis import CrisisDetector
from flows.engine import PAUSE, Action, Context, Engine, Position, Pressed, Prompt, Turn, Typed
from flows.schema import LANGUAGES, quoted_flows

MAX_ATTEMPTS = 8


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


def iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC. SQLite hands back naive datetimes; they were stored as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()


@dataclass(frozen=True, slots=True)
class Who:
    """A person as a channel knows them: ("telegram", "12345") or ("console", "default")."""

    channel: str
    external_id: str


@dataclass(slots=True)
class Reply:
    """What the adapter should show, in order: ``messages``, then ``prompt``."""

    messages: list[str] = field(default_factory=list)
    prompt: Prompt | None = None
    status: str = "idle"
    """active, paused, finished, restarted, idle (no flow open), duplicate, or moved_on
    (a button from a question the person is no longer on: nothing was changed)."""
    flow_id: str | None = None
    outcomes: list[Any] = field(default_factory=list)
    """What listeners returned when this turn finished a flow (see FinishedListener)."""
    crisis: bool = False
    """The typed text was crisis language: ``messages[0]`` is the crisis card, nothing
    of the text was saved, and ``prompt`` (if any) is the same question asked again."""
    language: str | None = None
    """The person's language, when the turn read it (saves adapters a query)."""


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
    ) -> None:
        self.storage = storage
        self.engine = engine
        self.catalog = engine.catalog
        self.clock = clock
        self._quotes = {flow_id: quoted_flows(flow) for flow_id, flow in self.catalog.flows.items()}
        self.crisis = CrisisDetector.from_catalog(self.catalog)
        self.retries = 0
        self._finished: dict[str, list[FinishedListener]] = {}
        """How many turns had to be retried because another turn won (for tests and metrics)."""

    def when_finished(self, flow_id: str, listener: FinishedListener) -> None:
        """Run ``listener`` in the same transaction whenever someone finishes ``flow_id``."""
        if flow_id not in self.catalog.flows:
            raise KeyError(flow_id)
        self._finished.setdefault(flow_id, []).append(listener)

    # ------------------------------------------------------------------ people

    async def person(self, who: Who) -> PersonRecord | None:
        return await self.storage.run(lambda tx: tx.person(who.channel, who.external_id))

    async def join(self, who: Who, language: str = "en", timezone: str = "Europe/London") -> PersonRecord:
        """Create the person's record. Call only after they agreed to the privacy notice."""
        language = language if language in LANGUAGES else "en"
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
            tx.update_person(person.id, language=language)
            return True

        return await self.storage.run(work)

    async def erase(self, who: Who) -> bool:
        """Delete everything stored about the person. True if there was anything."""

        def work(tx: Transaction) -> bool:
            person = tx.person(who.channel, who.external_id)
            if person is None:
                return False
            tx.erase_person(person.id)
            return True

        return await self.storage.run(work)

    async def export(self, who: Who) -> dict[str, Any] | None:
        """Everything stored about the person, as plain data (for /mydata)."""

        def work(tx: Transaction) -> dict[str, Any] | None:
            person = tx.person(who.channel, who.external_id)
            if person is None:
                return None
            records = tx.runs(person.id)
            by_run = tx.answers(run.id for run in records)
            other = tx.records_about(person.id)
            return {
                "person": {
                    "channel": person.channel,
                    "id": person.external_id,
                    "language": person.language,
                    "timezone": person.timezone,
                    "chosen_name": person.display_name,
                    "agreed_to_privacy_notice_at": iso(person.consented_at),
                },
                "flows": [
                    {
                        "flow": run.flow_id,
                        "status": run.status,
                        "started_at": iso(run.started_at),
                        "completed_at": iso(run.completed_at),
                        "answers": {
                            key: {"value": value, "answered_at": iso(when)}
                            for key, (value, when) in by_run[run.id].items()
                        },
                    }
                    for run in records
                ],
                "other_records": other,
            }

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
            context = self._context(person, now, self._earlier(tx, person.id, flow_id))
            existing = tx.run_in_progress(person.id, flow_id)
            if existing is not None and (existing.position.get("about") or {}) == subject:
                turn = self.engine.show(Position.from_dict(existing.position), context)
                return self._save(tx, conversation, existing.id, flow_id, turn, now)
            turn = self.engine.start(flow_id, context)
            turn.position.about = subject
            if existing is not None:
                turn.status = "restarted"
            return self._save(tx, conversation, existing.id if existing else None, flow_id, turn, now)

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

        Typed text is checked for crisis language before anything else. With
        ``expect`` (flow id, step -> bool) a button from an older question is
        recognised inside the same transaction and changes nothing.
        """
        in_crisis = isinstance(action, Typed) and self.crisis.is_crisis(action.text)

        def step(tx: Transaction, conversation: Conversation, now: dt.datetime) -> Reply:
            run = conversation.run
            if in_crisis:
                return self._crisis_reply(tx, conversation, now)
            if expect is not None and (run is None or not expect(run.flow_id, run.position.get("step", ""))):
                return self._moved_on(tx, conversation, now)
            if run is None:
                return Reply(status="idle", language=conversation.person.language)
            context = self._context(conversation.person, now, self._earlier(tx, conversation.person.id, run.flow_id))
            turn = self.engine.take(Position.from_dict(run.position), action, context)
            return self._save(tx, conversation, run.id, run.flow_id, turn, now)

        return await self._turn(who, update_id, step)

    async def pause(self, who: Who, update_id: int | None = None) -> Reply:
        return await self.act(who, Pressed(PAUSE), update_id)

    async def current(self, who: Who) -> Reply:
        """The question the person is on, asked again (nothing is written)."""
        conversation = await self.storage.run(lambda tx: tx.conversation(who.channel, who.external_id))
        if conversation is None or conversation.run is None:
            return Reply(status="idle")
        context = self._context(conversation.person, self.clock())
        if self._quotes.get(conversation.run.flow_id):
            earlier = await self.storage.run(
                lambda tx: self._earlier(tx, conversation.person.id, conversation.run.flow_id)
            )
            context = self._context(conversation.person, self.clock(), earlier)
        turn = self.engine.show(Position.from_dict(conversation.run.position), context)
        return Reply(messages=[], prompt=turn.prompt, status=turn.status, flow_id=conversation.run.flow_id)

    async def claim(self, who: Who, update_id: int) -> bool:
        """Record an update that needs no turn (a command); False if it was seen before."""
        now = self.clock()
        return await self.storage.run(lambda tx: tx.claim_update(who.channel, update_id, now))

    # ------------------------------------------------------------------ internals

    def _crisis_reply(self, tx: Transaction, conversation: Conversation, now: dt.datetime) -> Reply:
        """The crisis card first, then the same question again; nothing of the text is saved."""
        language = conversation.person.language
        reply = self._moved_on(tx, conversation, now)
        messages = [self.crisis.card(language)]
        if reply.prompt is not None:
            messages.append(self.crisis.carry_on(language))
        status = "active" if reply.prompt is not None else "idle"
        return Reply(
            messages=messages, prompt=reply.prompt, status=status, flow_id=reply.flow_id, crisis=True, language=language
        )

    def _moved_on(self, tx: Transaction, conversation: Conversation, now: dt.datetime) -> Reply:
        """The current question as it stands, with nothing written."""
        run = conversation.run
        if run is None:
            return Reply(status="moved_on", language=conversation.person.language)
        context = self._context(conversation.person, now, self._earlier(tx, conversation.person.id, run.flow_id))
        turn = self.engine.show(Position.from_dict(run.position), context)
        return Reply(prompt=turn.prompt, status="moved_on", flow_id=run.flow_id, language=conversation.person.language)

    async def _turn(
        self,
        who: Who,
        update_id: int | None,
        step: Callable[[Transaction, Conversation, dt.datetime], Reply],
    ) -> Reply:
        def work(tx: Transaction) -> Reply:
            now = self.clock()
            new, conversation = tx.claim_and_read(who.channel, who.external_id, update_id, now)
            if not new:
                return Reply(status="duplicate")
            if conversation is None:
                raise NotRegistered(who)
            return step(tx, conversation, now)

        for _attempt in range(MAX_ATTEMPTS):
            try:
                return await self.storage.run(work)
            except StaleConversation:
                # Another turn for this person committed first. Everything in
                # that transaction (the update claim too) was rolled back: run
                # the turn again on the fresh position.
                self.retries += 1
        raise RuntimeError(f"a turn kept conflicting after {MAX_ATTEMPTS} attempts")

    def _save(
        self,
        tx: Transaction,
        conversation: Conversation,
        run_id: int | None,
        flow_id: str,
        turn: Turn,
        now: dt.datetime,
    ) -> Reply:
        active = flow_id if turn.status in ("active", "restarted") else None
        outcomes: list[Any] = []
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
        if turn.status == "finished":
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
            messages=turn.messages,
            prompt=turn.prompt,
            status=turn.status,
            flow_id=flow_id,
            language=conversation.person.language,
            outcomes=outcomes,
        )

    def _context(
        self, person: PersonRecord, now: dt.datetime, earlier: dict[str, dict[str, Any]] | None = None
    ) -> Context:
        return Context(language=person.language, today=self._local_date(now, person), earlier=earlier or {})

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
            zone = ZoneInfo(person.timezone if person else "Europe/London")
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("Europe/London")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(zone).date()
