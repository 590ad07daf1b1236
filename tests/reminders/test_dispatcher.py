"""The dispatcher against a real database (SQLite, or PostgreSQL in CI) with a Bot API stub.

The clock that decides what is due is moved by hand; the send pace uses
real time with limits raised so tests do not wait, except where the pace is
what is tested.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time

import pytest
from reminder_helpers import BotStub, add_reminders, id_composer, make_people
from sqlalchemy import select
from telegram.error import Forbidden, RetryAfter

from bot.reminders import store
from bot.reminders.delivery import Blocked, RetryLater
from bot.reminders.dispatcher import Dispatcher, Limits
from bot.storage.repository import Storage

FAST = Limits(per_second=1_000_000, per_chat_interval=0.0, permits=None)


def planned(person_id: int, n: int, due: dt.datetime, expires: dt.datetime) -> store.Planned:
    return store.Planned(person_id, "test", f"test:{n}", "d0", due, expires)


async def statuses(storage: Storage) -> dict[int, tuple[str, int]]:
    rows = await storage.run(
        lambda tx: tx.connection.execute(
            select(store.reminders.c.id, store.reminders.c.status, store.reminders.c.attempts)
        ).all()
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def dispatcher(storage: Storage, stub: BotStub, clock, **options) -> Dispatcher:  # type: ignore[no-untyped-def]
    options.setdefault("limits", FAST)
    return Dispatcher(storage, stub, id_composer, clock=clock, **options)


async def test_due_reminders_are_sent_once_and_future_ones_wait(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    people = await make_people(storage, 3, now)
    week = now + dt.timedelta(days=7)
    await add_reminders(
        storage,
        [
            planned(people[0], 1, now - dt.timedelta(minutes=1), week),
            planned(people[1], 2, now, week),
            planned(people[2], 3, now + dt.timedelta(hours=1), week),
        ],
    )
    stub = BotStub()
    d = dispatcher(storage, stub, clock)
    assert await d.run_once() == 2
    assert await d.run_once() == 0
    assert sorted(o.chat_id for o in stub.delivered) == ["1000", "1001"]
    clock.advance(hours=1)
    assert await d.run_once() == 1
    assert [s for s, _ in (await statuses(storage)).values()] == ["sent", "sent", "sent"]
    assert len(stub.delivered) == 3


async def test_a_crash_between_claim_and_send_is_retried_after_the_lease_and_sent_once(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    [person] = await make_people(storage, 1, now)
    await add_reminders(storage, [planned(person, 1, now, now + dt.timedelta(days=1))])
    stub = BotStub()
    crashed = dispatcher(storage, stub, clock, lease=dt.timedelta(seconds=60))
    assert len(await crashed.claim()) == 1  # ... and the process dies before sending
    survivor = dispatcher(storage, stub, clock, lease=dt.timedelta(seconds=60))
    clock.advance(seconds=59)
    assert await survivor.run_once() == 0  # the lease still holds
    clock.advance(seconds=2)
    assert await survivor.run_once() == 1
    assert await survivor.run_once() == 0
    assert len(stub.delivered) == 1
    assert list((await statuses(storage)).values()) == [("sent", 2)]


async def test_a_person_who_blocked_the_bot_is_marked_and_not_retried(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    blocker, other, forbidder = await make_people(storage, 3, now)
    later = now + dt.timedelta(days=1)
    await add_reminders(
        storage,
        [
            planned(blocker, 1, now, later),
            planned(blocker, 2, now + dt.timedelta(hours=1), later),
            planned(other, 3, now, later),
            planned(forbidder, 4, now, later),
        ],
    )
    stub = BotStub(always_refuse={"1000": Blocked(), "1002": Forbidden("Forbidden: bot was blocked by the user")})
    d = dispatcher(storage, stub, clock)
    await d.run_once()
    clock.advance(hours=2)
    await d.run_once()
    assert [o.chat_id for o in stub.delivered] == ["1001"]
    assert stub.calls == 3  # one try each; the blocker's later reminder was never attempted
    assert sorted(s for s, _ in (await statuses(storage)).values()) == ["blocked", "blocked", "blocked", "sent"]
    assert await storage.run(lambda tx: store.is_blocked(tx.connection, blocker))
    assert await storage.run(lambda tx: store.is_blocked(tx.connection, forbidder))
    assert not await storage.run(lambda tx: store.is_blocked(tx.connection, other))


async def test_a_reminder_whose_event_passed_while_down_is_dropped_and_a_useful_one_is_sent(
    storage: Storage, clock
) -> None:  # type: ignore[no-untyped-def]
    start = clock()
    first, second = await make_people(storage, 2, start)
    await add_reminders(
        storage,
        [
            planned(first, 1, start, start + dt.timedelta(hours=2)),  # event two hours later
            planned(second, 2, start, start + dt.timedelta(days=2)),  # event in two days
        ],
    )
    clock.advance(hours=3)  # the bot was down for three hours
    stub = BotStub()
    assert await dispatcher(storage, stub, clock).run_once() == 1
    assert [o.chat_id for o in stub.delivered] == ["1001"]
    assert sorted(s for s, _ in (await statuses(storage)).values()) == ["dropped", "sent"]


async def test_a_passing_failure_is_retried_later_and_gives_up_after_max_attempts(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    flaky, broken = await make_people(storage, 2, now)
    await add_reminders(storage, [planned(flaky, 1, now, now + dt.timedelta(days=1))])
    await add_reminders(storage, [planned(broken, 2, now, now + dt.timedelta(days=1))])
    stub = BotStub(refuse={"1000": [TimeoutError()]}, always_refuse={"1001": ConnectionError()})
    d = dispatcher(storage, stub, clock, max_attempts=3)
    await d.run_once()
    assert stub.delivered == []
    clock.advance(seconds=31)
    await d.run_once()
    assert [o.chat_id for o in stub.delivered] == ["1000"]
    clock.advance(minutes=10)
    await d.run_once()
    clock.advance(minutes=10)
    await d.run_once()
    assert await statuses(storage) == {1: ("sent", 2), 2: ("failed", 3)}
    assert stub.calls == 5


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_retry_after_pauses_every_send_then_resends(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    [person] = await make_people(storage, 1, now)
    await add_reminders(storage, [planned(person, 1, now, now + dt.timedelta(days=1))])
    stub = BotStub(refuse={"1000": [RetryAfter(dt.timedelta(seconds=0.2)), RetryLater(0.1)]})
    d = dispatcher(storage, stub, clock)
    await d.run_once()
    assert await d.run_once() == 0  # released until the pause is over
    paused_until = await storage.run(lambda tx: tx.connection.execute(select(store.send_pace.c.next_at)).scalar_one())
    assert paused_until >= d.pacer.now() + 0.05
    clock.advance(seconds=1)
    await d.run_once()
    clock.advance(seconds=1)
    await d.run_once()
    assert len(stub.delivered) == 1
    assert await statuses(storage) == {1: ("sent", 1)}  # flood control does not use up attempts


async def test_two_reminders_for_one_chat_are_a_second_apart(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    [person] = await make_people(storage, 1, now)
    later = now + dt.timedelta(days=1)
    await add_reminders(storage, [planned(person, 1, now, later), planned(person, 2, now, later)])
    stub = BotStub()
    d = dispatcher(storage, stub, clock, limits=Limits(per_second=1_000_000, per_chat_interval=1.0, permits=None))
    assert await d.run_once() == 2
    assert len(stub.delivered) == 1 and d.tally.deferred == 1
    assert await d.run_once() == 0  # the chat is not ready yet
    clock.advance(seconds=1)
    chat_ready = await storage.run(lambda tx: tx.connection.execute(select(store.chat_pace.c.next_at)).scalar_one())
    while d.pacer.now() < chat_ready:  # wall time must pass too: the per-chat pace is real time
        await d.pacer.sleep(chat_ready - d.pacer.now())
    assert await d.run_once() == 1
    assert len(stub.delivered) == 2


async def test_send_slots_are_spaced_across_dispatchers(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    """Two dispatchers reserving alternately share one pace: 60 slots, never 31 in any second."""
    now = clock()
    people = await make_people(storage, 60, now)
    limits = Limits(margin=0.975)
    reminders = [
        store.Claimed(i, p, "telegram", str(p), "en", "Europe/London", "test", f"test:{i}", "d0", now, now, 1, "t")
        for i, p in enumerate(people)
    ]
    await storage.run(lambda tx: store.ensure_pace_rows(tx.connection, people))
    wall = 1_000_000.0
    slots = []
    for pair in (reminders[i : i + 7] for i in range(0, 60, 7)):  # two "dispatchers", batches of 7
        got = await storage.run(
            lambda tx, pair=pair, wall=wall: store.reserve_slots(
                tx.connection, pair, wall_now=wall, interval=limits.interval, chat_interval=1.0, max_wait=15
            )
        )
        assert not any(slot.deferred for slot in got)
        slots.extend(slot.at for slot in got)
        wall += 0.001  # they ask much faster than the pace allows
    assert slots == sorted(slots)
    assert all(later - earlier >= limits.interval - 1e-9 for earlier, later in itertools.pairwise(slots))
    assert max(sum(1 for s in slots if t <= s < t + 1.0) for t in slots) <= 30
    assert (len(slots) - 1) / (slots[-1] - slots[0]) >= 29.0
    # The same chat again at once is deferred to a second after its last send, without a slot.
    again = await storage.run(
        lambda tx: store.reserve_slots(
            tx.connection, reminders[-1:] * 2, wall_now=wall, interval=limits.interval, chat_interval=1.0, max_wait=15
        )
    )
    assert [s.deferred for s in again] == [True, True] and again[0].at == slots[-1] + 1.0
    # Flood control further off than max_wait defers everyone.
    await storage.run(lambda tx: store.pause_bot(tx.connection, wall + 60))
    paused = await storage.run(
        lambda tx: store.reserve_slots(
            tx.connection, reminders[:2], wall_now=wall + 5, interval=limits.interval, chat_interval=1.0, max_wait=15
        )
    )
    assert [(s.deferred, s.at) for s in paused] == [(True, wall + 60)] * 2


async def test_send_permits_cap_every_window_whatever_the_delays(storage: Storage) -> None:
    """30 permits, each held from hand-over until a second after the answer: a 31st send must wait."""
    await storage.run(lambda tx: store.ensure_permits(tx.connection, 30))
    wall = 2_000_000.0
    taken = []
    for _ in range(30):
        permit, _ = await storage.run(lambda tx: store.acquire_permit(tx.connection, wall_now=wall, hold=30, count=30))
        taken.append(permit)
    assert sorted(taken) == list(range(30))
    permit, next_free = await storage.run(
        lambda tx: store.acquire_permit(tx.connection, wall_now=wall, hold=30, count=30)
    )
    assert permit is None and next_free == wall + 30  # all are out; a crashed holder frees after `hold`
    # The first send is answered 60 ms late: its permit frees a second after that answer, not before.
    await storage.run(lambda tx: store.release_permit(tx.connection, taken[0], wall + 0.06 + 1.0))
    permit, next_free = await storage.run(
        lambda tx: store.acquire_permit(tx.connection, wall_now=wall + 1.0, hold=30, count=30)
    )
    assert permit is None and next_free == wall + 1.06
    permit, _ = await storage.run(
        lambda tx: store.acquire_permit(tx.connection, wall_now=wall + 1.06, hold=30, count=30)
    )
    assert permit == taken[0]
    # Taken a little early (lookahead), it says when it may be used.
    await storage.run(lambda tx: store.release_permit(tx.connection, taken[1], wall + 2.0))
    early = await storage.run(
        lambda tx: store.acquire_permit(tx.connection, wall_now=wall + 1.95, hold=30, count=30, lookahead=0.1)
    )
    assert early == (taken[1], wall + 2.0)


class TickingClock:
    """A clock that starts where a test says and then runs with real time, as `--now` does."""

    def __init__(self, start: dt.datetime) -> None:
        self.start, self.began = start, time.monotonic()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self.began)


async def test_once_drains_everything_due_even_several_for_one_chat(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    """`companion dispatch --once` used to stop after one reminder per chat: the rest waited for the chat's pace."""
    now = clock()
    first, second = await make_people(storage, 2, now)
    later = now + dt.timedelta(days=1)
    await add_reminders(
        storage,
        [planned(first, n, now, later) for n in (1, 2, 3)]
        + [planned(second, 4, now, later), planned(first, 5, now + dt.timedelta(hours=1), later)],
    )
    stub = BotStub()
    ticking = TickingClock(now)
    d = dispatcher(storage, stub, ticking, limits=Limits(per_second=1_000_000, per_chat_interval=0.05, permits=None))
    tally = await d.run_due()
    assert sorted(o.text for o in stub.delivered) == [f"reminder {n}" for n in (1, 2, 3, 4)]
    assert tally.sent == 4
    assert [status for _, (status, _) in sorted((await statuses(storage)).items())] == ["sent"] * 4 + ["pending"]


async def test_once_leaves_a_failed_send_for_later_instead_of_waiting_for_it(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    [person] = await make_people(storage, 1, now)
    await add_reminders(storage, [planned(person, 1, now, now + dt.timedelta(days=1))])
    stub = BotStub(always_refuse={"1000": ConnectionError()})
    tally = await dispatcher(storage, stub, TickingClock(now)).run_due()
    assert (tally.sent, tally.retried) == (0, 1)
    assert list((await statuses(storage)).values()) == [("pending", 1)]


async def test_a_batch_that_is_all_older_copies_does_not_end_the_drain(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    """Reminders of one kind about one thing due together go out once, even when a whole batch is the older ones."""
    now = clock()
    people = await make_people(storage, 3, now)
    later = now + dt.timedelta(days=1)
    rows = [
        store.Planned(p, "session", f"session:{p}", lead, due, later)
        for p in people
        for lead, due in (("d1", now - dt.timedelta(hours=20)), ("m120", now - dt.timedelta(minutes=5)))
    ]
    await add_reminders(storage, rows)
    stub = BotStub()
    tally = await dispatcher(storage, stub, TickingClock(now), batch=2).run_due()
    assert tally.sent == 3 and len(stub.delivered) == 3
    assert sorted(s for s, _ in (await statuses(storage)).values()) == ["dropped"] * 3 + ["sent"] * 3
