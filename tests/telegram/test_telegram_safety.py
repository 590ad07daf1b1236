"""Consent, bad input, stale and forged buttons, duplicates, crisis, /mydata and /delete."""

from __future__ import annotations

import json
import logging

import pytest

from bot.services.conversation import Companion, Who
from bot.services.privacy import Privacy
from flows.schema import StepType
from tests.telegram.expect import button_labels, prompt_text, shown_labels
from tests.telegram.harness import TelegramHarness
from tests.telegram.test_telegram_flow import agree, open_flow

FLOW = "questions"


async def rows(companion: Companion, who: Who) -> dict[str, int]:
    def work(tx):  # type: ignore[no-untyped-def]
        person = tx.person(who.channel, who.external_id)
        counts = tx.count_rows(person.id) if person else {"people": 0, "runs": 0, "answers": 0}
        from sqlalchemy import func, select

        from bot.storage.models import Person, ProcessedUpdate

        counts["all_people"] = tx.connection.execute(select(func.count()).select_from(Person.__table__)).scalar_one()
        counts["processed"] = tx.connection.execute(
            select(func.count()).select_from(ProcessedUpdate.__table__)
        ).scalar_one()
        return counts

    return await companion.storage.run(work)


async def position(companion: Companion, who: Who) -> dict | None:
    conversation = await companion.storage.run(lambda tx: tx.conversation(who.channel, who.external_id))
    return conversation.run.position if conversation and conversation.run else None


# ---------------------------------------------------------------------- consent


async def test_nothing_is_stored_before_consent_and_declining_keeps_it_so(
    harness: TelegramHarness, companion: Companion
) -> None:
    ui = companion.catalog.ui
    carol = harness.person(2001, "Carol")
    calls = await carol.says("/start")
    assert [call.method for call in calls] == ["sendMessage"]
    expected = "\n\n".join(ui.get(k, "en") for k in ("welcome", "not_for_emergencies", "privacy", "consent_question"))
    assert carol.last["text"] == expected
    assert shown_labels(carol.last) == [ui.get("button_agree", "en"), ui.get("button_decline", "en")]
    await carol.says("hello there")
    assert carol.last["text"].startswith(ui.get("tg_consent_first", "en"))
    await carol.taps(ui.get("button_decline", "en"))
    assert carol.last["text"] == ui.get("declined", "en")
    await carol.says("/help")
    assert carol.last["text"] == ui.get("tg_help", "en")
    await carol.says("/menu")
    await carol.says("/mydata")
    assert carol.last["text"] == ui.get("tg_nothing_kept", "en")
    counts = await rows(companion, Who("telegram", "2001"))
    assert counts["all_people"] == 0 and counts["processed"] == 0


async def test_agreeing_creates_the_person_and_a_redelivered_agree_is_handled_once(
    harness: TelegramHarness, companion: Companion
) -> None:
    ui = companion.catalog.ui
    dan = harness.person(2002, "Dan", language_code="sv")
    await dan.says("/start")
    assert dan.last["text"].startswith(ui.get("welcome", "sv"))
    press = dan.update_press(ui.get("button_agree", "sv"))
    first = await harness.process(press)
    again = await harness.process(press)
    assert any(call.method == "sendMessage" and ui.get("agreed", "sv") in call.text for call in first)
    assert [call.method for call in again if call.method == "sendMessage"] == []
    person = await companion.person(Who("telegram", "2002"))
    assert person is not None and person.language == "sv"


async def test_start_with_an_unknown_deep_link_payload_does_not_crash(
    harness: TelegramHarness, companion: Companion
) -> None:
    erin = harness.person(2003, "Erin")
    calls = await erin.says("/start join-XYZ_unknown")
    assert [call.method for call in calls] == ["sendMessage"]
    assert shown_labels(erin.last)[0] == companion.catalog.ui.get("button_agree", "en")


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "fields",
    [
        {"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]},
        {"voice": {"file_id": "v1", "file_unique_id": "u2", "duration": 3}},
        {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "u3",
                "width": 5,
                "height": 5,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        {"document": {"file_id": "d1", "file_unique_id": "u4", "file_name": "x.pdf"}},
        {"location": {"latitude": 59.3, "longitude": 18.0}},
    ],
)
async def test_non_text_gets_a_kind_reply_and_the_question_again(
    harness: TelegramHarness, companion: Companion, fields: dict
) -> None:
    fay = harness.person(2004, "Fay")
    who = Who("telegram", "2004")
    await agree(fay, harness)
    await open_flow(fay, companion)
    before = await position(companion, who)
    await fay.sends(**fields)
    prompt = (await companion.current(who)).prompt
    assert prompt is not None
    assert fay.last["text"] == companion.catalog.ui.get("tg_only_text", "en") + "\n\n" + prompt_text(
        prompt, companion.catalog.ui
    )
    assert shown_labels(fay.last) == button_labels(prompt, companion.catalog.ui)
    assert await position(companion, who) == before


async def test_text_over_the_limit_is_asked_again_not_cut(harness: TelegramHarness, companion: Companion) -> None:
    gus = harness.person(2005, "Gus")
    who = Who("telegram", "2005")
    await agree(gus, harness)
    await open_flow(gus, companion)
    for _ in range(20):
        prompt = (await companion.current(who)).prompt
        assert prompt is not None
        if prompt.kind is StepType.text:
            break
        await gus.taps(
            next(b.label for b in (*prompt.options, *prompt.navigation) if b.id in ("~skip", "~next", "~done"))
        )
    assert prompt.max_length is not None
    before = await position(companion, who)
    await gus.says("x" * (prompt.max_length + 1))
    assert await position(companion, who) == before
    expected = companion.catalog.ui.get("too_long", "en", length=prompt.max_length + 1, limit=prompt.max_length)
    assert gus.last["text"] == expected + "\n\n" + prompt_text(prompt, companion.catalog.ui)


# ---------------------------------------------------------------------- stale, forged, duplicate


async def test_stale_and_forged_buttons_change_nothing(harness: TelegramHarness, companion: Companion) -> None:
    ui = companion.catalog.ui
    hal = harness.person(2006, "Hal")
    who = Who("telegram", "2006")
    await agree(hal, harness)
    await open_flow(hal, companion)
    old_message = hal.keyboard_message()
    old_label = shown_labels(old_message)[0]
    old_data = hal.button(old_label, old_message)
    prompt = (await companion.current(who)).prompt
    assert prompt is not None
    await hal.taps(next(b.label for b in (*prompt.options, *prompt.navigation) if b.id in ("~skip", "~next", "~done")))
    before = await position(companion, who)
    current = (await companion.current(who)).prompt
    assert current is not None
    token = old_data.split(":")[1]
    for data in (
        old_data,  # a button from the question before
        f"f:{token}:~skip",  # a real token with another button
        "f:AAAAAAAA:~skip",  # a made-up token
        "m:no_such_flow",
        "zzz",
        "f:" + "A" * 8 + ":" + "x" * 60,  # longer than Telegram allows
    ):
        calls = await harness.process(harness.updates.press(hal.user, old_message, data))
        answers = [call for call in calls if call.method == "answerCallbackQuery"]
        assert [call.params.get("text") for call in answers] == [ui.get("tg_moved_on", "en")], data
        sent = [call for call in calls if call.method == "sendMessage"]
        assert len(sent) == 1 and hal.last["text"] == prompt_text(current, companion.catalog.ui)
        assert await position(companion, who) == before, data


async def test_a_double_delivered_update_is_handled_once(harness: TelegramHarness, companion: Companion) -> None:
    ivy = harness.person(2007, "Ivy")
    who = Who("telegram", "2007")
    await agree(ivy, harness)
    await open_flow(ivy, companion)
    update = ivy.update_press(shown_labels(ivy.last)[0])
    first = await harness.process(update)
    after_first = await position(companion, who)
    second = await harness.process(update)
    assert any(call.method in ("editMessageText", "sendMessage") for call in first)
    assert [call.method for call in second] == ["answerCallbackQuery"]
    assert await position(companion, who) == after_first


# ---------------------------------------------------------------------- crisis


async def test_crisis_text_gets_the_card_first_then_the_same_question_and_is_not_saved(
    harness: TelegramHarness, companion: Companion
) -> None:
    jo = harness.person(2008, "Jo")
    who = Who("telegram", "2008")
    await agree(jo, harness)
    await open_flow(jo, companion)
    before = await position(companion, who)
    prompt = (await companion.current(who)).prompt
    assert prompt is not None
    calls = await jo.says("honestly I want to kill myself")
    sent = [call for call in calls if call.method == "sendMessage"]
    card = companion.crisis.card("en")
    ui = companion.catalog.ui
    assert len(sent) == 2
    assert jo.chat[-2]["text"] == card
    # Then a way on that the person chooses, not the flow's question straight away.
    assert shown_labels(jo.last)[-2:] == [ui.get("button_safety_carry_on", "en"), ui.get("button_safety_pause", "en")]
    data = await Privacy(companion.storage).export(who)
    assert "kill" not in json.dumps(data)
    await jo.taps(ui.get("button_safety_carry_on", "en"))
    assert jo.last["text"] == prompt_text(prompt, companion.catalog.ui)
    assert await position(companion, who) == before
    data = await Privacy(companion.storage).export(who)
    assert "kill" not in json.dumps(data)


async def test_crisis_before_consent_gets_the_card_and_stores_nothing(
    harness: TelegramHarness, companion: Companion
) -> None:
    kim = harness.person(2009, "Kim", language_code="sv")
    await kim.says("jag vill inte leva längre")
    # Not wanting to live gets the direct question first; "yes" brings the card.
    assert kim.last["text"] == companion.catalog.ui.get("safety_question", "sv")
    await kim.taps(companion.catalog.ui.get("button_safety_yes", "sv"))
    assert kim.last["text"] == companion.crisis.card("sv")
    await kim.says("jag tänker ta livet av mig i kväll")
    assert kim.last["text"] == companion.crisis.card("sv")
    assert (await rows(companion, Who("telegram", "2009")))["all_people"] == 0


async def test_idiomatic_side_effect_is_recorded_not_treated_as_crisis(
    harness: TelegramHarness, companion: Companion
) -> None:
    lee = harness.person(2010, "Lee")
    who = Who("telegram", "2010")
    await agree(lee, harness)
    await open_flow(lee, companion)
    for _ in range(20):
        prompt = (await companion.current(who)).prompt
        assert prompt is not None
        if prompt.kind is StepType.text:
            break
        await lee.taps(
            next(b.label for b in (*prompt.options, *prompt.navigation) if b.id in ("~skip", "~next", "~done"))
        )
    text = "this medicine is killing my sex drive"
    calls = await lee.says(text)
    assert companion.crisis.card("en") not in [call.text for call in calls]
    data = await Privacy(companion.storage).export(who)
    assert text in json.dumps(data)


async def test_logs_hold_neither_the_token_nor_what_people_wrote(
    harness: TelegramHarness, companion: Companion, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.telegram.conftest import TOKEN

    caplog.set_level(logging.DEBUG)
    logging.getLogger("telegram").setLevel(logging.INFO)  # what build_application sets
    mo = harness.person(2011, "Mo")
    await agree(mo, harness)
    await open_flow(mo, companion)
    await mo.says("my very private sentence 12345")
    await mo.says("I want to end my life")
    assert caplog.records, "nothing was logged at all, so this test would prove nothing"
    assert "private sentence" not in caplog.text and "end my life" not in caplog.text
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


# ---------------------------------------------------------------------- /mydata and /delete


async def test_mydata_sends_everything_as_json(harness: TelegramHarness, companion: Companion) -> None:
    ui = companion.catalog.ui
    nia = harness.person(2012, "Nia")
    who = Who("telegram", "2012")
    await agree(nia, harness)
    await open_flow(nia, companion)
    await nia.taps(shown_labels(nia.last)[0])
    calls = await nia.says("/mydata")
    documents = [call for call in calls if call.method == "sendDocument"]
    assert len(documents) == 1
    assert documents[0].params["caption"] == ui.get("tg_mydata_caption", "en")
    ((filename, content),) = documents[0].files.values()
    assert filename == "my-data.json"
    assert json.loads(content) == await Privacy(companion.storage).export(who)
    assert json.loads(content)["person"]["id"] == "2012"


async def test_delete_confirms_erases_everything_and_says_so(harness: TelegramHarness, companion: Companion) -> None:
    ui = companion.catalog.ui
    oli = harness.person(2013, "Oli")
    who = Who("telegram", "2013")
    await agree(oli, harness)
    await open_flow(oli, companion)
    await oli.taps(shown_labels(oli.last)[0])
    await oli.taps(
        next(
            label
            for label in shown_labels(oli.last)
            if label == "Done ✓" or label.startswith(ui.get("button_done", "en"))
        )
    )
    person = await companion.person(who)
    assert person is not None
    counts = await companion.storage.run(lambda tx: tx.count_rows(person.id))
    assert counts["runs"] >= 1 and counts["answers"] >= 1
    await oli.says("/delete")
    assert oli.last["text"] == ui.get("tg_delete_question", "en")
    await oli.taps(ui.get("button_tg_delete_no", "en"))
    assert oli.last["text"] == ui.get("tg_delete_kept", "en")
    assert await companion.person(who) is not None
    await oli.says("/delete")
    await oli.taps(ui.get("button_tg_delete_yes", "en"))
    assert oli.last["text"] == ui.get("tg_deleted", "en")
    assert await companion.storage.run(lambda tx: tx.count_rows(person.id)) == {"people": 0, "runs": 0, "answers": 0}
    assert await companion.person(who) is None


async def test_a_forged_menu_button_cannot_open_a_flow_kept_out_of_the_menu(
    harness: TelegramHarness, companion: Companion
) -> None:
    ivy = harness.person(2101, "Ivy")
    who = Who("telegram", "2101")
    await agree(ivy, harness)
    for hidden in ("new_group", "what_we_agreed", "group_session", "no_such_flow"):
        await harness.process(harness.updates.press(ivy.user, ivy.last, f"m:{hidden}"))
        assert (await companion.current(who)).status == "idle"
    person = await companion.person(who)
    assert await companion.storage.run(lambda tx: tx.runs(person.id)) == []
    # A real menu button still works.
    await harness.process(harness.updates.press(ivy.user, ivy.last, "m:questions"))
    assert (await companion.current(who)).flow_id == "questions"
