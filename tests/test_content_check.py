"""`companion content check` finds each kind of mistake and names the file and step."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent


def good_flow() -> dict:
    return {
        "id": "sample",
        "title": {"en": "Sample", "sv": "Prov"},
        "description": {"en": "A sample.", "sv": "Ett prov."},
        "sources": ["Ask 3 Questions (UK version)"],
        "steps": [
            {"id": "first", "type": "yes_no", "say": {"en": "Ready?", "sv": "Redo?"}},
            {"id": "second", "type": "text", "say": {"en": "Tell me.", "sv": "Berätta."}},
        ],
    }


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped content, as an author editing it would have."""
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def write_flow(folder: Path, flow: dict, name: str = "sample.yaml") -> None:
    (folder / "flows" / name).write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_shipped_content_passes() -> None:
    result = check(ROOT / "content")
    assert result.returncode == 0, result.stdout
    assert "looks good" in result.stdout


def test_a_good_new_flow_passes(folder: Path) -> None:
    write_flow(folder, good_flow())
    result = check(folder)
    assert result.returncode == 0, result.stdout


def test_yaml_that_cannot_be_read(folder: Path) -> None:
    (folder / "flows" / "broken.yaml").write_text("id: x\nsteps: [\n", encoding="utf-8")
    result = check(folder)
    assert result.returncode == 1
    assert "flows/broken.yaml: cannot be read as YAML" in result.stdout


def test_schema_error_names_the_step(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][1] = {"id": "second", "type": "scale", "say": "How much?", "min": 5, "max": 1}
    flow["steps"].append({"id": "third", "type": "choice", "say": {"en": "Pick", "sv": "Välj"}})
    write_flow(folder, flow)
    out = check(folder).stdout
    assert "flows/sample.yaml, step 'second': a scale needs min smaller than max" in out
    assert "flows/sample.yaml, step 'third': a choice step needs options (or options_from)" in out


def test_unknown_step_type_and_misspelt_field(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][0]["type"] = "yesno"
    flow["steps"][1]["sya"] = "typo"
    write_flow(folder, flow)
    out = check(folder).stdout
    assert "flows/sample.yaml, step 'first': `type` must be one of: message, text, choice" in out
    assert "flows/sample.yaml, step 'second': `sya` is not something a step can have (did you mean `say`?)" in out


def test_schema_errors_read_as_plain_sentences(folder: Path) -> None:
    """Each kind of mistake in words: the file, the step id, the field, what it must be. No pydantic paths."""
    flow = good_flow()
    flow["steps"] = [
        {"id": "missing_words", "type": "text"},
        {"id": "goal", "type": "choice", "say": "Pick one.", "options": "better sleep, fewer side effects"},
        {"id": "no_option_id", "type": "choice", "say": "Pick one.", "options": [{"en": "A", "sv": "A"}]},
        {"id": "wrong_number", "type": "text", "say": "Tell me.", "max_length": "long"},
        {"id": "typo_in_rule", "type": "yes_no", "say": "Ready?", "next": [{"go": "end", "wen": {"step": "goal"}}]},
        {"id": "finnish", "type": "text", "say": {"en": "Hello", "fi": "Hei"}},
        {"id": "short_repeat", "type": "text", "say": "Tell me.", "repeat": {"ask": "Another?", "max": 1}},
        "just words",
    ]
    flow["menu_ordr"] = 3
    write_flow(folder, flow)
    result = check(folder)
    assert result.returncode == 1
    out = result.stdout
    expected = [
        "flows/sample.yaml, step 'missing_words': `say` is missing: it must be words to say",
        "flows/sample.yaml, step 'goal': `options` must be a list of choices, each with an `id` and its words "
        "(`en:`, `sv:`) (not 'better sleep, fewer side effects')",
        "flows/sample.yaml, step 'no_option_id': in `options`, number 1, `id` is missing: it must be an id",
        "flows/sample.yaml, step 'wrong_number': `max_length` must be a whole number (not 'long')",
        "flows/sample.yaml, step 'typo_in_rule': in `next`, number 1, `wen` is not something a rule can have "
        "(did you mean `when`?)",
        "flows/sample.yaml, step 'finnish': in `say`, `fi` is not something a text can have "
        "(write `en:` for English and `sv:` for Swedish)",
        "flows/sample.yaml, step 'short_repeat': in `repeat`, `max` must be at least 2 (not 1)",
        "flows/sample.yaml, step '#8': this must be a step, with an `id`, a `type` and what to `say`",
        "flows/sample.yaml: `menu_ordr` is not something a flow can have (did you mean `menu_order`?)",
    ]
    for sentence in expected:
        assert sentence in out, (sentence, out)
    for pydantic_words in ("Field required", "Input should", "Extra inputs", "steps.", "list[Rule]", "function-"):
        assert pydantic_words not in out, out


def test_a_union_mistake_is_said_once_in_words(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][0]["next"] = 5
    write_flow(folder, flow)
    out = check(folder).stdout
    lines = [line for line in out.splitlines() if "step 'first'" in line]
    assert lines == [
        "flows/sample.yaml, step 'first': `next` must be a step id, or a list of rules, each with `go:` and perhaps "
        "`when:` (not 5)"
    ], out


def test_a_file_that_is_not_a_flow(folder: Path) -> None:
    (folder / "flows" / "list.yaml").write_text("- one\n- two\n", encoding="utf-8")
    out = check(folder).stdout
    assert "flows/list.yaml: this file must be one flow, with `id`, `title`, `description` and `steps`" in out


def test_references_to_unknown_steps(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][0]["next"] = [{"when": {"step": "frist", "is": "yes"}, "go": "secnod"}]
    flow["steps"][1]["say"] = {"en": "You said {frist}.", "sv": "Du sa {first}."}
    write_flow(folder, flow)
    out = check(folder).stdout
    assert "flows/sample.yaml, step 'first': next goes to 'secnod', but there is no step with that id" in out
    assert "flows/sample.yaml, step 'first': a condition looks at step 'frist', which does not exist" in out
    assert "flows/sample.yaml, step 'second': say (en) quotes {frist}, but there is no step with that id" in out


def test_condition_on_an_option_that_does_not_exist(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][0]["next"] = [{"when": {"step": "first", "is": "maybe"}, "go": "end"}]
    write_flow(folder, flow)
    assert "expects 'maybe' from 'first', whose options are: no, yes" in check(folder).stdout


def test_unreachable_step(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][0]["next"] = "end"
    write_flow(folder, flow)
    assert "flows/sample.yaml, step 'second': no path leads to this step" in check(folder).stdout


def test_dead_end(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][0]["next"] = "second"
    flow["steps"][1]["next"] = "first"  # round and round, never finishing
    write_flow(folder, flow)
    out = check(folder).stdout
    assert "flows/sample.yaml, step 'first': dead end: the flow can never finish from this step" in out
    assert "flows/sample.yaml, step 'second': dead end" in out


def test_missing_translations(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][1]["say"] = "English only."
    flow["steps"].append(
        {"id": "third", "type": "choice", "say": {"en": "Pick", "sv": "Välj"}, "options": [{"id": "a", "en": "A"}]}
    )
    write_flow(folder, flow)
    ui = yaml.safe_load((folder / "ui" / "sv.yaml").read_text(encoding="utf-8"))
    del ui["button_skip"]
    ui["button_back"] = "Tillbaka {oops}"
    (folder / "ui" / "sv.yaml").write_text(yaml.safe_dump(ui, allow_unicode=True), encoding="utf-8")
    out = check(folder).stdout
    assert "flows/sample.yaml, step 'second': say has no Swedish (sv) text" in out
    assert "flows/sample.yaml, step 'third': option 'a' has no Swedish (sv) text" in out
    assert "ui/sv.yaml: 'button_skip' has no translation (English: 'Skip')" in out
    assert "ui/sv.yaml: 'button_back' must use the same {names} as English" in out


def test_telegram_limits(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][1]["say"] = {"en": "word " * 900, "sv": "ord " * 10}
    flow["steps"].append(
        {
            "id": "third",
            "type": "choice",
            "say": {"en": "Pick", "sv": "Välj"},
            "options": [{"id": "a", "en": "A" * 70, "sv": "A"}],
        }
    )
    write_flow(folder, flow)
    out = check(folder).stdout
    assert "flows/sample.yaml, step 'second': say (en) is 4500 characters; Telegram allows 4096" in out
    assert "flows/sample.yaml, step 'third': option 'a' (en) is 70 characters; keep buttons to 64" in out


def test_unknown_summary_section_and_duplicate_ids(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][1]["summary"] = "about_us"
    write_flow(folder, flow)
    twin = good_flow()
    write_flow(folder, twin, "twin.yaml")
    out = check(folder).stdout
    assert "flow id 'sample' is also used by flows/sample.yaml" in out
    assert "summary section 'about_us' is not in summary/sections.yaml" in out


def test_cross_flow_quote_must_exist(folder: Path) -> None:
    flow = good_flow()
    flow["steps"][1]["say"] = {"en": "You said {nowhere.goal}.", "sv": "Du sa {questions.nothing}."}
    write_flow(folder, flow)
    out = check(folder).stdout
    assert "step 'second': say (en) quotes {nowhere.goal}, but there is no flow 'nowhere'" in out
    assert "step 'second': say (sv) quotes {questions.nothing}, but flow 'questions' has no question 'nothing'" in out


def test_graph_of_an_incomplete_content_folder_says_what_is_missing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "graph", "kinds", "--content", str(ROOT / "tests" / "content")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    # tests/content has flows only, so the graph command reports what is missing instead of crashing.
    assert result.returncode == 1
    assert "ui/en.yaml" in result.stderr


def test_graph_of_a_flow_shows_branches_and_loops(folder: Path) -> None:
    shutil.copy(ROOT / "tests" / "content" / "flows" / "kinds.yaml", folder / "flows" / "kinds.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "graph", "kinds", "--content", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "stateDiagram-v2" in result.stdout
    assert "mood --> sorry: next [mood_is_low]" in result.stdout
    assert "mood --> areas: next" in result.stdout
    assert "confidence --> appointment: next [confidence_at_least_8]" in result.stdout
    assert "question__again --> question: again" in result.stdout
    assert "statement --> end: next" in result.stdout
