"""When a reminder is due, in UTC, from a local date and time in a time zone.

People think in wall-clock time ("the day before, at the same time"); the
database keeps UTC. Daylight-saving changes make the two disagree twice a
year, so the rules are explicit:

- A local time that does not exist (clocks jump forward, e.g. 01:30 on the
  last Sunday of March in London) is read as the same moment the clock would
  show had it not jumped: 01:30 GMT, which the clock shows as 02:30 BST.
- A local time that happens twice (clocks go back, e.g. 01:30 on the last
  Sunday of October in London) is read as the first of the two: reminding a
  little early is better than late.

A :class:`Lead` says how long before an event a reminder goes out. Whole days
count on the calendar (``d1``: the day before at the same local time, which is
23 or 25 hours across a change); minutes count on the clock (``m120``: two
hours before, whatever the clocks do). A lead with ``at`` fixes the local time
of day, and a negative day count means after the event (``d-1@10:00``: the
next morning at ten).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_LEAD = re.compile(r"^(?:d(?P<days>-?\d{1,3})|m(?P<minutes>\d{1,5}))(?:@(?P<at>\d{2}:\d{2}))?$")


class BadTimeZone(ValueError):
    """Not a time zone the system knows."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise BadTimeZone(name) from error


def local_to_utc(day: dt.date, time: dt.time, zone_name: str) -> dt.datetime:
    """The UTC moment of a wall-clock time in a zone (gaps move forward, repeats take the first)."""
    tz = zone(zone_name)
    naive = dt.datetime.combine(day, time.replace(tzinfo=None, fold=0))
    # fold=0 means "the offset in force before the change" for both a gap
    # (so 01:30 in a spring gap is 01:30 winter time, i.e. 02:30 summer
    # time) and a repeat (so the first 01:30, still summer time).
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def utc_to_local(moment: dt.datetime, zone_name: str) -> dt.datetime:
    return moment.astimezone(zone(zone_name))


def exists_locally(day: dt.date, time: dt.time, zone_name: str) -> bool:
    """False for a wall-clock time skipped by a spring change (worth telling the person)."""
    moment = local_to_utc(day, time, zone_name)
    back = utc_to_local(moment, zone_name)
    return (back.date(), back.time().replace(tzinfo=None)) == (day, time.replace(tzinfo=None, fold=0))


def happens_twice(day: dt.date, time: dt.time, zone_name: str) -> bool:
    """True for a wall-clock time repeated by an autumn change."""
    tz = zone(zone_name)
    naive = dt.datetime.combine(day, time.replace(tzinfo=None))
    first = naive.replace(tzinfo=tz, fold=0).utcoffset()
    second = naive.replace(tzinfo=tz, fold=1).utcoffset()
    return first != second and exists_locally(day, time, zone_name)


@dataclass(frozen=True, slots=True)
class Lead:
    """How long before (or, with negative days, after) an event a reminder goes out."""

    days: int = 0
    minutes: int = 0
    at: dt.time | None = None

    @classmethod
    def parse(cls, text: str) -> Lead:
        match = _LEAD.match(text)
        if not match:
            raise ValueError(f"not a lead time: {text!r} (use d1, m120 or d-1@10:00)")
        at = dt.time.fromisoformat(match["at"]) if match["at"] else None
        if match["days"] is not None:
            return cls(days=int(match["days"]), at=at)
        return cls(minutes=int(match["minutes"]), at=at)

    def key(self) -> str:
        base = f"d{self.days}" if self.days or not self.minutes else f"m{self.minutes}"
        return f"{base}@{self.at.strftime('%H:%M')}" if self.at else base


def due_at(event_local: dt.datetime, zone_name: str, lead: Lead) -> dt.datetime:
    """When a reminder with ``lead`` for an event at local ``event_local`` is due, in UTC."""
    event_local = event_local.replace(tzinfo=None)
    if lead.minutes:
        return local_to_utc(event_local.date(), event_local.time(), zone_name) - dt.timedelta(minutes=lead.minutes)
    day = event_local.date() - dt.timedelta(days=lead.days)
    return local_to_utc(day, lead.at or event_local.time(), zone_name)


def parse_local(text: str) -> dt.datetime:
    """An ISO local date and time such as 2026-03-29T18:00 (no zone)."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        raise ValueError("a local time has no zone")
    return value


def as_utc(value: dt.datetime) -> dt.datetime:
    """Datetimes read back from SQLite are naive UTC; from PostgreSQL they are aware."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
