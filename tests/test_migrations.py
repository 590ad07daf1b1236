"""The migrations build exactly the schema the models describe, and keep existing rows.

Tests build their tables straight from the models (quick); every real start
runs the migrations. This test keeps the two the same, on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

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
        await database.create_schema()  # the old way: tables, no version recorded
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
