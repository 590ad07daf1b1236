"""`companion backup` and `companion restore` on SQLite, round trip while another process keeps
committing, and the pruning of handled update ids."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.services.retention import Retention
from bot.storage.repository import Storage

ROOT = Path(__file__).parent.parent

WRITER = """
import asyncio, datetime as dt, sys
from bot.storage.repository import Storage

async def main(url: str) -> None:
    storage = await Storage.open(url)
    number = 0
    while True:
        number += 1
        now = dt.datetime.now(dt.UTC)

        def work(tx, number=number):
            person = tx.create_person("telegram", str(100000 + number), "en", now)
            tx.add_completed_run(person.id, "questions", {"goal": f"answer {number}"}, now)

        await storage.run(work)
        print(number, flush=True)  # confirmed: committed and synced

asyncio.run(main(sys.argv[1]))
"""


def _made(url: str) -> None:
    async def main() -> None:
        storage = await Storage.open(url)
        await storage.close()

    asyncio.run(main())


def _answers(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT json_extract(value, '$') FROM answers")}


def test_a_backup_taken_while_another_process_commits_holds_every_confirmed_answer_and_restores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live" / "companion.db"
    url = f"sqlite:///{live}"
    _made(url)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ)
    )
    try:
        assert writer.stdout is not None
        confirmed = [int(writer.stdout.readline()) for _ in range(40)]
        monkeypatch.setenv("COMPANION_DATABASE_URL", url)
        out = tmp_path / "backups" / "companion-backup.db"
        out.parent.mkdir()
        result = CliRunner().invoke(app, ["backup", "--out", str(out)])
        after = [int(writer.stdout.readline()) for _ in range(10)]  # it went on writing meanwhile
    finally:
        writer.kill()
        writer.wait()
    assert result.exit_code == 0, result.output
    assert "readable by you only" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    kept = _answers(out)
    assert {f"answer {number}" for number in confirmed} <= kept  # nothing it had confirmed is missing
    assert after[-1] > confirmed[-1]
    with sqlite3.connect(out) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # stands alone, no -wal
    assert not Path(f"{out}-wal").exists()

    # Put it back into a fresh place, as after losing the server.
    restored = tmp_path / "restored" / "companion.db"
    monkeypatch.setenv("COMPANION_DATABASE_URL", f"sqlite:///{restored}")
    result = CliRunner().invoke(app, ["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    assert _answers(restored) == kept
    assert stat.S_IMODE(restored.stat().st_mode) == 0o600
    status = CliRunner().invoke(app, ["status"])
    assert status.exit_code == 0 and "current" in status.output


def test_restore_asks_first_and_refuses_what_is_not_a_whole_backup_of_this_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'companion.db'}"
    _made(url)
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    good = tmp_path / "good.db"
    assert CliRunner().invoke(app, ["backup", "--out", str(good)]).exit_code == 0
    again = CliRunner().invoke(app, ["backup", "--out", str(good)])
    assert again.exit_code == 1 and "exists already" in again.output

    declined = CliRunner().invoke(app, ["restore", str(good)], input="n\n")
    assert declined.exit_code == 1 and "Nothing was restored" in declined.output

    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, just some words " * 200)
    refused = CliRunner().invoke(app, ["restore", str(text), "--yes"])
    assert refused.exit_code == 1 and "not an SQLite database" in refused.output
    assert "Traceback" not in refused.output

    newer = tmp_path / "newer.db"
    shutil.copy(good, newer)
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    refused = CliRunner().invoke(app, ["restore", str(newer), "--yes"])
    assert refused.exit_code == 1 and "newer version" in refused.output


def test_backup_of_postgresql_points_at_pg_dump(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COMPANION_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/anything")
    result = CliRunner().invoke(app, ["backup", "--out", str(tmp_path / "x.db")])
    assert result.exit_code == 1 and "pg_dump" in result.output
    assert not (tmp_path / "x.db").exists()


# --------------------------------------------------------------------------- pruning update ids

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


async def test_handled_update_ids_older_than_the_retention_are_pruned(storage: Storage) -> None:
    for update_id, age in ((1, dt.timedelta(days=10)), (2, dt.timedelta(days=8)), (3, dt.timedelta(hours=30))):
        await storage.run(lambda tx, u=update_id, a=age: tx.claim_update("telegram", u, NOW - a))
    retention = Retention(storage, dt.timedelta(days=7), clock=lambda: NOW)
    assert await retention.prune_once() == 2
    # The one kept is still handled once; the pruned ones could never come again from Telegram.
    assert not await storage.run(lambda tx: tx.claim_update("telegram", 3, NOW))
    assert await retention.prune_once() == 0
    with pytest.raises(ValueError, match="at least 24 hours"):
        Retention(storage, dt.timedelta(hours=23))


def test_run_refuses_to_keep_update_ids_less_than_a_day(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("COMPANION_KEEP_UPDATE_IDS_HOURS", "2")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2 and "at least 24" in result.output


def test_companion_run_prunes_old_update_ids_when_it_starts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import signal
    import threading

    from bot.adapters.telegram import runner
    from tests.telegram.local_api import LocalBotApi

    url = f"sqlite:///{tmp_path / 'companion.db'}"
    now = dt.datetime.now(dt.UTC)

    async def seed() -> None:
        storage = await Storage.open(url)
        await storage.run(lambda tx: tx.claim_update("telegram", 1, now - dt.timedelta(days=3)))
        await storage.run(lambda tx: tx.claim_update("telegram", 2, now - dt.timedelta(hours=1)))
        await storage.close()

    asyncio.run(seed())

    def stop_soon() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.5, loop.stop)

    monkeypatch.setattr(runner, "settle_after_start_up", stop_soon)
    api = LocalBotApi()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:PRUNE-token")
    monkeypatch.setenv("COMPANION_BOT_API_URL", api.url)
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    monkeypatch.setenv("COMPANION_KEEP_UPDATE_IDS_HOURS", "48")
    monkeypatch.chdir(tmp_path)
    safety = threading.Timer(30, os.kill, (os.getpid(), signal.SIGINT))
    safety.start()
    try:
        result = CliRunner().invoke(app, ["run"])
    finally:
        safety.cancel()
        api.close()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "companion.db") as connection:
        assert [row[0] for row in connection.execute("SELECT update_id FROM processed_updates")] == [2]
