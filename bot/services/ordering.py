"""One person's updates applied in update-id order, whichever process receives them.

Telegram numbers a bot's updates one after another, in the order they happen
("update identifiers ... increase sequentially": the Bot API says this is what
lets a webhook restore the order). Behind a webhook it delivers them over up
to 40 connections at once, so two quick messages of one person can reach two
bot processes, or one, in either order. Within a process the per-person lock
(the Telegram adapter's processor) keeps arrival order; this service keeps id
order across processes, through the database they share (``updates_seen``):

1. On arrival an update is noted as seen and in flight, before anything else.
2. While an id just below it (up to :data:`SPAN` below) has not been seen by
   any process, it waits: that update is on its way, and may be the same
   person's. After :data:`GAP_SECONDS` the missing ids are given up on (an id
   Telegram skipped, or an update lost with a process) and noted as seen.
3. While an update of the same person with a lower id is in flight in any
   process, it waits, and only then is it handled. Once handled its note says
   done (kept for :data:`FORGET_SECONDS`, then dropped, all but the highest).

So the lower update's turn, and its replies, are done before the higher one
starts: answers land on the questions in the order they were typed, and the
replies go out in that order too. Waiting for a lower update of the person
is bounded by :data:`HOLD_SECONDS`, in case its process stopped without
saying it was done.

What it leaves out: ordering starts once the database has seen one update
(the very first update a bot ever gets has no predecessor to wait for), and a
lower update that arrives more than ``GAP_SECONDS`` late is handled after the
higher one (never lost). Polling needs none of this (getUpdates hands updates
over in order, to one process), so only webhook mode uses it.

People are told apart by a bucket of their channel id (see
``bot.storage.models.UpdateSeen``): two people who share one only wait for
each other a little, and nothing in the table says who anyone is.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.storage.repository import Storage, Transaction, utcnow

GAP_SECONDS = 3.0
"""How long an update waits for a missing id below it: far longer than a lower update sent
at the same moment over another connection takes to arrive, short enough that an id that
never comes (Telegram skips ids after a week without updates) costs one short pause."""
SPAN = 64
"""How far below an update to look for missing ids: more updates than can be in flight at once."""
HOLD_SECONDS = 5.0
"""The longest an update waits for a lower one of the same person in flight: a turn with all its
replies takes well under a second, so one older than this was left by a process that stopped."""
FORGET_SECONDS = 60.0
"""How long an update is remembered as seen (the highest is always kept)."""
POLL_SECONDS = 0.01
"""How often a waiting update looks again."""
FORGET_EVERY = 64
"""Old rows are dropped at every this many arrivals in a process (not at each: it is a statement more)."""
BUCKETS = 1 << 20
log = logging.getLogger(__name__)


def bucket_of(channel: str, external_id: str) -> int:
    """The person's bucket: the same in every process, and shared by many accounts."""
    digest = hashlib.blake2b(f"{channel}:{external_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


class UpdateOrder:
    """Hold an update back until the updates below it have arrived and the person's are handled."""

    def __init__(
        self,
        storage: Storage,
        *,
        gap: float = GAP_SECONDS,
        hold: float = HOLD_SECONDS,
        poll: float = POLL_SECONDS,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.storage = storage
        self.gap = gap
        self.hold = hold
        self.poll = poll
        self.clock = clock
        self.held = 0
        """How many updates waited for another (for tests and metrics)."""
        self.gave_up = 0
        """How many stopped waiting for an id that never came, or a lower update never done."""
        self._arrivals = 0

    @asynccontextmanager
    async def in_order(self, channel: str, external_id: str, update_id: int) -> AsyncIterator[None]:
        """Run the block once the updates below this one have arrived and the person's are handled."""
        arrived = time.monotonic()
        bucket = bucket_of(channel, external_id)
        now = self.clock()
        self._arrivals += 1
        forget = self._arrivals % FORGET_EVERY == 1
        look = self._looker(channel, bucket, update_id)

        def arrive(tx: Transaction) -> tuple[int, tuple[list[int], bool]]:
            if forget:
                tx.forget_seen(channel, now - dt.timedelta(seconds=FORGET_SECONDS))
            return tx.arrive(channel, update_id, bucket, now), look(tx)

        row, first_look = await self.storage.run(arrive)
        try:
            await self._wait(channel, bucket, update_id, arrived, first_look)
            yield
        finally:
            await self.storage.run(lambda tx: tx.leave(row, self.clock()))

    async def _wait(
        self, channel: str, bucket: int, update_id: int, arrived: float, first: tuple[list[int], bool]
    ) -> None:
        waited = False
        missing, wait = first
        while True:
            if not wait:
                return
            waited_for = time.monotonic() - arrived
            if missing and waited_for >= self.gap:
                self.gave_up += 1
                log.warning("update %d: %d ids below it never came; counted as seen", update_id, len(missing))
                await self.storage.run(
                    functools.partial(Transaction.given_up, channel=channel, update_ids=missing, now=self.clock())
                )
                missing, wait = await self.storage.run(self._looker(channel, bucket, update_id))
                continue
            if not missing and waited_for >= self.hold:
                self.gave_up += 1
                log.warning("update %d went ahead after waiting %.1f s for a lower one", update_id, self.hold)
                return
            if not waited:
                waited = True
                self.held += 1
            await asyncio.sleep(self.poll)
            missing, wait = await self.storage.run(self._looker(channel, bucket, update_id))

    def _looker(self, channel: str, bucket: int, update_id: int) -> Callable[[Transaction], tuple[list[int], bool]]:
        """One look, in one transaction: the missing ids below, and whether to wait."""
        since = self.clock() - dt.timedelta(seconds=self.hold)

        def look(tx: Transaction) -> tuple[list[int], bool]:
            missing, in_flight = tx.below(channel, bucket, update_id, SPAN, since)
            return missing, bool(missing) or in_flight

        return look
