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
"database is locked". Turns that arrive together share one transaction and one
commit, each in a savepoint of its own (group commit, :class:`_GroupCommit`).
When another process holds the lock (several bot processes may share one
file), the wait is asynchronous: this process goes on with other people's
turns meanwhile. WAL checkpoints run in a background thread (see
checkpointer.py). On PostgreSQL, and between processes, the per-person version
check guards concurrent turns.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, RootTransaction, make_url
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
GROUP_LIMIT = 64
"""At most this many turns share one SQLite commit: a group runs without yielding
to the event loop, so the limit bounds how long other work waits (a few ms)."""
LOCK_TIMEOUT_SECONDS = 5.0
"""How long a transaction waits for another process to release SQLite's write lock."""
FIRST_LOCK_WAIT_SECONDS = 0.0002
LAST_LOCK_WAIT_SECONDS = 0.01
_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def _driver(connection: Connection) -> sqlite3.Connection:
    """The standard-library connection under a SQLAlchemy one (the pragmas, the
    write lock and the transaction state SQLAlchemy does not track are read there)."""
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection), "this storage runs on the standard sqlite3 driver"
    return driver


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock. Extended codes (BUSY_RECOVERY, ...) keep
    the primary code in the low byte."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF in _BUSY


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


class Database:
    """Runs synchronous repository work in one transaction, from async code."""

    url: str

    async def run(self, work: Callable[[Connection], T]) -> T:  # pragma: no cover - interface
        raise NotImplementedError

    async def run_alone(self, work: Callable[[Connection], T]) -> T:
        """Like :meth:`run`, for work that must have a transaction to itself."""
        return await self.run(work)

    async def migrate(self) -> None:
        """Bring the tables up to date with the code (Alembic); what every start-up does."""
        from bot.storage.migrate import upgrade

        await self.run_alone(upgrade)

    async def create_schema(self) -> None:
        """Create the tables straight from the models: quick, for tests and benchmarks on
        empty databases. Real databases use :meth:`migrate`, which a test keeps equal."""
        from bot.storage.audit import install_append_only
        from bot.storage.migrate import stamp_head

        def create(connection: Connection) -> None:
            Base.metadata.create_all(connection)
            install_append_only(connection)
            # The tables are the models' own, so they are at the newest migration.
            stamp_head(connection)

        await self.run_alone(create)

    async def drop_schema(self) -> None:
        def drop(connection: Connection) -> None:
            Base.metadata.drop_all(connection)
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

        await self.run_alone(drop)

    async def dispose(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class SqliteDatabase(Database):
    def __init__(self, url: str) -> None:
        parsed = make_url(url).set(drivername="sqlite+pysqlite")
        database = parsed.database
        self._file: str | None = None
        if database and database != ":memory:":
            self._file = str(Path(database).expanduser())
            _private_file(Path(self._file))
        self._checkpointer: Checkpointer | None = None
        self.url = parsed.render_as_string(hide_password=False)
        self.engine: Engine = create_engine(
            self.url,
            connect_args={"check_same_thread": False, "timeout": 5},
            pool_size=8,
            max_overflow=8,
            hide_parameters=True,  # an error's message would quote what was being saved
            **JSON_CODEC,
        )
        _configure_sqlite(self.engine)
        self._local = threading.local()
        self._opened: list[Connection] = []

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in the next group commit (see :class:`_GroupCommit`)."""
        return await self._group.run(work)

    async def run_alone(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a transaction of its own: for work that begins or commits
        itself (Alembic does), which must never share a transaction with turns."""
        connection = self._connection
        transaction = await self._take_write_lock(connection)
        try:
            result = work(connection)
        except BaseException:
            self._roll_back(connection)
            raise
        if transaction.is_active:
            transaction.commit()
        elif _driver(connection).in_transaction:
            # The work ended SQLAlchemy's transaction itself and began another on the driver.
            _driver(connection).commit()
        return result

    async def migrate(self) -> None:
        """Migrate with foreign keys off, then check them, as SQLite asks for remaking a table.

        A migration that remakes a table (copy, drop, rename) would otherwise
        run the ON DELETE CASCADE of every row on the DROP and empty the tables
        that refer to it. The pragma only takes effect outside a transaction.
        """
        from bot.storage.migrate import upgrade

        driver = _driver(self._connection)
        driver.execute("PRAGMA foreign_keys=OFF")
        try:

            def checked(connection: Connection) -> None:
                upgrade(connection)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise RuntimeError(f"a migration left a row in {broken[0]} that refers to nothing")

            await self.run_alone(checked)
        finally:
            driver.execute("PRAGMA foreign_keys=ON")

    async def _take_write_lock(self, connection: Connection) -> RootTransaction:
        """``BEGIN IMMEDIATE`` without blocking the event loop.

        While another process holds SQLite's write lock, wait here with
        ``asyncio.sleep`` (so this process goes on with other people's turns)
        and try again, for up to :data:`LOCK_TIMEOUT_SECONDS`. SQLite's own
        busy handler would sleep inside the call, stopping every turn in the
        process. Once the lock is held, WAL mode lets nothing else block the
        transaction.
        """
        wait, deadline = FIRST_LOCK_WAIT_SECONDS, None
        while True:
            try:
                return self._begin_immediate(connection)
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
                now = time.monotonic()
                deadline = deadline or now + LOCK_TIMEOUT_SECONDS
                if now >= deadline:
                    raise
            await asyncio.sleep(wait)
            wait = min(wait * 2, LAST_LOCK_WAIT_SECONDS)

    @staticmethod
    def _begin_immediate(connection: Connection) -> RootTransaction:
        """Take the write lock now (or raise SQLite's busy error), then begin SQLAlchemy's
        transaction on it, so every statement, savepoint and the commit are SQLAlchemy's own.

        The lock is taken with the driver's own ``execute`` because a failure inside
        SQLAlchemy's "begin" event would leave the Connection half-begun.
        """
        SqliteDatabase._roll_back(connection)  # left open by a failure: never build on it
        _driver(connection).execute("BEGIN IMMEDIATE")
        return connection.begin()

    @property
    def _group(self) -> _GroupCommit:
        group = getattr(self._local, "group", None)
        if group is None:
            group = self._local.group = _GroupCommit(self)
        return group

    @staticmethod
    def _roll_back(connection: Connection) -> None:
        # A transaction whose COMMIT failed is no longer active but still held:
        # rolling it back is what lets the Connection begin again.
        transaction = connection.get_transaction()
        if transaction is not None:
            transaction.rollback()
        driver = _driver(connection)
        if driver.in_transaction:
            driver.rollback()

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
        group = getattr(self._local, "group", None)
        if group is not None:
            # Turns still waiting for a group would otherwise wait for ever.
            group._fail_all(RuntimeError("the database was closed"))
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        for connection in self._opened:
            connection.close()
        self._opened.clear()
        self._local = threading.local()
        self.engine.dispose()


class _GroupCommit:
    """Several turns in one SQLite transaction, each in a savepoint of its own.

    A commit is the dearest part of a turn on SQLite: writing the changed pages
    to the WAL (about 40 µs, more than all of a turn's statements together) and
    syncing it to disk (0.15 ms to 1 ms here).
    Work handed to :meth:`run` waits for the event loop's next pass; everything
    handed over by then (up to :data:`GROUP_LIMIT` pieces) runs back to back
    under one ``BEGIN IMMEDIATE``, each piece in its own SAVEPOINT, and one
    COMMIT ends them all. Only then is any of
    them answered, so every turn is still committed before the companion replies.

    A piece that fails is rolled back to its savepoint alone (a turn that lost a
    race is simply run again, in the next group) and the others are kept. If the
    COMMIT itself fails, every piece in the group gets that error and nothing is
    kept. A caller that was cancelled before its turn came is skipped. With
    one piece waiting, no savepoint is used: a quiet bot does what it did before,
    one transaction a turn.

    On a busy bot the groups grow by themselves (in the Telegram benchmark, 32
    people at a time made groups of about 27); a quiet one pays one pass of the
    event loop.
    """

    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database
        self._waiting: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._lock_wait: asyncio.Task[None] | None = None  # kept, so the task is not collected

    async def run(self, work: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        if self._waiting and self._waiting[0][1].get_loop() is not loop:
            # Left by an event loop that stopped before their group ran (their callers are gone).
            self._waiting = []
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append((work, future))
        if len(self._waiting) == 1:
            loop.call_soon(self._start)
        return await future

    def _start(self) -> None:
        """Take the write lock now if it is free (the usual case), else wait for it
        asynchronously in a task; either way the group is what is waiting by then."""
        if not self._waiting:
            return  # failed already (the database was closed)
        try:
            connection = self.database._connection
            transaction = self.database._begin_immediate(connection)
        except Exception as error:
            if isinstance(error, sqlite3.OperationalError) and _is_busy(error):
                self._lock_wait = asyncio.get_running_loop().create_task(self._wait_then_commit(connection))
            else:
                # The file could not be opened, the disk failed...: every caller hears it.
                self._fail_all(error)
            return
        self._commit_group(connection, transaction)

    async def _wait_then_commit(self, connection: Connection) -> None:
        try:
            transaction = await self.database._take_write_lock(connection)
        except Exception as error:
            self._fail_all(error)
            return
        self._commit_group(connection, transaction)

    def _fail_all(self, error: BaseException) -> None:
        group, self._waiting = self._waiting, []
        for _work, future in group:
            if not future.done():
                future.set_exception(error)

    def _commit_group(self, connection: Connection, transaction: RootTransaction) -> None:
        group, self._waiting = self._waiting[:GROUP_LIMIT], self._waiting[GROUP_LIMIT:]
        if self._waiting:
            # The rest form the next group, straight after this one.
            asyncio.get_running_loop().call_soon(self._start)
        group = [(work, future) for work, future in group if not future.cancelled()]
        alone = len(group) == 1
        kept: list[tuple[asyncio.Future[Any], Any]] = []
        running: asyncio.Future[Any] | None = None
        try:
            for work, running in group:
                savepoint = None if alone else connection.begin_nested()
                try:
                    result = work(connection)
                except Exception as error:
                    if savepoint is None:
                        raise
                    savepoint.rollback()
                    running.set_exception(error)
                    continue
                if savepoint is not None:
                    savepoint.commit()
                kept.append((running, result))
            running = None
            transaction.commit()
        except BaseException as error:
            # A piece raised past its savepoint (alone, or not an Exception), or the
            # savepoints or the COMMIT failed: nothing of the group is kept. The piece
            # that raised hears its own error; the others hear the commit's, or that
            # the transaction was abandoned.
            SqliteDatabase._roll_back(connection)
            abandoned = RuntimeError("the transaction was abandoned")
            for _work, future in group:
                if future.done():
                    continue
                if future is running or (isinstance(error, Exception) and running is None):
                    future.set_exception(error)
                else:
                    future.set_exception(abandoned)
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            return
        for future, result in kept:
            future.set_result(result)


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
            url,
            pool_size=10,
            max_overflow=10,
            pool_recycle=RECYCLE_SECONDS,
            hide_parameters=True,  # an error's message would quote what was being saved
            **JSON_CODEC,
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


def _private_file(path: Path) -> None:
    """Make the database file readable by its owner only (0600), before SQLite opens it.

    SQLite gives the -wal and -shm files the main file's permissions. A new folder is
    made 0700; an existing file that others could read is narrowed to 0600."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError:
        pass  # not ours to change (read-only, a folder in the way): SQLite's own error says so when it opens


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
        # FULL: a commit is on the disk (fsync of the WAL) before the companion
        # replies, so "saved" stays true through a power cut, not only through the
        # process crashing (NORMAL's promise). Group commit shares one fsync
        # among the turns that arrive together, which keeps this affordable.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros in the file, not left in free pages (erasure, /delete).
        cursor.execute("PRAGMA secure_delete=ON")
        # No waiting inside SQLite: SqliteDatabase.run waits for the write lock
        # asynchronously, and in WAL mode nothing blocks a transaction holding it.
        cursor.execute("PRAGMA busy_timeout=0")
        # Checkpoints run in a background thread (checkpointer.py); this is the safety net.
        cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # SqliteDatabase.run has taken the write lock already; anything else
        # (a bare engine.begin()) takes it here.
        driver = _driver(connection)
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")
