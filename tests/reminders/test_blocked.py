"""A person who blocked the bot: nothing is tried for them, including reminders planned afterwards, until they write again."""

from __future__ import annotations

import datetime as dt

from reminder_helpers import BotStub, add_reminders, make_people
from telegram.error import Forbidden
from test_dispatcher import dispatcher, planned, statuses

from bot.reminders import store
from bot.storage.repository import Storage


async def test_reminders_planned_after_a_block_are_not_tried_and_come_back_after_an_unblock(
    storage: Storage, clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    [person] = await make_people(storage, 1, now)
    week = now + dt.timedelta(days=7)
    await add_reminders(storage, [planned(person, 1, now, week)])
    stub = BotStub(always_refuse={"1000": Forbidden("bot was blocked by the user")})
    d = dispatcher(storage, stub, clock)
    await d.run_once()
    assert d.tally.blocked == 1 and stub.calls == 1

    # Planned later (a member joined a group, a session moved): due now, and one due tomorrow.
    await add_reminders(storage, [planned(person, 2, now, week), planned(person, 3, now + dt.timedelta(days=1), week)])
    assert await d.run_once() == 0
    assert stub.calls == 1  # not tried again
    assert sorted(s for s, _ in (await statuses(storage)).values()) == ["blocked", "blocked", "pending"]

    # They write again: unblocked; what is still to come is pending again, what fell due meanwhile stays stopped.
    def unblock(tx):  # type: ignore[no-untyped-def]
        assert store.unblock(tx.connection, person)
        return store.resume_future(tx.connection, person, now)

    assert await storage.run(unblock) == 0  # the one due tomorrow never stopped
    stub.always_refuse.clear()
    clock.advance(days=1)
    assert await d.run_once() == 1
    assert stub.texts() == ["reminder 3"]
    assert sorted(s for s, _ in (await statuses(storage)).values()) == ["blocked", "blocked", "sent"]


async def test_resume_future_brings_back_stopped_reminders_that_are_still_ahead(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    [person] = await make_people(storage, 1, now)
    week = now + dt.timedelta(days=7)
    await add_reminders(
        storage,
        [planned(person, 1, now - dt.timedelta(hours=1), week), planned(person, 2, now + dt.timedelta(days=2), week)],
    )
    await storage.run(lambda tx: store.mark_blocked(tx.connection, person, now))
    assert [s for s, _ in (await statuses(storage)).values()] == ["blocked", "blocked"]
    resumed = await storage.run(
        lambda tx: (store.unblock(tx.connection, person), store.resume_future(tx.connection, person, now))[1]
    )
    assert resumed == 1
    assert [s for s, _ in (await statuses(storage)).values()] == ["blocked", "pending"]
