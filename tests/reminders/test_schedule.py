"""Due times across daylight-saving changes in Europe/London and Europe/Stockholm (2026:
clocks go forward on Sunday 29 March and back on Sunday 25 October)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.reminders.schedule import BadTimeZone, Lead, due_at, exists_locally, happens_twice, local_to_utc

UTC = dt.UTC
LONDON, STOCKHOLM = "Europe/London", "Europe/Stockholm"


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "local", "expected"),
    [
        (LONDON, dt.datetime(2026, 1, 15, 10, 0), at(2026, 1, 15, 10, 0)),  # GMT
        (LONDON, dt.datetime(2026, 7, 15, 10, 0), at(2026, 7, 15, 9, 0)),  # BST
        (STOCKHOLM, dt.datetime(2026, 1, 15, 10, 0), at(2026, 1, 15, 9, 0)),  # CET
        (STOCKHOLM, dt.datetime(2026, 7, 15, 10, 0), at(2026, 7, 15, 8, 0)),  # CEST
    ],
)
def test_local_time_to_utc_in_winter_and_summer(zone: str, local: dt.datetime, expected: dt.datetime) -> None:
    assert local_to_utc(local.date(), local.time(), zone) == expected


@pytest.mark.parametrize(
    ("zone", "gap_time", "expected"),
    [
        (LONDON, dt.time(1, 30), at(2026, 3, 29, 1, 30)),  # 01:00-02:00 is skipped in London
        (STOCKHOLM, dt.time(2, 30), at(2026, 3, 29, 1, 30)),  # 02:00-03:00 is skipped in Stockholm
    ],
)
def test_a_time_skipped_in_spring_moves_forward_by_the_gap(zone: str, gap_time: dt.time, expected: dt.datetime) -> None:
    day = dt.date(2026, 3, 29)
    assert not exists_locally(day, gap_time, zone)
    assert local_to_utc(day, gap_time, zone) == expected
    assert exists_locally(day, dt.time(gap_time.hour + 1, 30), zone)


@pytest.mark.parametrize(
    ("zone", "twice", "first"),
    [
        (LONDON, dt.time(1, 30), at(2026, 10, 25, 0, 30)),  # 01:30 BST, not 01:30 GMT
        (STOCKHOLM, dt.time(2, 30), at(2026, 10, 25, 0, 30)),  # 02:30 CEST, not 02:30 CET
    ],
)
def test_a_time_that_happens_twice_in_autumn_means_the_first(zone: str, twice: dt.time, first: dt.datetime) -> None:
    day = dt.date(2026, 10, 25)
    assert happens_twice(day, twice, zone)
    assert not happens_twice(day, dt.time(12, 0), zone)
    assert local_to_utc(day, twice, zone) == first


@pytest.mark.parametrize("zone", [LONDON, STOCKHOLM])
def test_the_day_before_keeps_the_wall_clock_time_across_the_spring_change(zone: str) -> None:
    # An appointment on Monday 30 March at 10:00 (summer time); the day before is
    # Sunday 29 March at 10:00, also summer time: 24 hours earlier in UTC.
    event = dt.datetime(2026, 3, 30, 10, 0)
    event_utc = local_to_utc(event.date(), event.time(), zone)
    reminder = due_at(event, zone, Lead.parse("d1"))
    assert event_utc - reminder == dt.timedelta(hours=24)
    # Three days before is Friday 27 March at 10:00 winter time: 71 hours earlier.
    three_days = due_at(event, zone, Lead.parse("d3"))
    assert event_utc - three_days == dt.timedelta(hours=71)
    assert three_days.astimezone(dt.timezone(dt.timedelta(hours=0 if zone == LONDON else 1))).hour == 10


@pytest.mark.parametrize("zone", [LONDON, STOCKHOLM])
def test_the_day_before_keeps_the_wall_clock_time_across_the_autumn_change(zone: str) -> None:
    # Monday 26 October 10:00 (winter time); three days before is Friday 23 October 10:00 summer time: 73 h.
    event = dt.datetime(2026, 10, 26, 10, 0)
    event_utc = local_to_utc(event.date(), event.time(), zone)
    assert event_utc - due_at(event, zone, Lead.parse("d3")) == dt.timedelta(hours=73)


def test_hours_before_count_real_time_across_the_change() -> None:
    # A session at 03:00 London on the morning the clocks go forward: two hours before is
    # 00:00 GMT (local 00:00), not the wall-clock 01:00 which would be only one hour before.
    event = dt.datetime(2026, 3, 29, 3, 0)
    due = due_at(event, LONDON, Lead.parse("m120"))
    assert due == at(2026, 3, 29, 0, 0)
    assert local_to_utc(event.date(), event.time(), LONDON) - due == dt.timedelta(hours=2)


def test_a_follow_up_the_next_morning_lands_at_ten_local_after_the_change() -> None:
    event = dt.datetime(2026, 10, 24, 15, 0)  # Saturday, summer time
    due = due_at(event, STOCKHOLM, Lead.parse("d-1@10:00"))
    assert due == at(2026, 10, 25, 9, 0)  # Sunday 10:00 CET


def test_lead_text_round_trips_and_bad_input_is_refused() -> None:
    for text in ("d1", "d3", "m120", "d-1@10:00", "d0@08:30"):
        assert Lead.parse(text).key() == text
    for bad in ("", "1d", "h2", "d1@25", "m-5"):
        with pytest.raises(ValueError):
            Lead.parse(bad)
    with pytest.raises(BadTimeZone):
        local_to_utc(dt.date(2026, 1, 1), dt.time(9), "Europe/Atlantis")
