"""The interface texts the code asks for are declared (bot/services/texts.py), the content
check names the file and the key when one is missing, and the declaration cannot drift
from the code: the source is read for every key it asks for.

Before the contract, deleting ``tg_moved_on`` from the content still passed the check,
and then every press of an old button crashed.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.checks import check_folder
from bot.content import DEFAULT_CONTENT_DIR
from bot.services import texts
from bot.services.texts import TEXTS

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "flows")
SKIPPED = {Path("bot/services/texts.py")}
"""The declaration itself; migrations are skipped too (they never ask for a text)."""
LOOKUPS = {"text", "t", "_t", "_ui", "_ui_words", "_words"}
"""Names of the functions and methods the code asks for a text with (first argument: the key)."""
KEY = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
TEMPLATE = re.compile(r"^[a-z][a-z0-9_]*\{[a-z_]+\}[a-z0-9_]*$")


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, folder)
    return folder


def delete_key(folder: Path, file: str, key: str) -> None:
    path = folder / file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f"{key}:")]
    assert len(kept) == len(lines) - 1
    path.write_text("".join(kept), encoding="utf-8")


def sentences(folder: Path) -> list[str]:
    return [str(problem) for problem in check_folder(folder)]


MOVED_ON = "the text `tg_moved_on` is missing (the bot says it when someone presses an old button)"


def test_deleting_tg_moved_on_in_swedish_fails_the_check_naming_the_file_and_the_key(copy: Path) -> None:
    delete_key(copy, "ui/telegram.sv.yaml", "tg_moved_on")
    assert f"ui/telegram.sv.yaml: {MOVED_ON}" in sentences(copy)


def test_deleting_tg_moved_on_everywhere_fails_the_check_in_each_language(copy: Path) -> None:
    """Gone from both languages, nothing but the contract notices: the languages still agree."""
    delete_key(copy, "ui/telegram.en.yaml", "tg_moved_on")
    delete_key(copy, "ui/telegram.sv.yaml", "tg_moved_on")
    assert sentences(copy) == [f"ui/telegram.en.yaml: {MOVED_ON}", f"ui/telegram.sv.yaml: {MOVED_ON}"]


def test_a_key_without_its_own_reason_is_named_with_its_feature(copy: Path) -> None:
    delete_key(copy, "ui/groups.en.yaml", "gr_joined")
    delete_key(copy, "ui/groups.sv.yaml", "gr_joined")
    assert sentences(copy) == [
        f"ui/groups.{language}.yaml: the text `gr_joined` is missing "
        "(one of the words of group sessions, for facilitators and members)"
        for language in ("en", "sv")
    ]


def test_a_key_formed_from_a_pattern_is_checked_too(copy: Path) -> None:
    delete_key(copy, "ui/reminders.en.yaml", "reminder_appointment_followup")
    delete_key(copy, "ui/reminders.sv.yaml", "reminder_appointment_followup")
    assert sentences(copy) == [
        f"ui/reminders.{language}.yaml: the text `reminder_appointment_followup` is missing "
        "(one of the words of appointment and session reminders)"
        for language in ("en", "sv")
    ]


def test_every_declared_key_is_in_the_file_it_is_declared_in() -> None:
    misplaced = []
    for language in ("en", "sv"):
        for declaration in TEXTS:
            shipped = yaml.safe_load((DEFAULT_CONTENT_DIR / declaration.file(language)).read_text(encoding="utf-8"))
            misplaced += [f"{declaration.file(language)}: {key}" for key in sorted(declaration.keys - set(shipped))]
    assert misplaced == []


def test_a_key_is_declared_once() -> None:
    seen: dict[str, str] = {}
    twice = []
    for key, declaration in texts.declared():
        if key in seen:
            twice.append(key)
        seen[key] = declaration.area
    assert twice == []


# --------------------------------------------------------------------- the declaration keeps up with the code


def shipped_keys() -> set[str]:
    keys: set[str] = set()
    for path in (DEFAULT_CONTENT_DIR / "ui").glob("*.yaml"):
        keys |= set(yaml.safe_load(path.read_text(encoding="utf-8")))
    return keys


def _shape(node: ast.JoinedStr) -> str:
    """f"reminder_{kind}" -> "reminder_{}"."""
    return "".join(
        part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "{}" for part in node.values
    )


def _lookup_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id if func.id in LOOKUPS else None
    if isinstance(func, ast.Attribute):
        if func.attr in LOOKUPS:
            return func.attr
        if func.attr == "get" and ast.unparse(func.value).lower().endswith(("ui", "texts")):
            return "get"
    return None


def undeclared(source: str, where: str, known: set[str]) -> Iterator[str]:
    """Every key (or pattern of keys) this source asks for that is not declared."""
    keys = {key for key, _ in texts.declared()}
    templates = {re.sub(r"\{[a-z_]+\}", "{}", t) for declaration in TEXTS for t in declaration.templates}
    tree = ast.parse(source)
    asked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _lookup_name(node) and node.args:
            first = node.args[0]
            candidates = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for item in candidates:
                if isinstance(item, ast.Constant) and isinstance(item.value, str) and KEY.match(item.value):
                    asked.add(id(item))
                    if item.value not in keys:
                        yield f"{where}:{item.lineno}: `{item.value}` is asked for but not declared"
                elif isinstance(item, ast.JoinedStr) and _shape(item) not in templates:
                    yield f"{where}:{item.lineno}: the pattern `{_shape(item)}` is asked for but not declared"
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in asked:
            continue
        if node.value in known and node.value not in keys:
            yield f"{where}:{node.lineno}: `{node.value}` names an interface text but is not declared"
        elif (
            TEMPLATE.match(node.value)
            and re.sub(r"\{[a-z_]+\}", "{}", node.value) not in templates
            and any(key.startswith(node.value.split("{")[0]) for key in known)
        ):
            yield f"{where}:{node.lineno}: the pattern `{node.value}` forms interface texts but is not declared"


def python_files() -> Iterator[Path]:
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative not in SKIPPED and "migrations" not in relative.parts:
                yield relative


def test_every_key_the_code_asks_for_is_declared() -> None:
    known = shipped_keys()
    found = [
        line
        for path in python_files()
        for line in undeclared((ROOT / path).read_text(encoding="utf-8"), str(path), known)
    ]
    assert found == []


def test_the_source_scan_finds_an_undeclared_key_a_pattern_and_a_template() -> None:
    source = (
        "def reply(core, language, kind, ok):\n"
        "    core.text('tg_brand_new', language)\n"
        "    core.text('tg_moved_on' if ok else 'tg_not_there', language)\n"
        "    self.ui.get(f'gr_lead_{kind}', language)\n"
        "    PATTERN = 'roles_thing_{name}'\n"
        "    core.text('tg_moved_on', language)\n"
    )
    assert list(undeclared(source, "x.py", {"roles_thing_one"})) == [
        "x.py:2: `tg_brand_new` is asked for but not declared",
        "x.py:3: `tg_not_there` is asked for but not declared",
        "x.py:4: the pattern `gr_lead_{}` is asked for but not declared",
        "x.py:5: the pattern `roles_thing_{name}` forms interface texts but is not declared",
    ]


def test_a_shipped_key_named_anywhere_in_the_code_must_be_declared() -> None:
    source = "BUTTONS = {'yes': 'button_brand_new'}\n"
    assert list(undeclared(source, "x.py", {"button_brand_new"})) == [
        "x.py:1: `button_brand_new` names an interface text but is not declared"
    ]


# --------------------------------------------------------------------- keys formed from patterns: the whole set


def test_the_menu_states_are_the_conversations_own() -> None:
    from bot.services.words import MENU_STATES

    assert set(MENU_STATES) == set(texts.MENU_STATES)


def test_every_kind_of_appointment_reminder_has_its_text_declared() -> None:
    from bot.reminders.appointments import DEFAULT_LEADS

    assert {kind for _, kind in DEFAULT_LEADS} == set(texts.APPOINTMENT_REMINDERS)


def test_every_role_command_has_its_text_declared() -> None:
    from bot.adapters.telegram.menus import COMMANDS, ROLE_COMMANDS

    assert set(COMMANDS) <= set(texts.PUBLIC_COMMANDS)
    assert {name for names in ROLE_COMMANDS.values() for name in names} == set(texts.ROLE_COMMANDS)
