"""Handle each person's updates in order, and different people's at the same time.

PTB either processes updates one after another (slow for many people) or
concurrently (then one person's double tap can overtake itself). This
processor takes a per-person lock: updates of one person wait for each other
in arrival order (asyncio locks are fair), updates of different people run
side by side. Across processes (several webhook processes on one database),
an :class:`~bot.services.ordering.UpdateOrder` holds an update back first
while a lower one of the same person is in flight anywhere, so updates are
handled in update-id order, not only arrival order; the version check in
storage still keeps each person's answers whole.

Locks are dropped as soon as nobody waits on them, so memory does not grow
with the number of people seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.services.ordering import UpdateOrder

DEFAULT_CONCURRENCY = 256


def person_key(update: object) -> int | None:
    """Whose update this is: the user, or the chat when there is no user."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


CHANNEL = "telegram"


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENCY, order: UpdateOrder | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self.order = order
        """Set in webhook mode, where updates can arrive at several processes and out of order."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = person_key(update)
        if key is None:
            await coroutine
            return
        if self.order is not None and isinstance(update, Update):
            # Before the lock: an update that waits here for a lower one must not hold
            # the lock that lower one needs, when both reached this process.
            async with self.order.in_order(CHANNEL, str(key), update.update_id):
                await self._one_at_a_time(key, coroutine)
            return
        await self._one_at_a_time(key, coroutine)

    async def _one_at_a_time(self, key: int, coroutine: Awaitable[Any]) -> None:
        """Run the update after the person's earlier ones in this process, in arrival order."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            remaining = self._users[key] - 1
            if remaining:
                self._users[key] = remaining
            else:
                del self._users[key]
                del self._locks[key]

    @property
    def people_waiting(self) -> int:
        """How many people have updates in progress (for tests and metrics)."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to free: locks go when their updates finish."""
