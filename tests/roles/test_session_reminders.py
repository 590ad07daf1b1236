"""Session reminders that behave: passed lead times collapse into one, muting means quiet,
members hear of moves and cancellations with a calendar file that follows them."""

from __future__ import annotations

import datetime as dt

from bot.content import load_catalog
from bot.reminders import store
from bot.reminders.delivery import Outgoing
from bot.reminders.dispatcher import Dispatcher, Limits
from bot.reminders.messages import ReminderComposer
from bot.roles import grants, groups
from bot.storage.repository import Storage

UTC = dt.UTC
FAST = Limits(per_second=1e6, per_chat_interval=0, permits=None)


async def facilitator(storage: Storage, clock, new_person) -> int:  # type: ignore[no-untyped-def]
    person = await new_person(name="Fran")
    await storage.run(lambda tx: grants.grant(tx.connection, person, "facilitator", clock()))
    return person


async def group_with(storage: Storage, clock, new_person, count: int = 1):  # type: ignore[no-untyped-def]
    """A London group (GMT in December, so local time is UTC) with ``count`` members."""
    fran = await facilitator(storage, clock, new_person)
    group, token = await storage.run(
        lambda tx: groups.create_group(tx.connection, fran, "Tuesdays", "Europe/London", clock())
    )
    people = []
    for _ in range(count):
        person = await new_person()
        await storage.run(lambda tx, p=person: groups.join(tx.connection, p, token, consented=True, now=clock()))
        people.append(person)
    return fran, group, people


async def pending(storage: Storage, person: int) -> list[tuple[str, str, str, dt.datetime]]:
    return await storage.run(lambda tx: store.pending_for(tx.connection, person))


def dispatcher(storage: Storage, clock, sent: list[Outgoing]) -> Dispatcher:  # type: ignore[no-untyped-def]
    async def stub(outgoing: Outgoing) -> None:
        sent.append(outgoing)

    return Dispatcher(
        storage, stub, ReminderComposer(storage, load_catalog().ui, clock=clock), clock=clock, limits=FAST
    )


# --------------------------------------------------------------------------- lead times already passed


async def test_a_session_later_today_gets_one_reminder_not_the_day_before_and_then_two_hours_before(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    """The review's B3: planned at 08:22 for 10:25, the overdue "day before" went out at once,
    then "2 hours before" three minutes later, with the same words and calendar file."""
    clock.now = dt.datetime(2026, 12, 1, 8, 22, tzinfo=UTC)
    fran, group, [mia] = await group_with(storage, clock, new_person)
    session = await storage.run(
        lambda tx: groups.schedule_session(
            tx.connection, fran, group.id, dt.datetime(2026, 12, 1, 10, 25), place=None, now=clock()
        )
    )
    assert await pending(storage, mia) == [
        ("session", f"session:{session.id}", "m120", dt.datetime(2026, 12, 1, 8, 25, tzinfo=UTC))
    ]
    sent: list[Outgoing] = []
    d = dispatcher(storage, clock, sent)
    await d.run_due()
    clock.now = dt.datetime(2026, 12, 1, 8, 25, tzinfo=UTC)
    await d.run_due()
    clock.now = dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    await d.run_due()
    assert len(sent) == 1


async def test_every_lead_already_passed_becomes_one_reminder_now(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    clock.now = dt.datetime(2026, 12, 1, 8, 22, tzinfo=UTC)
    fran, group, [mia] = await group_with(storage, clock, new_person)
    session = await storage.run(
        lambda tx: groups.schedule_session(
            tx.connection, fran, group.id, dt.datetime(2026, 12, 1, 9, 30), place=None, now=clock()
        )
    )
    assert await pending(storage, mia) == [
        ("session", f"session:{session.id}", "m120", dt.datetime(2026, 12, 1, 7, 30, tzinfo=UTC))
    ]
    sent: list[Outgoing] = []
    await dispatcher(storage, clock, sent).run_due()
    assert len(sent) == 1


async def test_a_passed_lead_still_tells_a_late_joiner_at_once_when_the_next_one_is_hours_away(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    clock.now = dt.datetime(2026, 12, 1, 8, 22, tzinfo=UTC)
    fran, group, [mia] = await group_with(storage, clock, new_person)
    await storage.run(
        lambda tx: groups.schedule_session(
            tx.connection, fran, group.id, dt.datetime(2026, 12, 1, 16, 0), place=None, now=clock()
        )
    )
    assert [(lead, due) for _, _, lead, due in await pending(storage, mia)] == [
        ("d1", dt.datetime(2026, 11, 30, 16, 0, tzinfo=UTC)),
        ("m120", dt.datetime(2026, 12, 1, 14, 0, tzinfo=UTC)),
    ]
    # Planning again later (someone joins) changes nothing already sent, and sends nothing twice.
    sent: list[Outgoing] = []
    d = dispatcher(storage, clock, sent)
    await d.run_due()
    clock.now = dt.datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
    await new_person()
    await storage.run(lambda tx: groups.set_leads(tx.connection, fran, group.id, ["d1", "m120"], clock()))
    await d.run_due()
    assert len(sent) == 1
    clock.now = dt.datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    await d.run_due()
    assert len(sent) == 2


async def test_reminders_that_fell_due_together_while_the_bot_was_down_go_out_once(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    clock.now = dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    fran, group, [mia] = await group_with(storage, clock, new_person)
    await storage.run(
        lambda tx: groups.schedule_session(
            tx.connection, fran, group.id, dt.datetime(2026, 12, 1, 18, 0), place=None, now=clock()
        )
    )
    assert len(await pending(storage, mia)) == 2
    clock.now = dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # down from before the day before until an hour before
    sent: list[Outgoing] = []
    await dispatcher(storage, clock, sent).run_due()
    assert len(sent) == 1
    assert await pending(storage, mia) == []
