"""`companion run` without a token explains how to get one, without a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.telegram.local_api import LocalBotApi


def test_run_without_a_token_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("COMPANION_TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2
    assert "@BotFather" in result.output and "companion chat" in result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(result.exception, SystemExit)


def test_webhook_mode_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.delenv("COMPANION_WEBHOOK_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "--webhook-url", "https://example.org/hook"])
    assert result.exit_code == 2
    assert "secret" in result.output
    assert "123:abc" not in result.output


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--webhook-secret", "x"], "use at least 32"),
        (["--webhook-secret", "a" * 31], "use at least 32"),
        (["--webhook-secret", "a" * 40, "--port", "99999"], "Invalid value for '--port'"),
        (["--webhook-secret", "a" * 40, "--port", "0"], "Invalid value for '--port'"),
    ],
)
def test_webhook_mode_refuses_a_short_secret_and_a_port_out_of_range(  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch, tmp_path, arguments: list[str], expected: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.delenv("COMPANION_WEBHOOK_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "--webhook-url", "https://example.org/hook", *arguments])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output and "123:abc" not in result.output


def _unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_says_plainly_when_telegram_cannot_be_reached(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    token = "123456:SECRET-TOKEN"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("COMPANION_BOT_API_URL", f"http://127.0.0.1:{_unused_port()}/bot")
    monkeypatch.setenv("COMPANION_DATABASE_URL", f"sqlite:///{tmp_path / 'companion.db'}")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "--start-retries", "0"])  # retries: tests/telegram/test_start_up.py
    assert result.exit_code == 1
    assert "Could not reach Telegram" in result.output and "internet connection" in result.output
    assert token not in result.output and "Traceback" not in result.output


def test_run_says_plainly_when_telegram_refuses_the_token(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    api = LocalBotApi((401, "Unauthorized"), refuse_everything=True)
    token = "123456:REVOKED-TOKEN"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("COMPANION_BOT_API_URL", api.url)
    monkeypatch.setenv("COMPANION_DATABASE_URL", f"sqlite:///{tmp_path / 'companion.db'}")
    monkeypatch.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, ["run"])
    finally:
        api.close()
    assert result.exit_code == 2
    assert "did not accept the bot token" in result.output and "@BotFather" in result.output
    assert token not in result.output


def test_run_settles_memory_once_it_has_started_and_stops_cleanly(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`companion run` tunes garbage collection after start-up (bot/memory.py). The real
    tuning would change this test process, so a stand-in records the call and stops the bot."""
    import asyncio
    import os
    import signal
    import threading

    from bot.adapters.telegram import runner

    settled: list[list[str]] = []

    def settle_then_stop() -> None:
        settled.append([method for method, _ in api.calls])  # what had reached Telegram by then
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, loop.stop)  # as Ctrl-C would, once polling runs

    monkeypatch.setattr(runner, "settle_after_start_up", settle_then_stop)
    api = LocalBotApi()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TOKEN")
    monkeypatch.setenv("COMPANION_BOT_API_URL", api.url)
    monkeypatch.setenv("COMPANION_DATABASE_URL", f"sqlite:///{tmp_path / 'companion.db'}")
    monkeypatch.chdir(tmp_path)
    # Should the stand-in never be called, Ctrl-C after 10 s ends the bot (PTB stops on
    # SIGINT) and the test fails instead of waiting for ever.
    safety = threading.Timer(10, os.kill, (os.getpid(), signal.SIGINT))
    safety.start()
    try:
        result = CliRunner().invoke(app, ["run"])
    finally:
        safety.cancel()
        api.close()
    assert len(settled) == 1, settled
    assert "setMyCommands" in settled[0] and "getUpdates" not in settled[0]  # after start-up, before polling
    assert "getUpdates" in [method for method, _ in api.calls]  # and polling did start
    assert result.exit_code == 0, result.output
