"""The SIP follow-up and CollaboRATE in the running bot, through PTB's Application and the recording Bot API."""

from __future__ import annotations

import datetime as dt

from bot.reminders.messages import local_date
from bot.services import forms, sip
from bot.services.app import Services
from bot.services.conversation import Companion, Who
from tests.conftest import Clock
from tests.telegram.harness import TelegramHarness
from tests.telegram.talk import agree, person_id, skips, ui
from tests.telegram.test_groups_telegram import dispatch, pending
from tests.telegram.test_reminders_telegram import harness, set_appointment  # noqa: F401 (harness: the fixture with the reminders feature)

utc = lambda *a: dt.datetime(*a, tzinfo=dt.UTC)  # noqa: E731


def buttons(message: dict) -> list[str]:  # type: ignore[type-arg]
    return [button["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for button in row]


async def test_collaborate_is_offered_once_after_the_appointment(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    sam = harness.person(8101, "Sam")
    await agree(sam, companion)
    await set_appointment(sam, companion, "30/11/2026", "10:30", None, "Yes")

    clock.now = utc(2026, 12, 1, 10, 5)  # the morning after
    tally, _ = await dispatch(harness, companion, clock)
    assert tally.sent == 1
    follow_up = sam.keyboard_message()
    assert follow_up["text"] == ui(companion, "reminder_appointment_followup")
    assert buttons(follow_up) == [ui(companion, "button_rm_agreed"), ui(companion, "button_rm_collaborate")]

    await sam.taps(ui(companion, "button_rm_collaborate"), follow_up)
    who = Who("telegram", str(sam.id))
    assert (await companion.current(who)).flow_id == forms.COLLABORATE.flow
    for score in ("8", "9", "6"):
        assert [str(number) for number in range(10)] == buttons(sam.keyboard_message())[:10]
        await sam.taps(score)
    assert (await companion.current(who)).flow_id is None

    # The same button again: a kind word, and nothing opened.
    await sam.taps(ui(companion, "button_rm_collaborate"), follow_up)
    assert sam.last["text"] == ui(companion, "rm_collaborate_done")
    assert (await companion.current(who)).flow_id is None
    # More than a week after the appointment the questions are closed, and it says so.
    clock.now = utc(2026, 12, 8, 10, 0)
    await sam.taps(ui(companion, "button_rm_collaborate"), follow_up)
    assert sam.last["text"] == ui(companion, "rm_collaborate_closed")
    report = await Services.around(companion).collaboration.report(utc(2026, 11, 1))
    assert report.suppressed  # one person: never shown


async def test_the_sip_plan_brings_did_it_happen_on_the_agreed_morning(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    kim = harness.person(8102, "Kim")
    await agree(kim, companion)
    kim_id = await person_id(companion, kim)
    await kim.says("/menu")
    title = companion.catalog.flows[forms.SIP_AGREED.flow].title.en
    (label,) = [label for label in buttons(kim.keyboard_message()) if label.startswith(title)]
    await kim.taps(label)
    await kim.says("I will get help to pay my rent.")
    await kim.taps(ui(companion, "button_no_more"))
    await skips(kim, companion)  # who does what
    await kim.taps(ui(companion, "button_in_two_weeks"))
    await kim.taps("Social care (the council)")
    await skips(kim, companion)  # the lead's name
    await kim.taps(ui(companion, "button_yes"))

    day = clock().date() + dt.timedelta(days=14)  # Sunday 6 December 2026
    words = ui(
        companion, "rm_sip_set", date=local_date(companion.catalog.ui, "en", dt.datetime.combine(day, dt.time()))
    )
    assert words in [message.get("text") for message in kim.chat]
    due = utc(2026, 12, 6, 10, 0)  # 10:00 in London (GMT)
    assert [(p, k, s, d) for p, k, s, _, d in await pending(companion)] == [
        (kim_id, sip.FOLLOW_UP_KIND, sip.source_of(kim_id), due)
    ]

    clock.now = due - dt.timedelta(minutes=1)
    tally, _ = await dispatch(harness, companion, clock)
    assert tally.sent == 0
    clock.now = due + dt.timedelta(minutes=1)
    tally, _ = await dispatch(harness, companion, clock)
    assert tally.sent == 1
    asked = kim.keyboard_message()
    assert asked["text"] == ui(companion, "reminder_sip_follow_up")
    await kim.taps(ui(companion, "button_rm_sip_follow_up"), asked)
    who = Who("telegram", str(kim.id))
    assert (await companion.current(who)).flow_id == forms.SIP_FOLLOW_UP.flow
    await kim.taps("Partly")
    await kim.says("The rent help has not started.")
    await kim.taps("Talk to my lead")
    assert (await companion.current(who)).flow_id is None
    assert await pending(companion) == []
