"""Session reminders that behave: passed lead times collapse into one, muting means quiet,
members hear of moves and cancellations with a calendar file that follows them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

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


async def chat_of(storage: Storage, person: int) -> str:
    return await storage.run(
        lambda tx: tx.connection.execute(
            select(store.people.c.external_id).where(store.people.c.id == person)
        ).scalar_one()
    )


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


# --------------------------------------------------------------------------- muting means quiet


def telegram_dispatcher(storage: Storage, clock, sent: list[Outgoing]) -> Dispatcher:  # type: ignore[no-untyped-def]
    """With the Telegram composer, which also writes feedback offers and group messages."""
    from bot.adapters.telegram.reminders import TelegramReminderComposer
    from bot.services.reminders import Reminders
    from flows.engine import Engine

    catalog = load_catalog()

    async def stub(outgoing: Outgoing) -> None:
        sent.append(outgoing)

    composer = TelegramReminderComposer(Reminders(storage, Engine(catalog), clock), catalog.ui, clock=clock)
    return Dispatcher(storage, stub, composer, clock=clock, limits=FAST)


async def test_a_muted_member_gets_no_group_messages_and_no_feedback_offers(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    """The review: Omar muted the group and still got the facilitator's message and "Thank you for coming"."""
    from bot.roles import group_activity

    clock.now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    fran, group, [mia, omar, noah] = await group_with(storage, clock, new_person, 3)
    await storage.run(lambda tx: groups.set_muted(tx.connection, omar, group.id, True, clock()))
    await storage.run(
        lambda tx: group_activity.schedule(
            tx.connection, fran, group.id, dt.datetime(2026, 12, 1, 9, 0), place=None, now=clock()
        )
    )
    assert (
        await storage.run(lambda tx: group_activity.post_message(tx.connection, fran, group.id, "Hello", clock())) == 2
    )
    # Noah mutes after the message and the feedback offer were planned: nothing reaches him either.
    await storage.run(lambda tx: groups.set_muted(tx.connection, noah, group.id, True, clock()))
    sent: list[Outgoing] = []
    d = telegram_dispatcher(storage, clock, sent)
    await d.run_due()
    clock.now = dt.datetime(2026, 12, 1, 10, 31, tzinfo=UTC)  # the session has ended
    await d.run_due()
    chats = {person: await chat_of(storage, person) for person in (mia, omar, noah)}
    reached = sorted((o.chat_id, o.text.split("\n")[0][:20]) for o in sent if o.chat_id in chats.values())
    assert {chat for chat, _ in reached} == {chats[mia]}, reached
    assert len(reached) == 3  # the session reminder, the message and the feedback offer
    assert await storage.run(lambda tx: group_activity.post_message(tx.connection, fran, group.id, "Hi", clock())) == 1


# --------------------------------------------------------------------------- moves and cancellations


def calendar_of(outgoing: Outgoing):  # type: ignore[no-untyped-def]
    from icalendar import Calendar

    assert outgoing.attachment is not None and outgoing.attachment.mime_type == "text/calendar"
    calendar = Calendar.from_ical(outgoing.attachment.data)
    return calendar, calendar.walk("VEVENT")[0]


async def test_members_are_told_of_a_move_and_a_cancellation_and_their_calendar_follows(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    from bot.roles import group_activity

    clock.now = dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    fran, group, [mia, omar, noah] = await group_with(storage, clock, new_person, 3)
    await storage.run(lambda tx: groups.set_muted(tx.connection, noah, group.id, True, clock()))
    session = await storage.run(
        lambda tx: group_activity.schedule(
            tx.connection, fran, group.id, dt.datetime(2026, 12, 3, 18, 0), place="Room 2", now=clock()
        )
    )
    sent: list[Outgoing] = []
    d = telegram_dispatcher(storage, clock, sent)
    clock.now = dt.datetime(2026, 12, 2, 18, 0, tzinfo=UTC)  # the day before: Mia and Omar get the calendar file
    await d.run_due()
    first = {o.chat_id: calendar_of(o)[1] for o in sent}
    assert set(first) == {await chat_of(storage, mia), await chat_of(storage, omar)}
    uid = str(first[await chat_of(storage, mia)]["UID"])
    assert uid != f"session-{session.id}@sdm-companion"  # unique to this installation
    assert uid.startswith(f"session-{session.id}-") and uid.endswith("@sdm-companion")
    # Omar mutes after that: he has it in his calendar, so he still hears when it changes.
    await storage.run(lambda tx: groups.set_muted(tx.connection, omar, group.id, True, clock()))

    sent.clear()
    await storage.run(
        lambda tx: group_activity.reschedule(
            tx.connection, fran, session.id, dt.datetime(2026, 12, 4, 17, 30), place="Room 5", now=clock()
        )
    )
    await d.run_due()
    told = {o.chat_id: o for o in sent}
    assert set(told) == {await chat_of(storage, mia), await chat_of(storage, omar)}  # not Noah, muted all along
    moved = told[await chat_of(storage, mia)]
    assert moved.text.startswith("Tuesdays has moved. It now meets on Friday 4 December at 17:30.")
    assert "Room 5" in moved.text
    calendar, event = calendar_of(moved)
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (uid, 1)
    assert event["DTSTART"].dt == dt.datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert len(sent) == 2  # the notice carries the calendar file: no separate reminder on top of it

    sent.clear()
    await storage.run(lambda tx: group_activity.cancel(tx.connection, fran, session.id, clock()))
    await d.run_due()
    told = {o.chat_id: o for o in sent}
    assert set(told) == {await chat_of(storage, mia), await chat_of(storage, omar)}
    cancelled = told[await chat_of(storage, mia)]
    assert cancelled.text.startswith("Tuesdays on Friday 4 December at 17:30 is cancelled.")
    calendar, event = calendar_of(cancelled)
    assert (str(calendar["METHOD"]), str(event["STATUS"])) == ("CANCEL", "CANCELLED")
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (uid, 2)
    clock.now = dt.datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    sent.clear()
    await d.run_due()
    assert sent == []  # nothing more about a cancelled session: no reminder, no feedback offer


async def test_a_second_change_before_the_first_notice_went_out_sends_only_the_latest(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    from bot.roles import group_activity

    clock.now = dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    fran, group, [_mia] = await group_with(storage, clock, new_person)
    session = await storage.run(
        lambda tx: group_activity.schedule(
            tx.connection, fran, group.id, dt.datetime(2026, 12, 10, 18, 0), place=None, now=clock()
        )
    )
    for day in (11, 12):
        await storage.run(
            lambda tx, day=day: group_activity.reschedule(
                tx.connection, fran, session.id, dt.datetime(2026, 12, day, 18, 0), place=None, now=clock()
            )
        )
    sent: list[Outgoing] = []
    await telegram_dispatcher(storage, clock, sent).run_due()
    assert [o.text.split("\n")[0] for o in sent] == [
        "Tuesdays has moved. It now meets on Saturday 12 December at 18:00."
    ]
    assert int(calendar_of(sent[0])[1]["SEQUENCE"]) == 2


async def test_a_notice_waiting_to_go_is_not_sent_to_someone_who_left_or_muted_before_it_reached_their_calendar(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    from bot.roles import group_activity

    clock.now = dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    fran, group, [mia, omar, noah] = await group_with(storage, clock, new_person, 3)
    session = await storage.run(
        lambda tx: group_activity.schedule(
            tx.connection, fran, group.id, dt.datetime(2026, 12, 10, 18, 0), place=None, now=clock()
        )
    )
    await storage.run(
        lambda tx: group_activity.reschedule(
            tx.connection, fran, session.id, dt.datetime(2026, 12, 11, 18, 0), place=None, now=clock()
        )
    )
    await storage.run(lambda tx: groups.leave(tx.connection, omar, group.id, clock()))
    await storage.run(lambda tx: groups.set_muted(tx.connection, noah, group.id, True, clock()))
    sent: list[Outgoing] = []
    await telegram_dispatcher(storage, clock, sent).run_due()
    assert [o.chat_id for o in sent] == [await chat_of(storage, mia)]
