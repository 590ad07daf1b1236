"""`companion chat` end to end: a real process, a script on stdin, the database afterwards."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from bot.roles import grants, sharing
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
    script = ["ja", "99", "1", "", "x" * 21, "Kim", "tillbaka", "behåll", "2", "banan", "1", "", "hoppa", "paus", "q"]
    result = chat(sqlite_url, content, "\n".join(script) + "\n", "--language", "sv", "--profile", "kim")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Är det okej att jag sparar dina svar?" in out
    assert "Skriv en av siffrorna, eller q för att avsluta." in out  # 99 is not on the menu
    assert "Det blev lite långt för mig att spara (21 tecken)." in out
    assert "Ditt svar var: Kim" in out  # back shows the earlier answer
    # "banan" at a checklist: asked again in the console's words (there are no buttons to tap)
    assert "Skriv siffran för varje val som passar. Tryck sedan Enter på en tom rad." in out
    assert "Tryck på de val som passar" not in out
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


# --------------------------------------------------------------------------- everything a service user can do


def menu_number(out: str, label: str) -> str:
    """The number the menu shows before ``label``."""
    found = re.search(rf"^  (\d+)\. {re.escape(label)}", out, re.MULTILINE)
    assert found, f"{label!r} is not on the menu:\n{out}"
    return found.group(1)


async def _with_storage(url: str, work):  # type: ignore[no-untyped-def]
    storage = await Storage.open(url)
    try:
        return await storage.run(work)
    finally:
        await storage.close()


async def _finished_kinds(url: str, profile: str = "default") -> int:
    """A finished conversation with something on the summary (as if answered before)."""

    def work(tx):  # type: ignore[no-untyped-def]
        person = tx.person("console", profile)
        tx.add_completed_run(person.id, "kinds", {"name": "Sam", "areas": ["home", "work"]}, dt.datetime.now(dt.UTC))
        return person.id

    return await _with_storage(url, work)


def test_the_console_never_speaks_of_buttons(sqlite_url: str, content: Path, tmp_path: Path) -> None:
    """Every hint and re-ask of every kind of question, in the console's words: nothing to tap."""
    script = [
        "1",  # agree
        "1",  # kinds
        "",
        "Sam",
        "banana",  # a choice: not one of the options
        "1",
        "banana",  # a checklist: not one of the options
        "",  # Done with nothing ticked
        "1",
        "",
        "maybe",  # yes/no
        "yes",
        "abc",  # a scale: not a number
        "9",
        "someday",  # a date it cannot read
        "1",
        "q",
    ]
    for language in ("en", "sv"):
        result = chat(
            sqlite_url,
            content,
            "\n".join(script) + "\n",
            *("--profile", language, "--language", language, "--files", str(tmp_path)),
        )
        assert result.returncode == 0, result.stderr
        # The test flow's own words ask to "tap Next"; the companion's never do.
        said = result.stdout.replace("Read this, then tap Next.", "")
        assert not re.search(r"\btap|\btryck på", said, re.IGNORECASE), said
    out = chat(sqlite_url, content, "\n".join(script) + "\n", "--profile", "again", "--files", str(tmp_path)).stdout
    assert "Sorry, I didn't catch that. Please type one of the numbers shown." in out
    assert "Please type the number of each one that fits, then press Enter on an empty line." in out
    assert "Type the numbers of up to 2, one at a time. Press Enter on an empty line when you are done." in out
    assert "I couldn't read that date. Try a date like" in out


async def test_summary_name_export_and_delete_from_the_console(sqlite_url: str, content: Path, tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    first = chat(sqlite_url, content, "1\nq\n", "--files", str(files))
    assert first.returncode == 0, first.stderr
    summary = menu_number(first.stdout, "My summary: save it to print")
    name = menu_number(first.stdout, "Name on my summary")
    export = menu_number(first.stdout, "Save all I keep about you to a file")
    delete = menu_number(first.stdout, "Delete all I keep about you")

    # Nothing finished yet: it says so, and writes no file.
    empty = chat(sqlite_url, content, f"{summary}\nq\n", "--files", str(files))
    assert "There is nothing on your summary yet." in empty.stdout
    assert not (files / "my-summary.pdf").exists()

    await _finished_kinds(sqlite_url)
    script = [name, "Alex", summary, export, "q"]
    result = chat(sqlite_url, content, "\n".join(script) + "\n", "--files", str(files))
    assert result.returncode == 0, result.stderr
    pdf = files / "my-summary.pdf"
    assert f"Your summary is saved in this file: {pdf}." in result.stdout
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Alex" in text and "Home" in text
    data = json.loads((files / "my-data.json").read_text(encoding="utf-8"))
    assert data["person"]["chosen_name"] == "Alex"
    assert any(run["flow"] == "kinds" for run in data["flows"])

    # Delete: "no" keeps everything; "yes" erases it and ends the chat.
    kept = chat(sqlite_url, content, f"{delete}\n2\nq\n")
    assert "OK. Nothing was deleted." in kept.stdout
    assert await _answers(sqlite_url) is not None
    gone = chat(sqlite_url, content, f"{delete}\nyes\n")
    assert gone.returncode == 0, gone.stderr
    assert "Done. All I kept about you is gone." in gone.stdout
    assert await _answers(sqlite_url) is None
    # The next chat starts again from the privacy notice.
    assert "Is it OK for me to save your answers?" in chat(sqlite_url, content, "").stdout


async def test_sharing_a_code_and_stopping_from_the_console(sqlite_url: str, content: Path) -> None:
    first = chat(sqlite_url, content, "1\nq\n")
    share = menu_number(first.stdout, "Share my summary with a care coordinator")
    person_id = await _finished_kinds(sqlite_url)

    declined = chat(sqlite_url, content, f"{share}\nno\nq\n")
    assert "OK. Nothing is shared." in declined.stdout
    offered = chat(sqlite_url, content, f"{share}\n1\nq\n")
    assert offered.returncode == 0, offered.stderr
    assert "They never see this chat" in offered.stdout
    assert "/sharing" not in offered.stdout  # no commands in the console: stopping is on its menu
    code = re.search(r"Your code: (\S+)", offered.stdout)
    assert code, offered.stdout

    now = dt.datetime.now(dt.UTC)

    def coordinator_links(tx):  # type: ignore[no-untyped-def]
        carol = tx.create_person("telegram", "5001", "en", now)
        tx.update_person(carol.id, display_name="Carol")
        grants.grant(tx.connection, carol.id, grants.COORDINATOR, now)
        return sharing.link(tx.connection, carol.id, code.group(1), now).status

    assert await _with_storage(sqlite_url, coordinator_links) == "linked"
    listed = chat(sqlite_url, content, f"{share}\n2\n1\nq\n")
    assert listed.returncode == 0, listed.stderr
    assert "These people can see your summary now. Type a number to stop sharing with them." in listed.stdout
    assert "Done. Carol can no longer see your summary." in listed.stdout
    assert await _with_storage(sqlite_url, lambda tx: sharing.viewers(tx.connection, person_id)) == []


async def test_language_switches_an_existing_profile(sqlite_url: str, content: Path) -> None:
    english = chat(sqlite_url, content, "1\nq\n")
    assert "What would you like to do?" in english.stdout
    swedish = chat(sqlite_url, content, "q\n", "--language", "sv")
    assert swedish.returncode == 0, swedish.stderr
    assert "Ok. Jag talar svenska från och med nu." in swedish.stdout
    assert "What would you like to do?" not in swedish.stdout
    language = await _with_storage(sqlite_url, lambda tx: tx.person("console", "default").language)
    assert language == "sv"

    # From the menu, back to English.
    choice = menu_number(swedish.stdout, "Språk: svenska eller engelska")
    back = chat(sqlite_url, content, f"{choice}\n1\nq\n")
    assert "OK. I will speak English from now on." in back.stdout
    assert back.stdout.index("OK. I will speak English") < back.stdout.rindex("What would you like to do?")

    unknown = chat(sqlite_url, content, "q\n", "--language", "de")
    assert unknown.returncode == 2
    assert "The companion speaks en and sv." in unknown.stderr
