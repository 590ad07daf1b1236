"""Role commands with every feature of `companion run` loaded: each role's commands, in that chat only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.runner import FEATURES
from bot.roles import grants
from bot.services.app import Services
from bot.services.conversation import Companion
from tests.telegram.coordinator_helpers import TOKEN, agree, sent, ui
from tests.telegram.harness import RecordingRequest, TelegramHarness


@pytest.fixture
async def everything(companion: Companion) -> AsyncIterator[TelegramHarness]:
    """The same extensions `companion run` registers (bot/adapters/telegram/runner.py)."""
    request = RecordingRequest()
    factories = list(FEATURES)
    application = build_application(
        Services.around(companion), TOKEN, request=request, rate_limit=False, features=factories
    )
    await application.initialize()
    request.take()
    yield TelegramHarness(application, request)
    await application.shutdown()


async def test_someone_with_both_roles_sees_both_sets_of_commands_in_their_chat_only(
    everything: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    alex = everything.person(991, "Alex")
    await agree(alex, companion)
    names_by_call = []
    for role in (grants.FACILITATOR, grants.COORDINATOR):
        token = await companion.storage.run(lambda tx, role=role: grants.create_invite(tx.connection, role, clock()))
        calls = await alex.says(f"/start {token}")
        assert alex.chat[-1]["text"].startswith(ui(companion, f"roles_granted_{role}").split("\n")[0])
        for call in sent(calls, "setMyCommands"):
            scope = call.params["scope"]
            assert (json.loads(scope) if isinstance(scope, str) else scope) == {"type": "chat", "chat_id": 991}
            commands = call.params["commands"]
            commands = json.loads(commands) if isinstance(commands, str) else commands
            names_by_call.append([c["command"] for c in commands])
    assert len(names_by_call) == 4
    assert names_by_call[0][-2:] == ["groups", "report"] and "people" not in names_by_call[0]
    assert names_by_call[-1][-4:] == ["people", "link", "groups", "report"]
    assert "share" in names_by_call[-1] and "start" in names_by_call[-1]
