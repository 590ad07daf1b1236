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

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bot.reminders.schedule import as_utc
from bot.storage.models import BlockedChat, ChatPace, Person, Reminder, SendPace

reminders = Reminder.__table__
people = Person.__table__
blocked_chats = BlockedChat.__table__
chat_pace = ChatPace.__table__
send_pace = SendPace.__table__

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


def _insert(connection: Connection):  # type: ignore[no-untyped-def]
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
    result = connection.execute(
        delete(reminders).where(reminders.c.source == source, reminders.c.status == PENDING)
    )
    return result.rowcount


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

_SELECT_CLAIMABLE = (
    select(
        reminders.c.id,
        reminders.c.person_id,
        people.c.channel,
        people.c.external_id,
        people.c.language,
        people.c.timezone,
        reminders.c.kind,
        reminders.c.source,
        reminders.c.lead,
        reminders.c.due_at,
        reminders.c.expires_at,
        reminders.c.attempts,
    )
    .select_from(reminders.join(people, people.c.id == reminders.c.person_id))
    .where(_CLAIMABLE, reminders.c.expires_at > bindparam("now"), people.c.channel == bindparam("channel"))
    .order_by(reminders.c.due_at, reminders.c.id)
    .limit(bindparam("limit"))
    .with_for_update(of=reminders, skip_locked=True)
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

    Reminders whose event has passed (``expires_at``) are dropped, never sent:
    this is what happens to reminders that fell due while the bot was down.
    Reminders already tried ``max_attempts`` times are marked failed.
    """
    connection.execute(_DROP_EXPIRED, {"now": now})
    rows = connection.execute(_SELECT_CLAIMABLE, {"now": now, "channel": channel, "limit": limit}).all()
    token = secrets.token_hex(8)
    lease_until = now + lease
    claimed: list[Claimed] = []
    exhausted: list[int] = []
    for row in rows:
        if row.attempts >= max_attempts:
            exhausted.append(row.id)
            continue
        claimed.append(
            Claimed(
                id=row.id,
                person_id=row.person_id,
                channel=row.channel,
                chat_id=row.external_id,
                language=row.language,
                timezone=row.timezone,
                kind=row.kind,
                source=row.source,
                lead=row.lead,
                due_at=as_utc(row.due_at),
                expires_at=as_utc(row.expires_at),
                attempts=row.attempts + 1,
                claim_token=token,
            )
        )
    if claimed:
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
_MARK_SENT = update(reminders).where(_OURS).values(
    status=SENT, sent_at=bindparam("now", type_=reminders.c.sent_at.type), lease_until=None
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
    connection.execute(_insert(connection)(blocked_chats).values(person_id=person_id, blocked_at=now).on_conflict_do_nothing())
    connection.execute(
        update(reminders)
        .where(reminders.c.person_id == person_id, reminders.c.status == PENDING)
        .values(status=BLOCKED, lease_until=None, claim_token=None)
    )


def is_blocked(connection: Connection, person_id: int) -> bool:
    return connection.execute(select(blocked_chats.c.person_id).where(blocked_chats.c.person_id == person_id)).first() is not None


def unblock(connection: Connection, person_id: int) -> bool:
    """The person wrote to the bot again, so it may reach them. Their stopped reminders stay stopped."""
    return connection.execute(delete(blocked_chats).where(blocked_chats.c.person_id == person_id)).rowcount == 1


# --------------------------------------------------------------------------- pacing


@dataclass(frozen=True, slots=True)
class Slot:
    """When to send (Unix seconds), or, if ``deferred``, when to try again."""

    at: float
    deferred: bool = False


def reserve_slot(
    connection: Connection,
    reminder: Claimed,
    *,
    wall_now: float,
    interval: float,
    chat_interval: float,
    max_wait: float,
    bot: str = "telegram",
) -> Slot:
    """Take the next bot-wide send slot, unless the chat or the bot is not ready for a while.

    Sends are spaced ``interval`` apart across every dispatcher (one shared
    row, locked for the instant of the update), so any one-second window holds
    at most 1/interval sends. A chat's sends are spaced ``chat_interval``
    apart. If the chat's next slot, or the bot's (after a flood-control
    pause), is further off than ``max_wait``, the reminder is deferred rather
    than holding a slot, and its lease is set to end then so it is claimed again.
    """
    insert_for = _insert(connection)
    connection.execute(insert_for(send_pace).values(name=bot, next_at=0.0).on_conflict_do_nothing())
    connection.execute(
        insert_for(chat_pace).values(person_id=reminder.person_id, next_at=0.0).on_conflict_do_nothing()
    )
    chat_next = connection.execute(
        select(chat_pace.c.next_at).where(chat_pace.c.person_id == reminder.person_id).with_for_update()
    ).scalar_one()
    if chat_next > wall_now:
        # Waiting for this chat must not hold a bot-wide slot that another
        # chat could use now: hand the reminder back until the chat is ready.
        return Slot(chat_next, deferred=True)
    bot_next = connection.execute(
        select(send_pace.c.next_at).where(send_pace.c.name == bot).with_for_update()
    ).scalar_one()
    if bot_next - wall_now > max_wait:
        return Slot(bot_next, deferred=True)
    slot = max(wall_now, bot_next)
    connection.execute(update(send_pace).where(send_pace.c.name == bot).values(next_at=slot + interval))
    connection.execute(
        update(chat_pace).where(chat_pace.c.person_id == reminder.person_id).values(next_at=slot + chat_interval)
    )
    return Slot(slot)


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


def pending_for(connection: Connection, person_id: int) -> list[tuple[str, str, str, dt.datetime]]:
    """(kind, source, lead, due_at) of a person's pending reminders, soonest first."""
    rows = connection.execute(
        select(reminders.c.kind, reminders.c.source, reminders.c.lead, reminders.c.due_at)
        .where(reminders.c.person_id == person_id, reminders.c.status == PENDING)
        .order_by(reminders.c.due_at)
    ).all()
    return [(kind, source, lead, as_utc(due)) for kind, source, lead, due in rows]
