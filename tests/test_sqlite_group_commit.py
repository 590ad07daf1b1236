"""SQLite group commit: turns handed over together share one transaction and one commit.

Each piece runs in a savepoint of its own, so one that fails is undone alone;
a failed commit fails them all and keeps none. These always run on SQLite (the
group commit is SQLite's), also when the suite runs against PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.storage.database import open_database
from bot.storage.repository import Storage

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = Storage(open_database(f"sqlite:///{tmp_path / 'group.db'}"))
    await storage.database.create_schema()
    yield storage
    await storage.close()


async def traced(storage: Storage) -> list[str]:
    """Every statement the turn connection sends from now on, as SQLite saw it."""
    statements: list[str] = []
    driver = await storage.run(lambda tx: tx.connection.connection.driver_connection)
    driver.set_trace_callback(statements.append)
    return statements


def savepoints(statements: list[str], verb: str) -> int:
    """How many statements begin a savepoint (``SAVEPOINT name``) or release one."""
    return sum(1 for statement in statements if statement.startswith(verb + " "))


def outside(storage: Storage, sql: str) -> list[tuple[Any, ...]]:
    """What another connection sees: only what was committed."""
    path = storage.database.url.removeprefix("sqlite+pysqlite:///")
    with closing(sqlite3.connect(path)) as other:
        return other.execute(sql).fetchall()


async def test_turns_handed_over_together_share_one_transaction_and_one_commit(store: Storage) -> None:
    statements = await traced(store)
    claimed = await asyncio.gather(*(store.run(lambda tx, n=n: tx.claim_update("telegram", n, NOW)) for n in range(10)))
    assert claimed == [True] * 10
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert statements.count("COMMIT") == 1
    assert savepoints(statements, "SAVEPOINT") == savepoints(statements, "RELEASE SAVEPOINT") == 10
    assert outside(store, "SELECT count(*) FROM processed_updates") == [(10,)]


async def test_a_turn_on_its_own_needs_no_savepoint(store: Storage) -> None:
    statements = await traced(store)
    assert await store.run(lambda tx: tx.claim_update("telegram", 1, NOW))
    assert statements.count("BEGIN IMMEDIATE") == statements.count("COMMIT") == 1
    assert not any(s.startswith("SAVEPOINT") for s in statements)


async def test_a_piece_that_fails_is_undone_alone_and_the_others_are_kept(store: Storage) -> None:
    def half_done(tx: Any) -> None:
        tx.create_person("console", "a", "en", NOW)  # through SQLAlchemy
        tx.claim_update("telegram", 1, NOW)  # on the driver
        raise RuntimeError("crash mid-turn")

    results = await asyncio.gather(
        store.run(lambda tx: tx.create_person("console", "before", "en", NOW).id),
        store.run(half_done),
        store.run(lambda tx: tx.claim_update("telegram", 2, NOW)),
        return_exceptions=True,
    )
    assert isinstance(results[0], int) and results[2] is True
    assert isinstance(results[1], RuntimeError)
    assert outside(store, "SELECT external_id FROM people ORDER BY id") == [("before",)]
    assert outside(store, "SELECT update_id FROM processed_updates") == [(2,)]


async def test_a_commit_that_fails_fails_every_piece_and_keeps_none(store: Storage) -> None:
    def breaks_at_commit(tx: Any) -> None:
        # A foreign key checked only at COMMIT: the pieces all ran, the commit fails.
        tx.connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        tx.connection.execute(
            text(
                "INSERT INTO answers (run_id, person_id, flow_id, key, value, answered_at) "
                "VALUES (999, 999, 'f', 'k', '1', '2026-11-22')"
            )
        )

    results = await asyncio.gather(
        store.run(lambda tx: tx.claim_update("telegram", 1, NOW)),
        store.run(breaks_at_commit),
        return_exceptions=True,
    )
    # SQLAlchemy ends the transaction (an ordinary statement joined it) and wraps the error.
    assert all(isinstance(result, IntegrityError) and "FOREIGN KEY" in str(result) for result in results), results
    assert outside(store, "SELECT count(*) FROM processed_updates") == [(0,)]
    # Nothing is left half-open: the next turn starts clean and is kept.
    assert await store.run(lambda tx: tx.claim_update("telegram", 1, NOW)) is True
    assert outside(store, "SELECT count(*) FROM processed_updates") == [(1,)]


async def test_a_caller_cancelled_before_its_turn_came_is_skipped(store: Storage) -> None:
    ran: list[str] = []

    def record(name: str) -> Any:
        def work(tx: Any) -> str:
            ran.append(name)
            return name

        return work

    cancelled = asyncio.create_task(store.run(record("cancelled")))
    kept = asyncio.create_task(store.run(record("kept")))
    await asyncio.sleep(0)  # both are waiting for the group now
    cancelled.cancel()
    assert await kept == "kept"
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert ran == ["kept"]


async def test_a_group_waits_for_another_process_and_then_commits_together(store: Storage) -> None:
    statements = await traced(store)
    path = store.database.url.removeprefix("sqlite+pysqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    waiting = asyncio.gather(*(store.run(lambda tx, n=n: tx.claim_update("telegram", n, NOW)) for n in range(3)))
    await asyncio.sleep(0.02)
    assert not waiting.done()
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(waiting, timeout=2) == [True, True, True]
    assert outside(store, "SELECT count(*) FROM processed_updates") == [(3,)]
    assert statements.count("COMMIT") == 1 and savepoints(statements, "SAVEPOINT") == 3


async def test_a_commit_reaches_the_disk_before_anyone_is_answered(store: Storage) -> None:
    """synchronous=FULL: the WAL is synced at every COMMIT, so an answer the companion
    has confirmed survives a power cut too (NORMAL would only survive a crash)."""
    level = await store.run(lambda tx: tx.connection.exec_driver_sql("PRAGMA synchronous").scalar())
    assert level == 2  # FULL


async def test_a_database_that_cannot_be_opened_fails_every_waiting_turn(tmp_path: Path) -> None:
    """An error before the group starts (here: the database file is a folder) reaches
    every caller instead of leaving them waiting for ever."""
    (tmp_path / "folder.db").mkdir()
    storage = Storage(open_database(f"sqlite:///{tmp_path / 'folder.db'}"))
    results = await asyncio.wait_for(
        asyncio.gather(*(storage.run(lambda tx: 1) for _ in range(3)), return_exceptions=True), timeout=2
    )
    assert all(isinstance(result, Exception) for result in results), results
    await storage.close()


class Abort(BaseException):
    """Not an Exception: it means stop, not "this turn failed"."""


async def test_a_piece_that_aborts_gets_its_own_error_and_nothing_of_the_group_is_kept(store: Storage) -> None:
    def aborts(tx: Any) -> None:
        tx.claim_update("telegram", 2, NOW)
        raise Abort()

    first = asyncio.ensure_future(store.run(lambda tx: tx.claim_update("telegram", 1, NOW)))
    second = asyncio.ensure_future(store.run(aborts))
    await asyncio.wait([first, second])
    assert isinstance(second.exception(), Abort)
    assert isinstance(first.exception(), RuntimeError) and "abandoned" in str(first.exception())
    assert outside(store, "SELECT count(*) FROM processed_updates") == [(0,)]
    assert await store.run(lambda tx: tx.claim_update("telegram", 1, NOW)) is True  # and the next group is clean


async def test_a_crowd_is_split_into_groups_of_at_most_the_limit(store: Storage) -> None:
    """A group runs without yielding to the event loop; the limit bounds that time."""
    from bot.storage.database import GROUP_LIMIT

    statements = await traced(store)
    crowd = GROUP_LIMIT * 2 + 1
    claimed = await asyncio.gather(
        *(store.run(lambda tx, n=n: tx.claim_update("telegram", n, NOW)) for n in range(crowd))
    )
    assert claimed == [True] * crowd
    assert statements.count("COMMIT") == 3
    assert outside(store, "SELECT count(*) FROM processed_updates") == [(crowd,)]


async def test_turns_still_waiting_when_the_database_closes_are_told_so(tmp_path: Path) -> None:
    storage = Storage(open_database(f"sqlite:///{tmp_path / 'closing.db'}"))
    await storage.database.create_schema()
    waiting = asyncio.ensure_future(storage.run(lambda tx: tx.claim_update("telegram", 1, NOW)))
    await asyncio.sleep(0)  # handed over; its group has not started
    await storage.close()
    with pytest.raises(RuntimeError, match="closed"):
        await asyncio.wait_for(waiting, timeout=2)
