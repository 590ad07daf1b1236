"""An update in a private chat whose sender is not that chat's owner changes nothing and
is answered nowhere; it is logged by ids only."""

from __future__ import annotations

import logging

import pytest

from bot.services.conversation import Companion
from tests.telegram.harness import TelegramHarness, keyboard_of
from tests.telegram.talk import agree


async def test_a_press_on_a_message_in_another_persons_chat_is_ignored(
    harness: TelegramHarness, companion: Companion, caplog: pytest.LogCaptureFixture
) -> None:
    robin, sam = harness.person(7101, "Robin"), harness.person(7102, "Sam")
    await agree(robin, companion)
    await agree(sam, companion)
    await robin.says("/menu")
    robins_menu = robin.keyboard_message()
    (_label, data), *_ = keyboard_of(robins_menu["reply_markup"])[0]
    update = harness.updates.press(sam.user, robins_menu, data)
    with caplog.at_level(logging.WARNING, logger="bot.adapters.telegram.app"):
        calls = await harness.process(update)
    assert calls == []  # nothing edited in Robin's chat, nothing posted anywhere, not even an answer
    (record,) = [r for r in caplog.records if "ignored" in r.getMessage()]
    assert record.getMessage() == (
        f"update {update.update_id} ignored: sender 7102 is not the owner of private chat 7101"
    )
    assert data not in record.getMessage()


async def test_a_message_from_someone_else_in_a_persons_chat_is_ignored(
    harness: TelegramHarness, companion: Companion, caplog: pytest.LogCaptureFixture
) -> None:
    robin, sam = harness.person(7201, "Robin"), harness.person(7202, "Sam")
    await agree(robin, companion)
    payload = harness.updates.message(sam.user, text="/delete FORGEDWORDS")
    payload["message"]["chat"] = {"id": 7201, "type": "private", "first_name": "Robin"}
    payload["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 7}]
    with caplog.at_level(logging.WARNING):
        calls = await harness.process(harness.updates.build(payload))
    assert calls == []
    assert "FORGEDWORDS" not in caplog.text
    # Robin's record is untouched, and Robin can carry on.
    assert await companion.storage.run(lambda tx: tx.person("telegram", "7201")) is not None
    calls = await robin.says("/menu")
    assert [call for call in calls if call.method == "sendMessage"]


async def test_a_redelivered_mydata_sends_one_export(harness: TelegramHarness, companion: Companion) -> None:
    robin = harness.person(7301, "Robin")
    await agree(robin, companion)
    update = robin.update_text("/mydata")
    harness.request.take()
    await harness.deliver(update, update)  # Telegram sends the same update twice (e.g. after a restart)
    calls = harness.request.take()
    assert [call.method for call in calls].count("sendDocument") == 1
    # A new /mydata is answered as usual.
    calls = await robin.says("/mydata")
    assert [call.method for call in calls].count("sendDocument") == 1
