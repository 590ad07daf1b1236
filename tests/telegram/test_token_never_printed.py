"""The bot token never reaches the terminal or the log, however Telegram answers.

`companion run` runs in its own process against a Bot API on a loopback port
that refuses the token (401), answers "Not Found" (404) as a wrong
self-hosted Bot API address does, or answers with a web page naming the path
it was asked for (the path holds the token). Everything the process writes
(its own messages, PTB's and httpx's logs, tracebacks) is searched for the
token and for its secret half.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.error import InvalidToken

from bot import logs
from bot.adapters.telegram.app import build_application
from bot.services.app import Services
from bot.services.conversation import Companion
from tests.telegram.local_api import LocalBotApi

ROOT = Path(__file__).parent.parent.parent
TOKEN = "987654321:AAHsecretHALFofTheTokenXYZ0123456789"
SECRET_HALF = TOKEN.split(":", 1)[1]


def environment(api: LocalBotApi, folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "COMPANION_BOT_API_URL": api.url,
        "COMPANION_DATABASE_URL": f"sqlite:///{folder / 'companion.db'}",
        "LANG": "en_GB.UTF-8",
    }


def run_until_it_stops(api: LocalBotApi, folder: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "run"],
            capture_output=True,
            text=True,
            env=environment(api, folder),
            timeout=60,
            cwd=folder,
        )
    finally:
        api.close()


def assert_no_token(output: str) -> None:
    assert TOKEN not in output
    assert SECRET_HALF not in output
    assert SECRET_HALF.lower() not in output.lower()


FAILURES = {
    "token refused (401)": {"failure": (401, "Unauthorized"), "refuse_everything": True},
    "wrong Bot API path (404)": {"failure": (404, "Not Found"), "refuse_everything": True},
    "wrong path, a page naming the path (404)": {
        "failure": (404, "Not Found"),
        "refuse_everything": True,
        "page": True,
    },
    "getMe works, then 404": {"failure": (404, "Not Found")},
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_run_never_prints_the_token_when_telegram_refuses(case: str, tmp_path: Path) -> None:
    api = LocalBotApi(**FAILURES[case])  # type: ignore[arg-type]
    result = run_until_it_stops(api, tmp_path)
    output = result.stdout + result.stderr
    assert api.calls, "the Bot API was never asked, so this test would prove nothing"
    assert result.returncode == 2, output
    assert_no_token(output)
    if "401" in case:
        assert "Telegram did not accept the bot token" in result.stderr
    else:
        assert "Not Found" in result.stderr and "COMPANION_BOT_API_URL" in result.stderr


def test_run_never_prints_the_token_while_it_starts_polls_and_stops(tmp_path: Path) -> None:
    api = LocalBotApi()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(api, tmp_path),
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while "getUpdates" not in [method for method, _ in api.calls] and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        api.close()
    assert "getUpdates" in [method for method, _ in api.calls]
    assert process.returncode == 0, stderr
    assert "Application started" in stderr  # PTB's log did reach the output
    assert_no_token(stdout + stderr)


class Collect(logging.Handler):
    """Every record, formatted with its traceback, as a log file would hold it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def collected() -> Iterator[Collect]:
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


@pytest.mark.parametrize("failure", [(401, "Unauthorized"), (404, "Not Found")])
async def test_the_application_logs_no_token_even_with_httpx_and_ptb_at_debug(
    failure: tuple[int, str], companion: Companion, collected: Collect
) -> None:
    """The real Application from bot/adapters/telegram/app.py, with every library logger turned up:
    httpx logs each URL (which holds the token), PTB each request and its error."""
    api = LocalBotApi(failure, refuse_everything=True, page=failure[0] == 404)
    application = build_application(Services.around(companion), TOKEN, base_url=api.url, rate_limit=False)
    for name in ("httpx", "httpcore", "telegram"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        with pytest.raises(InvalidToken):
            await application.initialize()
    finally:
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("telegram").setLevel(logging.INFO)
        api.close()
    text = "\n".join(collected.lines)
    assert any(line.startswith("INFO httpx: HTTP Request: POST") for line in collected.lines), text
    assert any(line.startswith("DEBUG telegram") for line in collected.lines), text
    assert_no_token(text)


def test_a_traceback_printed_outside_logging_holds_no_token(capsys: pytest.CaptureFixture[str]) -> None:
    """What goes to the terminal without the logging module (an uncaught exception's
    traceback, a warning) passes through the same redaction."""
    logs.keep_secret(TOKEN)
    restore = logs.guard_streams()
    try:
        try:
            raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
        except InvalidToken:
            traceback.print_exc()
        print(f"https://api.telegram.org/bot{TOKEN}/getMe")
    finally:
        restore()
    captured = capsys.readouterr()
    assert "was rejected by the server" in captured.err and "/getMe" in captured.out
    assert_no_token(captured.out + captured.err)


@pytest.mark.parametrize("command", [["dispatch", "--once"], ["invite", "coordinator"]])
def test_other_commands_that_call_telegram_never_print_the_token(command: list[str], tmp_path: Path) -> None:
    """`companion dispatch` and `companion invite` talk to Telegram too: a refused token
    gets the same plain message, and no traceback that quotes it."""
    api = LocalBotApi((401, "Unauthorized"), refuse_everything=True)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", *command],
            capture_output=True,
            text=True,
            env=environment(api, tmp_path),
            timeout=60,
            cwd=tmp_path,
        )
    finally:
        api.close()
    output = result.stdout + result.stderr
    assert api.calls, "the Bot API was never asked, so this test would prove nothing"
    assert_no_token(output)
    assert result.returncode == 2, output
    assert "Telegram did not accept the bot token" in result.stderr
    assert "Traceback" not in output


UNCAUGHT = """
import sys
from telegram.error import InvalidToken
from bot.cli import app

token = sys.argv[-1]

@app.command("fail")
def fail() -> None:
    raise InvalidToken("The token `" + token + "` was rejected by the server.")

sys.argv = ["companion", "fail"]
app()
"""


def test_an_uncaught_exception_quoting_the_token_prints_without_it(tmp_path: Path) -> None:
    """Should a command ever let such an exception through, Typer prints its traceback
    after the command has ended; the guard on stderr is still there."""
    api = LocalBotApi()
    try:
        result = subprocess.run(
            [sys.executable, "-c", UNCAUGHT, TOKEN],
            capture_output=True,
            text=True,
            env=environment(api, tmp_path),
            timeout=60,
            cwd=ROOT,
        )
    finally:
        api.close()
    assert result.returncode == 1
    assert "InvalidToken: The token `[bot token]`" in result.stderr  # the traceback was printed
    assert_no_token(result.stdout + result.stderr)


def test_secrets_are_redacted_but_a_very_short_one_leaves_ordinary_words_alone() -> None:
    logs.keep_secret("a-webhook-secret-of-some-length", "[webhook secret]")
    logs.keep_secret("abc", "[webhook secret]")  # one too short to tell from a word
    assert logs.redact("sent a-webhook-secret-of-some-length") == "sent [webhook secret]"
    assert logs.redact("abc def") == "abc def"
    logs.keep_secret("555:short")  # a token is always kept whole, even with a short secret half
    assert logs.redact("bot555:short/getMe, short") == "bot[bot token]/getMe, short"
