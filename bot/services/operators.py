"""What the operator (the command line on the server) may see and do about people and the service.

An operator has to find a person's id (for a subject-access request, an
erasure, or to give a role) without reading what they wrote: everything here
is ids, channels, dates, counts and statuses, never an answer, a note or a
chosen name (a role holder's name is shown: they are staff). Every look at a
person and every erasure writes an audit row with the operator as the actor,
in the same transaction as the read, so it cannot happen unrecorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection

from bot.roles import grants, sharing
from bot.storage import migrate as migrations
from bot.storage.errors import explain
from bot.storage.models import Answer, Person, Reminder, Run
from bot.storage.outbox import OutboxRows
from bot.storage.repository import Storage, Transaction

people = Person.__table__
runs = Run.__table__
answers = Answer.__table__
reminders = Reminder.__table__

LIST_ACTION = "operator_people_list"
SHOW_ACTION = "operator_people_show"
DELETE_ACTION = "operator_delete"
"""Audit actions (access_log.action is at most 32 characters)."""


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class PersonLine:
    """One person as ``companion people list`` shows them: nothing they wrote."""

    id: int
    channel: str
    external_id: str
    language: str
    created_at: dt.datetime
    last_active: dt.datetime | None
    roles: tuple[str, ...]
    staff_name: str | None
    """The name of someone who holds a role (staff); None for everyone else."""


@dataclass(frozen=True, slots=True)
class FlowLine:
    flow_id: str
    status: str
    started_at: dt.datetime
    completed_at: dt.datetime | None
    answers: int


@dataclass(frozen=True, slots=True)
class PersonDetail:
    """One person as ``companion people show`` shows them: dates, statuses and counts only."""

    line: PersonLine
    timezone: str
    consented_at: dt.datetime
    flows: tuple[FlowLine, ...]
    rows: dict[str, int] = field(default_factory=dict)
    """Rows in each table that refer to the person (``table.column``), zero counts left out."""


@dataclass(frozen=True, slots=True)
class Status:
    """What ``companion status`` reports. ``schema`` None: the database has no tables yet."""

    schema: str | None
    head: str | None
    pending_reminders: int
    due_reminders: int
    last_error: str | None
    outbox_depth: int | None

    @property
    def schema_current(self) -> bool:
        return self.schema is not None and self.schema == self.head


def outbox_depth(connection: Connection) -> int | None:
    """Replies waiting in the delivery outbox (bot/services/outbox.py): sent at once after their
    turn, so more than a few means Telegram is refusing or slow, or no bot is running.

    The hook ``companion status`` and the metrics read. None: the database's schema is older
    than the outbox (``companion status`` does not migrate)."""
    if not inspect(connection).has_table("outbox"):
        return None
    return OutboxRows(connection).pending_count()


class Operators:
    """The operator's view of people and of the service. Build once; share freely."""

    def __init__(self, storage: Storage, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.storage = storage
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    async def list_people(
        self, *, role: str | None = None, channel: str | None = None, external_id: str | None = None
    ) -> list[PersonLine]:
        """Everyone (or those with ``role``, or on ``channel`` with ``external_id``); audited per person shown."""
        now = self.clock()

        def work(tx: Transaction) -> list[PersonLine]:
            lines = _lines(tx.connection, role=role, channel=channel, external_id=external_id)
            for line in lines:
                sharing.operator_read(tx.connection, line.id, LIST_ACTION, now)
            return lines

        return await self.storage.run(work)

    async def show_person(self, person_id: int) -> PersonDetail | None:
        """One person's record without its content (None if there is nobody with that id); audited."""
        now = self.clock()

        def work(tx: Transaction) -> PersonDetail | None:
            found = _lines(tx.connection, person_id=person_id)
            person = tx.person_by_id(person_id)
            if not found or person is None:
                return None
            sharing.operator_read(tx.connection, person_id, SHOW_ACTION, now)
            counts = {name: count for name, count in tx.rows_referring_to(person_id).items() if count}
            flows = tuple(_flows(tx.connection, person_id))
            return PersonDetail(found[0], person.timezone, as_utc(person.consented_at), flows, counts)

        return await self.storage.run(work)

    async def delete_person(self, person_id: int) -> bool:
        """Erase the person as their own /delete does (bot/services/privacy.py); audited. False: nobody had that id."""
        now = self.clock()

        def work(tx: Transaction) -> bool:
            if tx.person_by_id(person_id) is None:
                return False
            tx.erase_person(person_id)
            sharing.operator_read(tx.connection, person_id, DELETE_ACTION, now)
            return True

        return await self.storage.run(work)

    async def status(self) -> Status:
        """The schema version against the code's, and what is waiting to go out."""
        now = self.clock()

        def work(connection: Connection) -> Status:
            schema = migrations.current(connection)
            if schema is None:
                return Status(None, migrations.head(), 0, 0, None, None)
            pending = reminders.c.status == "pending"
            count = select(func.count()).select_from(reminders)
            waiting = connection.execute(count.where(pending)).scalar_one()
            due = connection.execute(count.where(pending, reminders.c.due_at <= now)).scalar_one()
            return Status(schema, migrations.head(), waiting, due, last_error(connection), outbox_depth(connection))

        try:
            return await self.storage.database.run_alone(work)
        except Exception as error:
            # Opened without migrating, so the first statement is what finds the database missing.
            explained = explain(error, self.storage.url)
            if explained is None:
                raise
            raise explained from None


def last_error(connection: Connection) -> str | None:
    """The newest failure the database records: a reminder the dispatcher gave up on (ids and times only)."""
    row = connection.execute(
        select(reminders.c.id, reminders.c.kind, reminders.c.due_at, reminders.c.attempts)
        .where(reminders.c.status == "failed")
        .order_by(reminders.c.due_at.desc(), reminders.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return f"reminder {row[0]} ({row[1]}, due {as_utc(row[2]):%Y-%m-%d %H:%M} UTC) failed after {row[3]} attempts"


def _lines(
    connection: Connection,
    *,
    person_id: int | None = None,
    role: str | None = None,
    channel: str | None = None,
    external_id: str | None = None,
) -> list[PersonLine]:
    last_active = (
        select(func.max(runs.c.updated_at)).where(runs.c.person_id == people.c.id).scalar_subquery().label("active")
    )
    query = select(
        people.c.id, people.c.channel, people.c.external_id, people.c.language, people.c.created_at, last_active
    ).order_by(people.c.id)
    if person_id is not None:
        query = query.where(people.c.id == person_id)
    if channel is not None:
        query = query.where(people.c.channel == channel)
    if external_id is not None:
        query = query.where(people.c.external_id == external_id)
    rows = connection.execute(query).all()
    held: dict[int, list[str]] = {}
    names: dict[int, str | None] = {}
    for holder in grants.holders(connection):
        held.setdefault(holder.person_id, []).append(holder.role)
        names[holder.person_id] = holder.display_name
    lines = [
        PersonLine(
            id=row[0],
            channel=row[1],
            external_id=row[2],
            language=row[3],
            created_at=as_utc(row[4]),
            last_active=None if row[5] is None else as_utc(row[5]),
            roles=tuple(sorted(held.get(row[0], ()))),
            staff_name=names.get(row[0]),
        )
        for row in rows
    ]
    return [line for line in lines if role is None or role in line.roles]


def _flows(connection: Connection, person_id: int) -> list[FlowLine]:
    counted = (
        select(func.count()).select_from(answers).where(answers.c.run_id == runs.c.id).scalar_subquery().label("n")
    )
    rows = connection.execute(
        select(runs.c.flow_id, runs.c.status, runs.c.started_at, runs.c.completed_at, counted)
        .where(runs.c.person_id == person_id)
        .order_by(runs.c.started_at, runs.c.id)
    ).all()
    return [
        FlowLine(row[0], row[1], as_utc(row[2]), None if row[3] is None else as_utc(row[3]), row[4]) for row in rows
    ]
