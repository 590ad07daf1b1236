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
from tests.telegram.local_api import LocalBotApi


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
    listing = runner.invoke(app, ["people", "list", "--role", "coordinator"])
    assert listing.exit_code == 0 and "coordinator (Sam)" in listing.output
    assert runner.invoke(app, ["revoke-role", "1", "coordinator"]).exit_code == 0
    assert runner.invoke(app, ["revoke-role", "1", "coordinator"]).exit_code == 1
    assert (
        "Nobody holds the role 'coordinator'" in runner.invoke(app, ["people", "list", "--role", "coordinator"]).output
    )
    assert runner.invoke(app, ["invite", "admin"]).exit_code == 2


def _holder(url: str, *roles: str) -> int:
    async def make() -> int:
        storage = await Storage.open(url)
        now = dt.datetime.now(dt.UTC)
        try:
            person = await storage.run(lambda tx: tx.create_person("telegram", "4242", "en", now))
            for role in roles:
                await storage.run(lambda tx, role=role: grants.grant(tx.connection, person.id, role, now))
            return person.id
        finally:
            await storage.close()

    return asyncio.run(make())


def test_revoking_a_role_takes_its_commands_out_of_that_chats_menu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    url = f"sqlite:///{tmp_path / 'ops.db'}"
    api = LocalBotApi()
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:OPERATOR-TOKEN")
    monkeypatch.setenv("COMPANION_BOT_API_URL", api.url)
    person_id = _holder(url, grants.COORDINATOR, grants.FACILITATOR)
    try:
        result = CliRunner().invoke(app, ["revoke-role", str(person_id), "coordinator"])
    finally:
        api.close()
    assert result.exit_code == 0, result.output
    assert "only what they can still use" in result.output
    menus = [params for method, params in api.calls if method == "setMyCommands"]
    assert len(menus) == 2  # English (the default) and Swedish
    for params in menus:
        assert json.loads(params["scope"]) == {"type": "chat", "chat_id": 4242}
        names = [command["command"] for command in json.loads(params["commands"])]
        assert "menu" in names and "groups" in names  # public commands, and the role still held
        assert "people" not in names and "link" not in names  # the coordinator's are gone
    assert {params.get("language_code") for params in menus} == {None, "sv"}


def test_revoking_still_works_when_the_menu_cannot_be_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    api = LocalBotApi((400, "Bad Request: chat not found"))
    token = "123456:OPERATOR-TOKEN"
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("COMPANION_BOT_API_URL", api.url)
    person_id = _holder(url, grants.COORDINATOR)
    try:
        result = CliRunner().invoke(app, ["revoke-role", str(person_id), "coordinator"])
    finally:
        api.close()
    assert result.exit_code == 0
    assert "no longer a coordinator" in result.output and "could not be updated now (BadRequest)" in result.output
    assert token not in result.output
    listing = CliRunner().invoke(app, ["people", "list", "--role", "coordinator"])
    assert "Nobody holds the role 'coordinator'" in listing.output
