"""A calendar file (.ics) for a group session, so members can add it to their calendar.

The same session always has the same UID, unique to this installation (a
random value made once per database, so two deployments numbering their
sessions from 1 never touch each other's entries in one person's calendar).
Each move or cancellation raises the session's SEQUENCE (RFC 5545), so a
calendar replaces the entry it has instead of adding a second one, and a
cancellation is ``METHOD:CANCEL`` with ``STATUS:CANCELLED`` (RFC 5546), which
takes it out.
"""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event, vCalAddress

ORGANIZER = "mailto:calendar@sdm-companion.invalid"
"""RFC 5546 asks for an organizer; ``.invalid`` never reaches anyone, so no calendar mails a reply."""


def session_uid(session_id: int, install: str) -> str:
    return f"session-{session_id}-{install}@sdm-companion"


def session_calendar(
    *,
    session_id: int,
    install: str,
    title: str,
    starts_at: dt.datetime,
    duration_minutes: int,
    place: str | None,
    stamp: dt.datetime,
    sequence: int = 0,
    cancelled: bool = False,
) -> bytes:
    """One VEVENT in UTC: the session as it stands now (``sequence`` changes so far), or its cancellation."""
    calendar = Calendar()
    calendar.add("prodid", "-//SDM Companion//group sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", session_uid(session_id, install))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", starts_at.astimezone(dt.UTC))
    event.add("dtend", starts_at.astimezone(dt.UTC) + dt.timedelta(minutes=duration_minutes))
    event.add("summary", title)
    organizer = vCalAddress(ORGANIZER)
    organizer.params["cn"] = "SDM Companion"
    event.add("organizer", organizer)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if place:
        event.add("location", place)
    calendar.add_component(event)
    return calendar.to_ical()
