"""The console's own words: said instead of the texts about buttons, only in the console, and checked."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from bot.adapters.console import console_catalog
from bot.checks import check_folder
from bot.content import DEFAULT_CONTENT_DIR
from flows.catalog import Catalog
from flows.texts import UiTexts

TAP = re.compile(r"\btap|\btryck på", re.IGNORECASE)


def test_a_channel_variant_replaces_its_text_only_for_that_channel() -> None:
    ui = UiTexts(
        {
            "en": {"hint": "Tap a button.", "console_hint": "Type a number.", "console_only": "Bye."},
            "sv": {"hint": "Tryck på en knapp."},
        }
    )
    console = ui.for_channel("console")
    assert console.get("hint", "en") == "Type a number."
    assert console.get("hint", "sv") == "Tryck på en knapp."  # no Swedish variant: the text stays
    assert ui.get("hint", "en") == "Tap a button."  # the original is unchanged
    assert "only" not in console.keys("en")  # a variant of nothing replaces nothing
    assert ui.for_channel("telegram").get("hint", "en") == "Tap a button."


def test_nothing_the_engine_says_in_the_console_speaks_of_tapping(catalog: Catalog) -> None:
    """Every text the engine and the console say to a service user (ui/en.yaml, ui/sv.yaml, safety and
    summary words), as the console says it."""
    console = console_catalog(catalog).ui
    said_by_both = set()
    for language in ("en", "sv"):
        for name in (f"{language}.yaml", f"safety.{language}.yaml", f"summary.{language}.yaml"):
            said_by_both |= set(yaml.safe_load((DEFAULT_CONTENT_DIR / "ui" / name).read_text(encoding="utf-8")))
    assert "hint_date" in said_by_both and "tick_then_done" in said_by_both
    tapping = {
        (key, language) for key in said_by_both for language in ("en", "sv") if TAP.search(console.get(key, language))
    }
    assert tapping == set()
    assert TAP.search(catalog.ui.get("hint_date", "en"))  # Telegram's own words are unchanged


def test_a_console_variant_with_a_placeholder_its_text_lacks_fails_the_check(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, folder)
    for language in ("en", "sv"):
        path = folder / "ui" / f"console.{language}.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('console_hint_time: "', 'console_hint_time: "{example} '), encoding="utf-8")
    problems = [str(problem) for problem in check_folder(folder)]
    assert any(
        "ui/console.en.yaml" in p and "'console_hint_time' is said instead of 'hint_time', which has no {example}" in p
        for p in problems
    ), problems
    assert check_folder(DEFAULT_CONTENT_DIR) == []
