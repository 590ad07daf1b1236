"""Ordering per person, webhook over real HTTP, commands, rate-limit retry, rendering limits."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
from telegram import Update

from bot.adapters.telegram.app import WebhookOptions, build_application
from bot.adapters.telegram.processor import PerPersonUpdateProcessor
from bot.adapters.telegram.render import MESSAGE_LIMIT, split_html
from bot.services.app import Services
from bot.services.conversation import Companion, Who
from tests.telegram.conftest import TOKEN
from tests.telegram.expect import prompt_text, shown_labels
from tests.telegram.harness import RecordingRequest, TelegramHarness
from tests.telegram.test_telegram_flow import agree, open_flow


async def test_one_persons_updates_run_in_order_and_different_people_run_together() -> None:
    processor = PerPersonUpdateProcessor(16)
    events: list[str] = []
    started = {1: asyncio.Event(), 2: asyncio.Event()}

    def update(user_id: int, update_id: int) -> Update:
        return Update.de_json(
            {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": 0,
                    "chat": {"id": user_id, "type": "private"},
                    "from": {"id": user_id, "is_bot": False, "first_name": "x"},
                    "text": "hi",
                },
            },
            None,
        )

    async def work(name: str, user: int, wait_for_other: bool) -> None:
        events.append(f"start {name}")
        started[user].set()
        if wait_for_other:
            # Only finishes if the other person's update can run meanwhile.
            await asyncio.wait_for(started[3 - user].wait(), 2)
        await asyncio.sleep(0.01)
        events.append(f"end {name}")

    await asyncio.gather(
        processor.process_update(update(1, 1), work("a1", 1, True)),
        processor.process_update(update(1, 2), work("a2", 1, False)),
        processor.process_update(update(2, 3), work("b1", 2, False)),
    )
    a = [e for e in events if e.endswith(("a1", "a2"))]
    assert a == ["start a1", "end a1", "start a2", "end a2"]
    assert events.index("start b1") < events.index("end a1")
    assert processor.people_waiting == 0


async def test_two_people_interleaved_and_a_rapid_double_tap(harness: TelegramHarness, companion: Companion) -> None:
    pat = harness.person(3001, "Pat")
    quinn = harness.person(3002, "Quinn")
    for person in (pat, quinn):
        await agree(person, harness)
        await open_flow(person, companion)
    pat_who, quinn_who = Who("telegram", "3001"), Who("telegram", "3002")
    # Both on a checklist: Pat taps two options at once, Quinn taps one; plus a redelivery of Pat's first.
    pat_labels = shown_labels(pat.last)
    first, second = pat.update_press(pat_labels[0]), pat.update_press(pat_labels[1])
    quinn_tap = quinn.update_press(shown_labels(quinn.last)[0])
    await harness.deliver(first, quinn_tap, second, first)
    pat_prompt = (await companion.current(pat_who)).prompt
    quinn_prompt = (await companion.current(quinn_who)).prompt
    assert pat_prompt is not None and quinn_prompt is not None
    assert [b.ticked for b in pat_prompt.options[:3]] == [True, True, False]
    assert [b.ticked for b in quinn_prompt.options[:2]] == [True, False]
    conversation = await companion.storage.run(lambda tx: tx.conversation("telegram", "3001"))
    assert conversation.run.position["ticks"] == [pat_prompt.options[0].id, pat_prompt.options[1].id]
    assert companion.retries == 0  # the processor serialised Pat's taps; no version conflicts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_refuses_requests_without_the_secret_and_handles_the_right_one(companion: Companion) -> None:
    request = RecordingRequest()
    application = build_application(Services.around(companion), TOKEN, request=request, rate_limit=False)
    options = WebhookOptions(
        url="https://example.org/telegram", secret_token="s3cret-token_1-long-enough-for-the-rule", port=free_port()
    )
    body = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 4001, "type": "private"},
            "from": {"id": 4001, "is_bot": False, "first_name": "Web", "language_code": "en"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    url = f"http://127.0.0.1:{options.port}/{options.path}"
    async with application:
        await application.updater.start_webhook(**options.arguments())
        await application.start()
        try:
            assert any(
                call.method == "setWebhook" and call.params.get("secret_token") == options.secret_token
                for call in request.calls
            )
            request.take()
            async with httpx.AsyncClient() as client:
                missing = await client.post(url, json=body)
                wrong = await client.post(url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
                assert (missing.status_code, wrong.status_code) == (403, 403)
                await asyncio.sleep(0.2)
                assert request.take() == []
                right = await client.post(
                    url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": options.secret_token}
                )
                assert right.status_code == 200
            for _ in range(100):
                if any(call.method == "sendMessage" for call in request.calls):
                    break
                await asyncio.sleep(0.02)
            sent = [call for call in request.calls if call.method == "sendMessage"]
            assert len(sent) == 1 and sent[0].params["chat_id"] == 4001
        finally:
            await application.updater.stop()
            await application.stop()


def test_webhook_mode_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        WebhookOptions(url="https://example.org/x", secret_token="")
    with pytest.raises(ValueError):
        WebhookOptions(url="https://example.org/x", secret_token="has spaces!")
    with pytest.raises(ValueError, match="at least 32"):
        WebhookOptions(url="https://example.org/x", secret_token="s" * 31)
    with pytest.raises(ValueError, match="65535"):
        WebhookOptions(url="https://example.org/x", secret_token="s" * 32, port=99999)
    assert WebhookOptions(url="https://example.org/x", secret_token="s" * 32).port == 8443


async def test_commands_are_registered_in_english_and_swedish(harness: TelegramHarness, companion: Companion) -> None:
    await harness.application.post_init(harness.application)
    calls = [call for call in harness.request.take() if call.method == "setMyCommands"]
    assert [call.params.get("language_code") for call in calls] == [None, "sv"]
    ui = companion.catalog.ui
    for call, language in zip(calls, ("en", "sv"), strict=False):
        commands = call.params["commands"]
        commands = json.loads(commands) if isinstance(commands, str) else commands
        assert [c["command"] for c in commands] == [
            "start",
            "menu",
            "summary",
            "help",
            "cancel",
            "language",
            "mydata",
            "delete",
            "privacy",
        ]
        assert commands[0]["description"] == ui.get("tg_command_start", language)


async def test_a_send_is_retried_after_retry_after(companion: Companion) -> None:
    request = RecordingRequest()
    application = build_application(Services.around(companion), TOKEN, request=request, rate_limit=True)
    async with application:
        harness = TelegramHarness(application, request)
        request.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        calls = await harness.person(5001, "Rae").says("/help")
    sends = [call for call in calls if call.method == "sendMessage"]
    assert len(sends) == 2 and sends[0].params == sends[1].params
    assert request.chat(5001)[-1]["text"] == companion.catalog.ui.get("tg_help", "en")


async def test_language_and_cancel(harness: TelegramHarness, companion: Companion) -> None:
    ui = companion.catalog.ui
    sol = harness.person(5002, "Sol")
    who = Who("telegram", "5002")
    await agree(sol, harness)
    await sol.says("/language")
    assert sol.last["text"] == ui.get("tg_language_question", "en")
    await sol.taps(ui.get("button_tg_swedish", "en"))
    assert sol.last["text"] == ui.get("tg_language_set", "sv")
    await sol.says("/menu")
    await open_flow_sv(sol, companion)
    prompt = (await companion.current(who)).prompt
    assert prompt is not None and sol.last["text"].endswith(prompt_text(prompt, companion.catalog.ui))
    assert (await companion.person(who)).language == "sv"
    await sol.says("/cancel")
    flow_title = companion.catalog.flows["questions"].title.get("sv")
    assert ui.get("paused", "sv", flow=flow_title) in sol.last["text"]
    assert (await companion.current(who)).prompt is None
    await sol.says("/cancel")
    assert sol.last["text"].startswith(ui.get("nothing_open", "sv"))


async def open_flow_sv(person, companion: Companion) -> None:  # type: ignore[no-untyped-def]
    title = companion.catalog.flows["questions"].title.get("sv")
    await person.taps(next(text for text in shown_labels(person.last) if text.startswith(title)))


def test_long_text_is_split_at_the_limit_without_breaking_entities() -> None:
    text = ("word &amp; " * 1200).strip()
    parts = split_html(["<i>hello</i>", text])
    assert len(parts) >= 3
    assert all(len(part) <= MESSAGE_LIMIT for part in parts)
    assert all(not part.endswith("&amp") and not part.startswith("amp;") for part in parts)
    assert "".join(parts).count("&amp;") == text.count("&amp;")
