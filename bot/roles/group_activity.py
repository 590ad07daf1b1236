"""What happens around a group's sessions: who came, feedback, and messages to the group.

bot/roles/groups.py keeps groups, members and sessions (and the reminders
before a session). This module adds what comes after and in between:

- After a session ends, the facilitator is asked who came (attendance) and
  every member who has not muted the group is offered the short feedback
  questionnaire. Both are reminder rows (source ``after:<session id>``),
  planned when the session is scheduled or someone joins, and composed at
  send time.
- When a session moves or is cancelled, members are told (source
  ``change:<session id>``), with its calendar file as it stands now.
- Feedback is kept per session and member (so it is given once, and erased
  with the person), but reports read only the answers, never who gave them;
  a session's words are shown only once at least :data:`MIN_ANSWERS_SHOWN`
  members answered, so a single answer cannot be picked out.
- A message to the whole group is stored once (``group_messages``) and
  delivered by reminder rows (source ``message:<id>``), so it goes through
  the dispatcher: paced within Telegram's limits, retried, and not lost if
  the bot restarts halfway through a group.

Every facilitator function checks ownership in the database (groups.owned),
never trusting ids that came from a button.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bot.reminders import store
from bot.reminders.schedule import as_utc
from bot.roles import groups, sharing
from bot.storage.models import GroupMember, GroupMessage, GroupSession, SessionAttendance, SessionFeedback

members = GroupMember.__table__
sessions = GroupSession.__table__
attendance = SessionAttendance.__table__
feedback = SessionFeedback.__table__
messages = GroupMessage.__table__

FEEDBACK_KIND, ATTENDANCE_KIND, MESSAGE_KIND = "session_feedback", "session_attendance", "group_message"
MOVED_KIND, CANCELLED_KIND = "session_moved", "session_cancelled"
FEEDBACK_LEAD, ATTENDANCE_LEAD, MESSAGE_LEAD = "feedback", "attendance", "now"
AFTER_USEFUL_FOR = dt.timedelta(days=3)
"""How long after a session the feedback offer and the attendance question are still worth sending."""
MESSAGE_USEFUL_FOR = dt.timedelta(days=2)
MIN_ANSWERS_SHOWN = 2
"""A session's feedback words are shown only when at least this many members answered."""
MESSAGE_MAX = 1000


@dataclass(frozen=True, slots=True)
class Member:
    person_id: int
    name: str | None
    muted: bool


@dataclass(frozen=True, slots=True)
class SessionReport:
    session: groups.SessionRecord
    came: list[str]
    """First names of who came (the facilitator sees names; never next to feedback)."""
    attendance_marked: bool
    answers: int
    levels: dict[str, int]
    most_useful: list[str] = field(default_factory=list)
    least_useful: list[str] = field(default_factory=list)
    held_back: bool = False
    """Some answered, but too few to show their words without pointing at someone."""


@dataclass(frozen=True, slots=True)
class GroupReport:
    group: groups.GroupRecord
    members: int
    sessions: list[SessionReport]


def _insert(connection: Connection) -> Any:
    return postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert


def after_source(session_id: int) -> str:
    return f"after:{session_id}"


def message_source(message_id: int) -> str:
    return f"message:{message_id}"


def change_source(session_id: int) -> str:
    return f"change:{session_id}"


# --------------------------------------------------------------------------- members


def is_member(connection: Connection, person_id: int, group_id: int) -> bool:
    row = connection.execute(
        select(members.c.person_id).where(members.c.group_id == group_id, members.c.person_id == person_id)
    ).first()
    return row is not None


def listening(connection: Connection, person_id: int, group_id: int) -> bool:
    """A member who has not muted the group: muting means the group sends them nothing at all
    (no session reminders, no messages, no feedback offers), checked again at send time."""
    row = connection.execute(
        select(members.c.person_id).where(
            members.c.group_id == group_id, members.c.person_id == person_id, members.c.muted.is_(False)
        )
    ).first()
    return row is not None


def listeners(connection: Connection, group_id: int) -> list[int]:
    """The members who have not muted the group."""
    return list(
        connection.execute(
            select(members.c.person_id).where(members.c.group_id == group_id, members.c.muted.is_(False))
        ).scalars()
    )


def set_name(connection: Connection, group_id: int, person_id: int, name: str | None) -> None:
    """Keep the first name the person agreed the facilitator may see."""
    cleaned = (name or "").strip()[:64] or None
    connection.execute(
        update(members).where(members.c.group_id == group_id, members.c.person_id == person_id).values(name=cleaned)
    )


def members_of(
    connection: Connection, facilitator_id: int, group_id: int, now: dt.datetime | None = None
) -> list[Member]:
    """The group's members as the facilitator may see them: first name and whether they muted.

    Each member shown is written to the audit trail (a facilitator's view of them)."""
    groups.owned(connection, facilitator_id, group_id)
    rows = connection.execute(
        select(members.c.person_id, members.c.name, members.c.muted)
        .where(members.c.group_id == group_id)
        .order_by(members.c.consented_at, members.c.person_id)
    ).all()
    sharing.facilitator_view(
        connection, facilitator_id, [row.person_id for row in rows], now or dt.datetime.now(dt.UTC)
    )
    return [Member(row.person_id, row.name, bool(row.muted)) for row in rows]


def memberships(connection: Connection, person_id: int) -> list[tuple[groups.GroupRecord, bool]]:
    """The groups a person is in, with whether they muted each one."""
    rows = connection.execute(
        select(members.c.group_id, members.c.muted).where(members.c.person_id == person_id).order_by(members.c.group_id)
    ).all()
    found = [(groups.group(connection, row.group_id), bool(row.muted)) for row in rows]
    return [(record, muted) for record, muted in found if record is not None]


# --------------------------------------------------------------------------- sessions


def sessions_of(connection: Connection, facilitator_id: int, group_id: int) -> list[groups.SessionRecord]:
    """The group's sessions that are not cancelled, in time order."""
    groups.owned(connection, facilitator_id, group_id)
    ids = connection.execute(
        select(sessions.c.id)
        .where(sessions.c.group_id == group_id, sessions.c.cancelled_at.is_(None))
        .order_by(sessions.c.starts_at)
    ).scalars()
    return [s for s in (groups.session(connection, i) for i in list(ids)) if s is not None]


def owned_session(
    connection: Connection, facilitator_id: int, session_id: int
) -> tuple[groups.SessionRecord, groups.GroupRecord]:
    """The session and its group, if this facilitator runs the group; else NotAllowed."""
    found = groups.session(connection, session_id)
    if found is None:
        raise groups.NotAllowed("session")
    return found, groups.owned(connection, facilitator_id, found.group_id)


def ends_at(found: groups.SessionRecord) -> dt.datetime:
    return found.starts_at + dt.timedelta(minutes=found.duration_minutes)


def plan_after(connection: Connection, session_id: int) -> None:
    """(Re)plan the attendance question and the feedback offers for the end of a session."""
    found = groups.session(connection, session_id)
    if found is None:
        store.cancel_source(connection, after_source(session_id))
        return
    record = groups.group(connection, found.group_id)
    if record is None:
        return
    end = ends_at(found)
    expires = end + AFTER_USEFUL_FOR
    source = after_source(session_id)
    planned = [store.Planned(record.facilitator_id, ATTENDANCE_KIND, source, ATTENDANCE_LEAD, end, expires)]
    for person_id in listeners(connection, record.id):
        planned.append(store.Planned(person_id, FEEDBACK_KIND, source, FEEDBACK_LEAD, end, expires))
    store.replace_planned(connection, source, planned)


def plan_after_for_group(connection: Connection, group_id: int, now: dt.datetime) -> None:
    """After someone joins or leaves: re-plan what follows every session not yet over."""
    rows = connection.execute(
        select(sessions.c.id, sessions.c.starts_at, sessions.c.duration_minutes).where(
            sessions.c.group_id == group_id, sessions.c.cancelled_at.is_(None)
        )
    ).all()
    for row in rows:
        if as_utc(row.starts_at) + dt.timedelta(minutes=row.duration_minutes) > now:
            plan_after(connection, row.id)


def schedule(
    connection: Connection,
    facilitator_id: int,
    group_id: int,
    local_start: dt.datetime,
    *,
    place: str | None,
    now: dt.datetime,
) -> groups.SessionRecord:
    """Schedule a session: its reminders before (groups.schedule_session) and what follows it."""
    found = groups.schedule_session(connection, facilitator_id, group_id, local_start, place=place, now=now)
    plan_after(connection, found.id)
    return found


def reschedule(
    connection: Connection,
    facilitator_id: int,
    session_id: int,
    local_start: dt.datetime,
    *,
    place: str | None,
    now: dt.datetime,
) -> groups.SessionRecord:
    """Move a session (and change its place): its reminders and what follows it move with it."""
    groups.move_session(connection, facilitator_id, session_id, local_start, now)
    connection.execute(update(sessions).where(sessions.c.id == session_id).values(place=place))
    plan_after(connection, session_id)
    moved = groups.session(connection, session_id)
    assert moved is not None
    tell_members(connection, moved, now)
    return moved


def cancel(connection: Connection, facilitator_id: int, session_id: int, now: dt.datetime) -> groups.SessionRecord:
    """Cancel a session: no reminders before it, no attendance question or feedback offer after it,
    and members are told, with a calendar file that takes it out of their calendar."""
    found, _ = owned_session(connection, facilitator_id, session_id)
    groups.cancel_session(connection, facilitator_id, session_id, now)
    plan_after(connection, session_id)
    cancelled = groups.session_even_cancelled(connection, session_id)
    assert cancelled is not None
    tell_members(connection, cancelled, now)
    return found


def told_of_changes(connection: Connection, found: groups.SessionRecord) -> list[int]:
    """Who hears that a session moved or was cancelled: every member who has not muted the group,
    and a muted one who was already sent its calendar file (it is in their calendar, which would
    otherwise stay wrong)."""
    listening = set(listeners(connection, found.group_id))
    holding = connection.execute(
        select(members.c.person_id).where(
            members.c.group_id == found.group_id,
            members.c.muted.is_(True),
            members.c.person_id.in_(
                select(store.reminders.c.person_id).where(
                    store.reminders.c.source.in_([groups.source_of(found.id), change_source(found.id)]),
                    store.reminders.c.status == store.SENT,
                )
            ),
        )
    ).scalars()
    return sorted(listening | set(holding))


def tell_members(connection: Connection, found: groups.SessionRecord, now: dt.datetime) -> None:
    """Plan the notice of a move or a cancellation, one per change (``v<sequence>``).

    A notice not yet sent is replaced by the newer one, so two quick changes
    send only the latest. A session reminder already due is dropped for those
    told: the notice says the same and brings the same calendar file."""
    source = change_source(found.id)
    until = found.starts_at
    if until <= now:
        store.replace_planned(connection, source, [])
        return
    kind = CANCELLED_KIND if found.cancelled else MOVED_KIND
    people = told_of_changes(connection, found)
    lead = f"v{found.sequence}"
    store.replace_planned(connection, source, [store.Planned(p, kind, source, lead, now, until) for p in people])
    if not found.cancelled:
        store.drop_due(connection, groups.source_of(found.id), people, now)


# --------------------------------------------------------------------------- attendance


def set_attended(
    connection: Connection, facilitator_id: int, session_id: int, person_id: int, came: bool, now: dt.datetime
) -> None:
    """Tick (or untick) a member as having come. The person must be a member of this facilitator's group."""
    found, record = owned_session(connection, facilitator_id, session_id)
    if not is_member(connection, person_id, record.id):
        raise groups.NotAllowed("member")
    if came:
        connection.execute(
            _insert(connection)(attendance)
            .values(session_id=found.id, person_id=person_id, marked_at=now)
            .on_conflict_do_nothing()
        )
    else:
        connection.execute(
            delete(attendance).where(attendance.c.session_id == found.id, attendance.c.person_id == person_id)
        )


def attended(connection: Connection, facilitator_id: int, session_id: int) -> set[int]:
    owned_session(connection, facilitator_id, session_id)
    return set(
        connection.execute(select(attendance.c.person_id).where(attendance.c.session_id == session_id)).scalars()
    )


# --------------------------------------------------------------------------- feedback


def can_give_feedback(connection: Connection, person_id: int, session_id: int, now: dt.datetime) -> bool:
    """A member of the session's group, once the session has begun."""
    found = groups.session(connection, session_id)
    return found is not None and found.starts_at <= now and is_member(connection, person_id, found.group_id)


def save_feedback(
    connection: Connection, person_id: int, session_id: int, answers: dict[str, object], now: dt.datetime
) -> bool:
    """Keep a member's feedback for the session (the latest counts); False if they may not give it."""
    if not can_give_feedback(connection, person_id, session_id, now):
        return False
    kept = {key: answers[key] for key in ("most_useful", "least_useful", "level") if answers.get(key) not in (None, "")}
    connection.execute(delete(feedback).where(feedback.c.session_id == session_id, feedback.c.person_id == person_id))
    connection.execute(insert(feedback).values(session_id=session_id, person_id=person_id, answers=kept, given_at=now))
    return True


# --------------------------------------------------------------------------- report


def report(connection: Connection, facilitator_id: int, group_id: int, now: dt.datetime) -> GroupReport:
    """Attendance and feedback for every session that has begun. Feedback carries no names."""
    record = groups.owned(connection, facilitator_id, group_id)
    names = {m.person_id: m.name for m in members_of(connection, facilitator_id, group_id, now)}
    out = []
    for found in sessions_of(connection, facilitator_id, group_id):
        if found.starts_at > now:
            continue
        came_ids = set(
            connection.execute(select(attendance.c.person_id).where(attendance.c.session_id == found.id)).scalars()
        )
        # Only the answers column is read: who gave which answer never leaves the database.
        given = [
            row
            for row in connection.execute(select(feedback.c.answers).where(feedback.c.session_id == found.id)).scalars()
        ]
        levels = Counter(str(a["level"]) for a in given if a.get("level"))
        show = len(given) >= MIN_ANSWERS_SHOWN
        out.append(
            SessionReport(
                session=found,
                came=sorted((names.get(i) or "?") for i in came_ids if i in names),
                attendance_marked=bool(came_ids),
                answers=len(given),
                levels=dict(levels) if show else {},
                # Sorted, so the order says nothing about who answered first.
                most_useful=sorted(str(a["most_useful"]) for a in given if a.get("most_useful")) if show else [],
                least_useful=sorted(str(a["least_useful"]) for a in given if a.get("least_useful")) if show else [],
                held_back=bool(given) and not show,
            )
        )
    return GroupReport(record, len(names), out)


# --------------------------------------------------------------------------- messages to the group


def post_message(connection: Connection, facilitator_id: int, group_id: int, text: str, now: dt.datetime) -> int:
    """Store a message to the whole group and plan its delivery now to every member who has not muted it;
    the number it goes to."""
    groups.owned(connection, facilitator_id, group_id)
    body = text.strip()[:MESSAGE_MAX]
    message_id = connection.execute(
        insert(messages).values(group_id=group_id, text=body, created_at=now).returning(messages.c.id)
    ).scalar_one()
    recipients = listeners(connection, group_id)
    source = message_source(message_id)
    store.replace_planned(
        connection,
        source,
        [store.Planned(p, MESSAGE_KIND, source, MESSAGE_LEAD, now, now + MESSAGE_USEFUL_FOR) for p in recipients],
    )
    return len(recipients)


def message_for(connection: Connection, message_id: int, person_id: int) -> tuple[groups.GroupRecord, str] | None:
    """A group message as a member should get it now; None if it is gone, or they left or muted the group."""
    row = connection.execute(select(messages.c.group_id, messages.c.text).where(messages.c.id == message_id)).first()
    if row is None or not listening(connection, person_id, row.group_id):
        return None
    record = groups.group(connection, row.group_id)
    return (record, row.text) if record else None
