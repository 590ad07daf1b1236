"""`companion content check` for the crisis lexicons: a missing lexicon is never a silent pass,
the cards carry every number, the file's format errors are explained, examples behave."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import DEFAULT_CONTENT_DIR, read_documents
from flows.catalog import Catalog
from flows.check import check_documents
from flows.crisis import CrisisDetector, Lexicon, LexiconError, check_crisis

ROOT = Path(__file__).parent.parent


def crisis_problems(documents: Any) -> list[str]:
    return [str(problem) for problem in check_documents(documents, (check_crisis,)) if "crisis/" in str(problem)]


def test_the_shipped_lexicons_pass() -> None:
    assert crisis_problems(read_documents(DEFAULT_CONTENT_DIR)) == []


def test_a_missing_lexicon_is_reported() -> None:
    documents = read_documents(DEFAULT_CONTENT_DIR)
    del documents.extra["crisis/sv.yaml"]
    problems = crisis_problems(documents)
    assert any(p.startswith("crisis/sv.yaml") and "missing" in p for p in problems)


def test_a_missing_crisis_folder_is_reported_for_both_languages() -> None:
    documents = read_documents(DEFAULT_CONTENT_DIR)
    documents.extra = {k: v for k, v in documents.extra.items() if not k.startswith("crisis/")}
    problems = crisis_problems(documents)
    assert any(p.startswith("crisis/en.yaml") and "missing" in p for p in problems)
    assert any(p.startswith("crisis/sv.yaml") and "missing" in p for p in problems)


def test_companion_content_check_fails_without_the_crisis_folder(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    shutil.rmtree(folder / "crisis")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 1, result.stdout
    assert "crisis/en.yaml" in result.stdout and "crisis/sv.yaml" in result.stdout


def test_the_supporters_card_must_carry_every_number() -> None:
    documents = read_documents(DEFAULT_CONTENT_DIR)
    swedish = dict(documents.extra["crisis/sv.yaml"])
    swedish["supporter_card"] = swedish["supporter_card"].replace("90101", "")
    documents.extra["crisis/sv.yaml"] = swedish
    assert "crisis/sv.yaml: the supporter_card must give the number 90101" in crisis_problems(documents)


def english() -> dict[str, Any]:
    return copy.deepcopy(read_documents(DEFAULT_CONTENT_DIR).extra["crisis/en.yaml"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("supporter_card"), "'supporter_card' is missing or empty"),
        (lambda d: d["words"].pop("negation"), "the word groups negation are missing"),
        (lambda d: d["categories"]["intent"].update(tier="urgent"), "has tier 'urgent'"),
        (lambda d: d["categories"]["intent"].update(when={"sleepy": "weak"}), "names 'sleepy'"),
        (
            lambda d: d["categories"]["hopelessness"].update(when={"negated": "definite"}),
            "is stronger than its tier",
        ),
        (lambda d: d["categories"]["intent"]["phrases"].append("kill .. @weapons"), "'@weapons', which is not under"),
        (lambda d: d["categories"]["intent"]["phrases"].append("kill .. @past"), "must be single words"),
        (lambda d: d["categories"]["intent"]["phrases"].append({"out of order": "kill me"}), "not words in quotes"),
        (lambda d: d["categories"]["not_crisis"]["phrases"].append(".. dying"), "cannot start or end with '..'"),
        (lambda d: d["categories"]["intent"]["phrases"].append("ki*"), "needs at least 3 letters"),
    ],
)
def test_format_errors_are_explained(change: Any, message: str) -> None:
    data = english()
    change(data)
    with pytest.raises(LexiconError) as error:
        Lexicon.from_document("en", data)
    assert message in str(error.value)


def test_a_format_error_is_a_problem_of_that_file(catalog: Catalog) -> None:
    data = english()
    data["categories"]["intent"]["tier"] = "urgent"
    extra = {**catalog.extra, "crisis/en.yaml": data}
    broken = Catalog(flows=catalog.flows, ui=catalog.ui, summary=catalog.summary, files=catalog.files, extra=extra)
    problems = [str(p) for p in check_crisis(broken)]
    assert any(p.startswith("crisis/en.yaml:") and "tier 'urgent'" in p for p in problems)


def test_examples_of_every_category_are_checked() -> None:
    documents = read_documents(DEFAULT_CONTENT_DIR)
    data = copy.deepcopy(documents.extra["crisis/sv.yaml"])
    data["categories"]["stopping_medicine"]["examples"] = ["jag gillar äpplen"]
    data["categories"]["not_crisis"]["examples"] = ["jag vill dö"]
    data["categories"]["hopelessness"]["not_examples"] = ["jag är så trött på allt"]
    documents.extra["crisis/sv.yaml"] = data
    problems = crisis_problems(documents)
    assert any("'stopping_medicine': the example 'jag gillar äpplen' should bring the reminder" in p for p in problems)
    assert any("'not_crisis': the example 'jag vill dö' should get nothing" in p for p in problems)
    assert any(
        "'hopelessness': the not_example 'jag är så trött på allt' should get less than weak" in p for p in problems
    )


def test_an_in_order_phrase_matches_only_in_order(catalog: Catalog) -> None:
    data = english()
    data["categories"] = {
        "not_crisis": {"tier": "none", "phrases": ["dying to know"]},
        "harm_to_others": {"tier": "definite", "phrases": [{"in order": "hurt .. @people"}]},
        "wish_to_be_dead": {"tier": "possible", "phrases": ["want .. die"]},
    }
    detector = CrisisDetector({"en": Lexicon.from_document("en", data)})
    assert detector.is_crisis("I could hurt him")
    assert not detector.is_crisis("him, I could not say I hurt")
    assert not detector.is_crisis("him I could hurt")
    assert detector.is_crisis("to die is all I want")


def test_the_lexicon_file_round_trips_through_yaml() -> None:
    text = (DEFAULT_CONTENT_DIR / "crisis" / "en.yaml").read_text(encoding="utf-8")
    assert Lexicon.from_document("en", yaml.safe_load(text)).categories["harm_to_others"].ordered
