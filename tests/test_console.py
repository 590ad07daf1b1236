"""`companion chat` end to end: a real process, a script on stdin, the database afterwards."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.services.forms import FORMS
from bot.storage.repository import Storage

COMPANION = [sys.executable, "-m", "bot.cli"]
ROOT = Path(__file__).parent.parent


def chat(database_url: str, content: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "COMPANION_DATABASE_URL": database_url,
        "COMPANION_CONTENT_DIR": str(content),
        "LANG": "en_GB.UTF-8",
    }
    return subprocess.run(
        [*COMPANION, "chat", *args],
        input=script,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        cwd=ROOT,
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'chat.db'}"


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped interface texts and crisis lexicon with the test-only flows, so these
    tests do not depend on how the real flows are worded. The summary's layout.yaml
    names the shipped flows, so only its sections come along (the content must pass
    the check for the chat to start)."""
    folder = tmp_path_factory.mktemp("content")
    shutil.copytree(ROOT / "content" / "ui", folder / "ui")
    shutil.copytree(ROOT / "content" / "crisis", folder / "crisis")
    (folder / "summary").mkdir()
    shutil.copy(ROOT / "content" / "summary" / "sections.yaml", folder / "summary")
    shutil.copytree(ROOT / "tests" / "content" / "flows", folder / "flows")
    for form in FORMS:  # the flows the code reads must be there for the chat to start
        shutil.copy(ROOT / "content" / "flows" / f"{form.flow}.yaml", folder / "flows")
    return folder


def london_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/London")).date()


async def _answers(url: str, profile: str = "default") -> dict[str, object]:
    storage = await Storage.open(url)
    try:

        def work(tx):
            person = tx.person("console", profile)
            if person is None:
                return None
            runs = tx.runs(person.id)
            by_run = tx.answers(run.id for run in runs)
            return {key: value for run in runs for key, (value, _) in by_run[run.id].items()}, [r.status for r in runs]

        return await storage.run(work)
    finally:
        await storage.close()


async def test_a_scripted_chat_saves_answers_and_resumes_after_end_of_input(sqlite_url: str, content: Path) -> None:
    script = [
        "1",  # agree to the privacy notice
        "1",  # menu: the first flow
        "",  # Enter = Next after the teaching message
        "Sam",
        "3",  # mood: low -> "Sorry to hear that."
        "1",
        "2",
        "",  # areas: tick home and work, Enter = done
        "yes",
        "4",  # confidence below 8 -> a kind message
        "1",  # appointment: "In 1 week"
        "Can I drive?",
    ]
    first = chat(sqlite_url, content, "\n".join(script) + "\n")
    assert first.returncode == 0, first.stderr
    assert "Hi Sam. How are you today?" in first.stdout
    assert "Sorry to hear that." in first.stdout
    assert "  1. [x] Home" in first.stdout
    assert first.stdout.rstrip().endswith("Everything is saved. Start the chat again to carry on where you stopped.")
    answers, statuses = await _answers(sqlite_url)
    assert answers == {
        "name": "Sam",
        "mood": "low",
        "areas": ["home", "work"],
        "sleep_ok": "yes",
        "confidence": 4,
        "appointment": (london_today() + dt.timedelta(days=7)).isoformat(),
        "question": ["Can I drive?"],
    }
    assert statuses == ["in_progress"]

    # The next run resumes at "add another?", exactly where the person stopped.
    second = chat(sqlite_url, content, "\n".join(["2", "3", "", "1", "q"]) + "\n")
    assert second.returncode == 0, second.stderr
    assert second.stdout.index("Welcome back. We were here:") < second.stdout.index("Add another?")
    answers, statuses = await _answers(sqlite_url)
    assert answers["first"] == ["question.1"]
    assert answers["statement"] == "I am Sam and Home, Work matter to me."
    assert statuses == ["completed"]
    assert "All done, Sam." in second.stdout


async def test_declining_consent_stores_nothing(sqlite_url: str, content: Path) -> None:
    result = chat(sqlite_url, content, "2\n")
    assert result.returncode == 0
    assert "I have not saved anything about you." in result.stdout
    assert await _answers(sqlite_url) is None


async def test_end_of_input_before_consent_stores_nothing(sqlite_url: str, content: Path) -> None:
    result = chat(sqlite_url, content, "")
    assert result.returncode == 0
    assert await _answers(sqlite_url) is None


async def test_swedish_chat_with_bad_input_and_navigation(sqlite_url: str, content: Path) -> None:
    script = ["ja", "9", "1", "", "x" * 21, "Kim", "tillbaka", "behåll", "2", "banan", "1", "", "hoppa", "paus", "q"]
    result = chat(sqlite_url, content, "\n".join(script) + "\n", "--language", "sv", "--profile", "kim")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Är det okej att jag sparar dina svar?" in out
    assert "Skriv en av siffrorna, eller q för att avsluta." in out  # 9 is not on the menu
    assert "Det blev lite långt för mig att spara (21 tecken)." in out
    assert "Ditt svar var: Kim" in out  # back shows the earlier answer
    # "banan" at a checklist: the re-ask, in the console's words (it has no buttons to tap).
    assert "Skriv siffran för varje val som passar. Tryck sedan Enter på en tom rad." in out
    assert "Jag behöver ett svar här för att gå vidare." in out  # the yes/no is required
    assert "Pausat. Dina svar hittills är sparade." in out
    assert out.rstrip().endswith("Hej då. Ta hand om dig.")
    answers, statuses = await _answers(sqlite_url, "kim")
    assert answers == {"name": "Kim", "mood": "okay", "areas": ["home"]}
    assert statuses == ["in_progress"]


async def test_profiles_keep_separate_answers(sqlite_url: str, content: Path) -> None:
    chat(sqlite_url, content, "1\n1\n\nAlex\n", "--profile", "alex")
    chat(sqlite_url, content, "1\n1\n\nBo\n", "--profile", "bo")
    alex, _ = await _answers(sqlite_url, "alex")
    bo, _ = await _answers(sqlite_url, "bo")
    assert alex == {"name": "Alex"}
    assert bo == {"name": "Bo"}
