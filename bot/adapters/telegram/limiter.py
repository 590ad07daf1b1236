"""The companion's rate limiter for python-telegram-bot: Telegram's limits, with priorities.

A :class:`telegram.ext.BaseRateLimiter` (PTB's public extension point): every
Bot API call of the process passes through :meth:`SendLimiter.process_request`.

- Calls that carry a ``chat_id`` (messages, edits, files) count against the
  bot's 30 a second; each takes a permit of the :class:`~bot.services.send_budget.Budget`
  (in memory, or shared by every process on PostgreSQL). Calls without one
  (answering a press, getUpdates, getMe) are not limited by Telegram and are
  not held back here.
- Replies go first, then reminders, then group messages: callers pass a
  :class:`~bot.services.send_budget.Priority` as PTB's ``rate_limit_args``;
  without one a call is a reply. Within the process, one waiter at a time asks
  the budget, the most urgent first, the rest queue in order.
- A chat gets at most one message a second once a short burst (a crisis card
  and the question after it) is used up; a group chat at most 20 a minute.
- Telegram's 429 ``retry_after`` pauses only the chat it came for. When two
  different chats are told to wait within a second, the limit is the bot's
  own, and every process pauses (through the budget).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.services.send_budget import WINDOW, Budget, MemoryBudget, Priority

log = logging.getLogger(__name__)

CHAT_BURST = 3
"""Messages a chat may get at once before the one-a-second pace applies."""
CHAT_INTERVAL = 1.0
GROUP_PER_MINUTE = 20
RETRIES = 3
"""How often a call is tried again after Telegram said to wait."""
RETRY_BUDGET = 0.2
"""Seconds before asking the budget again after it could not be read."""
BOT_WIDE = 1.0
"""429s for two different chats within this many seconds mean the whole bot must wait."""

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class ChatPace:
    """One chat's pace: a small bucket refilled once a second, a group's 20 a minute, and a pause."""

    __slots__ = ("group_sent", "paused_until", "tokens", "updated")

    def __init__(self, now: float) -> None:
        self.tokens = float(CHAT_BURST)
        self.updated = now
        self.paused_until = 0.0
        self.group_sent: collections.deque[float] = collections.deque()

    def wait(self, now: float, group: bool) -> float:
        """Seconds until this chat may be sent to; 0 takes its turn now."""
        self.tokens = min(CHAT_BURST, self.tokens + (now - self.updated) / CHAT_INTERVAL)
        self.updated = now
        waits = [self.paused_until - now, (1.0 - self.tokens) * CHAT_INTERVAL]
        if group:
            while self.group_sent and self.group_sent[0] <= now - 60.0:
                self.group_sent.popleft()
            if len(self.group_sent) >= GROUP_PER_MINUTE:
                waits.append(self.group_sent[0] + 60.0 - now)
        wait = max(waits)
        if wait <= 0:
            self.tokens -= 1.0
            if group:
                self.group_sent.append(now)
            return 0.0
        return wait


class SendLimiter(BaseRateLimiter[int]):
    """Telegram's limits for the whole bot, replies first (see the module's docstring)."""

    def __init__(self, budget: Budget | None = None, *, retries: int = RETRIES) -> None:
        self.budget: Budget = budget or MemoryBudget()
        self.retries = retries
        self._chats: collections.OrderedDict[int | str, ChatPace] = collections.OrderedDict()
        self._waiting: list[tuple[int, int, asyncio.Future[int]]] = []
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()
        self._told_to_wait: collections.deque[tuple[float, int | str]] = collections.deque()
        self.clock: Callable[[], float] = time.time

    async def initialize(self) -> None:
        """Nothing to open: the budget is ready when given."""

    async def shutdown(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        for _, _, waiter in self._waiting:
            waiter.cancel()
        self._waiting.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        chat_id = data.get("chat_id")
        if chat_id is None:
            return await callback(*args, **kwargs)
        priority = Priority(rate_limit_args) if rate_limit_args is not None else Priority.REPLY
        group = isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)
        for attempt in range(self.retries + 1):
            await self._chat_turn(chat_id, group)
            permit = await self._permit(priority)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = error.retry_after
                wait = seconds.total_seconds() if hasattr(seconds, "total_seconds") else float(seconds)
                if attempt == self.retries:
                    raise
                await self._told(chat_id, wait)
            finally:
                await self._give_back(permit)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _give_back(self, permit: int) -> None:
        try:
            await self.budget.give_back(permit, self.clock())
        except Exception:
            # The shared rows could not be written (the database is away): the
            # permit frees by itself after CRASH_HOLD; the call's own outcome stands.
            log.warning("a send permit could not be given back; it frees by itself later")
        self._arrived.set()  # a permit came back: the waiting may take it

    # ------------------------------------------------------------------ a chat's own pace

    async def _chat_turn(self, chat_id: int | str, group: bool) -> None:
        while True:
            now = self.clock()
            pace = self._chats.get(chat_id)
            if pace is None:
                pace = self._chats[chat_id] = ChatPace(now)
                if len(self._chats) > 50_000:
                    self._chats.popitem(last=False)
            self._chats.move_to_end(chat_id)
            wait = pace.wait(now, group)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _told(self, chat_id: int | str, seconds: float) -> None:
        """A 429 for this chat: pause it; a second chat told within BOT_WIDE pauses the bot."""
        now = self.clock()
        pace = self._chats.get(chat_id)
        if pace is not None:
            pace.paused_until = max(pace.paused_until, now + seconds)
        while self._told_to_wait and self._told_to_wait[0][0] < now - BOT_WIDE:
            self._told_to_wait.popleft()
        if any(other != chat_id for _, other in self._told_to_wait):
            log.warning("Telegram asked the whole bot to wait %.1f seconds", seconds)
            await self.budget.pause(now + seconds)
        else:
            log.info("Telegram asked to wait %.1f seconds for one chat", seconds)
        self._told_to_wait.append((now, chat_id))

    # ------------------------------------------------------------------ the budget, most urgent first

    async def _permit(self, priority: Priority) -> int:
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (int(priority), next(self._order), waiter))
        self._arrived.set()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._serve())
        return await waiter

    async def _serve(self) -> None:
        """Hand permits to waiters, most urgent first, one request to the budget at a time."""
        while True:
            while self._waiting and self._waiting[0][2].done():
                heapq.heappop(self._waiting)  # gave up waiting (cancelled)
            if not self._waiting:
                return
            priority = Priority(self._waiting[0][0])
            try:
                permit, when = await self.budget.take(priority)
            except Exception:
                # The shared budget cannot be read (the database is away for a moment):
                # nobody is let through unchecked; ask again shortly.
                log.warning("the send budget could not be read; trying again")
                await asyncio.sleep(RETRY_BUDGET)
                continue
            if permit is None:
                self._arrived.clear()
                # Until the permit opens for this priority, a permit comes back, or a more
                # urgent waiter arrives; another process's permits are looked at every poll.
                wait = min(max(0.001, when - self.clock()), self.budget.poll)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), timeout=wait)
                continue
            # Whoever is most urgent now gets it (a reply may have come while asking).
            while self._waiting and self._waiting[0][2].done():
                heapq.heappop(self._waiting)
            if self._waiting:
                heapq.heappop(self._waiting)[2].set_result(permit)
            else:
                await self.budget.give_back(permit, self.clock() - WINDOW)
