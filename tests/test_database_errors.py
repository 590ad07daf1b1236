"""A database that cannot be used gets one clear line and exit status 1, never a traceback;
the SQLite file is private to its owner and deleted rows are overwritten."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.storage.errors import explain
from bot.storage.repository import Storage


def companion(url: str, monkeypatch: pytest.MonkeyPatch, *arguments: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    return CliRunner().invoke(app, list(arguments or ["people", "list"]))


def one_clear_line(result, words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], result.output
    assert "Traceback" not in result.output


def made(path: Path) -> str:
    url = f"sqlite:///{path}"

    async def main() -> None:
        storage = await Storage.open(url)
        await storage.close()

    asyncio.run(main())
    return url


def test_a_database_from_a_newer_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = made(tmp_path / "companion.db")
    with sqlite3.connect(tmp_path / "companion.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    one_clear_line(companion(url, monkeypatch), "made by a newer version of the companion")


def test_a_file_that_is_not_a_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "companion.db").write_bytes(b"these are not the pages of a database " * 200)
    one_clear_line(companion(f"sqlite:///{tmp_path / 'companion.db'}", monkeypatch), "not a companion database")


def test_a_database_locked_by_another_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = made(tmp_path / "companion.db")
    other = sqlite3.connect(tmp_path / "companion.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        one_clear_line(companion(url, monkeypatch, "audit", "--person", "1"), "another program holds its lock")
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_read_only_database_is_explained(tmp_path: Path) -> None:
    url = made(tmp_path / "companion.db")
    # Root may write to any file whatever its mode, so the read-only error comes from SQLite's own read-only mode.
    connection = sqlite3.connect(f"file:{tmp_path / 'companion.db'}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as refused:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    explained = explain(refused.value, url)
    assert explained is not None and "Cannot write to the SQLite file" in str(explained)


def test_a_folder_where_the_file_should_be(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "companion.db").mkdir()
    one_clear_line(companion(f"sqlite:///{tmp_path / 'companion.db'}", monkeypatch), "Cannot open the SQLite file")


def test_an_unreachable_postgresql_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+asyncpg://companion:hunter2-password@127.0.0.1:{port}/companion"
    result = companion(url, monkeypatch)
    one_clear_line(result, "Cannot reach the PostgreSQL database")
    assert "hunter2-password" not in result.output


def test_the_sqlite_file_is_private_and_deleted_rows_are_overwritten(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        url = made(tmp_path / "new" / "companion.db")
    finally:
        os.umask(old)
    for name in ("companion.db", "companion.db-wal", "companion.db-shm"):
        path = tmp_path / "new" / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    # A file made before, readable by everyone, is narrowed when the companion opens it.
    (tmp_path / "old.db").touch(mode=0o644)
    os.chmod(tmp_path / "old.db", 0o644)
    made(tmp_path / "old.db")
    assert stat.S_IMODE((tmp_path / "old.db").stat().st_mode) == 0o600

    async def secure_delete() -> int:
        storage = await Storage.open(url)
        try:
            return await storage.run(lambda tx: tx.connection.exec_driver_sql("PRAGMA secure_delete").scalar_one())
        finally:
            await storage.close()

    assert asyncio.run(secure_delete()) == 1
