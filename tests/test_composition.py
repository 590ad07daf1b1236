"""Commands and checks are composed in one place: what the CLI offers and what `content check`
finds never depends on which modules were imported first (each order runs in a fresh process)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).parent.parent

EXPECTED = {
    "chat",
    "run",
    "summary",
    "export",
    "worksheets",
    "invite",
    "people",
    "people list",
    "people show",
    "people delete",
    "status",
    "backup",
    "restore",
    "revoke-role",
    "dispatch",
    "migrate",
    "audit",
    "content",
    "content check",
    "report",
    "report collaborate",
    "content readability",
    "content graph",
    "reminders",
    "reminders list",
}

COMMAND_SET = """
import json, sys
{before}
import typer
from bot.cli import build_app

def names(group, prefix=""):
    found = []
    for name, command in group.commands.items():
        found.append(prefix + name)
        if hasattr(command, "commands"):
            found += names(command, prefix + name + " ")
    return found

print(json.dumps(sorted(names(typer.main.get_command(build_app())))))
"""

CHECKED = """
import json, sys
from pathlib import Path
{before}
from bot.content import read_documents
from flows.check import check_documents
from bot.checks import check_folder

folder = Path(sys.argv[1])
print(json.dumps({{
    "every": sorted(str(p) for p in check_folder(folder)),
    "plain": sorted(str(p) for p in check_documents(read_documents(folder), ())),
}}))
"""

ORDERS = {
    "cli first": "",
    "commands first": "import bot.summary.commands, bot.roles.commands, bot.reminders.commands",
    "everything first": "import flows.crisis, flows.readability, bot.summary, bot.checks, bot.adapters.telegram.runner",
}


def run_python(script: str, *args: str) -> object:
    result = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def names(group: object, prefix: str = "") -> set[str]:
    found: set[str] = set()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        found.add(prefix + name)
        if hasattr(command, "commands"):
            found |= names(command, prefix + name + " ")
    return found


def test_the_command_set_does_not_depend_on_import_order() -> None:
    seen = {order: run_python(COMMAND_SET.format(before=before)) for order, before in ORDERS.items()}
    assert all(found == sorted(EXPECTED) for found in seen.values()), seen


def test_each_app_is_built_fresh_and_importing_a_command_module_registers_nothing() -> None:
    from bot import cli
    from bot.summary import commands

    first, second = cli.build_app(), cli.build_app()
    assert first is not second
    assert names(typer.main.get_command(first)) == EXPECTED == names(typer.main.get_command(cli.app))
    # A command module is plain functions: no Typer app of its own to add to.
    assert not any(isinstance(value, typer.Typer) for value in vars(commands).values())


@pytest.fixture(scope="module")
def card_without_samaritans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped content, with Samaritans' 116 123 taken off the English crisis card."""
    folder = tmp_path_factory.mktemp("content") / "content"
    shutil.copytree(ROOT / "content", folder)
    card = folder / "crisis" / "en.yaml"
    text = card.read_text(encoding="utf-8")
    assert "116 123" in text
    card.write_text(text.replace("116 123", "the helpline"), encoding="utf-8")
    return folder


def test_what_the_check_finds_does_not_depend_on_import_order(card_without_samaritans: Path) -> None:
    seen = [run_python(CHECKED.format(before=before), str(card_without_samaritans)) for before in ORDERS.values()]
    assert all(found == seen[0] for found in seen), seen
    assert any("116 123" in problem for problem in seen[0]["every"])  # type: ignore[index]
    # Without the checks passed in, only the structural ones run, however much was imported.
    assert not any("116 123" in problem for problem in seen[0]["plain"])  # type: ignore[index]
