"""Backups of an SQLite database while the companion runs, and restoring one.

Copying ``companion.db`` while the bot runs misses what is still in its
``-wal`` file: the answers it has just confirmed. SQLite's online backup API
(``sqlite3.Connection.backup``) copies the database as one consistent
snapshot, WAL included, while turns carry on: in WAL mode a reader never
blocks the writer. The copy is made in one step, so a write that commits
meanwhile cannot make it start again.

PostgreSQL is backed up with its own tools (``pg_dump``; docs/deploy.md).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.storage import migrate as migrations
from bot.storage.database import is_sqlite


class BackupError(Exception):
    """A backup or restore that cannot be done; ``str()`` says why and what to do, in one line."""


@dataclass(frozen=True, slots=True)
class Copied:
    path: Path
    schema: str | None
    people: int
    pages: int


def sqlite_path(url: str) -> Path:
    """The file of an SQLite URL; a PostgreSQL URL is refused with the way to back it up."""
    if not is_sqlite(url):
        raise BackupError(
            "This database is PostgreSQL: back it up with pg_dump (docs/deploy.md), "
            "e.g. pg_dump --format=custom --file companion.dump DATABASE"
        )
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("This SQLite database is kept in memory only, so there is no file to back up.")
    return Path(database)


def _private(path: Path) -> None:
    """Create ``path`` readable by its owner only before anything is written to it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)


def _describe(connection: sqlite3.Connection) -> tuple[str | None, int]:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    schema = None
    if "alembic_version" in tables:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        schema = row[0] if row else None
    people = connection.execute("SELECT count(*) FROM people").fetchone()[0] if "people" in tables else 0
    return schema, int(people)


def backup(url: str, out: Path) -> Copied:
    """Copy the live database at ``url`` to ``out`` (a new file, 0600), consistent as of one moment."""
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"There is no database at {source_path} to back up.")
    if out.exists():
        raise BackupError(f"{out} exists already; choose a new file, so no backup is overwritten.")
    _private(out)
    try:
        with (
            sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=5) as source,
            sqlite3.connect(out) as target,
        ):
            source.backup(target)  # pages=-1: every page in one step, one snapshot
            schema, people = _describe(target)
            pages = int(target.execute("PRAGMA page_count").fetchone()[0])
            # The copy stands alone: no WAL beside it to lose when it is moved.
            target.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as error:
        out.unlink(missing_ok=True)
        raise BackupError(f"Could not back up {source_path}: {error}.") from None
    return Copied(out, schema, people, pages)


def check_backup(path: Path) -> tuple[str | None, int]:
    """The backup's schema revision and number of people, after checking it is whole and this version can use it."""
    if not path.is_file():
        raise BackupError(f"There is no file at {path}.")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise BackupError(f"{path} is damaged (SQLite's integrity check: {result}); nothing was restored.")
            schema, people = _describe(connection)
    except sqlite3.DatabaseError:
        raise BackupError(f"{path} is not an SQLite database; nothing was restored.") from None
    if schema is None:
        raise BackupError(f"{path} is not a companion backup (it has no schema version); nothing was restored.")
    known = {revision.revision for revision in ScriptDirectory.from_config(migrations.config()).walk_revisions()}
    if schema not in known:
        raise BackupError(
            f"{path} was made by a newer version of the companion; upgrade the companion first. Nothing was restored."
        )
    return schema, people


def restore(path: Path, url: str) -> tuple[str | None, int]:
    """Replace the database at ``url`` with the backup at ``path`` (checked first). Stop the bot before.

    The database keeps its file (and its 0600 mode); SQLite writes the pages
    under its own lock, so a process that still has it open sees the restored
    data rather than a half-written file."""
    schema, people = check_backup(path)
    target_path = sqlite_path(url)
    if target_path.exists() and target_path.resolve() == path.resolve():
        raise BackupError("The backup and the database are the same file; nothing was restored.")
    if not target_path.exists():
        target_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _private(target_path)
    try:
        with (
            sqlite3.connect(f"file:{path}?mode=ro", uri=True) as source,
            sqlite3.connect(target_path, timeout=5) as target,
        ):
            source.backup(target)
    except sqlite3.Error as error:
        raise BackupError(f"Could not restore into {target_path}: {error}.") from None
    return schema, people
