"""Shared set-up for the coordinator tests: the real Application with the coordinators extension."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.adapters.telegram import coordinator, invites
from bot.adapters.telegram import sharing as sharing_feature
from bot.adapters.telegram.app import build_application
from bot.roles import grants, sharing
from bot.services.app import Services
from bot.services.conversation import Companion
from tests.telegram.harness import Call, Person, RecordingRequest, TelegramHarness
from tests.telegram.talk import OWN, agree, finish, person_id, ui  # noqa: F401  (used by the coordinator tests)

TOKEN = "123456:TEST-token-for-offline-tests"
BOT_USERNAME = "sdm_companion_test_bot"


class BlockingRequest(RecordingRequest):
    """The recording Bot API, where chats in ``blocked`` refuse messages as a blocked bot does."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: set[int] = set()

    async def do_request(
        self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        if name.startswith("send") and int(params.get("chat_id", 0) or 0) in self.blocked:
            import json

            body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            return 403, json.dumps(body).encode()
        return await super().do_request(url, method, request_data, *args, **kwargs)


@pytest.fixture
async def harness(companion: Companion) -> AsyncIterator[TelegramHarness]:
    request = BlockingRequest()
    application = build_application(
        Services.around(companion),
        TOKEN,
        request=request,
        rate_limit=False,
        features=[invites.feature, sharing_feature.feature, coordinator.feature],
    )
    await application.initialize()
    request.take()
    yield TelegramHarness(application, request)
    await application.shutdown()


async def make_coordinator(harness: TelegramHarness, companion: Companion, clock, user_id: int, name: str) -> Person:  # type: ignore[no-untyped-def]
    """Someone who opened a coordinator invite (after agreeing to the privacy notice)."""
    first, _, last = name.partition(" ")
    coordinator = harness.person(user_id, first)
    if last:
        coordinator.user["last_name"] = last
    token = await companion.storage.run(lambda tx: grants.create_invite(tx.connection, grants.COORDINATOR, clock()))
    await agree(coordinator, companion)
    await coordinator.says(f"/start {token}")
    return coordinator


async def make_code(person: Person, companion: Companion) -> str:
    """The person's /share, "yes", and the code it shows."""
    await person.says("/share")
    await person.taps(ui(companion, "button_roles_share_yes", person.user["language_code"]))
    match = re.search(r": ([A-Z0-9]{4} [A-Z0-9]{4})\n", person.last["text"])
    assert match, person.last["text"]
    return match.group(1).replace(" ", "")


async def link(harness: TelegramHarness, companion: Companion, clock, person: Person, coordinator: Person) -> None:  # type: ignore[no-untyped-def]
    code = await make_code(person, companion)
    await coordinator.says(f"/link {code}")


def sent(calls: list[Call], method: str) -> list[Call]:
    return [call for call in calls if call.method == method]


def pdf_text(call: Call) -> str:
    ((_, (_filename, data)),) = call.files.items()
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def messages_to(calls: list[Call], chat_id: int) -> list[Call]:
    return [call for call in calls if call.method == "sendMessage" and int(call.params["chat_id"]) == chat_id]


async def audit(companion: Companion) -> list[tuple[int | None, int | None, str, bool]]:
    """Every audit row: (actor, subject, action, allowed), oldest first."""
    log = sharing.access_log
    rows = await companion.storage.run(
        lambda tx: tx.connection.execute(
            select(log.c.actor_id, log.c.subject_id, log.c.action, log.c.allowed).order_by(log.c.id)
        ).all()
    )
    return [tuple(row) for row in rows]


async def flows_of(companion: Companion, pid: int) -> list[tuple[str, str]]:
    runs = await companion.storage.run(lambda tx: tx.runs(pid))
    return [(run.flow_id, run.status) for run in runs]
