"""What a turn asks of the database: the person, their run and their safety record in one read.

Every statement of a turn is a trip through SQLAlchemy and the driver (on
PostgreSQL a round trip to the server), and with many people at once they
are most of a turn's cost. The safety record (when the safety question last
came, when the "don't stop suddenly" reminder was given) is read with the
person and their run in the turn's one query, and kept for the rest of the
transaction, so the flows that give the reminder pay nothing extra for it.

Counted with SQLAlchemy's public ``before_cursor_execute`` event on the real
database (both backends). Not a timing: a count of statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bot.services.conversation import Companion, Who
from bot.storage.repository import Storage
from flows.crisis import CrisisDetector
from flows.engine import Engine
from flows.safety import NOTHING, Assessment, SafetyState
from flows.turns import NEXT, SKIP, Pressed, Typed
from tests.conftest import Clock

ME = Who("console", "counted")
STOPPED = "I stopped my tablets last week"


class StoppingDetector(CrisisDetector):
    """The shipped lexicons, but only STOPPED is read as a message about stopping a medicine."""

    def assess(self, text: str) -> Assessment:
        return Assessment(None, stopping_medicine=True) if text == STOPPED else NOTHING


@contextmanager
def statements(storage: Storage) -> Iterator[list[str]]:
    """The SQL sent while the block runs (BEGIN and COMMIT go past the cursor and are not seen)."""
    engine: Any = storage.database.engine  # type: ignore[attr-defined]
    engine = getattr(engine, "sync_engine", engine)
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def reads_of_safety(sent: list[str]) -> list[str]:
    return [sql for sql in sent if sql.startswith("SELECT") and "FROM safety_states" in sql]


async def test_a_turn_in_a_flow_with_the_reminder_reads_its_safety_record_with_the_person(
    storage: Storage, engine: Engine, clock: Clock
) -> None:
    companion = Companion(storage, engine, clock=clock)
    await companion.join(ME)
    assert any(step.stop_reminder for step in engine.catalog.flows["questions"].steps), "it gives the reminder"
    await companion.open(ME, "questions", update_id=1)
    with statements(storage) as sent:
        reply = await companion.act(ME, Pressed(NEXT), update_id=2)
    assert reply.prompt is not None
    assert reads_of_safety(sent) == [], sent
    reads = [sql for sql in sent if sql.startswith("SELECT")]
    assert len(reads) == 1 and "safety_states" in reads[0] and "runs" in reads[0], reads
    # The claim, the one read, the version, the position (and no answer: a message step).
    assert len(sent) == 4, sent


async def test_a_safety_record_written_in_a_transaction_is_what_the_rest_of_it_reads(storage: Storage) -> None:
    """The record read with the person is kept for the transaction: a write in it must replace
    what is kept, or a later step of the same turn would write the old signals back."""
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    await storage.run(lambda tx: tx.create_person(ME.channel, ME.external_id, "en", now))

    def work(tx: Any) -> tuple[Any, Any, Any]:
        conversation = tx.conversation(ME.channel, ME.external_id)
        first = tx.safety_state(conversation.person.id)
        tx.save_safety_state(conversation.person.id, {"signals": [now.isoformat()]}, now)
        second = tx.safety_state(conversation.person.id)
        tx.save_safety_state(conversation.person.id, {"medicine_told_on": "2026-11-22"}, now)
        return first, second, tx.safety_state(conversation.person.id)

    first, second, third = await storage.run(work)
    assert first is None
    assert second == {"signals": [now.isoformat()]}
    assert third == {"medicine_told_on": "2026-11-22"}
    # And what was committed is what a new transaction reads.
    kept = await storage.run(lambda tx: tx.conversation(ME.channel, ME.external_id))
    assert await storage.run(lambda tx: tx.safety_state(kept.person.id)) == third


async def test_the_reminder_is_still_given_once_when_it_is_read_with_the_person(
    storage: Storage, engine: Engine, clock: Clock
) -> None:
    """A typed message about stopping gives the reminder (and writes the record in that turn);
    the flow's own reminder later the same day is the short one."""
    shipped = CrisisDetector.from_catalog(engine.catalog)
    companion = Companion(storage, engine, clock=clock, crisis=StoppingDetector(shipped.lexicons))
    await companion.join(ME)
    reply = await companion.open(ME, "questions", update_id=1)
    flow = engine.catalog.flows["questions"]
    said: list[str] = []
    typed = False
    for n in range(80):
        assert reply.prompt is not None, "the flow ended before its reminder"
        said.append(" ".join([*reply.messages, reply.prompt.text]))
        if flow.step(reply.prompt.step).stop_reminder:
            break
        if not typed:
            typed = True
            reply = await companion.act(ME, Typed(STOPPED), update_id=10 + n)
        elif reply.prompt.step == "changing":
            reply = await companion.act(ME, Pressed(reply.prompt.options[0].id), update_id=10 + n)
            said.append(" ".join([*reply.messages, reply.prompt.text if reply.prompt else ""]))
            reply = await companion.act(ME, Pressed("~done"), update_id=100 + n)
        else:
            reply = await companion.act(ME, Pressed(NEXT if reply.prompt.kind.value == "message" else SKIP), 10 + n)
    else:
        raise AssertionError("never reached the reminder")
    whole = flow.step(reply.prompt.step).say.get("en")
    assert reply.prompt.text != whole, "the whole reminder came twice in one day"
    record = await storage.run(lambda tx: tx.safety_state(tx.person(ME.channel, ME.external_id).id))  # type: ignore[union-attr]
    assert SafetyState.from_dict(record).medicine_told_on == dt.date(2026, 11, 22)
