"""Facilitators' training groups: membership by consent, sessions, and their reminders.

A group has a name, a time zone and an invite link. Joining needs the
person's explicit agreement to what membership means (the facilitator sees
their name and whether they muted the group, nothing else). Sessions are set
at a local date and time in the group's zone; every member who has not muted
the group gets reminders at the group's lead times (default: the day before
and two hours before). Any change (a session moved or cancelled, someone
joining, leaving or muting, new lead times) re-plans the affected reminder
rows, so the rows are always what should be sent.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bot.reminders import store
from bot.reminders.schedule import Lead, as_utc, due_at, local_to_utc, parse_local, zone
from bot.roles import grants, sharing, tokens
from bot.storage.models import Group, GroupMember, GroupSession, InstallSecret, Person

DEFAULT_LEADS = ["d1", "m120"]
MAX_MEMBERS = 12
SESSION_KIND = "session"

groups = Group.__table__
members = GroupMember.__table__
sessions = GroupSession.__table__
people = Person.__table__
install_secrets = InstallSecret.__table__
CALENDAR_SECRET = "calendar_uid"


class NotAllowed(Exception):
    """Only the group's own facilitator may do this (checked against the database, never a button's ids)."""


class GroupFull(Exception):
    pass


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: int
    facilitator_id: int
    name: str
    timezone: str
    leads: list[str]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    group_id: int
    local_start: dt.datetime
    starts_at: dt.datetime
    duration_minutes: int
    place: str | None
    sequence: int = 0
    """How often it was moved or cancelled (its calendar file's SEQUENCE)."""
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class MemberRecord:
    person_id: int
    display_name: str | None
    muted: bool


def create_group(
    connection: Connection, facilitator_id: int, name: str, timezone: str, now: dt.datetime
) -> tuple[GroupRecord, str]:
    """A new group and its join token (for ``?start=<token>``); only a facilitator may."""
    if not grants.has_role(connection, facilitator_id, grants.FACILITATOR):
        raise NotAllowed("create_group")
    zone(timezone)
    token = tokens.new_token(tokens.GROUP_PREFIX)
    group_id = connection.execute(
        insert(groups)
        .values(
            facilitator_id=facilitator_id,
            name=name.strip()[:80],
            timezone=timezone,
            join_token_hash=tokens.digest(token),
            leads=list(DEFAULT_LEADS),
            created_at=now,
        )
        .returning(groups.c.id)
    ).scalar_one()
    return GroupRecord(group_id, facilitator_id, name.strip()[:80], timezone, list(DEFAULT_LEADS)), token


def group(connection: Connection, group_id: int) -> GroupRecord | None:
    row = connection.execute(select(groups).where(groups.c.id == group_id)).first()
    return GroupRecord(row.id, row.facilitator_id, row.name, row.timezone, list(row.leads)) if row else None


def group_by_token(connection: Connection, token: str) -> GroupRecord | None:
    """The group a join link is for (shown before asking consent); None if unknown."""
    if not tokens.looks_like_token(token):
        return None
    row = connection.execute(select(groups.c.id).where(groups.c.join_token_hash == tokens.digest(token))).first()
    return group(connection, row.id) if row else None


def owned(connection: Connection, facilitator_id: int, group_id: int) -> GroupRecord:
    """The group, if this facilitator runs it and still holds the role; else NotAllowed."""
    record = group(connection, group_id)
    if (
        record is None
        or record.facilitator_id != facilitator_id
        or not grants.has_role(connection, facilitator_id, grants.FACILITATOR)
    ):
        raise NotAllowed("group")
    return record


def rotate_join_token(connection: Connection, facilitator_id: int, group_id: int) -> str:
    """A fresh invite token for the group; the old one stops working (only a hash is kept)."""
    owned(connection, facilitator_id, group_id)
    token = tokens.new_token(tokens.GROUP_PREFIX)
    connection.execute(update(groups).where(groups.c.id == group_id).values(join_token_hash=tokens.digest(token)))
    return token


def groups_of(connection: Connection, facilitator_id: int) -> list[GroupRecord]:
    rows = connection.execute(
        select(groups.c.id).where(groups.c.facilitator_id == facilitator_id).order_by(groups.c.id)
    )
    return [g for g in (group(connection, r.id) for r in rows) if g is not None]


def join(
    connection: Connection, person_id: int, token: str, *, consented: bool, now: dt.datetime
) -> GroupRecord | None:
    """Join through a link, only with ``consented=True`` (the person agreed to what membership means)."""
    if not consented:
        return None
    record = group_by_token(connection, token)
    if record is None:
        return None
    already = connection.execute(
        select(members.c.person_id).where(members.c.group_id == record.id, members.c.person_id == person_id)
    ).first()
    if already is None:
        count = len(connection.execute(select(members.c.person_id).where(members.c.group_id == record.id)).all())
        if count >= MAX_MEMBERS:
            raise GroupFull(record.id)
        insert_for = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(
            insert_for(members)
            .values(group_id=record.id, person_id=person_id, consented_at=now, muted=False)
            .on_conflict_do_nothing()
        )
    _replan_group(connection, record, now)
    return record


def leave(connection: Connection, person_id: int, group_id: int, now: dt.datetime) -> bool:
    result = connection.execute(delete(members).where(members.c.group_id == group_id, members.c.person_id == person_id))
    record = group(connection, group_id)
    if record:
        _replan_group(connection, record, now)
    return result.rowcount == 1


def set_muted(connection: Connection, person_id: int, group_id: int, muted: bool, now: dt.datetime) -> bool:
    """A member mutes (or unmutes) a group; its pending session reminders stop (or start) at once.
    (What follows a session is planned again by the caller: bot/services/groups.py.)"""
    result = connection.execute(
        update(members).where(members.c.group_id == group_id, members.c.person_id == person_id).values(muted=muted)
    )
    record = group(connection, group_id)
    if record:
        _replan_group(connection, record, now)
    return result.rowcount == 1


def member_list(
    connection: Connection, facilitator_id: int, group_id: int, now: dt.datetime | None = None
) -> list[MemberRecord]:
    """The members with their chosen names; each one shown is written to the audit trail."""
    owned(connection, facilitator_id, group_id)
    rows = connection.execute(
        select(members.c.person_id, people.c.display_name, members.c.muted)
        .select_from(members.join(people, people.c.id == members.c.person_id))
        .where(members.c.group_id == group_id)
        .order_by(members.c.consented_at)
    ).all()
    sharing.facilitator_view(connection, facilitator_id, [row[0] for row in rows], now or dt.datetime.now(dt.UTC))
    return [MemberRecord(*row) for row in rows]


def set_leads(connection: Connection, facilitator_id: int, group_id: int, leads: list[str], now: dt.datetime) -> None:
    """Change when session reminders go out (e.g. ["d2", "m60"]); re-plans every future session."""
    parsed = [Lead.parse(text).key() for text in leads]
    record = owned(connection, facilitator_id, group_id)
    connection.execute(update(groups).where(groups.c.id == group_id).values(leads=parsed))
    _replan_group(connection, GroupRecord(record.id, record.facilitator_id, record.name, record.timezone, parsed), now)


def schedule_session(
    connection: Connection,
    facilitator_id: int,
    group_id: int,
    local_start: dt.datetime,
    *,
    duration_minutes: int = 90,
    place: str | None,
    now: dt.datetime,
) -> SessionRecord:
    record = owned(connection, facilitator_id, group_id)
    local_start = local_start.replace(tzinfo=None, second=0, microsecond=0)
    starts_at = local_to_utc(local_start.date(), local_start.time(), record.timezone)
    session_id = connection.execute(
        insert(sessions)
        .values(
            group_id=group_id,
            local_start=local_start.isoformat(timespec="minutes"),
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            place=place,
        )
        .returning(sessions.c.id)
    ).scalar_one()
    session = SessionRecord(session_id, group_id, local_start, starts_at, duration_minutes, place)
    _replan_session(connection, record, session, now)
    return session


def move_session(
    connection: Connection, facilitator_id: int, session_id: int, local_start: dt.datetime, now: dt.datetime
) -> SessionRecord:
    current = session(connection, session_id)
    if current is None:
        raise NotAllowed("session")
    record = owned(connection, facilitator_id, current.group_id)
    local_start = local_start.replace(tzinfo=None, second=0, microsecond=0)
    starts_at = local_to_utc(local_start.date(), local_start.time(), record.timezone)
    connection.execute(
        update(sessions)
        .where(sessions.c.id == session_id)
        .values(
            local_start=local_start.isoformat(timespec="minutes"),
            starts_at=starts_at,
            sequence=sessions.c.sequence + 1,
        )
    )
    moved = SessionRecord(
        session_id,
        current.group_id,
        local_start,
        starts_at,
        current.duration_minutes,
        current.place,
        current.sequence + 1,
    )
    _replan_session(connection, record, moved, now)
    return moved


def cancel_session(connection: Connection, facilitator_id: int, session_id: int, now: dt.datetime) -> None:
    current = session(connection, session_id)
    if current is None:
        raise NotAllowed("session")
    owned(connection, facilitator_id, current.group_id)
    connection.execute(
        update(sessions).where(sessions.c.id == session_id).values(cancelled_at=now, sequence=sessions.c.sequence + 1)
    )
    store.cancel_source(connection, source_of(session_id))


def session(connection: Connection, session_id: int) -> SessionRecord | None:
    """A session that is still on (None if it is unknown or cancelled)."""
    found = session_even_cancelled(connection, session_id)
    return None if found is None or found.cancelled else found


def session_even_cancelled(connection: Connection, session_id: int) -> SessionRecord | None:
    """A session, cancelled or not: a cancellation notice tells members which one."""
    row = connection.execute(select(sessions).where(sessions.c.id == session_id)).first()
    if row is None:
        return None
    return SessionRecord(
        row.id,
        row.group_id,
        parse_local(row.local_start),
        as_utc(row.starts_at),
        row.duration_minutes,
        row.place,
        row.sequence,
        row.cancelled_at is not None,
    )


def calendar_install_id(connection: Connection) -> str:
    """This installation's part of every calendar UID, made once per database on first use.

    Without it two deployments (or a test one and the real one) would both
    call their first session ``session-1``, and a person in both would see
    one entry replace the other in their calendar."""
    found = connection.execute(
        select(install_secrets.c.value).where(install_secrets.c.name == CALENDAR_SECRET)
    ).scalar_one_or_none()
    if found is None:
        insert_for = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(
            insert_for(install_secrets)
            .values(name=CALENDAR_SECRET, value=secrets.token_hex(8))
            .on_conflict_do_nothing()
        )
        found = connection.execute(
            select(install_secrets.c.value).where(install_secrets.c.name == CALENDAR_SECRET)
        ).scalar_one()
    return str(found)


def source_of(session_id: int) -> str:
    return f"session:{session_id}"


def _replan_group(connection: Connection, record: GroupRecord, now: dt.datetime) -> None:
    rows = connection.execute(
        select(sessions.c.id).where(
            sessions.c.group_id == record.id, sessions.c.cancelled_at.is_(None), sessions.c.starts_at > now
        )
    ).all()
    for row in rows:
        found = session(connection, row.id)
        if found:
            _replan_session(connection, record, found, now)


COLLAPSE_WITHIN = dt.timedelta(hours=1)
"""A lead time already passed is not sent on its own when the next one is this close: that one says it all."""


def session_leads(found: SessionRecord, record: GroupRecord, now: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """The (lead, due time) pairs a member should get for a session planned or changed at ``now``.

    Every reminder before a session says the same thing and carries the same
    calendar file, so lead times already passed collapse into one: the
    latest of them, sent at once while the session is still ahead (a late
    joiner still hears about tonight), unless the next lead is due within
    :data:`COLLAPSE_WITHIN`, which then goes alone. The kept lead keeps its
    own due time, so planning again later finds the same row and never
    sends it twice.
    """
    timed = sorted(
        ((text, due_at(found.local_start, record.timezone, Lead.parse(text))) for text in record.leads),
        key=lambda pair: pair[1],
    )
    passed = [pair for pair in timed if pair[1] <= now]
    ahead = [pair for pair in timed if pair[1] > now]
    if passed and not (ahead and ahead[0][1] - now <= COLLAPSE_WITHIN):
        return [passed[-1], *ahead]
    return ahead


def _replan_session(connection: Connection, record: GroupRecord, found: SessionRecord, now: dt.datetime) -> None:
    listening = connection.execute(
        select(members.c.person_id).where(members.c.group_id == record.id, members.c.muted.is_(False))
    ).scalars()
    leads = session_leads(found, record, now)
    planned = [
        store.Planned(person_id, SESSION_KIND, source_of(found.id), text, when, found.starts_at)
        for person_id in listening
        for text, when in leads
    ]
    store.replace_planned(connection, source_of(found.id), planned)
