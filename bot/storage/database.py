"""Open the database: SQLite embedded by default, PostgreSQL to scale.

The repository is written once, as synchronous SQLAlchemy on a ``Connection``.
:class:`Database` runs a unit of that work in one transaction without
blocking the event loop, choosing the cheapest bridge for each backend:

- PostgreSQL (``postgresql+asyncpg://``): SQLAlchemy's asyncio engine, with
  the work run through ``AsyncConnection.run_sync``.
- SQLite: the standard ``sqlite3`` driver, run directly on the event loop, on
  one connection per thread that is kept open. A turn's transaction is a few
  statements on a local file (a fraction of a millisecond). Handing each
  statement to a thread (aiosqlite) cost about 15 hand-offs a turn, and even
  one hand-off per transaction cost more than the transaction itself.

SQLite runs in WAL mode (readers never block the writer) with foreign keys on.
Every transaction starts with ``BEGIN IMMEDIATE``, so a turn takes the write
lock before it reads: turns are serialised instead of failing late with
"database is locked". When another process holds the lock (several bot
processes may share one file), the wait is asynchronous: this process goes on
with other people's turns meanwhile. WAL checkpoints run in a background
thread (see checkpointer.py). On PostgreSQL, and between processes, the
per-person version check guards concurrent turns.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.storage.checkpointer import SAFETY_NET_PAGES, Checkpointer
from bot.storage.models import Base

T = TypeVar("T")


def _json_loads(text: Any) -> Any:
    if not isinstance(text, (str, bytes)):
        # SQLite hands a JSON number back as a number; SQLAlchemy expects
        # json.loads' TypeError for that and keeps the number.
        raise TypeError(type(text).__name__)
    return orjson.loads(text)


JSON_CODEC: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value).decode(),
    "json_deserializer": _json_loads,
}
"""JSON columns (a turn's position, answers) through orjson: the same JSON, made and
read several times faster than the standard library does, twice every turn."""

RECYCLE_SECONDS = 1800
"""PostgreSQL connections are replaced after 30 minutes, before servers or proxies time them out."""
LOCK_TIMEOUT_SECONDS = 5.0
"""How long a transaction waits for another process to release SQLite's write lock."""
FIRST_LOCK_WAIT_SECONDS = 0.0002
LAST_LOCK_WAIT_SECONDS = 0.01
_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


class Database:
    """Runs synchronous repository work in one transaction, from async code."""

    url: str

    async def run(self, work: Callable[[Connection], T]) -> T:  # pragma: no cover - interface
        raise NotImplementedError

    async def migrate(self) -> None:
        """Bring the tables up to date with the code (Alembic); what every start-up does."""
        from bot.storage.migrate import upgrade

        await self.run(upgrade)

    async def create_schema(self) -> None:
        """Create the tables straight from the models: quick, for tests and benchmarks on
        empty databases. Real databases use :meth:`migrate`, which a test keeps equal."""
        await self.run(lambda connection: Base.metadata.create_all(connection))

    async def drop_schema(self) -> None:
        def drop(connection: Connection) -> None:
            Base.metadata.drop_all(connection)
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

        await self.run(drop)

    async def dispose(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class SqliteDatabase(Database):
    def __init__(self, url: str) -> None:
        parsed = make_url(url).set(drivername="sqlite+pysqlite")
        database = parsed.database
        self._file: str | None = None
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self._file = str(Path(database).expanduser())
        self._checkpointer: Checkpointer | None = None
        self.url = parsed.render_as_string(hide_password=False)
        self.engine: Engine = create_engine(
            self.url, connect_args={"check_same_thread": False, "timeout": 5}, pool_size=8, max_overflow=8, **JSON_CODEC
        )
        _configure_sqlite(self.engine)
        self._local = threading.local()
        self._opened: list[Connection] = []

    async def run(self, work: Callable[[Connection], T]) -> T:
        """The transaction is the driver's own: BEGIN IMMEDIATE, then COMMIT or ROLLBACK
        on sqlite3. A turn's statements run on the driver too (prepared.py), so
        SQLAlchemy takes part only if the work runs an ordinary statement: then it
        joins the open transaction (see ``_on_begin``) and ends it itself."""
        connection = self._connection
        driver = connection.connection.driver_connection
        await self._take_write_lock(connection)
        try:
            result = work(connection)
        except BaseException:
            if connection.in_transaction():
                connection.rollback()
            if driver.in_transaction:
                driver.rollback()
            raise
        if connection.in_transaction():
            connection.commit()
        else:
            driver.commit()
        return result

    async def _take_write_lock(self, connection: Connection) -> None:
        """``BEGIN IMMEDIATE`` without blocking the event loop.

        While another process holds SQLite's write lock, wait here with
        ``asyncio.sleep`` (so this process goes on with other people's turns)
        and try again, for up to :data:`LOCK_TIMEOUT_SECONDS`. SQLite's own
        busy handler would sleep inside the call, stopping every turn in the
        process. Once the lock is held, WAL mode lets nothing else block the
        transaction.
        """
        driver = connection.connection.driver_connection
        if driver.in_transaction:
            # Left open by a failure nothing rolled back: never build on it.
            driver.rollback()
        wait, deadline = FIRST_LOCK_WAIT_SECONDS, None
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                # The primary code (extended codes such as BUSY_RECOVERY keep it in the low byte).
                if getattr(error, "sqlite_errorcode", 0) & 0xFF not in _BUSY:
                    raise
                now = time.monotonic()
                deadline = deadline or now + LOCK_TIMEOUT_SECONDS
                if now >= deadline:
                    raise
            await asyncio.sleep(wait)
            wait = min(wait * 2, LAST_LOCK_WAIT_SECONDS)

    @property
    def _connection(self) -> Connection:
        """This thread's connection, opened once and kept: the work runs to the end
        without awaiting, so one thread never has two transactions at a time, and
        a pool check-out per turn (about 17 µs) is saved."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self.engine.connect()
            if self._checkpointer is None and self._file is not None:
                self._checkpointer = Checkpointer(self._file)
                self._checkpointer.start()
            self._opened.append(connection)
        return connection

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        for connection in self._opened:
            connection.close()
        self._opened.clear()
        self._local = threading.local()
        self.engine.dispose()


class AsyncDatabase(Database):
    """PostgreSQL through asyncpg.

    A pooled connection the server has closed (a restart, an idle timeout) is
    found when it is used, not by a ping before every transaction: with
    asyncpg SQLAlchemy's pre-ping costs three round trips (BEGIN, a query,
    ROLLBACK) each time, more than a whole turn's own statements. The broken
    connection is dropped from the pool and the work runs once more on a fresh
    one, but only when the break came before the commit: then nothing of the
    first attempt was kept. A break during the commit is reported, never
    retried (the commit may have happened, and a typed answer applied twice
    would land on the next question).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=10, max_overflow=10, pool_recycle=RECYCLE_SECONDS, **JSON_CODEC
        )

    async def run(self, work: Callable[[Connection], T]) -> T:
        for attempt in range(2):
            async with self.engine.connect() as connection:
                transaction = await connection.begin()
                try:
                    result = await connection.run_sync(work)
                except Exception:
                    # Leaving the block rolls back; a broken connection leaves the pool.
                    if attempt == 0 and connection.invalidated:
                        continue
                    raise
                await transaction.commit()
                return result
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def dispose(self) -> None:
        await self.engine.dispose()


def open_database(url: str) -> Database:
    if is_sqlite(url):
        return SqliteDatabase(url)
    return AsyncDatabase(url)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives the process crashing; only a
        # power cut can lose the last commits. FULL would fsync every turn.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # No waiting inside SQLite: SqliteDatabase.run waits for the write lock
        # asynchronously, and in WAL mode nothing blocks a transaction holding it.
        cursor.execute("PRAGMA busy_timeout=0")
        # Checkpoints run in a background thread (checkpointer.py); this is the safety net.
        cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # SqliteDatabase.run has taken the write lock already; anything else
        # (a bare engine.begin()) takes it here. Straight on the driver: this runs
        # before every turn, and exec_driver_sql would add SQLAlchemy's machinery.
        driver = connection.connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")
