"""Send due reminders: claim under a lease, pace, send, then record the outcome.

One dispatcher runs inside ``companion run`` (or alone as ``companion
dispatch``); several may run at once against PostgreSQL. Correctness comes
from the database, not from the process:

- a reminder is claimed atomically with a lease (bot/reminders/store.py), so
  two dispatchers never hold the same one; if a dispatcher dies between claim
  and send, the lease runs out and another takes it;
- it is marked sent only after the sender returned, and only while the claim
  is still ours;
- the send pace (≤ 30 a second for the bot, ≤ 1 a second per chat) is kept in
  shared rows, so it holds across dispatchers; flood-control pauses
  (RetryAfter) are written there too;
- a person who blocked the bot is marked and not retried; a reminder whose
  event has passed is dropped.

Time is injected: ``clock`` (aware UTC datetimes) decides what is due; the
:class:`Pacer` (Unix seconds and a sleep) decides when to send. Tests move
both by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.reminders import store
from bot.reminders.delivery import Outgoing, Sender, classify
from bot.storage.repository import Storage, Transaction

log = logging.getLogger(__name__)

Composer = Callable[[store.Claimed], Awaitable[Outgoing | None]]
"""Turns a claimed reminder into a message; None if it no longer applies (e.g. the event was cancelled)."""


class Pacer:
    """Wall-clock seconds (shared by every process) and a way to wait."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's limits, with a small safety margin so a measured one-second window never exceeds 30."""

    per_second: float = 30.0
    per_chat_interval: float = 1.0
    margin: float = 1.0
    """Slots are spaced 1/(per_second × margin) apart: this smooths sends, but a
    late process or a slow network can still bunch arrivals, so it cannot by
    itself promise "never 31 in a second". The permits below do."""
    permits: int | None = 30
    """A send holds one of these shared permits from hand-over until ``window``
    seconds after the platform answered. Every message arriving within any one
    window held a permit at one common instant, so at most ``permits`` arrive
    per window, whatever the delays. None turns permits off (tests)."""
    window: float = 1.0

    @property
    def interval(self) -> float:
        return 1.0 / (self.per_second * self.margin)


@dataclass
class Tally:
    """What one dispatcher did (for logs, `companion dispatch` and the benchmark)."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    blocked: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    lost: int = 0
    """Sent, but the claim had been taken over meanwhile (lease too short)."""
    lateness: list[float] = field(default_factory=list, repr=False)
    """Seconds between each send's slot and the moment it was handed to the sender (the last 10,000)."""


class Dispatcher:
    def __init__(
        self,
        storage: Storage,
        sender: Sender,
        composer: Composer,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        pacer: Pacer | None = None,
        limits: Limits = Limits(),
        channel: str = "telegram",
        batch: int = 30,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        max_attempts: int = 5,
        max_in_flight: int = 64,
        lookahead: float = 0.2,
    ) -> None:
        self.storage = storage
        self.sender = sender
        self.composer = composer
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.pacer = pacer or Pacer()
        self.limits = limits
        self.channel = channel
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.lookahead = lookahead
        self.tally = Tally()
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._permits_ready = False
        self._permit_lock = asyncio.Lock()
        self._held_back: dict[int, dt.datetime] = {}
        self._claimed_at: dt.datetime | None = None
        """Reminders this dispatcher gave back only to keep a pace (a chat's one a second, or
        flood control), with when they may go: :meth:`run_due` waits for these, not for failures."""

    # ------------------------------------------------------------------ public

    async def claim(self) -> list[store.Claimed]:
        """Lease a batch of due reminders (and drop expired ones)."""
        now = self._claimed_at = self.clock()
        claimed = await self.storage.run(
            lambda tx: store.claim(
                tx.connection,
                channel=self.channel,
                now=now,
                lease=self.lease,
                limit=self.batch,
                max_attempts=self.max_attempts,
            )
        )
        self.tally.claimed += len(claimed)
        for reminder in claimed:
            self._held_back.pop(reminder.id, None)
        return claimed

    async def deliver(self, claimed: list[store.Claimed]) -> None:
        """Reserve send slots for the batch and start sending; returns shortly before the last slot.

        Waiting for (almost) the last slot before claiming again keeps each
        dispatcher only about one batch ahead of the sends, so the other
        dispatcher's batches interleave and a crash wastes few slots.
        """
        if not claimed:
            return
        slots = await self._reserve(claimed)
        for reminder, slot in zip(claimed, slots, strict=False):
            if slot is None:
                continue
            await self._in_flight.acquire()
            task = asyncio.create_task(self._send_at(reminder, slot))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        booked = [slot for slot in slots if slot is not None]
        if booked:
            await self.pacer.sleep(max(booked) - self.pacer.now() - self.lookahead)

    async def drain(self) -> None:
        """Wait for every send started so far."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def run_once(self) -> int:
        """Claim one batch and send it all; the number claimed."""
        claimed = await self.claim()
        await self.deliver(claimed)
        await self.drain()
        return len(claimed)

    async def run_due(self, *, longest_wait: float = 120.0) -> Tally:
        """Send everything that is due, then stop (``companion dispatch --once``).

        A chat gets at most one message a second, so a second reminder for the
        same chat is given back for a moment rather than sent; this waits for
        those (and for a flood-control pause of up to ``longest_wait`` seconds)
        instead of stopping with them still queued. A send that failed is left
        for its retry time, which a later run or the bot's own dispatcher keeps.
        """
        while True:
            if await self.run_once():
                continue
            # Free to claim at that last claim, yet not claimed: taken by another dispatcher, or gone.
            claimed_at = self._claimed_at
            self._held_back = {i: at for i, at in self._held_back.items() if claimed_at is None or at > claimed_at}
            if not self._held_back:
                return self.tally
            wait = (min(self._held_back.values()) - self.clock()).total_seconds()
            if wait > longest_wait:
                return self.tally
            await self.pacer.sleep(wait)

    async def run(self, stop: asyncio.Event, *, idle: float = 1.0) -> Tally:
        """Keep sending until ``stop`` is set; look for due reminders every ``idle`` seconds when quiet."""
        while not stop.is_set():
            try:
                claimed = await self.claim()
                await self.deliver(claimed)
            except Exception:  # the database went away for a moment: try again shortly
                log.exception("reminder dispatch step failed")
                claimed = []
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle)
        await self.drain()
        return self.tally

    # ------------------------------------------------------------------ steps

    async def _reserve(self, claimed: list[store.Claimed]) -> list[float | None]:
        wall_now = self.pacer.now()
        slots = await self.storage.run(
            lambda tx: store.reserve_slots(
                tx.connection,
                claimed,
                wall_now=wall_now,
                interval=self.limits.interval,
                chat_interval=self.limits.per_chat_interval,
                max_wait=self.lease.total_seconds() / 4,
            )
        )
        later = [(reminder, slot) for reminder, slot in zip(claimed, slots, strict=False) if slot.deferred]
        if later:
            now = self.clock()

            def give_back(tx: Transaction) -> None:
                for reminder, slot in later:
                    retry_at = now + dt.timedelta(seconds=max(0.0, slot.at - wall_now))
                    store.release(tx.connection, reminder, retry_at, count_attempt=False)
                    self._held_back[reminder.id] = retry_at

            await self.storage.run(give_back)
            self.tally.deferred += len(later)
        return [None if slot.deferred else slot.at for slot in slots]

    async def _send_at(self, reminder: store.Claimed, slot: float) -> None:
        try:
            outgoing = await self.composer(reminder)
            if outgoing is None:
                await self.storage.run(lambda tx: store.finish(tx.connection, reminder, store.DROPPED))
                self.tally.dropped += 1
                return
            await self.pacer.sleep(slot - self.pacer.now())
            permit = await self._permit()
            lateness = self.pacer.now() - slot
            if len(self.tally.lateness) < 10_000:
                self.tally.lateness.append(lateness)
            try:
                await self.sender(outgoing)
            except Exception as error:
                free_at = self.pacer.now() + self.limits.window
                if permit is not None:
                    await self.storage.run(lambda tx: store.release_permit(tx.connection, permit, free_at))
                await self._failed(reminder, error)
                return
            now = self.clock()
            free_at = self.pacer.now() + self.limits.window

            def record(tx: Transaction) -> bool:
                if permit is not None:
                    store.release_permit(tx.connection, permit, free_at)
                return store.mark_sent(tx.connection, reminder, now)

            if await self.storage.run(record):
                self.tally.sent += 1
            else:
                self.tally.lost += 1
                log.warning("reminder %s was sent after its lease ran out", reminder.id)
        except Exception:
            # The database failed after the send: the lease will run out and the
            # reminder will be tried again, which is the at-least-once end of the trade.
            log.exception("recording reminder %s failed", reminder.id)
        finally:
            self._in_flight.release()

    async def _permit(self) -> int | None:
        """Wait for one of the bot's send permits (see Limits.permits)."""
        count = self.limits.permits
        if count is None:
            return None
        if not self._permits_ready:
            await self.storage.run(lambda tx: store.ensure_permits(tx.connection, count))
            self._permits_ready = True
        hold = self.lease.total_seconds() / 2
        # One waiter per process asks the database; the rest queue here in slot
        # order instead of all polling at once.
        async with self._permit_lock:
            while True:
                wall_now = self.pacer.now()

                def acquire(tx: Transaction, wall_now: float = wall_now) -> tuple[int | None, float]:
                    return store.acquire_permit(
                        tx.connection, wall_now=wall_now, hold=hold, count=count, lookahead=self.lookahead / 4
                    )

                permit, free_at = await self.storage.run(acquire)
                if permit is not None:
                    await self.pacer.sleep(free_at - self.pacer.now())
                    return permit
                await self.pacer.sleep(max(0.002, free_at - self.lookahead / 4 - self.pacer.now()))

    async def _failed(self, reminder: store.Claimed, error: BaseException) -> None:
        outcome, seconds = classify(error)
        now = self.clock()
        if outcome == "blocked":
            await self.storage.run(lambda tx: store.mark_blocked(tx.connection, reminder.person_id, now))
            self.tally.blocked += 1
            log.info("person %s blocked the bot; their reminders are stopped", reminder.person_id)
            return
        if outcome == "retry_after":
            until = self.pacer.now() + seconds
            retry_at = now + dt.timedelta(seconds=seconds)

            def pause(tx: Transaction) -> None:
                store.pause_bot(tx.connection, until)
                store.release(tx.connection, reminder, retry_at, count_attempt=False)

            await self.storage.run(pause)
            self._held_back[reminder.id] = retry_at
            self.tally.retried += 1
            log.warning("flood control: pausing sends for %.1f s", seconds)
            return
        # A passing failure: try again after 30 s, 1 min, 2 min, ... (attempts counted at claim).
        if reminder.attempts >= self.max_attempts:
            await self.storage.run(lambda tx: store.finish(tx.connection, reminder, store.FAILED))
            self.tally.failed += 1
        else:
            retry_at = now + dt.timedelta(seconds=30 * 2 ** (reminder.attempts - 1))
            await self.storage.run(lambda tx: store.release(tx.connection, reminder, retry_at))
            self.tally.retried += 1
        log.warning("sending reminder %s failed (%s)", reminder.id, type(error).__name__)
