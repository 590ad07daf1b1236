"""The tiers of risk through the real Application: the card, the safety question and its
buttons, keeping the person's words, and the same before consent.

As in tests/test_safety_turns.py the detector reads a fixed table, so these
tests are about what Telegram shows and does; detection is tested elsewhere.
"""

from __future__ import annotations

import json

import pytest

from bot.services.conversation import Companion, Who
from bot.services.privacy import Privacy
from bot.storage.repository import Storage
from flows.crisis import CrisisDetector
from flows.engine import Engine
from tests.conftest import Clock
from tests.telegram.expect import shown_labels
from tests.telegram.harness import Person, TelegramHarness
from tests.test_safety_turns import GONE, PLAN, TableDetector


@pytest.fixture
async def companion(storage: Storage, test_engine: Engine, clock: Clock) -> Companion:
    shipped = CrisisDetector.from_catalog(test_engine.catalog)
    return Companion(storage, test_engine, clock=clock, crisis=TableDetector(shipped.lexicons))


def ui(companion: Companion, key: str, language: str = "en") -> str:
    return companion.catalog.ui.get(key, language)


async def at_name(person: Person, companion: Companion) -> None:
    await person.says("/start")
    await person.taps(ui(companion, "button_agree"))
    title = companion.catalog.flows["kinds"].title.get("en")
    await person.taps(next(label for label in shown_labels(person.last) if label.startswith(title)))
    await person.taps(ui(companion, "button_next"))
    # The question follows what was said before it, in the same message (edited in place).
    assert person.last["text"].split("\n\n")[-2] == "What should I call you?"


async def test_the_safety_question_then_no_keeps_the_words_and_goes_on(
    harness: TelegramHarness, companion: Companion
) -> None:
    ash = harness.person(4001, "Ash")
    await at_name(ash, companion)
    await ash.says(GONE)
    assert ash.last["text"] == ui(companion, "safety_question")
    assert shown_labels(ash.last) == [
        ui(companion, "button_safety_yes"),
        ui(companion, "button_safety_no"),
        ui(companion, "button_safety_rather_not"),
    ]
    question = ash.last
    await ash.taps(ui(companion, "button_safety_no"))
    assert shown_labels(question) == []  # the question keeps its text, loses its buttons, shows the answer
    assert question["text"].endswith(ui(companion, "button_safety_no"))
    assert ash.last["text"].startswith(ui(companion, "safety_thanks_kept"))
    assert "How are you today?" in ash.last["text"]
    data = await Privacy(companion.storage).export(Who("telegram", "4001"))
    assert GONE in json.dumps(data)


async def test_the_card_first_then_keep_it_as_my_answer(harness: TelegramHarness, companion: Companion) -> None:
    bo = harness.person(4002, "Bo")
    await at_name(bo, companion)
    calls = await bo.says(PLAN)
    sent = [call for call in calls if call.method == "sendMessage"]
    assert len(sent) == 2
    assert bo.chat[-2]["text"] == companion.crisis.card("en")
    assert bo.last["text"] == ui(companion, "safety_after_card_held")
    assert PLAN not in json.dumps(await Privacy(companion.storage).export(Who("telegram", "4002")))
    await bo.taps(ui(companion, "button_safety_save"))
    assert bo.last["text"].startswith(ui(companion, "safety_saved"))
    assert PLAN in json.dumps(await Privacy(companion.storage).export(Who("telegram", "4002")))


async def test_yes_brings_the_card(harness: TelegramHarness, companion: Companion) -> None:
    cy = harness.person(4003, "Cy")
    await at_name(cy, companion)
    await cy.says(GONE)
    await cy.taps(ui(companion, "button_safety_yes"))
    assert cy.chat[-2]["text"] == companion.crisis.card("en")
    assert ui(companion, "button_safety_save") in shown_labels(cy.last)


async def test_before_consent_the_question_works_and_nothing_is_stored(
    harness: TelegramHarness, companion: Companion
) -> None:
    di = harness.person(4004, "Di", language_code="sv")
    await di.says(GONE)
    assert di.last["text"] == ui(companion, "safety_question", "sv")
    await di.taps(ui(companion, "button_safety_no", "sv"))
    assert di.last["text"].startswith(ui(companion, "safety_thanks", "sv"))
    assert ui(companion, "tg_consent_first", "sv") in di.last["text"]
    await di.says(GONE)
    await di.taps(ui(companion, "button_safety_rather_not", "sv"))
    assert di.last["text"] == companion.crisis.card("sv")
    assert await companion.person(Who("telegram", "4004")) is None


async def test_made_up_safety_data_changes_nothing(harness: TelegramHarness, companion: Companion) -> None:
    ed = harness.person(4005, "Ed")
    await at_name(ed, companion)
    before = ed.last
    calls = await harness.process(harness.updates.press(ed.user, before, "k:explode:xyz"))
    assert any(call.method == "answerCallbackQuery" for call in calls)
    assert ed.last["text"].startswith("What should I call you?")
