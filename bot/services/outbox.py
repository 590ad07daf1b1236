"""Delivering what the companion says: after the commit, once, in order per chat.

A turn writes its reply into the ``outbox`` table in its own transaction (see
``Companion.deliver_through_outbox``), so an answer that is saved always has
its reply saved beside it. Delivery comes after the commit, two ways:

- the fast path: the adapter that took the turn delivers the reply at once
  (:meth:`Outbox.deliver_now`), so a waiting person waits for nothing more;
- the sender loop (:meth:`Outbox.run`), in every running bot, delivers what
  is left pending: a reply whose send failed (a 500, a timeout, flood
  control), or whose process was killed before it was sent, retried with
  backoff across restarts.

Only the oldest pending row of a chat is ever sent, so a chat's messages keep
their order. A row is marked delivered once the channel accepted all of its
messages, and undeliverable when the person blocked the bot or the chat is
gone. Settled rows keep no words (see bot/storage/outbox.py).

Until a reply is delivered the person is still on the question before it, so
their next answer is taken on that question (``Companion._as_shown``) and the
undelivered reply is replaced by the new one: nobody is ever asked to type an
answer again, and no answer lands under a question they did not see.

The channel renders (this module is channel-neutral): an adapter passes a
:data:`Send` that turns a :class:`Reply` into its messages and sends them from
a given part on, and says how it went as a :class:`Delivery`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.services.conversation import FAST_PATH_LEASE_SECONDS, Reply, Who
from bot.storage.outbox import OutboxRow, OutboxRows
from bot.storage.repository import Storage, Transaction, utcnow

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 300.0
"""Retries wait 1, 2, 4, ... seconds, at most five minutes."""
GIVE_UP_AFTER_ATTEMPTS = 30
"""About two hours of retries: a reply older than that is recorded undeliverable, not sent late."""
SEND_LEASE_SECONDS = 30.0
"""How long a sender holds a row it is sending before another may take it (a process killed
while sending lets go when this runs out)."""
POLL_SECONDS = 0.5
STARTUP_GRACE_SECONDS = 1.0
"""After a start, the loop waits this long before its first pass: what people wrote while the bot
was down is taken first (on the question each of them saw), so their words and a reply left
pending do not cross."""
BATCH = 50
CONCURRENCY = 16


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    """A passing failure (Telegram's 5xx, a timeout, flood control, no network)."""
    UNDELIVERABLE = "undeliverable"
    """The person blocked the bot, or the chat is gone: sending again cannot help."""


@dataclass(frozen=True, slots=True)
class Delivery:
    outcome: Outcome
    sent_parts: int
    """How many of the reply's messages the channel accepted, counting those sent before."""
    retry_after: float | None = None
    """Seconds the channel asked us to wait (Telegram's retry_after), if it said."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One reply to deliver: to whom, what, and how many of its messages already went."""

    id: int
    who: Who
    reply: Reply
    sent_parts: int


Send = Callable[[Outgoing], Awaitable[Delivery]]
"""The channel's delivery of one reply (rendering it, sending from ``sent_parts`` on)."""


def retry_delay(attempts: int, asked: float | None = None) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from one second, or what the channel asked."""
    backoff = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_RETRY_SECONDS)
    return max(backoff, asked or 0.0)


def _outgoing(row: OutboxRow) -> Outgoing:
    return Outgoing(row.id, Who(row.channel, row.chat), Reply.from_dict(row.body, row.id), row.sent_parts)


class Outbox:
    """Settles outbox rows for the adapters that deliver them. Build once per process."""

    def __init__(self, storage: Storage, *, wall: Callable[[], float] = time.time) -> None:
        self.storage = storage
        self.wall = wall
        """Unix seconds, for due times and leases (a test may move it)."""
        self._sending: set[int] = set()
        """Rows this process is sending now: its loop never takes one its fast path holds."""

    async def deliver_now(self, reply: Reply, who: Who, send: Send) -> bool:
        """The fast path, right after the turn's commit: deliver ``reply`` (and any older reply
        to the chat still pending, first). True if ``reply`` was delivered now; if not, the
        sender loop delivers it, and the person's next answer goes to the question before it."""
        row_id = reply.outbox_id
        assert row_id is not None
        if not reply.outbox_waits:
            outgoing = [Outgoing(row_id, who, reply, 0)]
        else:
            now = self.wall()

            def claim(tx: Transaction) -> list[OutboxRow]:
                rows = OutboxRows(tx.connection)
                claimed = rows.claim_chat(who.channel, who.external_id, row_id, row_id, now + SEND_LEASE_SECONDS, now)
                if not claimed:
                    # An older reply is being sent by someone else: this one goes after it.
                    rows.release(row_id, now)
                return claimed

            claimed = await self.storage.run(claim)
            outgoing = [
                Outgoing(row_id, who, reply, item.sent_parts) if item.id == row_id else _outgoing(item)
                for item in claimed
                if item.id not in self._sending or item.id == row_id
            ]
        for item in outgoing:
            if not await self._deliver(item, send):
                if item.id != row_id:
                    await self.storage.run(lambda tx: OutboxRows(tx.connection).release(row_id, self.wall()))
                return False
        return bool(outgoing) and outgoing[-1].id == row_id

    async def deliver_due(self, send: Send, limit: int = BATCH) -> int:
        """One pass of the sender loop: the oldest due row of each chat. Returns how many were delivered."""
        now = self.wall()
        claimed = await self.storage.run(
            lambda tx: OutboxRows(tx.connection).claim_due(now, now + SEND_LEASE_SECONDS, limit)
        )
        claimed = [row for row in claimed if row.id not in self._sending]
        if not claimed:
            return 0
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(row: OutboxRow) -> bool:
            async with gate:
                return await self._deliver(_outgoing(row), send, attempts=row.attempts)

        results = await asyncio.gather(*(one(row) for row in claimed))
        return sum(results)

    async def run(
        self, send: Send, stop: asyncio.Event, poll: float = POLL_SECONDS, grace: float = STARTUP_GRACE_SECONDS
    ) -> None:
        """Deliver what is pending until ``stop`` is set (the bot's sender loop)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), grace)
        while not stop.is_set():
            delivered = 0
            try:
                delivered = await self.deliver_due(send)
            except Exception as error:  # the database went away for a moment: try again shortly
                log.warning("outbox: a delivery pass failed (%s)", type(error).__name__)
            if delivered:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll)

    @contextlib.asynccontextmanager
    async def showing(self, row_id: int | None) -> AsyncIterator[None]:
        """While the adapter shows a reply its own way (an edit in place), this process's sender
        loop leaves the reply's row alone, however long the edit waits for the send budget."""
        if row_id is None:
            yield
            return
        self._sending.add(row_id)
        try:
            yield
        finally:
            self._sending.discard(row_id)

    async def settled(self, row_id: int) -> None:
        """The adapter showed the reply its own way (a checklist edited in place): it is delivered."""
        now = utcnow()
        await self.storage.run(lambda tx: OutboxRows(tx.connection).delivered(row_id, now))

    async def pending(self) -> int:
        return await self.storage.run(lambda tx: OutboxRows(tx.connection).pending_count())

    async def _deliver(self, item: Outgoing, send: Send, attempts: int = 0) -> bool:
        self._sending.add(item.id)
        try:
            try:
                delivery = await send(item)
            except Exception as error:
                # A fault in rendering or sending that the channel did not classify: try again later.
                log.warning("outbox: row %d failed (%s)", item.id, type(error).__name__)
                delivery = Delivery(Outcome.RETRY, item.sent_parts)
            return await self._settle(item, delivery, attempts)
        finally:
            self._sending.discard(item.id)

    async def _settle(self, item: Outgoing, delivery: Delivery, attempts: int) -> bool:
        now = utcnow()
        if delivery.outcome is Outcome.DELIVERED:
            await self.storage.run(lambda tx: OutboxRows(tx.connection).delivered(item.id, now))
            return True
        if delivery.outcome is Outcome.UNDELIVERABLE:
            log.info("outbox: row %d cannot be delivered (blocked, or the chat is gone)", item.id)
            await self.storage.run(lambda tx: OutboxRows(tx.connection).undeliverable(item.id, now))
            return False
        next_at = self.wall() + retry_delay(attempts + 1, delivery.retry_after)

        def retry(tx: Transaction) -> None:
            rows = OutboxRows(tx.connection)
            if rows.retry(item.id, delivery.sent_parts, next_at) >= GIVE_UP_AFTER_ATTEMPTS:
                log.warning("outbox: row %d given up after %d attempts", item.id, GIVE_UP_AFTER_ATTEMPTS)
                rows.undeliverable(item.id, now)

        await self.storage.run(retry)
        return False


__all__ = [
    "FAST_PATH_LEASE_SECONDS",
    "Delivery",
    "Outbox",
    "Outcome",
    "Outgoing",
    "Send",
    "retry_delay",
]
