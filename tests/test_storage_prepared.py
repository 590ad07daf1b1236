"""The prepared hot statements write and read exactly what SQLAlchemy would.

Each hot statement runs both ways in the same database: once through
SQLAlchemy's ordinary ``execute`` and once prepared on the driver (sqlite3, or
asyncpg when the suite runs on PostgreSQL). What is stored (dates, JSON, read
back as text) and the values read back must be identical, so running a
statement on the driver can never change a person's data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from bot.storage.prepared import Prepared, driver_for
from bot.storage.repository import _STATEMENTS, IN_PROGRESS, Storage

NOW = dt.datetime(2026, 11, 22, 10, 0, 30, 123456, tzinfo=dt.UTC)


@pytest.fixture
async def db(storage: Storage) -> AsyncIterator[Storage]:
    """The suite's database (SQLite, or PostgreSQL in CI's second run)."""
    assert await storage.run(lambda tx: driver_for(tx.connection)) is not None
    yield storage


def statement(tx: Any, key: str) -> Any:
    return _STATEMENTS["postgresql" if tx.connection.dialect.name == "postgresql" else "sqlite"][key]


def prepared(tx: Any, key: str) -> tuple[Prepared, Any]:
    return Prepared(statement(tx, key), tx.connection.dialect), driver_for(tx.connection)


def both_ways(tx: Any, key: str, ordinary: dict[str, Any], on_driver: dict[str, Any]) -> None:
    """Run a statement through SQLAlchemy with one set of parameters, on the driver with the other."""
    tx.connection.execute(statement(tx, key), ordinary)
    compiled, driver = prepared(tx, key)
    compiled.execute(driver, on_driver)


def stored(tx: Any, sql: str) -> list[tuple[Any, ...]]:
    """Rows as the database holds them: every column read back as text."""
    return [tuple(None if value is None else str(value) for value in row) for row in tx.connection.execute(text(sql))]


async def test_a_claim_stores_the_same_date_text(db: Storage) -> None:
    def work(tx: Any) -> list[tuple[Any, ...]]:
        both_ways(
            tx, "claim", {"channel": "t", "update_id": 1, "now": NOW}, {"channel": "t", "update_id": 2, "now": NOW}
        )
        return stored(tx, "SELECT CAST(processed_at AS TEXT) FROM processed_updates ORDER BY update_id")

    ordinary, prepared = await db.run(work)
    assert prepared == ordinary


async def test_a_repeated_claim_changes_nothing_either_way(db: Storage) -> None:
    def work(tx: Any) -> tuple[int, int]:
        compiled, driver = prepared(tx, "claim")
        params = {"channel": "t", "update_id": 7, "now": NOW}
        return compiled.execute(driver, params), compiled.execute(driver, params)

    assert await db.run(work) == (1, 0)


@pytest.mark.parametrize("value", [{"a": ["å", 1]}, ["home", "work"], "Åsa 😀", 3, None])
async def test_an_answer_stores_the_same_json_and_date(db: Storage, value: Any) -> None:
    person = await db.run(lambda tx: tx.create_person("t", "1", "en", NOW))
    run_id = await db.run(
        lambda tx: tx.save_turn(
            person, run_id=None, flow_id="f", position={}, status="active", active_flow="f", saved={}, now=NOW
        )
    )
    row = {"run_id": run_id, "person_id": person.id, "flow_id": "f", "value": value, "now": NOW}

    def work(tx: Any) -> list[tuple[Any, ...]]:
        both_ways(tx, "upsert_answer", {**row, "key": "ordinary"}, {**row, "key": "prepared"})
        return stored(tx, "SELECT CAST(value AS TEXT), CAST(answered_at AS TEXT) FROM answers ORDER BY key")

    ordinary, prepared = await db.run(work)
    assert prepared == ordinary


@pytest.mark.parametrize("value", [{"a": ["å", 1]}, ["home", "work"], "Åsa 😀", 3, None])
async def test_postgres_one_statement_turn_stores_answers_as_the_upsert_does(db: Storage, value: Any) -> None:
    """On PostgreSQL a turn's writes are one statement, the answers given as one JSON
    object; each must be stored exactly as the ordinary upsert stores it, and a
    later answer to the same step must replace it."""
    person = await db.run(lambda tx: tx.create_person("t", "1", "en", NOW))
    run_id = await db.run(
        lambda tx: tx.save_turn(
            person, run_id=None, flow_id="f", position={}, status="active", active_flow="f", saved={}, now=NOW
        )
    )

    def work(tx: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        if "write_turn" not in _STATEMENTS[tx.connection.dialect.name]:
            pytest.skip("SQLite writes a turn in separate statements (checked above)")
        tx.connection.execute(
            statement(tx, "upsert_answer"),
            {"run_id": run_id, "person_id": person.id, "flow_id": "f", "key": "ordinary", "value": value, "now": NOW},
        )
        current = tx.person("t", "1")
        moving = {"run_id": run_id, "position": {"step": "b"}, "status": IN_PROGRESS, "now": NOW, "completed_at": None}
        compiled, driver = prepared(tx, "write_turn")
        written = {
            "person_id": person.id,
            "expected": current.version,
            "new_version": current.version + 1,
            "active": "f",
            **moving,
            "flow_id": "f",
            "saved": {"written": value, "replaced": "first"},
        }
        assert compiled.first(driver, written) == (1, 1, 2)
        again = {
            **written,
            "expected": current.version + 1,
            "new_version": current.version + 2,
            "saved": {"replaced": "second"},
        }
        assert compiled.first(driver, again) == (1, 1, 1)
        return (
            stored(
                tx,
                "SELECT key, CAST(value AS TEXT), CAST(answered_at AS TEXT) FROM answers WHERE key <> 'replaced' ORDER BY key",
            ),
            stored(tx, "SELECT CAST(value AS TEXT) FROM answers WHERE key = 'replaced'"),
        )

    rows, replaced = await db.run(work)
    (_, ordinary_value, ordinary_at), (_, written_value, written_at) = rows
    assert (written_value, written_at) == (ordinary_value, ordinary_at)
    assert replaced == [('"second"',)]


@pytest.mark.parametrize("completed_at", [None, NOW])
async def test_a_run_update_stores_the_same_position_and_dates(db: Storage, completed_at: Any) -> None:
    person = await db.run(lambda tx: tx.create_person("t", "1", "en", NOW))

    def new_run(tx: Any) -> int:
        return tx.save_turn(
            person, run_id=None, flow_id="f", position={}, status="paused", active_flow=None, saved={}, now=NOW
        )

    first = await db.run(new_run)
    second = await db.run(lambda tx: tx.add_completed_run(person.id, "g", {}, NOW))
    position = {"flow": "f", "step": "why", "answers": {"name": "Åsa"}, "history": ["a", "b"]}
    params = {"position": position, "status": IN_PROGRESS, "now": NOW, "completed_at": completed_at}

    def work(tx: Any) -> list[tuple[Any, ...]]:
        both_ways(tx, "update_run", {**params, "run_id": first}, {**params, "run_id": second})
        return stored(
            tx,
            "SELECT CAST(position AS TEXT), status, CAST(updated_at AS TEXT), CAST(completed_at AS TEXT) "
            f"FROM runs WHERE id IN ({first}, {second}) ORDER BY id",
        )

    ordinary, prepared = await db.run(work)
    assert prepared == ordinary


async def test_reading_a_conversation_gives_the_same_values(db: Storage) -> None:
    person = await db.run(lambda tx: tx.create_person("t", "1", "sv", NOW, "Europe/Stockholm"))
    position = {"flow": "f", "step": "why", "answers": {"name": "Åsa"}}
    await db.run(
        lambda tx: tx.save_turn(
            person, run_id=None, flow_id="f", position=position, status="active", active_flow="f", saved={}, now=NOW
        )
    )
    params = {"channel": "t", "external_id": "1"}

    def work(tx: Any) -> tuple[Any, Any]:
        ordinary = tuple(tx.connection.execute(statement(tx, "select_conversation"), params).first())
        compiled, driver = prepared(tx, "select_conversation")
        return ordinary, compiled.first(driver, params)

    ordinary, on_driver = await db.run(work)
    assert on_driver == ordinary
    assert isinstance(on_driver[8], dt.datetime) and on_driver[-1] == position


async def test_a_version_bump_only_matches_the_expected_version(db: Storage) -> None:
    person = await db.run(lambda tx: tx.create_person("t", "1", "en", NOW))

    def bump(expected: int) -> Any:
        def work(tx: Any) -> int:
            compiled, driver = prepared(tx, "bump_version")
            return compiled.execute(
                driver, {"person_id": person.id, "expected": expected, "new_version": expected + 1, "active": None}
            )

        return work

    assert await db.run(bump(person.version + 5)) == 0
    assert await db.run(bump(person.version)) == 1


async def test_a_statement_on_the_driver_is_rolled_back_with_its_transaction(db: Storage) -> None:
    """The driver statement must run inside the turn's transaction, even as its first
    statement (SQLAlchemy's asyncpg adapter sends BEGIN only before its own first one)."""

    class Refused(Exception):
        pass

    def claim_then_fail(tx: Any) -> None:
        compiled, driver = prepared(tx, "claim")
        assert compiled.execute(driver, {"channel": "t", "update_id": 9, "now": NOW}) == 1
        raise Refused

    with pytest.raises(Refused):
        await db.run(claim_then_fail)
    assert await db.run(lambda tx: tx.claim_update("t", 9, NOW)) is True  # nothing of the failed turn was kept


async def test_claiming_and_reading_together_reports_a_redelivery_and_the_conversation(db: Storage) -> None:
    """One statement on PostgreSQL, two on SQLite: the same answers either way."""
    person = await db.run(lambda tx: tx.create_person("t", "1", "en", NOW))
    position = {"flow": "f", "step": "why"}
    await db.run(
        lambda tx: tx.save_turn(
            person, run_id=None, flow_id="f", position=position, status="active", active_flow="f", saved={}, now=NOW
        )
    )
    new, conversation = await db.run(lambda tx: tx.claim_and_read("t", "1", 500, NOW))
    assert new is True and conversation is not None
    assert (
        conversation.person.id == person.id and conversation.run is not None and conversation.run.position == position
    )
    assert conversation == await db.run(lambda tx: tx.conversation("t", "1"))
    again, _ = await db.run(lambda tx: tx.claim_and_read("t", "1", 500, NOW))
    assert again is False  # the same update id, delivered twice
    _, nobody = await db.run(lambda tx: tx.claim_and_read("t", "2", 501, NOW))
    assert nobody is None


async def test_the_turns_read_finds_the_active_run_through_the_partial_index_with_no_bound_status(
    db: Storage,
) -> None:
    """The read every turn makes names 'in_progress' in its SQL. SQLite plans a statement
    again on every run when a bound value decides whether a partial index applies, so a
    bound status would cost a fresh plan per turn (several times the read itself)."""

    def work(tx: Any) -> tuple[int, list[str]]:
        compiled, _ = prepared(tx, "select_conversation")
        values = compiled.values({"channel": "t", "external_id": "1"})
        if tx.connection.dialect.name != "sqlite":
            return len(values), ["uq_runs_in_progress"]
        plan = tx.connection.connection.driver_connection.execute("EXPLAIN QUERY PLAN " + compiled.sql, values)
        return len(values), [row[-1] for row in plan]

    bound, plan = await db.run(work)
    assert bound == 2  # channel and external id; nothing about the run's status
    assert any("uq_runs_in_progress" in step for step in plan)
