"""Every part on the menu says what it draws on (``sources:``), so a clinical reviewer can
check its words against the tools and papers it comes from (docs/content-review.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.checks import check_folder
from bot.content import DEFAULT_CONTENT_DIR, load_catalog

ROOT = Path(__file__).parent.parent


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def _flow(folder: Path, name: str) -> dict:
    return yaml.safe_load((folder / "flows" / name).read_text(encoding="utf-8"))


def _write(folder: Path, name: str, data: dict) -> None:
    (folder / "flows" / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_menu_flow_without_sources_fails_with_a_sentence_naming_its_file(folder: Path) -> None:
    data = _flow(folder, "goals.yaml")
    del data["sources"]
    _write(folder, "goals.yaml", data)
    messages = [str(problem) for problem in check_folder(folder)]
    assert [m for m in messages if "sources" in m] == [
        "flows/goals.yaml: this part is on the menu, so it must say what its words draw on: "
        "add sources: with one line for each tool, paper or project it uses (see docs/content-review.md)"
    ]


def test_an_empty_list_of_sources_fails_too(folder: Path) -> None:
    data = _flow(folder, "questions.yaml")
    data["sources"] = []
    _write(folder, "questions.yaml", data)
    assert any(p.file == "flows/questions.yaml" and "sources:" in p.message for p in check_folder(folder))


def test_a_blank_source_fails(folder: Path) -> None:
    data = _flow(folder, "questions.yaml")
    data["sources"] = ["Ask 3 Questions", "  "]
    _write(folder, "questions.yaml", data)
    problems = [p for p in check_folder(folder) if p.file == "flows/questions.yaml"]
    assert problems, "a blank line in sources: must be reported"
    assert all("sources" in p.message for p in problems)


def test_a_flow_off_the_menu_may_leave_sources_out(folder: Path) -> None:
    data = _flow(folder, "my_name.yaml")
    assert data["menu"] is False
    data.pop("sources", None)
    _write(folder, "my_name.yaml", data)
    assert check_folder(folder) == []


def test_a_new_menu_flow_with_sources_passes(folder: Path) -> None:
    flow = {
        "id": "sample",
        "title": {"en": "Sample", "sv": "Prov"},
        "description": {"en": "A sample.", "sv": "Ett prov."},
        "sources": ["SURE test, Ottawa decision tools"],
        "steps": [{"id": "first", "type": "yes_no", "say": {"en": "Ready?", "sv": "Redo?"}}],
    }
    _write(folder, "sample.yaml", flow)
    assert check_folder(folder) == []


def test_every_shipped_flow_names_its_sources() -> None:
    catalog = load_catalog(DEFAULT_CONTENT_DIR)
    missing = [flow.id for flow in catalog.flows.values() if not flow.sources]
    assert missing == []
