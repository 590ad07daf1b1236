"""/privacy and the bot's descriptions, through PTB's real Application and the recording Bot API.

/privacy must name who is responsible for the data and on what legal basis,
and say that Telegram keeps the chat after /delete, before anyone agrees to
anything (it is what they would agree to). The descriptions are set per
language at start; a refusal from Telegram must not stop the bot starting.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.adapters.telegram.app import build_application
from bot.content import DEFAULT_CONTENT_DIR, load_catalog
from bot.services.app import Services
from bot.services.conversation import Companion
from flows.engine import Engine
from flows.texts import UiTexts
from tests.telegram.conftest import TOKEN
from tests.telegram.harness import RecordingRequest, TelegramHarness

NHS = Path(__file__).parent.parent.parent / "deploy" / "organisations" / "example-nhs-trust"


@pytest.mark.parametrize("language_code", ["en", "sv"])
async def test_privacy_names_the_controller_and_says_telegram_keeps_the_chat(
    harness: TelegramHarness, companion: Companion, language_code: str
) -> None:
    ui: UiTexts = companion.catalog.ui
    sam = harness.person(4101, language_code=language_code)
    await sam.says("/privacy")  # before agreeing to anything
    said = "\n".join(message["text"] for message in sam.chat)
    assert ui.get("org_privacy_notice", language_code) in said
    assert ui.get("org_controller", language_code) in said
    assert ui.get("org_lawful_basis", language_code) in said
    assert ui.get("tg_privacy_telegram", language_code) in said
    assert "Telegram" in said and "/delete" in said


async def test_an_organisations_folder_changes_what_privacy_says(companion: Companion) -> None:
    theirs = Companion(companion.storage, Engine(load_catalog(DEFAULT_CONTENT_DIR, NHS)), clock=companion.clock)
    request = RecordingRequest()
    application = build_application(Services.around(theirs), TOKEN, request=request, rate_limit=False)
    await application.initialize()
    try:
        sam = TelegramHarness(application, request).person(4102)
        await sam.says("/privacy")
        said = "\n".join(message["text"] for message in sam.chat)
        assert "Example NHS Foundation Trust" in said
        assert "Example NHS Foundation Trust" not in companion.catalog.ui.get("org_privacy_notice", "en")
    finally:
        await application.shutdown()


async def test_the_descriptions_are_set_per_language_at_start(harness: TelegramHarness, companion: Companion) -> None:
    ui = companion.catalog.ui
    harness.request.take()
    assert harness.application.post_init is not None
    await harness.application.post_init(harness.application)
    calls = harness.request.take()
    long = {
        call.params.get("language_code"): call.params["description"]
        for call in calls
        if call.method == "setMyDescription"
    }
    short = {
        call.params.get("language_code"): call.params["short_description"]
        for call in calls
        if call.method == "setMyShortDescription"
    }
    assert long == {None: ui.get("tg_description", "en"), "sv": ui.get("tg_description", "sv")}
    assert short == {None: ui.get("tg_short_description", "en"), "sv": ui.get("tg_short_description", "sv")}
    assert all(len(text) <= 120 for text in short.values()) and all(len(text) <= 512 for text in long.values())


async def test_a_refused_description_is_a_log_line_and_the_start_goes_on(
    harness: TelegramHarness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.request.take()
    harness.request.fail_next("setMyDescription", 400, "Bad Request: description is too long")
    harness.request.fail_next("setMyShortDescription", 500, "Internal Server Error")
    assert harness.application.post_init is not None
    with caplog.at_level(logging.WARNING):
        await harness.application.post_init(harness.application)  # raises nothing
    methods = [call.method for call in harness.request.take()]
    assert methods.count("setMyCommands") == 2
    assert methods.count("setMyDescription") == 2  # Swedish is still tried after English was refused
    warnings = [record.getMessage() for record in caplog.records if "description" in record.getMessage()]
    assert warnings and all("BadRequest" in line or "NetworkError" in line for line in warnings), warnings
