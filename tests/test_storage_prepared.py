"""SQLite's prepared hot statements write and read exactly what SQLAlchemy would.

Each hot statement runs both ways in the same SQLite database: once through
SQLAlchemy's ordinary ``execute`` and once prepared on the driver. The stored
bytes (dates, JSON) and the values read back must be identical, so switching
a statement to the prepared path can never change a person's data. (SQLite only: PostgreSQL
always takes the ordinary path.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.storage.database import open_database
from bot.storage.prepared import Prepared
from bot.storage.repository import _STATEMENTS, IN_PROGRESS, Storage

NOW = dt.datetime(2026, 11, 22, 10, 0, 30, 123456, tzinfo=dt.UTC)
SQLITE = _STATEMENTS["sqlite"]


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Storage]:
    database = open_database(f"sqlite:///{tmp_path / 'prepared.db'}")
    await database.create_schema()
    storage = Storage(database)
    yield storage
    await storage.close()


def both_ways(tx: Any, key: str, ordinary: dict[str, Any], prepared: dict[str, Any]) -> None:
    """Run a statement through SQLAlchemy with one set of parameters, prepared with the other."""
    tx.connection.execute(SQLITE[key], ordinary)
    Prepared(SQLITE[key], tx.connection.dialect).execute(tx.connection.connection.driver_connection, prepared)


def stored(tx: Any, sql: str) -> list[tuple[Any, ...]]:
    """Rows as SQLite holds them (no type conversion)."""
    return [tuple(row) for row in tx.connection.execute(text(sql))]


async def test_a_claim_stores_the_same_date_text(sqlite: Storage) -> None:
    def work(tx: Any) -> list[tuple[Any, ...]]:
        both_ways(tx, "claim", {"channel": "t", "update_id": 1, "now": NOW}, {"channel": "t", "update_id": 2, "now": NOW})
        return stored(tx, "SELECT processed_at FROM processed_updates ORDER BY update_id")

    ordinary, prepared = await sqlite.run(work)
    assert prepared == ordinary


async def test_a_repeated_claim_changes_nothing_either_way(sqlite: Storage) -> None:
    statement = SQLITE["claim"]

    def work(tx: Any) -> tuple[int, int]:
        driver = tx.connection.connection.driver_connection
        params = {"channel": "t", "update_id": 7, "now": NOW}
        first = Prepared(statement, tx.connection.dialect).execute(driver, params).rowcount
        again = Prepared(statement, tx.connection.dialect).execute(driver, params).rowcount
        return first, again

    assert await sqlite.run(work) == (1, 0)


@pytest.mark.parametrize("value", [{"a": ["å", 1]}, ["home", "work"], "Åsa 😀", 3, None])
async def test_an_answer_stores_the_same_json_and_date(sqlite: Storage, value: Any) -> None:
    person = await sqlite.run(lambda tx: tx.create_person("t", "1", "en", NOW))
    run_id = await sqlite.run(
        lambda tx: tx.save_turn(person, run_id=None, flow_id="f", position={}, status="active", active_flow="f", saved={}, now=NOW)
    )
    row = {"run_id": run_id, "person_id": person.id, "flow_id": "f", "value": value, "now": NOW}

    def work(tx: Any) -> list[tuple[Any, ...]]:
        both_ways(tx, "upsert_answer", {**row, "key": "ordinary"}, {**row, "key": "prepared"})
        return stored(tx, "SELECT value, answered_at FROM answers ORDER BY key")

    ordinary, prepared = await sqlite.run(work)
    assert prepared == ordinary


@pytest.mark.parametrize("completed_at", [None, NOW])
async def test_a_run_update_stores_the_same_position_and_dates(sqlite: Storage, completed_at: Any) -> None:
    person = await sqlite.run(lambda tx: tx.create_person("t", "1", "en", NOW))

    def new_run(tx: Any) -> int:
        return tx.save_turn(person, run_id=None, flow_id="f", position={}, status="paused", active_flow=None, saved={}, now=NOW)

    first = await sqlite.run(new_run)
    second = await sqlite.run(lambda tx: tx.add_completed_run(person.id, "g", {}, NOW))
    position = {"flow": "f", "step": "why", "answers": {"name": "Åsa"}, "history": ["a", "b"]}
    params = {"position": position, "status": IN_PROGRESS, "now": NOW, "completed_at": completed_at}

    def work(tx: Any) -> list[tuple[Any, ...]]:
        both_ways(tx, "update_run", {**params, "run_id": first}, {**params, "run_id": second})
        return stored(tx, f"SELECT position, status, updated_at, completed_at FROM runs WHERE id IN ({first}, {second}) ORDER BY id")

    ordinary, prepared = await sqlite.run(work)
    assert prepared == ordinary


async def test_reading_a_conversation_gives_the_same_values(sqlite: Storage) -> None:
    person = await sqlite.run(lambda tx: tx.create_person("t", "1", "sv", NOW, "Europe/Stockholm"))
    position = {"flow": "f", "step": "why", "answers": {"name": "Åsa"}}
    await sqlite.run(
        lambda tx: tx.save_turn(person, run_id=None, flow_id="f", position=position, status="active", active_flow="f", saved={}, now=NOW)
    )
    params = {"channel": "t", "external_id": "1"}

    def work(tx: Any) -> tuple[Any, Any]:
        ordinary = tuple(tx.connection.execute(SQLITE["select_conversation"], params).first())
        prepared = Prepared(SQLITE["select_conversation"], tx.connection.dialect).first(
            tx.connection.connection.driver_connection, params
        )
        return ordinary, prepared

    ordinary, prepared = await sqlite.run(work)
    assert prepared == ordinary
    assert isinstance(prepared[8], dt.datetime) and prepared[-1] == position


async def test_a_version_bump_only_matches_the_expected_version(sqlite: Storage) -> None:
    person = await sqlite.run(lambda tx: tx.create_person("t", "1", "en", NOW))
    statement = SQLITE["bump_version"]

    def bump(expected: int) -> Any:
        def work(tx: Any) -> int:
            params = {"person_id": person.id, "expected": expected, "new_version": expected + 1, "active": None}
            return Prepared(statement, tx.connection.dialect).execute(tx.connection.connection.driver_connection, params).rowcount

        return work

    assert await sqlite.run(bump(person.version + 5)) == 0
    assert await sqlite.run(bump(person.version)) == 1
