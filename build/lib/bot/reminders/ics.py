"""A calendar file (.ics) for a group session, so members can add it to their calendar."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event


def session_calendar(
    *,
    session_id: int,
    title: str,
    starts_at: dt.datetime,
    duration_minutes: int,
    place: str | None,
    stamp: dt.datetime,
) -> bytes:
    """One VEVENT in UTC. The UID is stable per session, so a rescheduled session
    replaces the old entry in the person's calendar instead of adding a second one."""
    calendar = Calendar()
    calendar.add("prodid", "-//SDM Companion//group sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"session-{session_id}@sdm-companion")
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", starts_at.astimezone(dt.UTC))
    event.add("dtend", starts_at.astimezone(dt.UTC) + dt.timedelta(minutes=duration_minutes))
    event.add("summary", title)
    if place:
        event.add("location", place)
    calendar.add_component(event)
    return calendar.to_ical()
