"""Fixtures: the real Application on a real database, talking to a recording Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.telegram.app import build_application
from bot.services.app import Services
from bot.services.conversation import Companion
from tests.telegram.harness import RecordingRequest, TelegramHarness

TOKEN = "123456:TEST-token-for-offline-tests"


@pytest.fixture
async def harness(companion: Companion) -> AsyncIterator[TelegramHarness]:
    request = RecordingRequest()
    application = build_application(Services.around(companion), TOKEN, request=request, rate_limit=False)
    await application.initialize()
    request.take()
    yield TelegramHarness(application, request)
    await application.shutdown()
