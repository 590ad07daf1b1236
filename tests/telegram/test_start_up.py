"""`companion run` at start: it tries Telegram again, with growing waits, while the Bot API fails or
times out, and logs as plain lines or as JSON (`--log-format json`) without the token or anyone's words."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.adapters.telegram import runner
from bot.cli import app
from tests.telegram.local_api import LocalBotApi
from tests.telegram.test_typed_words_never_logged import Bot, assert_no_words, unparsable_update

TOKEN = "123456:START-up-retries-token-secret-half"


def _run_until_started(api: LocalBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *arguments: str):  # type: ignore[no-untyped-def]
    """`companion run` in this process; stopped once it has started (as Ctrl-C would)."""

    def stop_once_started() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, loop.stop)

    monkeypatch.setattr(runner, "settle_after_start_up", stop_once_started)
    monkeypatch.setattr(runner, "FIRST_WAIT", 0.05)  # the waits' growth is the same, only shorter
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("COMPANION_BOT_API_URL", api.url)
    monkeypatch.setenv("COMPANION_DATABASE_URL", f"sqlite:///{tmp_path / 'companion.db'}")
    monkeypatch.chdir(tmp_path)
    safety = threading.Timer(60, os.kill, (os.getpid(), signal.SIGINT))
    safety.start()
    try:
        return CliRunner().invoke(app, ["run", *arguments])
    finally:
        safety.cancel()
        api.close()


def test_run_tries_again_while_telegram_fails_or_times_out_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A server error, then an answer slower than the client waits (5 s): a timeout.
    api = LocalBotApi(opening=[(500, "Internal Server Error"), (502, "Bad Gateway"), 6.0])
    with caplog.at_level(logging.INFO):
        result = _run_until_started(api, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    methods = [method for method, _ in api.calls]
    assert methods[:4] == ["getMe"] * 4  # three failures, then it got through
    assert "getUpdates" in methods  # and polling started
    retries = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(retries) == 3, retries
    assert "NetworkError" in retries[0] and "Timeout" in retries[2]
    waits = [float(line.split("trying again in ")[1].split(" s")[0]) for line in retries]
    assert waits == sorted(waits) and waits[0] < waits[1]  # the wait grows
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


def test_run_gives_up_after_its_retries_and_says_so_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    api = LocalBotApi(opening=[(500, "Internal Server Error")] * 5)
    result = _run_until_started(api, tmp_path, monkeypatch, "--start-retries", "2")
    assert result.exit_code == 1, result.output
    assert [method for method, _ in api.calls] == ["getMe"] * 3
    assert "Could not reach Telegram" in result.output and TOKEN not in result.output


def test_a_refused_token_is_not_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = LocalBotApi((401, "Unauthorized"), refuse_everything=True)
    result = _run_until_started(api, tmp_path, monkeypatch)
    assert result.exit_code == 2 and "did not accept the bot token" in result.output
    assert [method for method, _ in api.calls] == ["getMe"]


def test_an_unknown_log_format_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "--log-format", "xml"])
    assert result.exit_code == 2 and "text or json" in result.output


def test_json_logs_are_one_object_a_line_without_the_token_or_anyones_words(tmp_path: Path) -> None:
    bot = Bot(LocalBotApi(updates=[unparsable_update()]), tmp_path, "--log-format", "json")
    bot.wait_for("getUpdates", times=2)
    process = bot.process
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        bot.api.close()
    assert process.returncode == 0, stderr
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert entries and all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert any(entry["message"] == "Application started" for entry in entries)
    parsing = [entry for entry in entries if "Error while parsing updates" in entry["message"]]
    assert parsing and "exception" in parsing[0]  # the traceback kept, as a field
    output = stdout + stderr
    assert_no_words(output)
    assert "TYPED-words-test-token" not in output and "123456:" not in output
