"""The operator commands, end to end on a database file: invite, redeem, people, revoke-role."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.roles import grants
from bot.storage.repository import Storage


def test_invite_people_and_revoke_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    monkeypatch.setenv("COMPANION_BOT_USERNAME", "@SdmCompanionBot")
    runner = CliRunner()
    result = runner.invoke(app, ["invite", "coordinator"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("https://t.me/SdmCompanionBot?start=r_")
    token = link.split("start=", 1)[1]

    async def redeem() -> str | None:
        storage = await Storage.open(url)
        now = dt.datetime.now(dt.UTC)
        try:
            person = await storage.run(lambda tx: tx.create_person("telegram", "42", "en", now))
            await storage.run(lambda tx: tx.update_person(person.id, display_name="Sam"))
            return await storage.run(lambda tx: grants.redeem_invite(tx.connection, person.id, token, now))
        finally:
            await storage.close()

    assert asyncio.run(redeem()) == "coordinator"
    listing = runner.invoke(app, ["people"])
    assert listing.exit_code == 0 and "coordinator" in listing.output and "Sam" in listing.output
    assert runner.invoke(app, ["revoke-role", "1", "coordinator"]).exit_code == 0
    assert runner.invoke(app, ["revoke-role", "1", "coordinator"]).exit_code == 1
    assert "Nobody holds a role" in runner.invoke(app, ["people"]).output
    assert runner.invoke(app, ["invite", "admin"]).exit_code == 2
