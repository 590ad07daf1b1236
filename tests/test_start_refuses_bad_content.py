"""`companion chat` and `companion run` refuse to start on content that fails the check.

Each broken copy of the shipped content is one an editor could make by
accident. Both commands must stop before anyone is talked to, with the same
lines `companion content check` prints, and exit non-zero; the shipped
content starts. Nothing is opened: no database file, no call to Telegram.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.telegram.local_api import LocalBotApi

ROOT = Path(__file__).parent.parent
COMPANION = [sys.executable, "-m", "bot.cli"]


def remove_a_step(folder: Path) -> None:
    """Delete a step another step's next: rule goes to (a broken jump)."""
    path = folder / "flows" / "goals.yaml"
    flow = yaml.safe_load(path.read_text(encoding="utf-8"))
    targets = {rule["go"] for step in flow["steps"] if isinstance(step.get("next"), list) for rule in step["next"]} | {
        step["next"] for step in flow["steps"] if isinstance(step.get("next"), str)
    }
    flow["steps"] = [step for step in flow["steps"] if step["id"] != sorted(targets - {"end"})[0]]
    path.write_text(yaml.safe_dump(flow, allow_unicode=True, sort_keys=False), encoding="utf-8")


def remove_a_text(folder: Path) -> None:
    """Delete the English Skip button (the Swedish one stays)."""
    path = folder / "ui" / "en.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith("button_skip:")), encoding="utf-8")


def remove_the_crisis_folder(folder: Path) -> None:
    shutil.rmtree(folder / "crisis")


def make_a_message_hard_to_read(folder: Path) -> None:
    """The first message of the goals flow, in long words and one long sentence."""
    path = folder / "flows" / "goals.yaml"
    flow = yaml.safe_load(path.read_text(encoding="utf-8"))
    flow["steps"][0]["say"]["en"] = (
        "Notwithstanding considerable organisational complexity, comprehensive individualised "
        "pharmacological consultations necessitate collaborative, evidence-informed deliberation "
        "regarding therapeutic alternatives, contraindications and anticipated adverse consequences."
    )
    path.write_text(yaml.safe_dump(flow, allow_unicode=True, sort_keys=False), encoding="utf-8")


def point_the_summary_at_a_missing_step(folder: Path) -> None:
    path = folder / "summary" / "layout.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("questions.top_three", "questions.top_thre"), encoding="utf-8"
    )


BREAKAGES: dict[str, Callable[[Path], None]] = {
    "a step removed": remove_a_step,
    "a text removed": remove_a_text,
    "no crisis folder": remove_the_crisis_folder,
    "a message hard to read": make_a_message_hard_to_read,
    "summary layout names a missing step": point_the_summary_at_a_missing_step,
}


@pytest.fixture(params=sorted(BREAKAGES))
def broken(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    BREAKAGES[request.param](folder)
    return folder


def companion(
    *args: str, content: Path, database: Path, stdin: str = "", timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """The real command in its own process; one that does not refuse runs until ``timeout``."""
    environment = {
        **os.environ,
        "COMPANION_CONTENT_DIR": str(content),
        "COMPANION_DATABASE_URL": f"sqlite:///{database}",
        "LANG": "en_GB.UTF-8",
        **env,
    }
    return subprocess.run(
        [*COMPANION, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        cwd=database.parent,  # no .env from the project folder
    )


def check_lines(folder: Path) -> list[str]:
    """What `companion content check` says about the folder, one problem a line."""
    result = subprocess.run(
        [*COMPANION, "content", "check", str(folder)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 1, result.stdout  # the check itself reports the breakage
    problems = [line for line in result.stdout.splitlines() if line and not re.match(r"^\d+ problems? found", line)]
    assert problems
    return problems


@pytest.fixture
def expected(broken: Path) -> list[str]:
    return check_lines(broken)


def test_chat_refuses_content_that_fails_the_check(broken: Path, expected: list[str], tmp_path: Path) -> None:
    database = tmp_path / "chat.db"
    result = companion("chat", content=broken, database=database, stdin="1\n1\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot start" in result.stderr
    for line in expected:
        assert line in result.stderr
    assert "Traceback" not in result.stderr
    assert "Welcome" not in result.stdout and result.stdout.strip() == ""  # nobody was talked to
    assert not database.exists()


def test_run_refuses_content_that_fails_the_check(broken: Path, expected: list[str], tmp_path: Path) -> None:
    database = tmp_path / "run.db"
    api = LocalBotApi()
    try:
        result = companion(
            "run",
            content=broken,
            database=database,
            timeout=30,  # a bot that started would poll until then
            TELEGRAM_BOT_TOKEN="123456:CONTENT-CHECK-token",
            COMPANION_BOT_API_URL=api.url,
        )
    finally:
        api.close()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot start" in result.stderr
    for line in expected:
        assert line in result.stderr
    assert "Traceback" not in result.stderr
    assert api.calls == []  # Telegram was never contacted
    assert not database.exists()


def test_chat_starts_with_the_shipped_content(tmp_path: Path) -> None:
    database = tmp_path / "chat.db"
    result = companion("chat", content=ROOT / "content", database=database, stdin="2\n")  # "No thanks"
    assert result.returncode == 0, result.stderr
    assert "SDM Companion" in result.stdout
