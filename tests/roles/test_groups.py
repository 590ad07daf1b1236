"""Facilitators' groups: consent to join, sessions at local times, reminders per member, mute."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from bot.content import load_catalog
from bot.reminders import appointments, store
from bot.reminders.dispatcher import Dispatcher, Limits
from bot.reminders.messages import ReminderComposer
from bot.roles import grants, groups
from bot.storage.repository import Storage

UTC = dt.UTC


async def facilitator(storage: Storage, clock, new_person) -> int:  # type: ignore[no-untyped-def]
    person = await new_person(name="Fran")
    await storage.run(lambda tx: grants.grant(tx.connection, person, "facilitator", clock()))
    return person


async def pending(storage: Storage, person: int) -> list[tuple[str, str, str, dt.datetime]]:
    return await storage.run(lambda tx: store.pending_for(tx.connection, person))


async def test_only_facilitators_make_groups_and_only_their_own(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    fran, member = await facilitator(storage, clock, new_person), await new_person()
    with pytest.raises(groups.NotAllowed):
        await storage.run(lambda tx: groups.create_group(tx.connection, member, "Tuesdays", "Europe/London", clock()))
    group, _ = await storage.run(
        lambda tx: groups.create_group(tx.connection, fran, "Tuesdays", "Europe/London", clock())
    )
    other = await facilitator(storage, clock, new_person)
    with pytest.raises(groups.NotAllowed):  # a forged group id from another facilitator's button
        await storage.run(lambda tx: groups.member_list(tx.connection, other, group.id))
    with pytest.raises(groups.NotAllowed):
        await storage.run(
            lambda tx: groups.schedule_session(
                tx.connection, member, group.id, dt.datetime(2026, 12, 1, 18), place=None, now=clock()
            )
        )


async def test_joining_needs_consent_and_members_get_session_reminders(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    clock.now = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
    fran = await facilitator(storage, clock, new_person)
    anna, bo = await new_person(name="Anna"), await new_person("sv", name="Bo")
    group, token = await storage.run(
        lambda tx: groups.create_group(tx.connection, fran, "Kurs", "Europe/Stockholm", clock())
    )
    assert await storage.run(lambda tx: groups.join(tx.connection, anna, token, consented=False, now=clock())) is None
    assert (
        await storage.run(lambda tx: groups.join(tx.connection, anna, "g_wrong-token", consented=True, now=clock()))
        is None
    )
    for person in (anna, bo):
        await storage.run(lambda tx, p=person: groups.join(tx.connection, p, token, consented=True, now=clock()))
    # Sunday 29 March 2026 at 18:00 in Stockholm, the day the clocks go forward.
    session = await storage.run(
        lambda tx: groups.schedule_session(
            tx.connection, fran, group.id, dt.datetime(2026, 3, 29, 18), place="Room 4", now=clock()
        )
    )
    assert session.starts_at == dt.datetime(2026, 3, 29, 16, tzinfo=UTC)
    expected = [
        ("session", f"session:{session.id}", "d1", dt.datetime(2026, 3, 28, 17, tzinfo=UTC)),  # 18:00 CET
        ("session", f"session:{session.id}", "m120", dt.datetime(2026, 3, 29, 14, tzinfo=UTC)),  # 16:00 CEST
    ]
    assert await pending(storage, anna) == expected
    assert await pending(storage, bo) == expected
    # Muting stops Bo's reminders at once; unmuting brings them back.
    await storage.run(lambda tx: groups.set_muted(tx.connection, bo, group.id, True, clock()))
    assert await pending(storage, bo) == []
    members = await storage.run(lambda tx: groups.member_list(tx.connection, fran, group.id))
    assert [(m.display_name, m.muted) for m in members] == [("Anna", False), ("Bo", True)]
    await storage.run(lambda tx: groups.set_muted(tx.connection, bo, group.id, False, clock()))
    assert await pending(storage, bo) == expected
    # Moving the session moves the reminders; cancelling it removes them.
    await storage.run(
        lambda tx: groups.move_session(tx.connection, fran, session.id, dt.datetime(2026, 3, 30, 18), clock())
    )
    assert [due for *_, due in await pending(storage, anna)] == [
        dt.datetime(2026, 3, 29, 16, tzinfo=UTC),
        dt.datetime(2026, 3, 30, 14, tzinfo=UTC),
    ]
    await storage.run(lambda tx: groups.set_leads(tx.connection, fran, group.id, ["d2", "m60"], clock()))
    assert [lead for _, _, lead, _ in await pending(storage, anna)] == ["d2", "m60"]
    await storage.run(lambda tx: groups.cancel_session(tx.connection, fran, session.id, clock()))
    assert await pending(storage, anna) == [] and await pending(storage, bo) == []


async def test_a_session_reminder_is_in_the_members_language_with_a_calendar_file(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    fran = await facilitator(storage, clock, new_person)
    bo = await new_person("sv")
    group, token = await storage.run(
        lambda tx: groups.create_group(tx.connection, fran, "Kurs", "Europe/Stockholm", clock())
    )
    await storage.run(lambda tx: groups.join(tx.connection, bo, token, consented=True, now=clock()))
    session = await storage.run(
        lambda tx: groups.schedule_session(
            tx.connection, fran, group.id, dt.datetime(2026, 11, 24, 18), place="Rum 4", now=clock()
        )
    )
    sent = []

    async def stub(outgoing) -> None:  # type: ignore[no-untyped-def]
        sent.append(outgoing)

    composer = ReminderComposer(storage, load_catalog().ui, clock=clock)
    dispatcher = Dispatcher(
        storage, stub, composer, clock=clock, limits=Limits(per_second=1e6, per_chat_interval=0, permits=None)
    )
    clock.now = dt.datetime(2026, 11, 23, 17, 0, 1, tzinfo=UTC)  # the day before, 18:00 in Stockholm
    assert await dispatcher.run_once() == 1
    [message] = sent
    assert message.text.startswith("En påminnelse: Kurs träffas tisdag 24 november klockan 18:00.")
    assert "Plats: Rum 4" in message.text
    event = Calendar.from_ical(message.attachment.data).walk("VEVENT")[0]
    assert event["DTSTART"].dt == session.starts_at == dt.datetime(2026, 11, 24, 17, tzinfo=UTC)
    assert str(event["LOCATION"]) == "Rum 4" and str(event["UID"]).startswith(f"session-{session.id}-")


async def test_appointment_reminders_defaults_and_follow_up(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    # Now: 22 November 2026 10:00 UTC. Appointment Friday 27 November 14:30 London.
    record = await storage.run(
        lambda tx: appointments.set_appointment(
            tx.connection, person, dt.datetime(2026, 11, 27, 14, 30), "Europe/London", "Dr Patel", clock()
        )
    )
    assert [(kind, lead, due) for kind, _, lead, due in await pending(storage, person)] == [
        ("appointment_questions", "d3", dt.datetime(2026, 11, 24, 14, 30, tzinfo=UTC)),
        ("appointment_summary", "d1", dt.datetime(2026, 11, 26, 14, 30, tzinfo=UTC)),
        ("appointment_followup", "d-1@10:00", dt.datetime(2026, 11, 28, 10, 0, tzinfo=UTC)),
    ]
    # Moving it re-times every reminder; none is left at the old time.
    await storage.run(
        lambda tx: appointments.set_appointment(
            tx.connection, person, dt.datetime(2026, 11, 23, 9, 0), "Europe/London", None, clock()
        )
    )
    kinds = [(kind, due) for kind, _, _, due in await pending(storage, person)]
    assert kinds == [
        ("appointment_followup", dt.datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    ]  # both "before" ones passed
    assert (await storage.run(lambda tx: appointments.upcoming(tx.connection, person, clock()))).id == record.id
    assert await storage.run(lambda tx: appointments.cancel_appointment(tx.connection, person, clock()))
    assert await pending(storage, person) == []


async def test_erasing_a_person_erases_their_reminders_groups_and_memberships(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    fran = await facilitator(storage, clock, new_person)
    anna = await new_person()
    group, token = await storage.run(lambda tx: groups.create_group(tx.connection, fran, "G", "Europe/London", clock()))
    await storage.run(lambda tx: groups.join(tx.connection, anna, token, consented=True, now=clock()))
    await storage.run(
        lambda tx: groups.schedule_session(
            tx.connection, fran, group.id, dt.datetime(2026, 12, 1, 18), place=None, now=clock()
        )
    )
    await storage.run(
        lambda tx: appointments.set_appointment(
            tx.connection, anna, dt.datetime(2026, 12, 5, 9), "Europe/London", None, clock()
        )
    )
    await storage.run(lambda tx: tx.erase_person(anna))
    counts = await storage.run(lambda tx: store.counts_by_status(tx.connection))
    assert counts == {}
    await storage.run(lambda tx: tx.erase_person(fran))
    assert await storage.run(lambda tx: groups.group(tx.connection, group.id)) is None
