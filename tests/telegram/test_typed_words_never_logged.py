"""Nothing a person typed reaches the log, on any path an update can take.

An update that cannot be parsed is the dangerous one: PTB logs it whole, at
CRITICAL, to help whoever reads the log. Here it arrives as a real webhook
request, in a real polling answer, and as a polling answer that is not even
JSON, to `companion run` in its own process; its output must not hold the
words, and must still say that an update could not be read, with its id.
The error handler, a log call given an update, and the database's error
messages are checked the same way.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from telegram import Update
from telegram.ext import MessageHandler, filters

from bot import logs
from bot.services.conversation import Companion
from bot.storage.repository import Storage, Transaction
from tests.telegram.harness import TelegramHarness
from tests.telegram.local_api import LocalBotApi

WORDS = "I stopped my lithium last week and nobody knows"
SECRET = "webhook-secret-for-the-test-of-32-characters"
UPDATE_ID = 424242


def unparsable_update(update_id: int = UPDATE_ID) -> dict[str, Any]:
    """A message whose sender is not an object: PTB cannot turn it into an Update."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1764000000,
            "chat": {"id": 5, "type": "private"},
            "from": WORDS,
            "text": WORDS,
        },
    }


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Bot:
    """`companion run` in its own process, stopped with Ctrl-C (SIGINT)."""

    def __init__(self, api: LocalBotApi, folder: Path, *args: str) -> None:
        environment = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": "123456:TYPED-words-test-token",
            "COMPANION_BOT_API_URL": api.url,
            "COMPANION_DATABASE_URL": f"sqlite:///{folder / 'companion.db'}",
            "LANG": "en_GB.UTF-8",
        }
        self.api = api
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=folder,
        )

    def wait_for(self, method: str, times: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if [name for name, _ in self.api.calls].count(method) >= times:
                return
            assert self.process.poll() is None, self.process.communicate()
            time.sleep(0.05)
        raise AssertionError(f"{method} was not called {times} times")

    def stop(self) -> str:
        try:
            self.process.send_signal(signal.SIGINT)
            stdout, stderr = self.process.communicate(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.api.close()
        assert self.process.returncode == 0, stderr
        return stdout + stderr


def post(port: int, body: bytes) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram",
        data=body,
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def assert_no_words(output: str) -> None:
    assert WORDS not in output
    assert "lithium" not in output and "nobody knows" not in output


def test_a_webhook_update_that_cannot_be_parsed_is_logged_without_its_words(tmp_path: Path) -> None:
    port = unused_port()
    bot = Bot(
        LocalBotApi(),
        tmp_path,
        "--webhook-url",
        "https://example.invalid/telegram",
        "--webhook-secret",
        SECRET,
        "--port",
        str(port),
    )
    bot.wait_for("setWebhook")
    deadline = time.monotonic() + 10
    while True:  # PTB sets the webhook just before it listens
        try:
            status = post(port, json.dumps(unparsable_update()).encode())
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    output = bot.stop()
    assert status == 400  # refused, as before
    assert_no_words(output)
    assert "Received data was *not* processed" in output  # it is said ...
    assert f"update {UPDATE_ID}" in output  # ... with the update's id


def test_a_polled_update_that_cannot_be_parsed_is_logged_without_its_words(tmp_path: Path) -> None:
    bot = Bot(LocalBotApi(updates=[unparsable_update()]), tmp_path)
    bot.wait_for("getUpdates", times=2)  # the bad answer, then polling goes on
    output = bot.stop()
    assert_no_words(output)
    assert "Error while parsing updates" in output
    assert f"updates {UPDATE_ID}" in output


def test_a_polling_answer_that_is_not_json_is_logged_without_its_words(tmp_path: Path) -> None:
    cut_short = json.dumps({"ok": True, "result": [unparsable_update()]})[:-20]
    bot = Bot(LocalBotApi(updates=cut_short), tmp_path)
    bot.wait_for("getUpdates", times=2)
    output = bot.stop()
    assert "Can not load invalid JSON data" in output
    assert_no_words(output)


class Collect(logging.Handler):
    """Every record, formatted with its traceback, as a log file would hold it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def collected() -> Iterator[Collect]:
    logs.install()  # as every command and build_application do
    handler = Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_an_update_given_to_a_log_call_is_shown_by_its_id_only(collected: Collect) -> None:
    """PTB logs the update itself when it cannot build a handler's context, with an
    exception that may quote it: only the update id and the exception's type remain."""
    update = Update.de_json(
        {
            **unparsable_update(),
            "message": {**unparsable_update()["message"], "from": {"id": 5, "is_bot": False, "first_name": "Mo"}},
        },
        None,
    )
    try:
        raise ValueError(f"cannot use {update.message.text if update and update.message else ''}")
    except ValueError as error:
        logging.getLogger("telegram.ext.Application").critical(
            "Error while building CallbackContext for update %s. Update will not be processed.", update, exc_info=error
        )
    assert_no_words(collected.text)
    assert f"update {UPDATE_ID}" in collected.text and "ValueError" in collected.text


async def test_the_error_handler_logs_the_kind_of_failure_not_the_words(
    harness: TelegramHarness, companion: Companion, collected: Collect
) -> None:
    """A handler that fails with the person's words in its exception: the error handler
    logs the update id and the exception's type, and the person hears something went wrong."""

    async def fails(update: Update, _context: object) -> None:
        raise RuntimeError(f"could not handle {update.message.text if update.message else ''!r}")

    harness.application.add_handler(MessageHandler(filters.TEXT, fails), group=-1)
    mo = harness.person(2101, "Mo")
    calls = await mo.says(WORDS)
    assert any("failed: RuntimeError" in line for line in collected.lines), collected.text
    assert_no_words(collected.text)
    assert companion.catalog.ui.get("tg_error", "en") in [call.text for call in calls]


async def test_a_database_error_does_not_quote_what_was_being_saved(storage: Storage) -> None:
    """A failed statement's error message leaves out its parameters (logged as it may be,
    by the reminder dispatcher or PTB's error log), on SQLite and PostgreSQL."""

    def fails(tx: Transaction) -> None:
        tx.connection.execute(text("INSERT INTO no_such_table (words) VALUES (:words)"), {"words": WORDS})

    with pytest.raises(Exception) as raised:
        await storage.run(fails)
    assert "no_such_table" in str(raised.value)  # the error does describe the statement
    assert_no_words(str(raised.value))
