"""Reminders in the running bot: appointments end to end, blocked chats, and the dispatcher's lifecycle."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import AsyncIterator

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.adapters.telegram import facilitator, member
from bot.adapters.telegram import reminders as telegram_reminders
from bot.adapters.telegram.app import build_application
from bot.reminders import store
from bot.services.app import Services
from bot.services.conversation import Companion, Who
from bot.storage.models import BlockedChat, Reminder
from tests.conftest import Clock
from tests.telegram.conftest import TOKEN
from tests.telegram.harness import Person, RecordingRequest, TelegramHarness
from tests.telegram.talk import agree, person_id, skips, ui
from tests.telegram.test_groups_telegram import FAST, dispatch, pending, reminders_of

utc = lambda *a: dt.datetime(*a, tzinfo=dt.UTC)  # noqa: E731


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
    telegram_reminders.Unblocker(reminders_of(companion), refresh=0.0, clock=companion.clock).install(application)
    await application.initialize()
    request.take()
    yield TelegramHarness(application, request)
    await application.shutdown()


async def set_appointment(
    sam: Person, companion: Companion, day: str, time: str, note: str | None, remind: str
) -> None:
    """Through the menu, as a person would: My next appointment."""
    await sam.says("/menu")
    label = next(
        label
        for row in sam.last["reply_markup"]["inline_keyboard"]
        for label in [row[0]["text"]]
        if label.startswith("My next appointment")
    )
    await sam.taps(label)
    await sam.says(day)
    await sam.says(time)
    await sam.taps("My doctor or psychiatrist")
    if note:
        await sam.says(note)
    else:
        await skips(sam, companion)
    await sam.taps(remind)


async def test_the_appointment_journey(harness: TelegramHarness, companion: Companion, clock: Clock) -> None:
    sam = harness.person(8001, "Sam")
    await agree(sam, companion)
    sam_id = await person_id(companion, sam)
    # Something on the summary, so the day-before reminder has a PDF to bring.
    await companion.storage.run(
        lambda tx: tx.add_completed_run(sam_id, "goals", {"areas": ["home", "work"]}, clock.now)
    )

    # Monday 30 November 2026 at 10:30 in London (GMT, so 10:30 UTC).
    await set_appointment(sam, companion, "30/11/2026", "10:30", "Bring my sister", "Yes")
    assert sam.last["text"] == ui(companion, "rm_appointment_set")
    assert [(kind, lead, due) for _, kind, _, lead, due in await pending(companion)] == [
        ("appointment_questions", "d3", utc(2026, 11, 27, 10, 30)),
        ("appointment_summary", "d1", utc(2026, 11, 29, 10, 30)),
        ("appointment_followup", "d-1@10:00", utc(2026, 12, 1, 10, 0)),
    ]

    clock.now = utc(2026, 11, 27, 10, 31)
    tally, calls = await dispatch(harness, companion, clock)
    assert tally.sent == 1
    assert sam.last["text"].startswith("Your appointment is on Monday 30 November at 10:30.")
    assert "Your note: Bring my sister" in sam.last["text"]
    await sam.taps(ui(companion, "button_rm_questions"))
    assert (await companion.current(Who("telegram", str(sam.id)))).flow_id == "questions"
    await sam.says("/cancel")

    clock.now = utc(2026, 11, 29, 10, 31)
    tally, calls = await dispatch(harness, companion, clock)
    (document,) = [c for c in calls if c.method == "sendDocument"]
    assert document.params["caption"].startswith("Your appointment is tomorrow, Monday 30 November at 10:30.")
    ((filename, data),) = document.files.values()
    assert filename == ui(companion, "tg_summary_filename") and data.startswith(b"%PDF")
    assert "Work or study" in "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)

    # Nothing more until the morning after; then one optional follow-up that opens "what was agreed".
    tally, calls = await dispatch(harness, companion, clock)
    assert tally.sent == 0
    clock.now = utc(2026, 12, 1, 10, 5)
    tally, calls = await dispatch(harness, companion, clock)
    assert tally.sent == 1
    assert sam.last["text"] == ui(companion, "reminder_appointment_followup")
    await sam.taps(ui(companion, "button_rm_agreed"))
    assert (await companion.current(Who("telegram", str(sam.id)))).flow_id == "what_we_agreed"
    assert await pending(companion) == []


async def test_an_empty_summary_is_not_promised(harness: TelegramHarness, companion: Companion, clock: Clock) -> None:
    sam = harness.person(8101, "Sam")
    await agree(sam, companion)
    await set_appointment(sam, companion, "24/11/2026", "15:00", None, "Yes")
    clock.now = utc(2026, 11, 23, 15, 1)
    _, calls = await dispatch(harness, companion, clock)
    assert [c.method for c in calls] == ["sendMessage"]
    assert sam.last["text"].startswith(
        "Your appointment is tomorrow, Tuesday 24 November at 15:00. Your summary is still empty."
    )


async def test_saying_no_to_reminders_cancels_them(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    sam = harness.person(8201, "Sam")
    await agree(sam, companion)
    await set_appointment(sam, companion, "30/11/2026", "10:30", None, "Yes")
    assert len(await pending(companion)) == 3
    await set_appointment(sam, companion, "30/11/2026", "10:30", None, "No")
    assert sam.last["text"] == ui(companion, "rm_appointment_no_reminders")
    assert await pending(companion) == []


async def test_a_person_who_blocked_the_bot_is_marked_and_unblocked_when_they_write(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    sam = harness.person(8301, "Sam")
    await agree(sam, companion)
    sam_id = await person_id(companion, sam)
    await set_appointment(sam, companion, "30/11/2026", "10:30", None, "Yes")
    clock.now = utc(2026, 11, 27, 10, 31)
    harness.request.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    tally, _ = await dispatch(harness, companion, clock)
    assert tally.blocked == 1 and tally.sent == 0
    statuses = await companion.storage.run(
        lambda tx: tx.connection.execute(
            select(Reminder.__table__.c.lead, Reminder.__table__.c.status).order_by(Reminder.__table__.c.due_at)
        ).all()
    )
    assert [tuple(r) for r in statuses] == [("d3", "blocked"), ("d1", "blocked"), ("d-1@10:00", "blocked")]
    # Nothing is tried while blocked.
    clock.now = utc(2026, 11, 27, 11, 0)
    tally, calls = await dispatch(harness, companion, clock)
    assert tally.claimed == 0 and calls == []

    # They write again: unblocked, and the reminders not yet due are back; the missed one stays missed.
    await sam.says("/menu")
    blocked = await companion.storage.run(lambda tx: tx.connection.execute(select(BlockedChat.__table__)).all())
    assert blocked == []
    assert [lead for _, _, _, lead, _ in await pending(companion)] == ["d1", "d-1@10:00"]
    clock.now = utc(2026, 11, 29, 10, 31)
    tally, _ = await dispatch(harness, companion, clock)
    assert tally.sent == 1
    _ = sam_id


async def test_the_dispatcher_starts_and_stops_with_the_application(companion: Companion, clock: Clock) -> None:
    """The same hooks, in the same order, as Application.run_polling: initialize, post_init, start ... stop, post_stop, shutdown."""
    request = RecordingRequest()
    application = build_application(
        Services.around(companion), TOKEN, request=request, rate_limit=False, features=[telegram_reminders.make_feature]
    )
    service = telegram_reminders.run_dispatcher_inside(
        application, reminders_of(companion), clock=clock, limits=FAST, idle=0.01
    )
    sam_id = await companion.storage.run(lambda tx: tx.create_person("telegram", "8401", "en", clock.now).id)
    from bot.reminders import appointments

    await companion.storage.run(
        lambda tx: appointments.set_appointment(
            tx.connection, sam_id, dt.datetime(2026, 11, 24, 9, 0), "Europe/London", None, clock.now
        )
    )
    clock.now = utc(2026, 11, 23, 9, 1)  # the day-before reminder is due

    await application.initialize()
    assert application.post_init is not None and application.post_stop is not None
    await application.post_init(application)
    await application.start()
    assert service.running
    for _ in range(200):
        if any(c.method == "sendMessage" and c.params.get("chat_id") in (8401, "8401") for c in request.calls):
            break
        await asyncio.sleep(0.01)
    await application.stop()
    await application.post_stop(application)
    assert not service.running
    await application.shutdown()
    sends = [c for c in request.calls if c.method == "sendMessage" and str(c.params.get("chat_id")) == "8401"]
    assert len(sends) == 1
    assert sends[0].params["text"].startswith("Your appointment is tomorrow, Tuesday 24 November at 09:00.")
    counts = await companion.storage.run(lambda tx: store.counts_by_status(tx.connection))
    assert counts == {"sent": 1, "pending": 1}
    # Stopping twice is harmless.
    assert await service.stop() is None
