"""Counting what reaches Telegram, for the metrics: sends accepted and 429s, as numbers only.

A :class:`~telegram.request.BaseRequest` that hands every call to the request
it wraps (PTB's public extension point for the transport) and looks only at
the Bot API method's name and the status of the answer: never the
parameters (what a person is sent), never the URL (it holds the token).
"""

from __future__ import annotations

from typing import Any

from telegram.request import BaseRequest

from bot.services.counts import Counts

SENDS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "editMessageText",
        "editMessageReplyMarkup",
        "copyMessage",
        "forwardMessage",
    }
)
"""Bot API methods that put something in a chat."""
TOO_MANY_REQUESTS = 429


class CountingRequest(BaseRequest):
    """``inner``, counting into ``counts``."""

    def __init__(self, inner: BaseRequest, counts: Counts) -> None:
        self.inner = inner
        self.counts = counts

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """The wrapped request's answer, counted. Passed on as given: PTB's own defaults (its
        private sentinel values) reach the wrapped request unchanged."""
        status, body = await self.inner.do_request(*args, **kwargs)
        url = str(kwargs["url"] if "url" in kwargs else args[0])
        if status == TOO_MANY_REQUESTS:
            self.counts.rate_limited += 1
        elif 200 <= status < 300 and url.rsplit("/", 1)[-1] in SENDS:
            self.counts.sends += 1
        return status, body
