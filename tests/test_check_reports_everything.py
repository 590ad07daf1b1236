"""`companion content check` prints every problem, not only the first kind it meets.

A file that cannot be loaded (not YAML, or not a flow) used to stop every later
check: the contracts, readability, the summary layout and the crisis lexicon
went unchecked, so an author fixed one line and met the next problem only on
the next run. Now the rest of the content is checked without the broken file,
and what follows only from that file (a flow "missing" because it could not be
read, a quote of it) is left out, since its own problem already names it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.checks import check_folder
from bot.content import DEFAULT_CONTENT_DIR

ROOT = Path(__file__).resolve().parent.parent
REMIND = (
    "flows/appointment.yaml: the step 'remind' is missing; the companion reads it: reminders are planned "
    "only when the answer is yes (a yes_no question). Keep its id as it is"
)
MOVED_ON = "ui/telegram.sv.yaml: the text `tg_moved_on` is missing (the bot says it when someone presses an old button)"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, folder)
    return folder


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def break_three_ways(folder: Path) -> None:
    """Goals is not YAML, `remind` is renamed, and the Swedish `tg_moved_on` is gone."""
    with (folder / "flows" / "goals.yaml").open("a", encoding="utf-8") as file:
        file.write("id: [broken\n")
    replace(folder / "flows" / "appointment.yaml", "id: remind\n", "id: reminders\n")
    replace(folder / "ui" / "telegram.sv.yaml", "\ntg_moved_on:", "\nunused_key_for_the_test:")


GOALS_UNREADABLE = "flows/goals.yaml: cannot be read as YAML: line "
"""The first words of the problem with goals.yaml broken as below (its line, then what YAML says)."""


def sentences(folder: Path) -> list[str]:
    return [str(problem) for problem in check_folder(folder)]


def test_a_file_that_is_not_yaml_is_reported_alone(copy: Path) -> None:
    """goals is quoted by personal_medicine and placed by the summary layout: neither is reported as well."""
    with (copy / "flows" / "goals.yaml").open("a", encoding="utf-8") as file:
        file.write("id: [broken\n")
    (only,) = sentences(copy)
    assert only.startswith(GOALS_UNREADABLE)


def test_the_contracts_are_checked_beside_a_file_that_cannot_be_read(copy: Path) -> None:
    break_three_ways(copy)
    found = sentences(copy)
    assert found[0].startswith(GOALS_UNREADABLE)
    assert REMIND in found
    assert MOVED_ON in found


def test_the_contracts_are_checked_beside_a_flow_that_does_not_fit_the_format(copy: Path) -> None:
    replace(
        copy / "flows" / "questions.yaml",
        "type: ",
        "type: not_a_type_",
    )
    replace(copy / "flows" / "what_we_agreed.yaml", "id: change_plan", "id: plan_change")
    replace(copy / "flows" / "what_we_agreed.yaml", "go: change_plan", "go: plan_change")
    found = sentences(copy)
    assert any(s.startswith("flows/questions.yaml, step ") for s in found)
    assert any("'change_plan' is missing" in s and "never to stop a medicine suddenly" in s for s in found)
    assert not any("flow 'questions' is missing" in s for s in found)


def test_companion_content_check_prints_every_problem_and_exits_non_zero(copy: Path) -> None:
    break_three_ways(copy)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "check", str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(GOALS_UNREADABLE) for line in lines)
    assert REMIND in lines
    assert MOVED_ON in lines
    assert lines[-1] == f"{len(sentences(copy))} problems found in {copy}."


@pytest.mark.parametrize("file", ["ui/telegram.sv.yaml", "summary/sections.yaml"])
def test_an_unreadable_texts_or_sections_file_is_reported_once_not_once_per_key(copy: Path, file: str) -> None:
    with (copy / file).open("a", encoding="utf-8") as handle:
        handle.write("  - [\n")
    found = sentences(copy)
    assert len(found) == 1, found
    assert found[0].startswith(f"{file}: cannot be read as YAML: line ")


def test_a_flow_id_used_twice_still_has_its_contract_checked(copy: Path) -> None:
    shutil.copy(copy / "flows" / "appointment.yaml", copy / "flows" / "zz_copy.yaml")
    replace(copy / "flows" / "appointment.yaml", "id: remind\n", "id: reminders\n")
    found = sentences(copy)
    assert "flows/zz_copy.yaml: flow id 'appointment' is also used by flows/appointment.yaml" in found
    assert REMIND in found
