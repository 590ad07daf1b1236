"""Features plug in their own commands, buttons and start links (composed explicitly in app.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.features import Core, Feature
from bot.services.app import Services
from bot.services.conversation import Companion, Who
from tests.telegram.harness import RecordingRequest, TelegramHarness, keyboard_of

TOKEN = "123456:TEST-token-for-offline-tests"


SEEN: list[tuple[str, str]] = []
"""What the echo feature was asked to do (emptied for each test)."""


def echo_feature(core: Core) -> Feature:
    seen = SEEN

    async def on_ping(update, context) -> None:
        await core.chat.bot.send_message(update.effective_chat.id, "pong")

    async def on_button(update, query, who, value) -> None:
        seen.append(("button", value))
        await query.answer()

    async def on_link(update, who, rest) -> None:
        seen.append(("link", rest))
        await core.chat.bot.send_message(int(who.external_id), f"joined {rest}")

    async def on_done(who, reply) -> None:
        seen.append(("finished", reply.flow_id))

    return Feature(
        "echo",
        commands={"ping": on_ping},
        buttons={"x": on_button},
        start_payloads={"j_": on_link},
        finished={"my_name": on_done},
    )


@pytest.fixture
async def harness(companion: Companion) -> AsyncIterator[TelegramHarness]:
    SEEN.clear()
    request = RecordingRequest()
    application = build_application(
        Services.around(companion), TOKEN, request=request, rate_limit=False, features=[echo_feature]
    )
    await application.initialize()
    request.take()
    yield TelegramHarness(application, request)
    await application.shutdown()


def seen(harness: TelegramHarness) -> list:
    return SEEN


async def test_a_start_link_opened_before_consent_runs_after_agreeing(
    harness: TelegramHarness, companion: Companion
) -> None:
    kim = harness.person(700, "Kim")
    await kim.says("/start j_abc123")
    assert seen(harness) == []  # nothing runs before consent
    assert await companion.person(Who("telegram", "700")) is None
    await kim.taps(companion.catalog.ui.get("button_agree", "en"))
    assert seen(harness) == [("link", "abc123")]
    assert kim.last["text"] == "joined abc123"


async def test_a_start_link_for_someone_registered_runs_at_once(harness: TelegramHarness, companion: Companion) -> None:
    kim = harness.person(701, "Kim")
    await kim.says("/start")
    await kim.taps(companion.catalog.ui.get("button_agree", "en"))
    await kim.says("/start j_zz")
    assert seen(harness) == [("link", "zz")]


async def test_unknown_start_payloads_are_ignored_kindly(harness: TelegramHarness, companion: Companion) -> None:
    kim = harness.person(702, "Kim")
    await kim.says("/start nonsense-payload")
    consent = [data for row in keyboard_of(kim.last["reply_markup"]) for _, data in row]
    assert consent == ["c:yes", "c:no"]  # nothing carried through consent
    await kim.taps(companion.catalog.ui.get("button_agree", "en"))
    await kim.says("/start j_")  # a known prefix with nothing after it
    assert seen(harness) == []
    assert kim.last["text"].startswith(companion.catalog.ui.get("menu_intro", "en"))


async def test_feature_commands_and_buttons(harness: TelegramHarness, companion: Companion) -> None:
    kim = harness.person(703, "Kim")
    await kim.says("/ping")
    assert kim.last["text"] == "pong"
    update = harness.updates.press(kim.user, kim.last, "x:42")
    await harness.process(update)
    assert seen(harness) == [("button", "42")]


def test_features_cannot_take_over_core_commands_or_buttons(companion: Companion) -> None:
    def clashing(core: Core) -> Feature:
        return Feature("bad", buttons={"c": lambda *a: None})

    with pytest.raises(ValueError, match="reuses"):
        build_application(
            Services.around(companion), TOKEN, request=RecordingRequest(), rate_limit=False, features=[clashing]
        )


async def test_features_hear_when_their_flow_is_finished(harness: TelegramHarness, companion: Companion) -> None:
    kim = harness.person(704, "Kim")
    await kim.says("/start")
    await kim.taps(companion.catalog.ui.get("button_agree", "en"))
    await companion.open(Who("telegram", "704"), "my_name")
    await kim.says("Kim")
    assert seen(harness) == [("finished", "my_name")]
    await companion.open(Who("telegram", "704"), "questions")
    await kim.says("/cancel")
    assert (await companion.current(Who("telegram", "704"))).status == "idle"
    assert seen(harness) == [("finished", "my_name")]  # pausing another flow is not finishing this one
