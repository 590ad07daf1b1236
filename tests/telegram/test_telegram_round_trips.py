"""A button press costs the person one round trip to Telegram, not three.

Answering the press, echoing the answer under the old question and sending the
next question do not depend on each other, so they go out together. Here every
Bot API call takes a while (as over a real network) and the calls of one
press must overlap.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.adapters.telegram.app import build_application
from bot.services.app import Services
from bot.services.conversation import Companion
from tests.telegram.conftest import TOKEN
from tests.telegram.harness import RecordingRequest, TelegramHarness, shown
from tests.telegram.talk import agree

NETWORK_SECONDS = 0.05


class SlowRequest(RecordingRequest):
    """The recording Bot API, with a network delay on every call; notes when each started and ended."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[str, float, float]] = []

    async def do_request(
        self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        started = time.perf_counter()
        await asyncio.sleep(NETWORK_SECONDS)
        result = await super().do_request(url, method, request_data, *args, **kwargs)
        self.spans.append((url.rsplit("/", 1)[-1], started, time.perf_counter()))
        return result


async def test_a_press_answers_echoes_and_asks_the_next_question_at_once(companion: Companion) -> None:
    request = SlowRequest()
    application = build_application(Services.around(companion), TOKEN, request=request, rate_limit=False)
    await application.initialize()
    try:
        harness = TelegramHarness(application, request)
        sam = harness.person(5150, "Sam")
        await agree(sam, companion)
        title = companion.catalog.flows["questions"].title.get("en")
        opened = next(label for label in shown(sam.last) if label.startswith(title))
        request.spans.clear()
        await sam.taps(opened)
    finally:
        await application.shutdown()
    methods = sorted(name for name, _, _ in request.spans)
    assert methods == ["answerCallbackQuery", "editMessageText", "sendMessage"]
    first_end = min(end for _, _, end in request.spans)
    assert all(start < first_end for _, start, _ in request.spans)  # all three were under way together
