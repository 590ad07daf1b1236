"""The bot's one send budget: at most 30 calls to Telegram in any second, for every
process and every kind of message together, with replies to a waiting person first.

Telegram counts every message and edit a bot makes (about 30 a second in all);
going over brings 429 "retry after" pauses for the whole bot. So every call
that counts holds one of 30 *permits* from the moment it is handed over until
a second after Telegram answered. Any two calls that use one permit then
arrive at least a second apart, and at most 30 arrive in any one second,
however slow the network or a process is.

Priority without a queue shared between processes: a freed permit is open to
a reply at once, to a reminder a little later and to a group message later
still (:data:`HEADSTART`). While people are waiting for replies, every permit
that frees is taken by a reply before a reminder may take it; when nobody is
waiting, reminders lose only that short head start per permit.

Two budgets with the same rules:

- :class:`MemoryBudget`, for one process on SQLite;
- :class:`SharedBudget`, on the ``send_permits`` rows every process and every
  dispatcher shares (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so two processes
  take different permits at the same instant). The same rows the reminder
  dispatcher used alone before, so replies and reminders share one budget.
"""

from __future__ import annotations

import math
import time
from enum import IntEnum
from typing import Protocol

from bot.reminders import store
from bot.storage.repository import Storage, Transaction

PERMITS = 30
"""Telegram's limit for a bot: about 30 messages a second."""
WINDOW = 1.0
"""Seconds a permit stays taken after Telegram answered."""
CRASH_HOLD = 30.0
"""How long a permit taken by a process that then died stays taken (shared budget)."""


class Priority(IntEnum):
    """Who goes first when the budget is short: callers pass it as PTB's ``rate_limit_args``."""

    REPLY = 0
    """An answer to a person who just pressed or typed, and is waiting."""
    REMINDER = 1
    """A reminder: due now, but nobody is watching the chat for it."""
    GROUP = 2
    """A message to a whole group, or anything else that can wait the longest."""


HEADSTART = {Priority.REPLY: 0.0, Priority.REMINDER: 0.05, Priority.GROUP: 0.1}
"""Seconds a freed permit is kept for higher priorities before a lower one may take it."""


class Budget(Protocol):
    """Permits to call Telegram: take one, give it back once Telegram answered."""

    poll: float
    """Longest wait before asking again while every permit is taken (others may give some back)."""

    async def take(self, priority: Priority) -> tuple[int | None, float]:
        """(a permit, now), or (None, the time to ask again for this priority)."""
        ...

    async def give_back(self, permit: int, answered_at: float) -> None:
        """Telegram answered the call that held ``permit`` at ``answered_at`` (wall seconds)."""
        ...

    async def pause(self, until: float) -> None:
        """Telegram said to wait (429 for the whole bot): nobody sends before ``until``."""
        ...


class MemoryBudget:
    """The budget of a single process: 30 permits as the times each frees."""

    poll = 1.0
    """Permits come back only in this process, which wakes the waiting itself."""

    def __init__(self, permits: int = PERMITS, window: float = WINDOW) -> None:
        self.window = window
        self.free_at = [0.0] * permits

    async def take(self, priority: Priority) -> tuple[int | None, float]:
        now = time.time()
        opens = HEADSTART[priority]
        soonest = min(range(len(self.free_at)), key=self.free_at.__getitem__)
        if self.free_at[soonest] + opens <= now:
            self.free_at[soonest] = math.inf
            return soonest, now
        return None, self.free_at[soonest] + opens

    async def give_back(self, permit: int, answered_at: float) -> None:
        self.free_at[permit] = answered_at + self.window

    async def pause(self, until: float) -> None:
        self.free_at = [max(free, until) for free in self.free_at]


class SharedBudget:
    """The budget every process on one database shares, in the ``send_permits`` rows."""

    poll = 0.02
    """Other processes give permits back unseen: look again this often (one short query)."""

    def __init__(self, storage: Storage, permits: int = PERMITS, window: float = WINDOW) -> None:
        self.storage = storage
        self.permits = permits
        self.window = window
        self._ready = False

    async def take(self, priority: Priority) -> tuple[int | None, float]:
        if not self._ready:
            await self.storage.run(lambda tx: store.ensure_permits(tx.connection, self.permits))
            self._ready = True
        now = time.time()
        opens = HEADSTART[priority]

        def acquire(tx: Transaction) -> tuple[int | None, float]:
            # A permit is open to this priority once it has been free for ``opens``
            # seconds; taken, it stays taken until given back (or CRASH_HOLD passes).
            return store.acquire_permit(
                tx.connection, wall_now=now - opens, hold=CRASH_HOLD + opens, count=self.permits
            )

        permit, when = await self.storage.run(acquire)
        if permit is None:
            return None, when + opens
        return permit, now

    async def give_back(self, permit: int, answered_at: float) -> None:
        free_at = answered_at + self.window
        await self.storage.run(lambda tx: store.release_permit(tx.connection, permit, free_at))

    async def pause(self, until: float) -> None:
        await self.storage.run(lambda tx: store.hold_permits(tx.connection, until, self.permits))


def send_budget(storage: Storage) -> Budget:
    """The budget for a process on ``storage``: shared on PostgreSQL, where several
    processes may send for one bot; this process's own on SQLite."""
    if storage.url.startswith("postgresql"):
        return SharedBudget(storage)
    return MemoryBudget()
