"""Bring a database's tables up to date with the code, with Alembic.

Every start of the companion (console chat, Telegram, dispatcher) runs the
migrations the database has not had yet, inside one transaction, so a person
who upgrades keeps every answer they gave. Migrations live in
bot/storage/migrations/versions; make a new one after changing
bot/storage/models.py with::

    python -m bot.storage.migrate revision "what changed"

and read the generated file before committing it (SQLite needs batch mode
for most ALTERs; autogenerate does that here).
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def config(connection: Connection | None = None) -> Config:
    settings = Config()
    settings.set_main_option("script_location", str(MIGRATIONS))
    settings.attributes["connection"] = connection
    return settings


BASELINE = "2db844cb049d"
"""The first migration: the schema as it was before migrations were kept."""


MIGRATION_LOCK = 0x5D3C0A11
"""PostgreSQL advisory lock key held while migrating (any fixed number the database's other users don't take)."""


def upgrade(connection: Connection) -> None:
    """Run every migration this database has not had, on this connection's transaction.

    A database made before migrations were kept (its tables exist, with no
    version recorded) is marked as the baseline first, so its rows are kept.
    """
    settings = config(connection)
    if connection.dialect.name == "postgresql":
        # Processes that start together on one database migrate one at a time:
        # the others wait here, then find nothing left to do. The lock ends with
        # the transaction the migrations run in.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    if current(connection) is None and inspect(connection).has_table("people"):
        command.stamp(settings, BASELINE)
    command.upgrade(settings, "head")


def stamp_head(connection: Connection) -> None:
    """Record that this database is at the newest migration (its tables were made from the models)."""
    command.stamp(config(connection), "head")


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(config()).get_current_head()


def _make_revision(message: str) -> None:  # pragma: no cover - a developer's tool
    """Autogenerate a migration from the models against a scratch SQLite database."""
    import tempfile

    from sqlalchemy import create_engine

    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/scratch.db")
        with engine.begin() as connection:
            upgrade(connection)
            command.revision(config(connection), message=message, autogenerate=True)


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) == 3 and sys.argv[1] == "revision":
        _make_revision(sys.argv[2])
    else:
        print('usage: python -m bot.storage.migrate revision "what changed"')
