"""Facilitators and group members through the Telegram harness: the whole journey, and every access rule."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.adapters.telegram import facilitator, member
from bot.adapters.telegram import reminders as telegram_reminders
from bot.adapters.telegram.app import build_application
from bot.reminders import store
from bot.reminders.dispatcher import Limits, Tally
from bot.roles import grants, group_activity, groups
from bot.services.app import Services
from bot.services.conversation import Companion, Who
from bot.services.reminders import Reminders
from bot.storage.models import Reminder
from tests.conftest import Clock
from tests.telegram.conftest import TOKEN
from tests.telegram.harness import BOT_USER, Call, Person, RecordingRequest, TelegramHarness, keyboard_of, shown
from tests.telegram.talk import agree, person_id, skips, ui

FAST = Limits(per_second=1_000_000, per_chat_interval=0.0, permits=None)
LINK = re.compile(r"https://t\.me/" + BOT_USER["username"] + r"\?start=(g_[A-Za-z0-9_-]+)")


@pytest.fixture
async def harness(companion: Companion) -> AsyncIterator[TelegramHarness]:
    request = RecordingRequest()
    application = build_application(
        Services.around(companion),
        TOKEN,
        request=request,
        rate_limit=False,
        features=[facilitator.feature, member.feature, telegram_reminders.make_feature],
    )
    await application.initialize()
    request.take()
    yield TelegramHarness(application, request)
    await application.shutdown()


async def make_facilitator(person: Person, companion: Companion) -> int:
    await agree(person, companion)
    pid = await person_id(companion, person)
    await companion.storage.run(lambda tx: grants.grant(tx.connection, pid, grants.FACILITATOR, companion.clock()))
    return pid


def reminders_of(companion: Companion) -> Reminders:
    """The reminder service on the companion's storage, engine and clock."""
    return Reminders(companion.storage, companion.engine, companion.clock)


async def dispatch(harness: TelegramHarness, companion: Companion, clock: Clock) -> tuple[Tally, list[Call]]:
    """Send everything due at the clock's time through the real bot (and its recording Bot API)."""
    service = telegram_reminders.ReminderService(reminders_of(companion), clock=clock, limits=FAST)
    dispatcher = service.build(harness.application.bot)
    harness.request.take()
    while await dispatcher.run_once():
        pass
    return dispatcher.tally, harness.request.take()


async def pending(companion: Companion) -> list[tuple[int, str, str, str, dt.datetime]]:
    table = Reminder.__table__
    rows = await companion.storage.run(
        lambda tx: tx.connection.execute(
            select(table.c.person_id, table.c.kind, table.c.source, table.c.lead, table.c.due_at)
            .where(table.c.status == store.PENDING)
            .order_by(table.c.due_at, table.c.person_id, table.c.lead)
        ).all()
    )
    return [(p, k, s, lead, store.as_utc(due)) for p, k, s, lead, due in rows]


def texts(person: Person) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in person.chat]


async def create_group(fay: Person, companion: Companion, name: str, zone_label: str) -> str:
    """Through /groups and the new_group flow; returns the invite payload (g_...)."""
    await fay.says("/groups")
    await fay.taps(ui(companion, "button_gr_new"))
    await fay.says(name)
    await fay.taps(zone_label)
    links = [LINK.search(t) for t in texts(fay)]
    found = [m.group(1) for m in links if m]
    assert found, texts(fay)[-4:]
    return found[-1]


async def join(member: Person, companion: Companion, payload: str) -> None:
    await agree(member, companion, payload)
    language = member.user["language_code"]
    assert member.last["text"].startswith(
        ui(companion, "gr_join_explain", language, group="Tuesday group").split("\n")[0]
    )
    await member.taps(ui(companion, "button_gr_join", language))


async def schedule(fay: Person, companion: Companion, group_name: str, day: str, time: str, place: str | None) -> None:
    await fay.says("/groups")
    await fay.taps(group_name)
    await fay.taps(ui(companion, "button_gr_schedule"))
    await fay.says(day)
    await fay.says(time)
    if place:
        await fay.says(place)
    else:
        await skips(fay, companion)


async def test_the_facilitator_journey(harness: TelegramHarness, companion: Companion, clock: Clock) -> None:
    fay = harness.person(9001, "Fay")
    fay_id = await make_facilitator(fay, companion)
    payload = await create_group(fay, companion, "Tuesday group", "Sweden (Stockholm time)")

    # Members open the link before they have agreed to anything: nothing runs until consent, then joining is explained.
    mia, bo = harness.person(9002, "Mia"), harness.person(9003, "Bo", "sv")
    await join(mia, companion, payload)
    assert mia.last["text"] == ui(companion, "gr_joined", group="Tuesday group")
    await join(bo, companion, payload)
    mia_id, bo_id = await person_id(companion, mia), await person_id(companion, bo)

    # 26 November 2026, 18:00 in Stockholm (CET, UTC+1) is 17:00 UTC.
    await schedule(fay, companion, "Tuesday group", "26/11/2026", "18:00", "Room 4, the library")
    assert ui(companion, "gr_session_set") in texts(fay)
    (group_id,) = [g.id for g in await companion.storage.run(lambda tx: groups.groups_of(tx.connection, fay_id))]
    session_id = (await companion.storage.run(lambda tx: group_activity.sessions_of(tx.connection, fay_id, group_id)))[
        0
    ].id
    utc = lambda *a: dt.datetime(*a, tzinfo=dt.UTC)  # noqa: E731
    assert await pending(companion) == [
        (mia_id, "session", f"session:{session_id}", "d1", utc(2026, 11, 25, 17, 0)),
        (bo_id, "session", f"session:{session_id}", "d1", utc(2026, 11, 25, 17, 0)),
        (mia_id, "session", f"session:{session_id}", "m120", utc(2026, 11, 26, 15, 0)),
        (bo_id, "session", f"session:{session_id}", "m120", utc(2026, 11, 26, 15, 0)),
        (fay_id, "session_attendance", f"after:{session_id}", "attendance", utc(2026, 11, 26, 18, 30)),
        (mia_id, "session_feedback", f"after:{session_id}", "feedback", utc(2026, 11, 26, 18, 30)),
        (bo_id, "session_feedback", f"after:{session_id}", "feedback", utc(2026, 11, 26, 18, 30)),
    ]

    # Members see first names and mute state; the facilitator's page says so.
    await fay.says("/groups")
    await fay.taps("Tuesday group")
    await fay.taps(ui(companion, "button_gr_members"))
    assert "Mia: gets reminders\nBo: gets reminders" in fay.chat[-1]["text"]

    # Nothing is due yet.
    tally, calls = await dispatch(harness, companion, clock)
    assert tally.sent == 0 and calls == []

    # The day before: each member in their own language, with the session's calendar file.
    clock.now = utc(2026, 11, 25, 17, 1)
    tally, calls = await dispatch(harness, companion, clock)
    assert tally.sent == 2
    documents = {int(c.params["chat_id"]): c for c in calls if c.method == "sendDocument"}
    assert set(documents) == {mia.id, bo.id}
    assert (
        documents[mia.id]
        .params["caption"]
        .startswith("A reminder: Tuesday group meets on Thursday 26 November at 18:00.")
    )
    assert "Where: Room 4, the library" in documents[mia.id].params["caption"]
    assert (
        documents[bo.id]
        .params["caption"]
        .startswith("En påminnelse: Tuesday group träffas torsdag 26 november klockan 18:00.")
    )
    ((filename, ics),) = documents[mia.id].files.values()
    assert filename == "session.ics"
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert event.decoded("dtstart") == utc(2026, 11, 26, 17, 0)
    assert str(event.get("location")) == "Room 4, the library"
    assert next(iter(documents[bo.id].files.values()))[0] == "traff.ics"
    # A redelivery of the same run sends nothing twice.
    tally, calls = await dispatch(harness, companion, clock)
    assert tally.sent == 0

    # Mia mutes the group from the reminder itself, in one tap.
    await mia.taps(ui(companion, "button_rm_mute"))
    assert mia.last["text"] == ui(companion, "gr_muted", group="Tuesday group")
    await fay.says("/groups")
    await fay.taps("Tuesday group")
    await fay.taps(ui(companion, "button_gr_members"))
    assert "Mia: muted the group\nBo: gets reminders" in fay.chat[-1]["text"]

    # Two hours before: only Bo.
    clock.now = utc(2026, 11, 26, 15, 0)
    tally, calls = await dispatch(harness, companion, clock)
    assert [int(c.params["chat_id"]) for c in calls if c.method == "sendDocument"] == [bo.id]

    # Mia turns the group on again before it ends, so she is offered the feedback questions too.
    await mia.taps(ui(companion, "button_gr_unmute"))
    assert mia.last["text"] == ui(companion, "gr_unmuted", group="Tuesday group")

    # After the session: the facilitator is asked who came; members are offered the feedback questions.
    clock.now = utc(2026, 11, 26, 18, 31)
    tally, calls = await dispatch(harness, companion, clock)
    assert tally.sent == 3
    assert fay.last["text"].startswith("The session of Tuesday group on Thursday 26 November at 18:00 has ended.")
    await fay.taps(ui(companion, "button_gr_attendance"))
    await fay.taps("⬜ Mia")
    await fay.taps("⬜ Bo")
    assert shown(fay.last)[:2] == ["✅ Mia", "✅ Bo"]
    await fay.taps("✅ Bo")  # a mistake, undone in place
    assert await companion.storage.run(lambda tx: group_activity.attended(tx.connection, fay_id, session_id)) == {
        mia_id
    }
    # A double tap (the same button pressed twice) ticks once.
    twice = fay.update_press("⬜ Bo")
    await harness.process(twice)
    await harness.process(harness.updates.press(fay.user, fay.last, twice.callback_query.data))
    assert await companion.storage.run(lambda tx: group_activity.attended(tx.connection, fay_id, session_id)) == {
        mia_id,
        bo_id,
    }

    # /report before anyone answered: attendance, and no feedback yet.
    await fay.says("/report")
    assert "Came: 2 of 2 (Bo, Mia)" in fay.last["text"]
    assert "Feedback answers: 0" in fay.last["text"]

    await mia.taps(ui(companion, "button_gr_feedback"))
    await mia.says("Practising what to say")
    await mia.says("The long video")
    await mia.taps("About right")
    # One answer alone is held back: it would point at the one person who answered.
    await fay.says("/report")
    assert ui(companion, "gr_report_held_back") in fay.last["text"]
    assert "Practising" not in fay.last["text"]

    await bo.taps(ui(companion, "button_gr_feedback", "sv"))
    await bo.says("Rollspelet")
    await skips(bo, companion, "sv")
    await bo.taps("Lagom")
    await fay.says("/report")
    report = fay.last["text"]
    assert "Feedback answers: 2" in report
    assert "Right level? About right: 2" in report
    assert "Most useful:\n• Practising what to say\n• Rollspelet" in report
    assert "Least useful:\n• The long video" in report
    feedback_part = report[report.index("Feedback answers") :]
    assert "Mia" not in feedback_part and "Bo" not in feedback_part

    # Each member's answers stay on their own record too (their /mydata), and the report's data has no person ids.
    found = await companion.storage.run(lambda tx: group_activity.report(tx.connection, fay_id, group_id, clock.now))
    assert found.sessions[0].answers == 2
    assert "person_id" not in group_activity.SessionReport.__dataclass_fields__


async def test_a_message_to_the_whole_group_goes_through_the_dispatcher(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    fay = harness.person(9101, "Fay")
    await make_facilitator(fay, companion)
    payload = await create_group(fay, companion, "Tuesday group", "UK (London time)")
    mia, bo = harness.person(9102, "Mia"), harness.person(9103, "Bo", "sv")
    await join(mia, companion, payload)
    await join(bo, companion, payload)
    await fay.says("/groups")
    await fay.taps("Tuesday group")
    await fay.taps(ui(companion, "button_gr_message"))
    await fay.says("No session next week: <b>the room</b> is closed.")
    assert ui(companion, "gr_message_sent", count=2) in texts(fay)
    tally, calls = await dispatch(harness, companion, clock)
    assert tally.sent == 2
    assert mia.last["text"] == (
        "A message from the facilitator of Tuesday group:\n\nNo session next week: <b>the room</b> is closed."
    )
    assert bo.last["text"].startswith("Ett meddelande från gruppledaren för Tuesday group:")
    assert all("parse_mode" not in c.params for c in calls)  # the facilitator's words are sent as they are
    tally, _ = await dispatch(harness, companion, clock)
    assert tally.sent == 0


async def test_changing_reminder_times_replans_every_member(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    fay = harness.person(9201, "Fay")
    await make_facilitator(fay, companion)
    payload = await create_group(fay, companion, "Tuesday group", "UK (London time)")
    mia = harness.person(9202, "Mia")
    await join(mia, companion, payload)
    await schedule(fay, companion, "Tuesday group", "30/11/2026", "10:00", None)
    await fay.says("/groups")
    await fay.taps("Tuesday group")
    await fay.taps(ui(companion, "button_gr_leads"))
    assert shown(fay.last)[0] == "✓ the day before, 2 hours before"
    await fay.taps("2 days before, 2 hours before")
    leads = sorted(lead for _, kind, _, lead, _ in await pending(companion) if kind == "session")
    assert leads == ["d2", "m120"]


async def test_a_member_can_say_not_now_and_a_bad_link_is_explained(
    harness: TelegramHarness, companion: Companion
) -> None:
    fay = harness.person(9301, "Fay")
    await make_facilitator(fay, companion)
    payload = await create_group(fay, companion, "Tuesday group", "UK (London time)")
    mia = harness.person(9302, "Mia")
    await agree(mia, companion, payload)
    await mia.taps(ui(companion, "button_gr_not_now"))
    assert mia.last["text"] == ui(companion, "gr_not_joined")
    kim = harness.person(9303, "Kim")
    await agree(kim, companion, "g_" + "x" * 32)
    assert kim.last["text"] == ui(companion, "gr_link_unknown")
    # A new link replaces the old one.
    await fay.says("/groups")
    await fay.taps("Tuesday group")
    await fay.taps(ui(companion, "button_gr_invite"))
    await fay.taps(ui(companion, "button_gr_new_link"))
    fresh = LINK.search(fay.last["text"])
    assert fresh and fresh.group(1) != payload
    await mia.says(f"/start {payload}")
    assert mia.last["text"] == ui(companion, "gr_link_unknown")
    await mia.says(f"/start {fresh.group(1)}")
    await mia.taps(ui(companion, "button_gr_join"))
    assert mia.last["text"] == ui(companion, "gr_joined", group="Tuesday group")


# ---------------------------------------------------------------------- access rules


async def test_a_service_user_gets_a_kind_answer_and_nothing_else(
    harness: TelegramHarness, companion: Companion
) -> None:
    fay = harness.person(9401, "Fay")
    fay_id = await make_facilitator(fay, companion)
    await create_group(fay, companion, "Tuesday group", "UK (London time)")
    (group_id,) = [g.id for g in await companion.storage.run(lambda tx: groups.groups_of(tx.connection, fay_id))]
    sam = harness.person(9402, "Sam")
    await agree(sam, companion)
    for command in ("/groups", "/report"):
        await sam.says(command)
        assert sam.last["text"] == ui(companion, "gr_for_facilitators")
        assert "reply_markup" not in sam.last
    for forged in (f"g:o:{group_id}", f"g:m:{group_id}", f"g:r:{group_id}", f"g:s:{group_id}", "g:new"):
        calls = await harness.process(harness.updates.press(sam.user, sam.last, forged))
        sends = [c for c in calls if c.method == "sendMessage"]
        assert [c.text for c in sends] == [ui(companion, "gr_for_facilitators")], forged
    assert (await companion.current(Who("telegram", str(sam.id)))).status == "idle"  # no flow was opened
    # Someone who has not agreed to anything gets the consent question, and nothing is stored.
    ann = harness.person(9403, "Ann")
    await ann.says("/groups")
    assert await companion.person(Who("telegram", str(ann.id))) is None


async def test_a_facilitator_cannot_touch_another_facilitators_group(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    fay, gus = harness.person(9501, "Fay"), harness.person(9502, "Gus")
    fay_id = await make_facilitator(fay, companion)
    gus_id = await make_facilitator(gus, companion)
    payload = await create_group(fay, companion, "Tuesday group", "UK (London time)")
    mia = harness.person(9503, "Mia")
    await join(mia, companion, payload)
    mia_id = await person_id(companion, mia)
    await schedule(fay, companion, "Tuesday group", "23/11/2026", "09:00", "Room 1")
    (group_id,) = [g.id for g in await companion.storage.run(lambda tx: groups.groups_of(tx.connection, fay_id))]
    session_id = (await companion.storage.run(lambda tx: group_activity.sessions_of(tx.connection, fay_id, group_id)))[
        0
    ].id
    await gus.says("/groups")
    before = await pending(companion)
    clock.now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    forged = [
        f"g:o:{group_id}",
        f"g:m:{group_id}",
        f"g:r:{group_id}",
        f"g:s:{group_id}",
        f"g:t:{group_id}",
        f"g:i:{group_id}:1",
        f"g:L:{group_id}:0",
        f"g:p:{group_id}",
        f"g:a:{session_id}",
        f"g:A:{session_id}:{mia_id}:1",
        "g:o:999999",
        "g:o:abc",
        "g:A:1:2:3:4",
    ]
    for data in forged:
        calls = await harness.process(harness.updates.press(gus.user, gus.last, data))
        sends = [c.text for c in calls if c.method == "sendMessage"]
        assert sends == [ui(companion, "gr_not_yours")], (data, sends)
        assert all("Mia" not in (c.text or "") and "Tuesday" not in (c.text or "") for c in calls)
    assert await pending(companion) == before
    assert await companion.storage.run(lambda tx: group_activity.attended(tx.connection, fay_id, session_id)) == set()
    assert (await companion.current(Who("telegram", str(gus.id)))).status == "idle"
    # Gus has no groups of his own, and his /report says so rather than showing Fay's.
    await gus.says("/report")
    assert gus.last["text"] == ui(companion, "gr_list_empty")
    # A member cannot tick attendance or mute someone else's group either.
    calls = await harness.process(harness.updates.press(mia.user, mia.last, f"g:A:{session_id}:{mia_id}:1"))
    assert [c.text for c in calls if c.method == "sendMessage"] == [ui(companion, "gr_for_facilitators")]
    _ = gus_id


async def test_a_member_cannot_mute_or_give_feedback_for_a_group_they_are_not_in(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    fay = harness.person(9601, "Fay")
    fay_id = await make_facilitator(fay, companion)
    await create_group(fay, companion, "Tuesday group", "UK (London time)")
    await schedule(fay, companion, "Tuesday group", "23/11/2026", "09:00", "Room 1")
    (group_id,) = [g.id for g in await companion.storage.run(lambda tx: groups.groups_of(tx.connection, fay_id))]
    session_id = (await companion.storage.run(lambda tx: group_activity.sessions_of(tx.connection, fay_id, group_id)))[
        0
    ].id
    clock.now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    sam = harness.person(9602, "Sam")
    await agree(sam, companion)
    for data in (f"gu:{group_id}", f"gu:{group_id}:on", f"gf:{session_id}", f"gl:{group_id}"):
        calls = await harness.process(harness.updates.press(sam.user, sam.last, data))
        assert [c.text for c in calls if c.method == "sendMessage"] == [ui(companion, "gr_not_member")], data
    assert (await companion.current(Who("telegram", str(sam.id)))).status == "idle"
    # A finished feedback run about a session they are not in leaves nothing in the report.
    sam_id = await person_id(companion, sam)
    saved = await companion.storage.run(
        lambda tx: group_activity.save_feedback(tx.connection, sam_id, session_id, {"most_useful": "x"}, clock.now)
    )
    assert saved is False


async def test_a_member_can_see_their_groups_unmute_and_leave(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    fay = harness.person(9701, "Fay")
    await make_facilitator(fay, companion)
    payload = await create_group(fay, companion, "Tuesday group", "UK (London time)")
    mia = harness.person(9702, "Mia")
    await join(mia, companion, payload)
    await schedule(fay, companion, "Tuesday group", "30/11/2026", "10:00", "Room 1")
    mia_id = await person_id(companion, mia)
    await mia.says("/groups")
    assert mia.last["text"].startswith(ui(companion, "gr_for_facilitators"))
    await mia.taps("Mute Tuesday group")
    assert not [r for r in await pending(companion) if r[0] == mia_id and r[1] == "session"]
    await mia.taps(ui(companion, "button_gr_unmute"))
    assert len([r for r in await pending(companion) if r[0] == mia_id and r[1] == "session"]) == 2
    await mia.says("/groups")
    await mia.taps("Leave Tuesday group")
    assert mia.last["text"] == ui(companion, "gr_left")
    assert not [r for r in await pending(companion) if r[0] == mia_id]


async def test_a_session_can_be_moved_or_cancelled_and_its_reminders_follow(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    fay = harness.person(9101, "Fay")
    fay_id = await make_facilitator(fay, companion)
    payload = await create_group(fay, companion, "Tuesday group", "Sweden (Stockholm time)")
    mia = harness.person(9102, "Mia")
    await join(mia, companion, payload)
    mia_id = await person_id(companion, mia)
    await schedule(fay, companion, "Tuesday group", "26/11/2026", "18:00", None)
    (group_id,) = [g.id for g in await companion.storage.run(lambda tx: groups.groups_of(tx.connection, fay_id))]
    (session,) = await companion.storage.run(lambda tx: group_activity.sessions_of(tx.connection, fay_id, group_id))
    utc = lambda *a: dt.datetime(*a, tzinfo=dt.UTC)  # noqa: E731

    # Move it to 3 December, 10:00 Stockholm time (09:00 UTC), with a video link.
    await fay.says("/groups")
    await fay.taps("Tuesday group")
    await fay.taps(ui(companion, "button_gr_change"))
    when = next(label for row in keyboard_of(fay.last["reply_markup"]) for label, _ in row)
    await fay.taps(when)
    await fay.taps(ui(companion, "button_gr_move"))
    await fay.says("3/12/2026")
    await fay.says("10:00")
    await fay.says("https://video.example/room")
    assert ui(companion, "gr_session_moved") in texts(fay)
    (moved,) = await companion.storage.run(lambda tx: group_activity.sessions_of(tx.connection, fay_id, group_id))
    assert (moved.id, moved.starts_at, moved.place) == (
        session.id,
        utc(2026, 12, 3, 9, 0),
        "https://video.example/room",
    )
    before = [row for row in await pending(companion) if row[1] == "session"]
    assert (mia_id, "session", f"session:{session.id}", "d1", utc(2026, 12, 2, 9, 0)) in before
    assert all(due >= utc(2026, 12, 2) for *_, due in before)  # nothing left at the old time

    # Cancel it: asked first; then no reminders before it and nothing after it.
    await fay.taps(ui(companion, "button_gr_change"))
    await fay.taps(next(label for row in keyboard_of(fay.last["reply_markup"]) for label, _ in row))
    await fay.taps(ui(companion, "button_gr_cancel_session"))
    assert fay.last["text"].startswith("Cancel the session on")
    await fay.taps(ui(companion, "button_gr_cancel_yes"))
    assert fay.last["text"] == ui(companion, "gr_session_cancelled")
    assert [label for row in keyboard_of(fay.last["reply_markup"]) for label, _ in row] == [
        ui(companion, "button_gr_message")
    ]
    # Only the notice is left to send: Mia is told, with a file that takes it out of her calendar.
    assert await pending(companion) == [(mia_id, "session_cancelled", f"change:{session.id}", "v2", clock.now)]
    _tally, calls = await dispatch(harness, companion, clock)
    (notice,) = [c for c in calls if c.method == "sendDocument"]
    assert int(notice.params["chat_id"]) == mia.id
    assert mia.chat[-1]["caption"].startswith("Tuesday group on Thursday 3 December at 10:00 is cancelled.")
    calendar = Calendar.from_ical(next(iter(notice.files.values()))[1])
    assert (str(calendar["METHOD"]), str(calendar.walk("VEVENT")[0]["STATUS"])) == ("CANCEL", "CANCELLED")
    assert await pending(companion) == []
    assert await companion.storage.run(lambda tx: group_activity.sessions_of(tx.connection, fay_id, group_id)) == []


async def test_another_facilitator_cannot_move_or_cancel_a_session(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    fay = harness.person(9201, "Fay")
    fay_id = await make_facilitator(fay, companion)
    await create_group(fay, companion, "Tuesday group", "Sweden (Stockholm time)")
    await schedule(fay, companion, "Tuesday group", "26/11/2026", "18:00", None)
    (group_id,) = [g.id for g in await companion.storage.run(lambda tx: groups.groups_of(tx.connection, fay_id))]
    (session,) = await companion.storage.run(lambda tx: group_activity.sessions_of(tx.connection, fay_id, group_id))
    rival = harness.person(9202, "Rex")
    await make_facilitator(rival, companion)
    await rival.says("/groups")
    for forged in (f"g:X:{session.id}:1", f"g:M:{session.id}", f"g:C:{session.id}", f"g:c:{group_id}"):
        await harness.process(harness.updates.press(rival.user, rival.last, forged))
        assert rival.last["text"] == ui(companion, "gr_not_yours")
    assert len(await companion.storage.run(lambda tx: group_activity.sessions_of(tx.connection, fay_id, group_id))) == 1


# ---------------------------------------------------------------------- role-aware replies


async def test_a_facilitator_ends_each_task_on_their_group_never_on_the_service_users_menu(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    fay = harness.person(9801, "Fay")
    await make_facilitator(fay, companion)
    menu = ui(companion, "menu_intro")
    panel = "Tuesday group\nMembers: 0"

    def since(mark: int) -> list[str]:
        return texts(fay)[mark:]

    mark = len(fay.chat)
    await create_group(fay, companion, "Tuesday group", "UK (London time)")
    assert not [t for t in since(mark) if menu in t]
    assert fay.last["text"].startswith(panel)

    mark = len(fay.chat)
    await schedule(fay, companion, "Tuesday group", "30/11/2026", "10:00", "Room 1")
    assert ui(companion, "gr_session_set") in since(mark)
    assert not [t for t in since(mark) if menu in t]
    assert fay.last["text"].startswith(panel)

    mark = len(fay.chat)
    await fay.taps(ui(companion, "button_gr_message"))
    await fay.says("See you on Monday.")
    assert not [t for t in since(mark) if menu in t]
    assert fay.last["text"].startswith(panel)

    # Pausing halfway through their own task: paused, and no service user's menu either.
    mark = len(fay.chat)
    await fay.taps(ui(companion, "button_gr_schedule"))
    await fay.taps(ui(companion, "button_pause"))
    assert not [t for t in since(mark) if menu in t]
    assert fay.last["text"].startswith("Paused.")
    # The same button carries on where they paused.
    await fay.says("/groups")
    await fay.taps("Tuesday group")
    await fay.taps(ui(companion, "button_gr_schedule"))
    assert fay.last["text"].startswith("What day is the session?")


async def test_a_member_is_thanked_after_feedback_and_gets_their_own_menu(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    fay = harness.person(9901, "Fay")
    await make_facilitator(fay, companion)
    payload = await create_group(fay, companion, "Tuesday group", "UK (London time)")
    mia = harness.person(9902, "Mia")
    await join(mia, companion, payload)
    await schedule(fay, companion, "Tuesday group", "23/11/2026", "09:00", None)
    clock.now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    await dispatch(harness, companion, clock)
    await mia.taps(ui(companion, "button_gr_feedback"))
    await mia.says("Practising")
    await skips(mia, companion)
    await mia.taps("About right")
    assert mia.last["text"].startswith("Thank you. This helps the next group.")
    assert ui(companion, "menu_intro") in mia.last["text"]
