"""`companion reminders list` and `--now`: what is queued, seen by an operator, and time moved for a test."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.roles import grants, group_activity, groups
from bot.storage.repository import Storage
from tests.telegram.local_api import LocalBotApi

SECRET_WORDS = ("Hearing voices group", "Flat 3, 12 Home Road", "bring my sister")


def planned_database(url: str) -> None:
    """A facilitator, a member and a session for 1 December 2026 at 18:00 London time, planned on 20 November,
    and an appointment whose note no operator should read."""

    async def make() -> None:
        storage = await Storage.open(url)
        now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
        try:

            def work(tx):  # type: ignore[no-untyped-def]
                fran = tx.create_person("telegram", "501", "en", now).id
                mia = tx.create_person("telegram", "502", "en", now).id
                grants.grant(tx.connection, fran, grants.FACILITATOR, now)
                group, token = groups.create_group(tx.connection, fran, SECRET_WORDS[0], "Europe/London", now)
                groups.join(tx.connection, mia, token, consented=True, now=now)
                group_activity.schedule(
                    tx.connection, fran, group.id, dt.datetime(2026, 12, 1, 18, 0), place=SECRET_WORDS[1], now=now
                )

            await storage.run(work)
        finally:
            await storage.close()

    asyncio.run(make())


def test_reminders_list_shows_what_is_queued_and_when_without_anyones_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    planned_database(url)
    runner = CliRunner()
    early = runner.invoke(app, ["reminders", "list", "--now", "2026-11-25T12:00"])
    assert early.exit_code == 0, early.output
    lines = early.output.splitlines()
    assert lines[0] == "Queued reminders at 2026-11-25 12:00 UTC: 4, none due yet."
    rows = [line.split() for line in lines[2:]]
    assert [(row[3], row[4], row[5]) for row in rows] == [
        ("session", "session:1", "d1"),
        ("session", "session:1", "m120"),
        ("session_attendance", "after:1", "attendance"),
        ("session_feedback", "after:1", "feedback"),
    ]
    when = ["2026-11-30 18:00", "2026-12-01 16:00", "2026-12-01 19:30", "2026-12-01 19:30"]
    assert [row[1] + " " + row[2] for row in rows] == when
    assert [row[6] for row in rows] == ["2", "2", "1", "2"]  # people by their pseudonymous id only
    late = runner.invoke(app, ["reminders", "list", "--now", "2026-12-01T17:00+01:00"])
    assert late.output.splitlines()[0] == "Queued reminders at 2026-12-01 16:00 UTC: 4, 2 due now."
    assert [line.split()[0] for line in late.output.splitlines()[2:]] == ["due", "due", "later", "later"]
    for said in (early.output, late.output):
        assert not any(words.lower() in said.lower() for words in SECRET_WORDS)


def test_a_time_that_cannot_be_read_gets_a_plain_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANION_DATABASE_URL", f"sqlite:///{tmp_path / 'ops.db'}")
    result = CliRunner().invoke(app, ["reminders", "list", "--now", "next tuesday"])
    assert result.exit_code == 2
    assert "2026-12-01T18:00" in result.output and "Traceback" not in result.output


def test_dispatch_once_with_a_moved_clock_sends_what_is_due_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    planned_database(url)
    api = LocalBotApi()
    try:
        monkeypatch.setenv("COMPANION_DATABASE_URL", url)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:" + "A" * 35)
        monkeypatch.setenv("COMPANION_BOT_API_URL", api.url)
        runner = CliRunner()
        # The real clock is before the session was even planned for: nothing is due.
        first = runner.invoke(app, ["dispatch", "--once", "--now", "2026-11-25T12:00"])
        assert first.exit_code == 0, first.output
        assert "Sent 0," in first.output
        # The day before and two hours before both passed: one reminder, not two.
        second = runner.invoke(app, ["dispatch", "--once", "--now", "2026-12-01T16:30"])
        assert second.exit_code == 0, second.output
        assert "Sent 1," in second.output
        assert [method for method, _ in api.calls if method.startswith("send")] == ["sendDocument"]
        listing = runner.invoke(app, ["reminders", "list", "--now", "2026-12-01T16:30"])
        assert listing.output.splitlines()[0] == "Queued reminders at 2026-12-01 16:30 UTC: 2, none due yet."
        history = runner.invoke(app, ["reminders", "list", "--all", "--now", "2026-12-01T16:30"])
        assert [line.split()[0] for line in history.output.splitlines()[2:]] == ["dropped", "sent", "later", "later"]
    finally:
        api.close()
