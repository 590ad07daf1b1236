"""How long the companion keeps what it needs only for a while: the ids of updates it has handled.

An update id is kept so that a redelivered update is handled once. Telegram
keeps an undelivered update for 24 hours and redelivers it until it is
answered, so an id older than that can never come back: keeping it longer
only grows the table. ``companion run`` prunes them at start and every hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from bot.storage.repository import Storage, Transaction

UPDATE_IDS_MINIMUM = dt.timedelta(hours=24)
"""Telegram redelivers an update for up to 24 hours: an id kept less long could be handled twice."""
UPDATE_IDS_DEFAULT = dt.timedelta(days=7)
PRUNE_EVERY = 3600.0
"""Seconds between prunings while the bot runs."""
log = logging.getLogger(__name__)


class Retention:
    """Prunes handled update ids older than ``keep``. Build once per process."""

    def __init__(
        self,
        storage: Storage,
        keep: dt.timedelta = UPDATE_IDS_DEFAULT,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if keep < UPDATE_IDS_MINIMUM:
            raise ValueError(
                f"update ids must be kept at least {UPDATE_IDS_MINIMUM.total_seconds() / 3600:g} hours"
                " (Telegram redelivers an update for that long)"
            )
        self.storage = storage
        self.keep = keep
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._task: asyncio.Task[None] | None = None

    async def prune_once(self) -> int:
        """Delete the ids handled more than ``keep`` ago; how many went."""
        older_than = self.clock() - self.keep

        def work(tx: Transaction) -> int:
            return tx.prune_updates(older_than)

        pruned = await self.storage.run(work)
        if pruned:
            log.info("pruned %d handled update ids older than %s", pruned, self.keep)
        return pruned

    async def _loop(self, every: float) -> None:
        while True:
            try:
                await self.prune_once()
            except Exception as error:  # a database hiccup: try again next time, never stop the bot
                log.warning("pruning update ids failed (%s); trying again later", type(error).__name__)
            await asyncio.sleep(every)

    def start(self, every: float = PRUNE_EVERY) -> None:
        """Prune now and then every ``every`` seconds, on the running loop, until :meth:`stop`."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(every))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
