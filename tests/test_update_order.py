"""The update-order service on the real database (both backends), without processes around it.

A higher update of a person waits while a lower one of theirs is in flight, and
while an id just below it has not arrived anywhere; someone else's updates do
not wait for it; an id that never comes is given up on, once. The two-process
test over real webhooks is tests/telegram/test_order_across_processes.py.
"""

from __future__ import annotations

import asyncio

from bot.services.ordering import UpdateOrder, bucket_of
from bot.storage.repository import Storage

CHANNEL = "telegram"


async def run_update(order: UpdateOrder, person: str, update_id: int, events: list[str], done: asyncio.Event) -> None:
    async with order.in_order(CHANNEL, person, update_id):
        events.append(f"{update_id} in")
        await done.wait()
        events.append(f"{update_id} out")


async def settle(predicate: object, rounds: int = 500) -> None:
    for _ in range(rounds):
        if callable(predicate) and predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_a_higher_update_of_a_person_waits_for_the_lower_one_in_flight(storage: Storage) -> None:
    order = UpdateOrder(storage, gap=30, hold=30, poll=0.005)
    events: list[str] = []
    gone = asyncio.Event()
    gone.set()
    await run_update(order, "1", 100, events, gone)  # the bot has seen an update before
    first_done, second_done = asyncio.Event(), asyncio.Event()
    second_done.set()
    # The second text reaches its process first; the first is in flight soon after.
    second = asyncio.create_task(run_update(order, "1", 102, events, second_done))
    await asyncio.sleep(0.1)
    assert "102 in" not in events, "it went ahead while the id below it had not arrived"
    first = asyncio.create_task(run_update(order, "1", 101, events, first_done))
    await settle(lambda: "101 in" in events)
    await asyncio.sleep(0.1)
    assert "102 in" not in events, "it went ahead of the person's lower update in flight"
    first_done.set()
    await asyncio.gather(first, second)
    assert events[2:] == ["101 in", "101 out", "102 in", "102 out"]
    assert order.held >= 1 and order.gave_up == 0


async def test_someone_elses_update_does_not_wait_for_it(storage: Storage) -> None:
    assert bucket_of(CHANNEL, "1") != bucket_of(CHANNEL, "2")
    order = UpdateOrder(storage, gap=30, hold=30, poll=0.005)
    events: list[str] = []
    gone = asyncio.Event()
    gone.set()
    await run_update(order, "1", 200, events, gone)
    slow = asyncio.Event()
    theirs = asyncio.create_task(run_update(order, "1", 201, events, slow))
    await settle(lambda: "201 in" in events)
    await run_update(order, "2", 202, events, gone)
    assert events[-2:] == ["202 in", "202 out"] and "201 out" not in events
    slow.set()
    await theirs


async def test_an_id_that_never_comes_is_given_up_once(storage: Storage) -> None:
    order = UpdateOrder(storage, gap=0.05, hold=30, poll=0.005)
    events: list[str] = []
    gone = asyncio.Event()
    gone.set()
    await run_update(order, "1", 300, events, gone)
    await run_update(order, "1", 302, events, gone)  # 301 never comes
    assert order.gave_up == 1
    await run_update(order, "2", 303, events, gone)  # 301 is counted as seen now
    assert order.gave_up == 1
    assert events == ["300 in", "300 out", "302 in", "302 out", "303 in", "303 out"]
