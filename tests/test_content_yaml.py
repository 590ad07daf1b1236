"""Content YAML is read the way a nurse writing it would expect.

yes, no, on, off, y and n are words, not booleans; a key written twice in one
place is an error naming the file and the line, not a silent loss of the first.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content import load_yaml, read_documents
from flows.catalog import Catalog

ROOT = Path(__file__).parent.parent

YES_NO_FLOW = """\
id: sample
title: {en: Sample, sv: Prov}
description: {en: A sample., sv: Ett prov.}
steps:
  - id: first
    type: choice
    required: yes
    say: {en: "Did it help?", sv: "Hjälpte det?"}
    options:
      - id: yes
        en: Yes
        sv: Ja
      - id: no
        en: No
        sv: Nej
      - id: n
        en: On and off
        sv: Off
  - id: second
    type: text
    say: {en: Tell me., sv: Berätta.}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_yes_no_on_off_y_n_stay_words() -> None:
    data = load_yaml("a: yes\nb: no\nc: on\nd: Off\ne: y\nf: N\ng: [Yes, NO, On]\nno: key\n")
    assert data == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": "Off",
        "e": "y",
        "f": "N",
        "g": ["Yes", "NO", "On"],
        "no": "key",
    }


def test_true_false_and_numbers_keep_their_meaning() -> None:
    assert load_yaml("a: true\nb: False\nc: 3\nd: 2.5\ne: null\n") == {
        "a": True,
        "b": False,
        "c": 3,
        "d": 2.5,
        "e": None,
    }


def test_options_called_yes_and_no_load_as_written(folder: Path) -> None:
    (folder / "flows" / "sample.yaml").write_text(YES_NO_FLOW, encoding="utf-8")
    catalog = Catalog.build(read_documents(folder))
    step = catalog.flows["sample"].step("first")
    assert [option.id for option in step.options] == ["yes", "no", "n"]
    assert [option.en for option in step.options] == ["Yes", "No", "On and off"]
    assert [option.sv for option in step.options] == ["Ja", "Nej", "Off"]
    assert step.required is True


def test_a_ui_text_written_no_stays_no(folder: Path) -> None:
    path = folder / "ui" / "en.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\nbutton_no:" in text
    lines = [("button_no: No" if line.startswith("button_no:") else line) for line in text.splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    catalog = Catalog.build(read_documents(folder))
    assert catalog.ui.get("button_no", "en") == "No"


def test_a_key_written_twice_names_the_file_and_the_line(folder: Path) -> None:
    twice = YES_NO_FLOW.replace(
        "    say: {en: Tell me., sv: Berätta.}\n",
        "    say: {en: Tell me., sv: Berätta.}\n    say: {en: Say more., sv: Säg mer.}\n",
    )
    (folder / "flows" / "sample.yaml").write_text(twice, encoding="utf-8")
    result = check(folder)
    assert result.returncode == 1
    assert (
        "flows/sample.yaml: line 22: 'say' is written twice here (also on line 21); keep one of them" in result.stdout
    )


def test_a_key_written_twice_in_a_ui_file_is_found(folder: Path) -> None:
    (folder / "ui" / "extra.en.yaml").write_text("tg_new_text: Hello\ntg_new_text: Hi\n", encoding="utf-8")
    documents = read_documents(folder)
    assert [str(problem) for problem in documents.problems] == [
        "ui/extra.en.yaml: line 2: 'tg_new_text' is written twice here (also on line 1); keep one of them"
    ]


def test_yaml_that_cannot_be_read_names_the_line_and_the_usual_cause(folder: Path) -> None:
    (folder / "flows" / "broken.yaml").write_text(
        "id: broken\ntitle: Broken\nsteps:\n  - id: first\n    say: {en: Did it help?, sv: Hjälpte det?}\n",
        encoding="utf-8",
    )
    documents = read_documents(folder)
    assert [str(problem) for problem in documents.problems] == [
        "flows/broken.yaml: cannot be read as YAML: line 5: expected ',' or '}', but got '?' "
        "(words holding a colon, a comma, a question mark, # or brackets need quotes around them)"
    ]
