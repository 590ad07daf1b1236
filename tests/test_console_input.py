"""The console chat: q at a question quits without saving "q", the console speaks of typing
(never of tapping), and in a terminal the arrow keys edit the line instead of printing ^[[D."""

from __future__ import annotations

import contextlib
import io
import os
import pty
import select
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.console import CHANNEL, ConsoleChat
from bot.services.app import Services
from bot.services.conversation import Companion, Who

ROOT = Path(__file__).parent.parent


def _menu_number(companion: Companion, flow_id: str) -> str:
    ids = [flow.id for flow in companion.catalog.ordered_flows() if flow.menu]
    return str(ids.index(flow_id) + 1)


_SERVICES: dict[int, Services] = {}


def _services(companion: Companion) -> Services:
    """One set of services per companion (composing them attaches its listeners)."""
    if id(companion) not in _SERVICES:
        _SERVICES[id(companion)] = Services.around(companion)
    return _SERVICES[id(companion)]


async def _run(companion: Companion, lines: list[str], language: str = "en") -> str:
    stdout = io.StringIO()
    console = ConsoleChat(
        _services(companion),
        profile="typist",
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=stdout,
        language=language,
    )
    assert await console.run() == 0
    return stdout.getvalue()


async def _runs(companion: Companion) -> list[tuple[str, str, dict[str, Any]]]:
    def read(tx: Any) -> list[tuple[str, str, dict[str, Any]]]:
        person = tx.person(CHANNEL, "typist")
        runs = tx.runs(person.id)
        by_run = tx.answers(run.id for run in runs)
        return [(run.flow_id, run.status, {k: v for k, (v, _) in by_run[run.id].items()}) for run in runs]

    return await companion.storage.run(read)


@pytest.mark.parametrize("word", ["q", "quit", "exit"])
async def test_a_quit_word_at_a_question_pauses_and_saves_nothing(companion: Companion, word: str) -> None:
    goals = _menu_number(companion, "goals")
    output = await _run(companion, ["1", goals, "1", "", word, "this line is never read"])
    assert companion.catalog.ui.get("console_saved_bye", "en") in output
    [(flow_id, status, answers)] = await _runs(companion)
    assert flow_id == "goals" and status == "in_progress"
    assert word not in [value for value in answers.values() if isinstance(value, str)]
    assert answers == {"areas": ["home"]}
    # The part waits, in progress, at the same question.
    again = await _run(companion, [])
    in_progress = companion.catalog.ui.get("menu_in_progress", "en")
    assert f"What matters to me ({in_progress})" in again


@pytest.mark.parametrize("word", ["q", "quit"])
async def test_a_quit_word_at_the_consent_question_says_goodbye_and_stores_nothing(
    companion: Companion, word: str
) -> None:
    """The consent question ends by saying "or q to quit"; q there ends the chat, nothing kept."""
    output = await _run(companion, [word, "1", "this line is never read"])
    assert companion.catalog.ui.get("console_bye", "en") in output
    assert companion.catalog.ui.get("console_unknown_menu", "en") not in output
    assert await companion.person(Who(CHANNEL, "typist")) is None


async def test_the_console_speaks_of_typing_not_tapping(companion: Companion) -> None:
    questions = _menu_number(companion, "questions")
    for language in ("en", "sv"):
        output = await _run(companion, ["1", questions, "", "banana", "99", "", "q"], language)
        tapping = ("tap", "Tap") if language == "en" else ("Tryck på", "tryck på")
        assert not any(word in output for word in tapping), output
        assert companion.catalog.ui.get("console_tick_then_done", language) in output
        await companion.storage.run(lambda tx: tx.erase_person(tx.person(CHANNEL, "typist").id))


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_arrow_keys_edit_the_line_in_a_terminal(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "COMPANION_DATABASE_URL": f"sqlite:///{tmp_path / 'companion.db'}",
        "LANG": "en_GB.UTF-8",
        "TERM": "xterm",
    }
    pid, fd = pty.fork()
    if pid == 0:  # the child: the companion in a terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "bot.cli", "chat", "--profile", "arrows"], environment)
    seen = b""

    def read_until(marker: bytes, since: int = 0, timeout: float = 90) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen[since:]:
            assert time.monotonic() < deadline, seen.decode(errors="replace")[-500:]
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break

    try:
        read_until(b"> ")
        os.write(fd, b"1\r")  # agree
        read_until(b"q = quit")
        read_until(b"> ", since=seen.index(b"q = quit"))
        time.sleep(0.5)  # the prompt is out: the line editor has the terminal
        start = len(seen)
        # Left arrow, then "q": with line editing the line is "q", and the chat ends.
        os.write(fd, b"\x1b[Dq\r")
        read_until(b"Goodbye", since=start)
        assert b"^[[D" not in seen[start:]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
