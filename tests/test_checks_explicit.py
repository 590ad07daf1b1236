"""Content checks are passed in by the caller, never added on import.

Each case runs in a fresh interpreter, so nothing a test imported before can
change what is checked: the result must not depend on what was imported first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

CHECK_FOLDER = """
import json, sys
{imports}
from bot.checks import check_folder
print(json.dumps([str(problem) for problem in check_folder(__import__("pathlib").Path(sys.argv[1]))]))
"""

STRUCTURE_ONLY = """
import json, sys
from pathlib import Path
{imports}
from bot.content import read_documents
from flows.check import check_documents
print(json.dumps([str(problem) for problem in check_documents(read_documents(Path(sys.argv[1])), ())]))
"""

EVERYTHING_ELSE = "import flows.crisis, flows.readability, bot.summary, bot.summary.layout, flows.check"


@pytest.fixture
def no_samaritans(tmp_path: Path) -> Path:
    """A copy of the content whose English crisis card has lost the Samaritans' number."""
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    card = folder / "crisis" / "en.yaml"
    text = card.read_text(encoding="utf-8")
    assert "116 123" in text
    card.write_text(text.replace("116 123", "the Samaritans"), encoding="utf-8")
    return folder


def run(script: str, folder: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", script, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_bot_checks_alone_finds_the_missing_crisis_number(no_samaritans: Path) -> None:
    problems = run(CHECK_FOLDER.format(imports=""), no_samaritans)
    assert any("crisis/en.yaml" in p and "116 123" in p for p in problems), problems


def test_importing_other_modules_first_changes_nothing(no_samaritans: Path) -> None:
    alone = run(CHECK_FOLDER.format(imports=""), no_samaritans)
    after_everything = run(CHECK_FOLDER.format(imports=EVERYTHING_ELSE), no_samaritans)
    assert alone == after_everything


def test_no_check_joins_by_being_imported(no_samaritans: Path) -> None:
    """With no checks passed in, only the structure is checked, whatever is imported."""
    bare = run(STRUCTURE_ONLY.format(imports=""), no_samaritans)
    after_everything = run(STRUCTURE_ONLY.format(imports=EVERYTHING_ELSE), no_samaritans)
    assert bare == after_everything == []


def test_no_module_keeps_a_list_of_checks_to_add_to() -> None:
    """Nothing holds a list of checks that importing a module could grow."""
    script = f"""
import json
{EVERYTHING_ELSE}
import bot.checks
found = []
for module in (flows.check, bot.checks):
    for name, value in vars(module).items():
        if isinstance(value, (list, set, dict)) and any(callable(item) for item in value):
            found.append(module.__name__ + "." + name)
print(json.dumps(found))
"""
    assert run(script, ROOT) == []
