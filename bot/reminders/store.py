"""Reminder rows: schedule, claim, pace, and record the outcome of a send.

Synchronous SQLAlchemy Core on a ``Connection`` (run through
``Storage.run``), like bot/storage/repository.py. Every function here is one
short step of a transaction, so two dispatchers (two processes, or two
machines sharing PostgreSQL) can work on the same table:

- :func:`claim` takes due rows under a lease. On PostgreSQL the rows are
  selected ``FOR UPDATE SKIP LOCKED``, so a second dispatcher skips rows the
  first is claiming instead of waiting or taking them too. On SQLite every
  transaction starts with ``BEGIN IMMEDIATE`` (see bot/storage/database.py),
  so claims are serialised by the single writer lock and the same statement
  is safe.
- :func:`reserve_slot` takes the next send slot from rows every dispatcher
  shares: one bot-wide row spacing sends at most ~30 a second, and one row
  per chat spacing a chat's messages at least a second apart.
- :func:`mark_sent` runs only after the sender reported success and only
  while the claim is still ours (the claim token), so a send is recorded once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bot.reminders.schedule import as_utc
from bot.storage.models import BlockedChat, ChatPace, Person, Reminder, SendPace, SendPermit

reminders = Reminder.__table__
people = Person.__table__
blocked_chats = BlockedChat.__table__
chat_pace = ChatPace.__table__
send_pace = SendPace.__table__
send_permits = SendPermit.__table__

PENDING, SENT, DROPPED, BLOCKED, FAILED = "pending", "sent", "dropped", "blocked", "failed"


@dataclass(frozen=True, slots=True)
class Planned:
    """A reminder someone's plans call for: who, what kind, about what, which lead, when."""

    person_id: int
    kind: str
    source: str
    lead: str
    due_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """A reminder this dispatcher holds under a lease, with what is needed to send it."""

    id: int
    person_id: int
    channel: str
    chat_id: str
    language: str
    timezone: str
    kind: str
    source: str
    lead: str
    due_at: dt.datetime
    expires_at: dt.datetime
    attempts: int
    claim_token: str


def _insert(connection: Connection) -> Any:
    return postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert


# --------------------------------------------------------------------------- scheduling


def replace_planned(connection: Connection, source: str, planned: Iterable[Planned]) -> None:
    """Make the pending reminders for ``source`` exactly ``planned``.

    Called whenever what a reminder is about changes (an appointment moved, a
    session rescheduled, a member joined or muted). Rows already sent,
    dropped or blocked are history and stay as they are; a pending row that
    is no longer wanted is deleted; a wanted one is inserted or re-timed
    (and its attempts reset, as it is a new reminder).
    """
    wanted = {(p.person_id, p.lead): p for p in planned}
    existing = connection.execute(
        select(reminders.c.id, reminders.c.person_id, reminders.c.lead, reminders.c.status, reminders.c.due_at).where(
            reminders.c.source == source
        )
    ).all()
    have = {(row.person_id, row.lead): row for row in existing}
    stale = [row.id for key, row in have.items() if row.status == PENDING and key not in wanted]
    if stale:
        connection.execute(delete(reminders).where(reminders.c.id.in_(stale)))
    for key, plan in wanted.items():
        row = have.get(key)
        if row is None:
            connection.execute(
                insert(reminders).values(
                    person_id=plan.person_id,
                    kind=plan.kind,
                    source=source,
                    lead=plan.lead,
                    due_at=plan.due_at,
                    expires_at=plan.expires_at,
                    status=PENDING,
                    attempts=0,
                )
            )
        elif row.status == PENDING or as_utc(row.due_at) != plan.due_at:
            # Pending: re-time it. Finished but now for a new time: a new reminder.
            # Finished for the same time: history, left alone (never sent twice).
            connection.execute(
                update(reminders)
                .where(reminders.c.id == row.id)
                .values(
                    kind=plan.kind,
                    due_at=plan.due_at,
                    expires_at=plan.expires_at,
                    status=PENDING,
                    lease_until=None,
                    claim_token=None,
                    attempts=0,
                    sent_at=None,
                )
            )


def cancel_source(connection: Connection, source: str) -> int:
    """Delete every pending reminder about ``source`` (the event was cancelled)."""
    result = connection.execute(delete(reminders).where(reminders.c.source == source, reminders.c.status == PENDING))
    return result.rowcount


def drop_due(connection: Connection, source: str, person_ids: Iterable[int], now: dt.datetime) -> None:
    """Drop those people's pending reminders about ``source`` that are already due (another message
    said the same). Dropped rows stay as history, so planning again later does not bring them back."""
    ids = sorted(set(person_ids))
    if ids:
        connection.execute(
            update(reminders)
            .where(
                reminders.c.source == source,
                reminders.c.status == PENDING,
                reminders.c.due_at <= now,
                reminders.c.person_id.in_(ids),
            )
            .values(status=DROPPED, lease_until=None, claim_token=None)
        )


# --------------------------------------------------------------------------- claiming

_CLAIMABLE = and_(
    reminders.c.status == PENDING,
    reminders.c.due_at <= bindparam("now", type_=reminders.c.due_at.type),
    or_(reminders.c.lease_until.is_(None), reminders.c.lease_until <= bindparam("now")),
)

_DROP_EXPIRED = (
    update(reminders)
    .where(_CLAIMABLE, reminders.c.expires_at <= bindparam("now"))
    .values(status=DROPPED, lease_until=None, claim_token=None)
)

_later = reminders.alias("later")
_SELECT_SUPERSEDED = select(reminders.c.id).where(
    reminders.c.id.in_(bindparam("ids", expanding=True)),
    select(_later.c.id)
    .where(
        _later.c.person_id == reminders.c.person_id,
        _later.c.source == reminders.c.source,
        _later.c.kind == reminders.c.kind,
        _later.c.status == PENDING,
        _later.c.due_at > reminders.c.due_at,
        _later.c.due_at <= bindparam("now"),
    )
    .exists(),
)
"""Of the rows just selected, those with a later reminder of the same kind about the same thing that
is due too (the bot was down, or a session was planned late): one message says it, so only the
latest is sent and these are dropped. Asked of the batch only, so a backlog costs no more per claim."""

# No join here: with a join the planner may pick a nested loop over people
# for every due row; the lock must cover reminders only anyway.
_SELECT_CLAIMABLE = (
    select(
        reminders.c.id,
        reminders.c.person_id,
        reminders.c.kind,
        reminders.c.source,
        reminders.c.lead,
        reminders.c.due_at,
        reminders.c.expires_at,
        reminders.c.attempts,
    )
    .where(_CLAIMABLE, reminders.c.expires_at > bindparam("now"))
    .order_by(reminders.c.due_at, reminders.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_SELECT_RECIPIENTS = (
    select(
        people.c.id,
        people.c.channel,
        people.c.external_id,
        people.c.language,
        people.c.timezone,
        blocked_chats.c.person_id.is_not(None).label("blocked"),
    )
    .select_from(people.outerjoin(blocked_chats, blocked_chats.c.person_id == people.c.id))
    .where(people.c.id.in_(bindparam("ids", expanding=True)))
)

_TAKE_LEASE = (
    update(reminders)
    .where(reminders.c.id == bindparam("reminder_id"))
    .values(
        lease_until=bindparam("lease_until", type_=reminders.c.lease_until.type),
        claim_token=bindparam("token"),
        attempts=reminders.c.attempts + 1,
    )
)


def claim(
    connection: Connection, *, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int, max_attempts: int
) -> list[Claimed]:
    """Drop what is no longer useful, then lease up to ``limit`` due reminders for ``channel``.

    Reminders of people on another channel (a console profile) are dropped:
    only a chat platform can reach someone unprompted.

    Reminders whose event has passed (``expires_at``) are dropped, never sent:
    this is what happens to reminders that fell due while the bot was down.
    Of reminders of one kind about one thing that are due together, only the
    latest is sent (the same words twice in a row help nobody).
    Reminders already tried ``max_attempts`` times are marked failed.
    """
    connection.execute(_DROP_EXPIRED, {"now": now})
    while True:
        rows = connection.execute(_SELECT_CLAIMABLE, {"now": now, "limit": limit}).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        superseded = set(connection.execute(_SELECT_SUPERSEDED, {"ids": ids, "now": now}).scalars())
        if not superseded:
            break
        connection.execute(
            update(reminders)
            .where(reminders.c.id.in_(sorted(superseded)))
            .values(status=DROPPED, lease_until=None, claim_token=None)
        )
        rows = [row for row in rows if row.id not in superseded]
        if rows:
            break  # else the whole batch was superseded: select the next one
    recipients = {
        row.id: row for row in connection.execute(_SELECT_RECIPIENTS, {"ids": sorted({r.person_id for r in rows})})
    }
    token = secrets.token_hex(8)
    lease_until = now + lease
    claimed: list[Claimed] = []
    exhausted: list[int] = []
    elsewhere: list[int] = []
    refused: list[int] = []
    for row in rows:
        person = recipients[row.person_id]
        if person.channel != channel:
            elsewhere.append(row.id)  # e.g. a console profile: nothing can reach it unprompted
            continue
        if person.blocked:
            refused.append(row.id)  # planned after they blocked the bot: not tried until they write again
            continue
        if row.attempts >= max_attempts:
            exhausted.append(row.id)
            continue
        claimed.append(
            Claimed(
                id=row.id,
                person_id=row.person_id,
                channel=person.channel,
                chat_id=person.external_id,
                language=person.language,
                timezone=person.timezone,
                kind=row.kind,
                source=row.source,
                lead=row.lead,
                due_at=as_utc(row.due_at),
                expires_at=as_utc(row.expires_at),
                attempts=row.attempts + 1,
                claim_token=token,
            )
        )
    if elsewhere:
        connection.execute(
            update(reminders).where(reminders.c.id.in_(elsewhere)).values(status=DROPPED, lease_until=None)
        )
    if refused:
        connection.execute(
            update(reminders).where(reminders.c.id.in_(refused)).values(status=BLOCKED, lease_until=None)
        )
    if claimed:
        ensure_pace_rows(connection, (c.person_id for c in claimed))
        connection.execute(
            _TAKE_LEASE, [{"reminder_id": c.id, "lease_until": lease_until, "token": token} for c in claimed]
        )
    if exhausted:
        connection.execute(
            update(reminders).where(reminders.c.id.in_(exhausted)).values(status=FAILED, lease_until=None)
        )
    return claimed


# --------------------------------------------------------------------------- outcomes

_OURS = and_(
    reminders.c.id == bindparam("reminder_id"),
    reminders.c.claim_token == bindparam("token"),
    reminders.c.status == PENDING,
)
_MARK_SENT = (
    update(reminders)
    .where(_OURS)
    .values(status=SENT, sent_at=bindparam("now", type_=reminders.c.sent_at.type), lease_until=None)
)


def mark_sent(connection: Connection, reminder: Claimed, now: dt.datetime) -> bool:
    """Record a send the sender confirmed. False if the claim was lost meanwhile (lease expired)."""
    result = connection.execute(_MARK_SENT, {"reminder_id": reminder.id, "token": reminder.claim_token, "now": now})
    return result.rowcount == 1


def release(connection: Connection, reminder: Claimed, retry_at: dt.datetime, *, count_attempt: bool = True) -> None:
    """Give a claimed reminder back, to be tried again from ``retry_at``."""
    values: dict[str, object] = {"lease_until": retry_at, "claim_token": None}
    if not count_attempt:
        values["attempts"] = reminders.c.attempts - 1
    connection.execute(
        update(reminders)
        .where(reminders.c.id == reminder.id, reminders.c.claim_token == reminder.claim_token)
        .values(**values)
    )


def finish(connection: Connection, reminder: Claimed, status: str) -> None:
    """End a claimed reminder without sending it (dropped as no longer useful, or failed)."""
    connection.execute(
        update(reminders)
        .where(reminders.c.id == reminder.id, reminders.c.claim_token == reminder.claim_token)
        .values(status=status, lease_until=None, claim_token=None)
    )


def mark_blocked(connection: Connection, person_id: int, now: dt.datetime) -> None:
    """The person blocked the bot: note it and stop every pending reminder of theirs."""
    connection.execute(
        _insert(connection)(blocked_chats).values(person_id=person_id, blocked_at=now).on_conflict_do_nothing()
    )
    connection.execute(
        update(reminders)
        .where(reminders.c.person_id == person_id, reminders.c.status == PENDING)
        .values(status=BLOCKED, lease_until=None, claim_token=None)
    )


def is_blocked(connection: Connection, person_id: int) -> bool:
    return (
        connection.execute(select(blocked_chats.c.person_id).where(blocked_chats.c.person_id == person_id)).first()
        is not None
    )


def blocked_external_ids(connection: Connection, channel: str) -> set[str]:
    """The channel's ids of everyone the dispatcher found had blocked the bot."""
    rows = connection.execute(
        select(people.c.external_id)
        .select_from(blocked_chats.join(people, people.c.id == blocked_chats.c.person_id))
        .where(people.c.channel == channel)
    )
    return set(rows.scalars().all())


def unblock(connection: Connection, person_id: int) -> bool:
    """The person wrote to the bot again, so it may reach them. Their stopped reminders stay stopped."""
    return connection.execute(delete(blocked_chats).where(blocked_chats.c.person_id == person_id)).rowcount == 1


def resume_future(connection: Connection, person_id: int, now: dt.datetime) -> int:
    """After an unblock: reminders the block stopped that are not due yet are pending again.

    Ones that fell due while the bot was blocked stay stopped (never sent late by surprise)."""
    result = connection.execute(
        update(reminders)
        .where(reminders.c.person_id == person_id, reminders.c.status == BLOCKED, reminders.c.due_at > now)
        .values(status=PENDING, attempts=0, lease_until=None, claim_token=None)
    )
    return result.rowcount


# --------------------------------------------------------------------------- pacing


@dataclass(frozen=True, slots=True)
class Slot:
    """When to send (Unix seconds), or, if ``deferred``, when to try again."""

    at: float
    deferred: bool = False


def ensure_pace_rows(connection: Connection, person_ids: Iterable[int], bot: str = "telegram") -> None:
    """Create the pace rows a batch will need, so reserving a slot is two plain UPDATEs."""
    insert_for = _insert(connection)
    connection.execute(insert_for(send_pace).values(name=bot, next_at=0.0).on_conflict_do_nothing())
    ids = sorted(set(person_ids))
    if ids:
        connection.execute(
            insert_for(chat_pace).values([{"person_id": i, "next_at": 0.0} for i in ids]).on_conflict_do_nothing()
        )


def _latest(connection: Connection, *values: Any) -> Any:
    return func.greatest(*values) if connection.dialect.name == "postgresql" else func.max(*values)


def reserve_slots(
    connection: Connection,
    batch: list[Claimed],
    *,
    wall_now: float,
    interval: float,
    chat_interval: float,
    max_wait: float,
    bot: str = "telegram",
) -> list[Slot]:
    """Take send slots for a batch in one transaction; one :class:`Slot` per reminder, in order.

    Sends are spaced ``interval`` apart across every dispatcher: the bot's
    row is moved on by one ``UPDATE … RETURNING`` for the whole batch, so
    any one-second window holds at most 1/interval sends. A chat's sends are
    spaced ``chat_interval`` apart: a reminder whose chat is not ready (or
    whose person already has one in this batch) is deferred, not given a
    slot. If the bot is paused (flood control) for longer than ``max_wait``,
    the whole batch is deferred. Rows are locked chats first (in id order),
    then the bot's row, so two dispatchers cannot deadlock.
    Needs :func:`ensure_pace_rows` first (claim does it).
    """
    person_ids = sorted({r.person_id for r in batch})
    chat_next = dict(
        connection.execute(
            select(chat_pace.c.person_id, chat_pace.c.next_at)
            .where(chat_pace.c.person_id.in_(person_ids))
            .order_by(chat_pace.c.person_id)
            .with_for_update()
        ).all()
    )
    ready: list[int] = []
    seen: set[int] = set()
    deferred: dict[int, float] = {}
    for index, reminder in enumerate(batch):
        earliest = chat_next.get(reminder.person_id, 0.0)
        if reminder.person_id in seen:
            deferred[index] = wall_now + chat_interval
        elif earliest > wall_now:
            deferred[index] = earliest
        else:
            ready.append(index)
        seen.add(reminder.person_id)
    slots: dict[int, Slot] = {i: Slot(at, deferred=True) for i, at in deferred.items()}
    if ready:
        start = connection.execute(
            update(send_pace)
            .where(send_pace.c.name == bot, send_pace.c.next_at <= wall_now + max_wait)
            .values(next_at=_latest(connection, send_pace.c.next_at, wall_now) + interval * len(ready))
            .returning(send_pace.c.next_at - interval * len(ready))
        ).scalar_one_or_none()
        if start is None:
            paused_until = connection.execute(select(send_pace.c.next_at).where(send_pace.c.name == bot)).scalar_one()
            slots.update({i: Slot(paused_until, deferred=True) for i in ready})
        else:
            times = {i: start + n * interval for n, i in enumerate(ready)}
            connection.execute(
                update(chat_pace).where(chat_pace.c.person_id == bindparam("pid")).values(next_at=bindparam("next_at")),
                [{"pid": batch[i].person_id, "next_at": at + chat_interval} for i, at in times.items()],
            )
            slots.update({i: Slot(at) for i, at in times.items()})
    return [slots[i] for i in range(len(batch))]


def ensure_permits(connection: Connection, count: int) -> None:
    """Create permits 0..count-1 if missing (idempotent; cheap once they exist)."""
    have = connection.execute(select(func.count()).select_from(send_permits)).scalar_one()
    if have < count:
        insert_for = _insert(connection)
        connection.execute(
            insert_for(send_permits).values([{"id": n, "free_at": 0.0} for n in range(count)]).on_conflict_do_nothing()
        )


def acquire_permit(
    connection: Connection, *, wall_now: float, hold: float, count: int, lookahead: float = 0.0
) -> tuple[int | None, float]:
    """Take a send permit: (its id, when it is free to use), or (None, when the next one frees).

    A permit freeing within ``lookahead`` seconds may be taken early, so the
    database round trip happens before the permit frees, not after; the
    caller must wait until the returned time before handing the message over.
    ``hold`` bounds how long a crashed holder keeps it. Permits beyond
    ``count`` (left from a larger setting) are ignored. SKIP LOCKED lets two
    dispatchers take different permits at the same instant.
    """
    row = connection.execute(
        select(send_permits.c.id, send_permits.c.free_at)
        .where(send_permits.c.free_at <= wall_now + lookahead, send_permits.c.id < count)
        .order_by(send_permits.c.free_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        soonest = connection.execute(
            select(func.min(send_permits.c.free_at)).where(send_permits.c.id < count)
        ).scalar_one()
        return None, float(soonest if soonest is not None else wall_now)
    connection.execute(update(send_permits).where(send_permits.c.id == row.id).values(free_at=wall_now + hold))
    return row.id, float(row.free_at)


def release_permit(connection: Connection, permit: int, free_at: float) -> None:
    connection.execute(update(send_permits).where(send_permits.c.id == permit).values(free_at=free_at))


def hold_permits(connection: Connection, until: float, count: int) -> None:
    """Flood control for everyone who takes permits: none frees before ``until``."""
    connection.execute(
        update(send_permits).where(send_permits.c.id < count, send_permits.c.free_at < until).values(free_at=until)
    )


def pause_bot(connection: Connection, until: float, bot: str = "telegram") -> None:
    """Flood control (RetryAfter): no dispatcher sends before ``until``."""
    insert_for = _insert(connection)
    connection.execute(insert_for(send_pace).values(name=bot, next_at=until).on_conflict_do_nothing())
    connection.execute(
        update(send_pace).where(send_pace.c.name == bot, send_pace.c.next_at < until).values(next_at=until)
    )


# --------------------------------------------------------------------------- reading


def counts_by_status(connection: Connection) -> dict[str, int]:
    rows = connection.execute(select(reminders.c.status, func.count()).group_by(reminders.c.status)).all()
    return {status: count for status, count in rows}


@dataclass(frozen=True, slots=True)
class Listed:
    """One reminder row as an operator sees it: ids, kinds and times, never anyone's words."""

    id: int
    person_id: int
    kind: str
    source: str
    lead: str
    due_at: dt.datetime
    expires_at: dt.datetime
    status: str
    attempts: int


def listing(connection: Connection, *, finished_too: bool = False) -> list[Listed]:
    """Pending reminders (and, with ``finished_too``, sent, dropped, blocked and failed ones), soonest first.

    Reminder rows hold no personal text, only what each is about (``session:3``)."""
    statement = select(
        reminders.c.id,
        reminders.c.person_id,
        reminders.c.kind,
        reminders.c.source,
        reminders.c.lead,
        reminders.c.due_at,
        reminders.c.expires_at,
        reminders.c.status,
        reminders.c.attempts,
    ).order_by(reminders.c.due_at, reminders.c.id)
    if not finished_too:
        statement = statement.where(reminders.c.status == PENDING)
    return [
        Listed(
            row.id,
            row.person_id,
            row.kind,
            row.source,
            row.lead,
            as_utc(row.due_at),
            as_utc(row.expires_at),
            row.status,
            row.attempts,
        )
        for row in connection.execute(statement)
    ]


def pending_for(connection: Connection, person_id: int) -> list[tuple[str, str, str, dt.datetime]]:
    """(kind, source, lead, due_at) of a person's pending reminders, soonest first."""
    rows = connection.execute(
        select(reminders.c.kind, reminders.c.source, reminders.c.lead, reminders.c.due_at)
        .where(reminders.c.person_id == person_id, reminders.c.status == PENDING)
        .order_by(reminders.c.due_at)
    ).all()
    return [(kind, source, lead, as_utc(due)) for kind, source, lead, due in rows]
