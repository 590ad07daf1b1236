"""The migrations build exactly the schema the models describe, and keep existing rows.

Tests build their tables straight from the models (quick); every real start
runs the migrations. This test keeps the two the same, on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.storage import migrate
from bot.storage.database import open_database
from bot.storage.models import Base
from bot.storage.repository import Storage

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


async def _empty(url: str):  # type: ignore[no-untyped-def]
    database = open_database(url)
    await database.drop_schema()
    return database


def _ours(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Judge the companion's own tables only, not others sharing the database."""
    return not (type_ == "table" and reflected and compare_to is None)


def _differences(connection) -> list:  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _ours})
    return compare_metadata(context, Base.metadata)


async def test_migrations_build_the_models_schema(database_url: str) -> None:
    database = await _empty(database_url)
    try:
        await database.migrate()
        assert await database.run(_differences) == []
        assert await database.run(migrate.current) == migrate.head()
        await database.migrate()  # a second start changes nothing
        assert await database.run(_differences) == []
    finally:
        await database.drop_schema()
        await database.dispose()


async def test_a_database_made_before_migrations_keeps_its_rows(database_url: str) -> None:
    database = await _empty(database_url)
    try:
        # The old way: the tables as they were, no version recorded.
        await database.run(lambda connection: command.upgrade(migrate.config(connection), migrate.BASELINE))
        await database.run(lambda connection: connection.exec_driver_sql("DROP TABLE alembic_version"))
        storage = Storage(database)
        await storage.run(lambda tx: tx.create_person("console", "me", "sv", NOW))
        assert await database.run(migrate.current) is None
        await database.migrate()
        assert await database.run(migrate.current) == migrate.head()
        person = await storage.run(lambda tx: tx.person("console", "me"))
        assert person is not None and person.language == "sv"
    finally:
        await database.drop_schema()
        await database.dispose()


async def test_storage_open_migrates(database_url: str) -> None:
    database = await _empty(database_url)
    await database.dispose()
    storage = await Storage.open(database_url)
    try:
        assert await storage.run(lambda tx: migrate.current(tx.connection)) == migrate.head()
        assert await storage.run(lambda tx: tx.person("console", "nobody")) is None
    finally:
        await storage.database.drop_schema()
        await storage.close()


async def test_claimed_updates_survive_the_move_to_a_without_rowid_table(database_url: str) -> None:
    """Migration 0002 remakes processed_updates on SQLite; a redelivery after the
    upgrade must still be recognised."""
    from alembic import command
    from sqlalchemy import text

    database = await _empty(database_url)
    try:
        await database.run(lambda connection: command.upgrade(migrate.config(connection), migrate.BASELINE))
        storage = Storage(database)
        assert await storage.run(lambda tx: tx.claim_update("telegram", 41, NOW)) is True
        await database.migrate()
        assert await database.run(migrate.current) == migrate.head()
        assert await database.run(_differences) == []
        assert await storage.run(lambda tx: tx.claim_update("telegram", 41, NOW)) is False  # seen before the upgrade
        assert await storage.run(lambda tx: tx.claim_update("telegram", 42, NOW)) is True
        if database.url.startswith("sqlite"):
            ddl = await database.run(
                lambda c: c.execute(text("SELECT sql FROM sqlite_master WHERE name = 'processed_updates'")).scalar_one()
            )
            assert "WITHOUT ROWID" in ddl
    finally:
        await database.drop_schema()
        await database.dispose()


async def test_the_upgrade_that_stops_id_reuse_keeps_everyones_rows_and_drops_orphaned_notes(database_url: str) -> None:
    """Migration 0003 remakes ``people`` on SQLite (AUTOINCREMENT) without its cascades
    emptying anything, and removes runs about someone no longer in the database."""
    from sqlalchemy import text

    database = await _empty(database_url)
    try:
        await database.run(lambda connection: command.upgrade(migrate.config(connection), "5b0f3c7d9a21"))

        def before(connection) -> None:  # type: ignore[no-untyped-def]
            def person(external_id: str) -> int:
                return connection.execute(
                    text(
                        "INSERT INTO people (channel, external_id, language, timezone, consented_at, created_at, version)"
                        " VALUES ('telegram', :e, 'en', 'Europe/London', :now, :now, 1) RETURNING id"
                    ),
                    {"e": external_id, "now": NOW},
                ).scalar_one()

            def run(owner: int, about: dict, status: str) -> int:  # type: ignore[type-arg]
                position = json.dumps({"flow": "what_we_agreed", "step": "will_do", "answers": {}, "about": about})
                run_id = connection.execute(
                    text(
                        "INSERT INTO runs (person_id, flow_id, status, position, started_at, updated_at)"
                        " VALUES (:p, 'what_we_agreed', :s, :pos, :now, :now) RETURNING id"
                    ),
                    {"p": owner, "s": status, "pos": position, "now": NOW},
                ).scalar_one()
                connection.execute(
                    text(
                        "INSERT INTO answers (run_id, person_id, flow_id, key, value, answered_at)"
                        " VALUES (:r, :p, 'what_we_agreed', 'will_do', '\"notes\"', :now)"
                    ),
                    {"r": run_id, "p": owner, "now": NOW},
                )
                return run_id

            coordinator, kept, gone = person("1"), person("2"), person("3")
            run(coordinator, {"person_id": kept}, "completed")
            run(coordinator, {"person_id": gone}, "in_progress")
            connection.execute(text("DELETE FROM people WHERE id = :g"), {"g": gone})

        await database.run(before)
        await database.migrate()
        assert await database.run(migrate.current) == migrate.head()
        assert await database.run(_differences) == []
        rows = await database.run(
            lambda c: c.execute(text("SELECT person_id, about_person_id FROM runs ORDER BY id")).all()
        )
        people = await database.run(lambda c: c.execute(text("SELECT id FROM people ORDER BY id")).scalars().all())
        assert [tuple(row) for row in rows] == [(people[0], people[1])]  # the orphaned notes are gone, the rest kept
        answers = await database.run(lambda c: c.execute(text("SELECT count(*) FROM answers")).scalar_one())
        assert answers == 1
    finally:
        await database.drop_schema()
        await database.dispose()


async def test_the_upgrade_to_a_lasting_audit_trail_keeps_its_rows_and_makes_it_append_only(database_url: str) -> None:
    """Migration 0004 drops the cascades from people to access_log (every row kept) and adds the
    triggers that refuse UPDATE and DELETE."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from bot.roles import sharing

    database = await _empty(database_url)
    try:
        await database.run(lambda connection: command.upgrade(migrate.config(connection), "7c1e2f4a8b30"))
        storage = Storage(database)
        person = (await storage.run(lambda tx: tx.create_person("telegram", "1", "en", NOW))).id
        looker = (await storage.run(lambda tx: tx.create_person("telegram", "2", "en", NOW))).id
        for action in ("link", "summary"):
            await storage.run(
                lambda tx, action=action: tx.connection.execute(
                    sharing.access_log.insert().values(
                        actor_id=looker, subject_id=person, action=action, allowed=True, at=NOW
                    )
                )
            )
        await database.migrate()
        assert await database.run(migrate.current) == migrate.head()
        assert await database.run(_differences) == []
        await storage.run(lambda tx: tx.erase_person(looker))
        trail = await storage.run(lambda tx: sharing.trail_of(tx.connection, person))
        assert [(e.actor_id, e.action) for e in trail] == [(looker, "link"), (looker, "summary")]
        with pytest.raises(DBAPIError):
            await storage.run(lambda tx: tx.connection.execute(text("DELETE FROM access_log")))
        assert len(await storage.run(lambda tx: sharing.trail_of(tx.connection, person))) == 2
    finally:
        await database.drop_schema()
        await database.dispose()
