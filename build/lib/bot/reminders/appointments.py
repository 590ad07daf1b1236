"""A service user's next appointment and the reminders it brings.

Defaults: three days before ("look at your questions"), the day before
("here is your summary", with the PDF), and one optional follow-up the next
morning ("what was agreed?"). Reminders before the appointment expire when it
starts; the follow-up stays useful for a week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from bot.reminders import store
from bot.reminders.schedule import Lead, as_utc, due_at, local_to_utc, parse_local
from bot.storage.models import Appointment

appointments = Appointment.__table__

DEFAULT_LEADS: tuple[tuple[str, str], ...] = (
    ("d3", "appointment_questions"),
    ("d1", "appointment_summary"),
    ("d-1@10:00", "appointment_followup"),
)
FOLLOW_UP_USEFUL_FOR = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class AppointmentRecord:
    id: int
    person_id: int
    local_start: dt.datetime
    timezone: str
    starts_at: dt.datetime
    note: str | None


def source_of(appointment_id: int) -> str:
    return f"appointment:{appointment_id}"


def plan(appointment: AppointmentRecord, now: dt.datetime) -> list[store.Planned]:
    """The reminders an appointment calls for, leaving out any whose time has already passed."""
    planned = []
    for lead_text, kind in DEFAULT_LEADS:
        lead = Lead.parse(lead_text)
        when = due_at(appointment.local_start, appointment.timezone, lead)
        after = when >= appointment.starts_at
        expires = appointment.starts_at + FOLLOW_UP_USEFUL_FOR if after else appointment.starts_at
        if when < now and not after:
            continue  # set late: "3 days before" has gone by; the day-before one may still apply
        planned.append(store.Planned(appointment.person_id, kind, source_of(appointment.id), lead_text, when, expires))
    return planned


def set_appointment(
    connection: Connection,
    person_id: int,
    local_start: dt.datetime,
    timezone: str,
    note: str | None,
    now: dt.datetime,
) -> AppointmentRecord:
    """Set (or move) the person's next appointment and (re)schedule its reminders.

    One upcoming appointment per person: setting a new one replaces the old
    one's pending reminders, so a moved appointment never reminds twice.
    """
    local_start = local_start.replace(tzinfo=None, second=0, microsecond=0)
    starts_at = local_to_utc(local_start.date(), local_start.time(), timezone)
    current = upcoming(connection, person_id, now)
    values = {
        "local_start": local_start.isoformat(timespec="minutes"),
        "timezone": timezone,
        "starts_at": starts_at,
        "note": note,
    }
    if current is None:
        appointment_id = connection.execute(
            insert(appointments).values(person_id=person_id, **values).returning(appointments.c.id)
        ).scalar_one()
    else:
        appointment_id = current.id
        connection.execute(update(appointments).where(appointments.c.id == appointment_id).values(**values))
    record = AppointmentRecord(appointment_id, person_id, local_start, timezone, starts_at, note)
    store.replace_planned(connection, source_of(appointment_id), plan(record, now))
    return record


def cancel_appointment(connection: Connection, person_id: int, now: dt.datetime) -> bool:
    current = upcoming(connection, person_id, now)
    if current is None:
        return False
    connection.execute(update(appointments).where(appointments.c.id == current.id).values(cancelled_at=now))
    store.cancel_source(connection, source_of(current.id))
    return True


def upcoming(connection: Connection, person_id: int, now: dt.datetime) -> AppointmentRecord | None:
    row = connection.execute(
        select(appointments)
        .where(
            appointments.c.person_id == person_id,
            appointments.c.cancelled_at.is_(None),
            appointments.c.starts_at > now,
        )
        .order_by(appointments.c.starts_at)
        .limit(1)
    ).first()
    return _record(row) if row else None


def by_id(connection: Connection, appointment_id: int) -> AppointmentRecord | None:
    row = connection.execute(
        select(appointments).where(appointments.c.id == appointment_id, appointments.c.cancelled_at.is_(None))
    ).first()
    return _record(row) if row else None


def _record(row: object) -> AppointmentRecord:
    return AppointmentRecord(
        row.id,  # type: ignore[attr-defined]
        row.person_id,  # type: ignore[attr-defined]
        parse_local(row.local_start),  # type: ignore[attr-defined]
        row.timezone,  # type: ignore[attr-defined]
        as_utc(row.starts_at),  # type: ignore[attr-defined]
        row.note,  # type: ignore[attr-defined]
    )
