"""SQLite's WAL checkpoints, moved off the event loop.

In WAL mode a commit appends the changed pages to the ``-wal`` file. By
default, the commit that takes that file past 1,000 pages also copies them
back into the database (a checkpoint): several milliseconds, on the event
loop, every hundred or so turns. Measured in the Telegram benchmark, that was
about 30 µs a turn on average, and the slowest turns.

Here a background thread checkpoints once a second on its own connection.
PASSIVE checkpoints never wait for or block a writer, and the sqlite3 module
releases the GIL while one runs, so turns only ever append. The turn
connections keep a higher automatic threshold as a safety net: if this thread
ever stalled, the WAL would still stay bounded.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

INTERVAL_SECONDS = 1.0
SAFETY_NET_PAGES = 10_000
"""wal_autocheckpoint for turn connections (about 40 MB of WAL); normally never reached."""

log = logging.getLogger(__name__)


class Checkpointer:
    """One thread per database file that checkpoints its WAL every ``interval`` seconds."""

    def __init__(self, path: str, interval: float | None = None) -> None:
        self.path = path
        self.interval = INTERVAL_SECONDS if interval is None else interval
        self.last: tuple[int, int, int] | None = None
        """What the last checkpoint reported: (blocked, frames in the WAL, frames copied back)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; its connection closes, which checkpoints what is left."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            while not self._stop.wait(self.interval):
                self.checkpoint(connection)
        finally:
            connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            self.last = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as error:
            # The error names the kind of problem, never data.
            log.warning("WAL checkpoint failed: %s", type(error).__name__)
