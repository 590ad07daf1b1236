"""/healthz and /metrics (bot/adapters/health.py) over real HTTP on a loopback port, on a real database,
with counts made by the real Application: turns, sends, 429s and crisis cards, never a word or an id."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.adapters.health import HealthServer
from bot.adapters.telegram import runner
from bot.adapters.telegram.app import build_application
from bot.cli import app
from bot.services.app import Services
from bot.services.conversation import Companion
from bot.services.counts import Counts
from bot.services.operators import Operators
from bot.storage import migrate as migrations
from bot.storage.repository import Storage
from tests.telegram.conftest import TOKEN
from tests.telegram.harness import RecordingRequest, TelegramHarness
from tests.telegram.local_api import LocalBotApi
from tests.telegram.talk import agree

CRISIS = "honestly I want to kill myself"


async def get(port: int, path: str, method: str = "GET") -> tuple[int, str]:
    def fetch() -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    return await asyncio.to_thread(fetch)


def value(metrics: str, name: str) -> int:
    lines = [line for line in metrics.splitlines() if line.startswith(f"{name} ")]
    assert len(lines) == 1, metrics
    return int(lines[0].split()[1])


@pytest.fixture
async def server(storage: Storage) -> AsyncIterator[tuple[HealthServer, Counts]]:
    counts = Counts()
    health = HealthServer(Operators(storage), counts)
    await health.start("127.0.0.1", 0)
    yield health, counts
    await health.stop()


async def test_healthz_says_the_database_answers_and_its_schema_is_current(
    server: tuple[HealthServer, Counts], storage: Storage
) -> None:
    health, _ = server
    assert health.port is not None
    status, body = await get(health.port, "/healthz")
    assert status == 200, body
    assert json.loads(body) == {"database": "reachable", "schema": migrations.head(), "schema_current": True}
    assert (await get(health.port, "/elsewhere"))[0] == 404
    assert (await get(health.port, "/healthz", "POST"))[0] == 405


async def test_healthz_is_503_when_the_schema_is_behind(server: tuple[HealthServer, Counts], storage: Storage) -> None:
    health, _ = server
    assert health.port is not None
    await storage.run(
        lambda tx: tx.connection.execute(
            text("UPDATE alembic_version SET version_num = :v"), {"v": migrations.BASELINE}
        )
    )
    status, body = await get(health.port, "/healthz")
    assert status == 503 and json.loads(body)["schema_current"] is False
    metrics = (await get(health.port, "/metrics"))[1]
    assert value(metrics, "companion_schema_current") == 0


async def test_healthz_is_503_and_metrics_still_answer_when_the_database_is_gone(
    tmp_path: Path, unused_port_number: int
) -> None:
    storage = await Storage.open("postgresql+asyncpg://postgres@127.0.0.1:1/nothing", migrate=False)
    health = HealthServer(Operators(storage), Counts(turns=3))
    await health.start("127.0.0.1", 0)
    try:
        assert health.port is not None
        status, body = await get(health.port, "/healthz")
        assert status == 503 and json.loads(body) == {"database": "unreachable"}
        metrics = (await get(health.port, "/metrics"))[1]
        assert value(metrics, "companion_database_up") == 0 and value(metrics, "companion_turns_total") == 3
    finally:
        await health.stop()
        await storage.close()


@pytest.fixture
def unused_port_number() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_request_with_an_endless_head_is_cut_off(server: tuple[HealthServer, Counts]) -> None:
    health, _ = server
    reader, writer = await asyncio.open_connection("127.0.0.1", health.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer == b""  # closed without an answer, and the server still serves
    assert health.port is not None
    assert (await get(health.port, "/healthz"))[0] == 200


async def test_metrics_count_turns_sends_429s_and_crisis_cards_never_words(
    companion: Companion, storage: Storage
) -> None:
    request = RecordingRequest()
    application = build_application(Services.around(companion), TOKEN, request=request, rate_limit=True)
    health = HealthServer(Operators(storage), companion.counts)
    await health.start("127.0.0.1", 0)
    try:
        async with application:
            harness = TelegramHarness(application, request)
            jo = harness.person(7701, "Jo")
            await agree(jo, companion)
            assert health.port is not None
            before = (await get(health.port, "/metrics"))[1]
            request.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
            calls = await jo.says(CRISIS)
            after = (await get(health.port, "/metrics"))[1]
    finally:
        await health.stop()
    sent = [call for call in calls if call.method in ("sendMessage", "editMessageText", "editMessageReplyMarkup")]
    assert value(after, "companion_rate_limited_total") - value(before, "companion_rate_limited_total") == 1
    # Every send recorded was accepted but the one refused with 429 (it was sent again).
    assert value(after, "companion_sends_total") - value(before, "companion_sends_total") == len(sent) - 1 > 0
    assert value(after, "companion_turns_total") - value(before, "companion_turns_total") == 1
    assert value(after, "companion_crisis_cards_total") - value(before, "companion_crisis_cards_total") == 1
    assert "kill" not in after and "7701" not in after and "Jo" not in after
    assert value(after, "companion_reminders_pending") == 0


def test_companion_run_serves_healthz_on_its_own_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unused_port_number: int
) -> None:
    answers: list[tuple[int, str]] = []

    def ask_then_stop() -> None:
        loop = asyncio.get_running_loop()

        async def ask() -> None:
            answers.append(await get(unused_port_number, "/healthz"))
            loop.stop()

        loop.call_later(0.3, loop.create_task, ask())  # once polling runs, as Ctrl-C would stop it

    monkeypatch.setattr(runner, "settle_after_start_up", ask_then_stop)
    api = LocalBotApi()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:HEALTH-port-token")
    monkeypatch.setenv("COMPANION_BOT_API_URL", api.url)
    monkeypatch.setenv("COMPANION_DATABASE_URL", f"sqlite:///{tmp_path / 'companion.db'}")
    monkeypatch.chdir(tmp_path)
    safety = threading.Timer(30, os.kill, (os.getpid(), signal.SIGINT))
    safety.start()
    try:
        result = CliRunner().invoke(app, ["run", "--health-port", str(unused_port_number)])
    finally:
        safety.cancel()
        api.close()
    assert result.exit_code == 0, result.output
    assert answers and answers[0][0] == 200 and json.loads(answers[0][1])["schema_current"] is True
    time.sleep(0.1)
    with pytest.raises(OSError):  # and it stopped listening with the bot
        urllib.request.urlopen(f"http://127.0.0.1:{unused_port_number}/healthz", timeout=2)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--health-port", "99999"], "Invalid value for '--health-port'"),
        (
            ["--webhook-url", "https://example.org/h", "--webhook-secret", "a" * 40, "--health-port", "8443"],
            "must differ",
        ),
    ],
)
def test_a_health_port_out_of_range_or_on_the_webhooks_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, arguments: list[str], expected: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", *arguments])
    assert result.exit_code == 2 and expected in result.output


def test_a_health_port_in_use_gets_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unused_port_number: int
) -> None:
    import socket

    api = LocalBotApi()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:HEALTH-port-token")
    monkeypatch.setenv("COMPANION_BOT_API_URL", api.url)
    monkeypatch.setenv("COMPANION_DATABASE_URL", f"sqlite:///{tmp_path / 'companion.db'}")
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", unused_port_number))
        taken.listen()
        try:
            result = CliRunner().invoke(app, ["run", "--health-port", str(unused_port_number)])
        finally:
            api.close()
    assert result.exit_code == 1, result.output
    assert "Could not listen" in result.output and "Traceback" not in result.output
