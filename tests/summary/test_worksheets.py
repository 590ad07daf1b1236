"""`companion worksheets`: every part on the menu as a blank form to fill in on paper.

The worksheets are made from the content, so the tests compute what must be
on them from the content too: every step of every menu flow, in English and
Swedish, read back from the PDF with pypdf.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pypdf
import pytest
import yaml
from typer.testing import CliRunner

from bot.checks import check_folder
from bot.cli import app
from bot.content import DEFAULT_CONTENT_DIR, load_catalog, read_documents
from bot.summary.pdf import FrameOp
from bot.summary.worksheets import blanked, build_worksheets, lay_out_worksheets, menu_flows, render_worksheets
from flows.catalog import Catalog
from flows.crisis import REQUIRED_NUMBERS
from flows.schema import Flow, Step, StepType

ROOT = Path(__file__).resolve().parent.parent.parent


def plain(text: str) -> str:
    """Text with every run of spaces and line breaks as one space (lines wrap differently on paper)."""
    return re.sub(r"\s+", " ", text).strip()


def pdf_text(data: bytes) -> list[str]:
    return [plain(page.extract_text()) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def run_worksheets(tmp_path: Path, language: str, *extra: str) -> list[str]:
    out = tmp_path / f"worksheets-{language}.pdf"
    result = CliRunner().invoke(app, ["worksheets", "--language", language, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return pdf_text(out.read_bytes())


def words_of(step: Step, language: str, reminded_already: bool) -> list[str]:
    """What a step must show on paper: its words (earlier answers as blanks), its options, its scale's ends."""
    said = step.say.get(language)
    if step.stop_reminder and reminded_already and step.reminded is not None:
        said = step.reminded.get(language)
    words = [blanked(said)]
    words += [option.words(language) for option in step.options]
    for label in (step.min_label, step.max_label):
        if label is not None:
            words.append(label.get(language))
    if step.why is not None:
        words.append(step.why.get(language))
    return [plain(word) for word in words]


def missing_from(text: str, catalog: Catalog, flows: list[Flow], language: str) -> list[str]:
    missing = []
    for flow in flows:
        if plain(flow.title.get(language)) not in text:
            missing.append(f"{flow.id}: title")
        reminded = False
        for step in flow.steps:
            for words in words_of(step, language, reminded):
                if words not in text:
                    missing.append(f"{flow.id}.{step.id}: {words[:60]}")
            reminded = reminded or step.stop_reminder
    return missing


@pytest.mark.parametrize("language", ["en", "sv"])
def test_every_step_of_every_menu_flow_is_on_the_worksheets(tmp_path: Path, language: str) -> None:
    catalog = load_catalog(DEFAULT_CONTENT_DIR)
    flows = menu_flows(catalog)
    assert {flow.id for flow in flows} >= {"goals", "personal_medicine", "assertiveness", "questions", "appointment"}
    text = " ".join(run_worksheets(tmp_path, language))
    assert missing_from(text, catalog, flows, language) == []
    for flow in catalog.flows.values():
        if not flow.menu:  # offered at a moment of the companion's own, not a worksheet
            assert plain(flow.title.get(language)) not in text, flow.id


def test_a_new_menu_flow_is_a_worksheet_without_code_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    new = {
        "id": "sleep",
        "title": {"en": "My sleep", "sv": "Min sömn"},
        "description": {"en": "A few questions about how you sleep.", "sv": "Några frågor om hur du sover."},
        "sources": ["WRAP: the wellness toolbox"],
        "steps": [
            {
                "id": "hours",
                "type": "scale",
                "min": 0,
                "max": 5,
                "say": {"en": "How well do you sleep?", "sv": "Hur bra sover du?"},
            },
            {
                "id": "helps",
                "type": "checklist",
                "say": {"en": "What helps you sleep?", "sv": "Vad hjälper dig att sova?"},
                "options": [
                    {"id": "tea", "en": "A warm drink", "sv": "En varm dryck"},
                    {"id": "walk", "en": "A walk in the day", "sv": "En promenad på dagen"},
                ],
            },
        ],
    }
    (folder / "flows" / "sleep.yaml").write_text(yaml.safe_dump(new, allow_unicode=True), encoding="utf-8")
    # And a part taken off the menu is no longer a worksheet.
    appointment = yaml.safe_load((folder / "flows" / "appointment.yaml").read_text(encoding="utf-8"))
    appointment["menu"] = False
    (folder / "flows" / "appointment.yaml").write_text(
        yaml.safe_dump(appointment, allow_unicode=True), encoding="utf-8"
    )
    monkeypatch.setenv("COMPANION_CONTENT_DIR", str(folder))
    for language in ("en", "sv"):
        text = " ".join(run_worksheets(tmp_path, language))
        catalog = load_catalog(folder)
        assert missing_from(text, catalog, [catalog.flows["sleep"]], language) == []
        assert plain(catalog.flows["appointment"].title.get(language)) not in text


def test_each_worksheet_starts_on_its_own_page_and_says_any_question_can_be_left_out(tmp_path: Path) -> None:
    catalog = load_catalog(DEFAULT_CONTENT_DIR)
    pages = run_worksheets(tmp_path, "en")
    intro = plain(catalog.ui.get("worksheet_intro", "en"))
    assert "You can leave out any question" in intro
    starts = [page for page in pages if intro in page]
    assert len(starts) == len(menu_flows(catalog))
    for flow, page in zip(menu_flows(catalog), starts, strict=True):
        assert page.startswith(plain(flow.title.get("en"))), page[:80]


@pytest.mark.parametrize("language", ["en", "sv"])
def test_every_page_says_it_is_not_for_emergencies_and_gives_the_crisis_numbers(tmp_path: Path, language: str) -> None:
    pages = run_worksheets(tmp_path, language)
    assert len(pages) > 5
    for number, page in enumerate(pages, start=1):
        for crisis_number in REQUIRED_NUMBERS:
            assert crisis_number in page, (number, crisis_number)
        assert f"{number} " in page  # "Page 3 of 14" / "Sida 3 av 14"


def test_a_branch_says_which_number_to_go_to(tmp_path: Path) -> None:
    english = " ".join(run_worksheets(tmp_path, "en"))
    swedish = " ".join(run_worksheets(tmp_path, "sv"))
    # goals: 2 is the checklist of parts of life; 3 is asked only after "Something else".
    assert "If you ticked “Something else” at 2, go to 3. If not, go to 4." in english
    assert "Om du kryssade i ”Något annat” på 2, gå till 3. Annars gå till 4." in swedish
    # A question that ends the part on one answer.
    assert "If you ticked “Yes” at" in english and "you have finished this worksheet" in english
    # Rules that ask the same of several questions say it once: the SURE questions.
    questions = load_catalog(DEFAULT_CONTENT_DIR).flows["questions"]
    number = {step.id: str(index) for index, step in enumerate(questions.steps, start=1)}
    sure = [number[step] for step in ("sure_sure", "sure_know", "sure_values", "sure_support")]
    ready, not_ready = number["feel_ready"], number["not_ready_yet"]
    assert f"If you ticked “Yes” at {', '.join(sure[:3])} and {sure[3]}, go to {ready}." in english
    assert f"If you ticked “No” at {', '.join(sure[:3])} or {sure[3]}, go to {not_ready}." in english
    assert f"Om du kryssade i ”Nej” på {', '.join(sure[:3])} eller {sure[3]}, gå till {not_ready}." in swedish


def test_options_have_boxes_yes_and_no_have_boxes_and_a_scale_is_a_row_of_boxes() -> None:
    catalog = load_catalog(DEFAULT_CONTENT_DIR)
    document = build_worksheets(catalog, "en")
    expected = 0
    for worksheet in document.worksheets:
        for item in worksheet.items:
            expected += len(item.boxes) + item.box_rows
            if item.scale is not None:
                expected += item.scale[1] - item.scale[0] + 1
    layout = lay_out_worksheets(document)
    drawn = sum(isinstance(op, FrameOp) for page in layout.pages for op in page)
    assert drawn == expected
    questions = {item.number: item for item in document.worksheets[0].items}
    goals = catalog.flows["goals"]
    confidence = questions[[step.id for step in goals.steps].index("confidence") + 1]
    assert confidence.scale == (0, 10)
    yes_no = [item for worksheet in document.worksheets for item in worksheet.items if item.boxes == ("Yes", "No")]
    assert len(yes_no) == sum(step.type is StepType.yes_no for flow in menu_flows(catalog) for step in flow.steps)


def sample_catalog(steps: list[dict]) -> Catalog:
    documents = read_documents(DEFAULT_CONTENT_DIR)
    documents.flows = {
        "flows/sample.yaml": {
            "id": "sample",
            "title": {"en": "Sample", "sv": "Prov"},
            "description": {"en": "A sample.", "sv": "Ett prov."},
            "sources": ["A test"],
            "steps": steps,
        }
    }
    return Catalog.build(documents)


def test_the_reminder_not_to_stop_suddenly_is_whole_once_on_a_sheet_then_short() -> None:
    reminder = {
        "type": "message",
        "stop_reminder": True,
        "say": {"en": "Please do not stop suddenly on your own.", "sv": "Sluta inte plötsligt på egen hand."},
        "reminded": {"en": "Your prescriber can plan it with you.", "sv": "Din förskrivare kan planera det med dig."},
    }
    catalog = sample_catalog([{"id": "first", **reminder}, {"id": "second", **reminder}])
    items = build_worksheets(catalog, "en").worksheets[0].items
    assert [item.text for item in items] == [
        "Please do not stop suddenly on your own.",
        "Your prescriber can plan it with you.",
    ]
    # Each shipped sheet that comes to stopping gives the whole reminder, with the prescriber.
    shipped = load_catalog(DEFAULT_CONTENT_DIR)
    for worksheet, flow in zip(build_worksheets(shipped, "en").worksheets, menu_flows(shipped), strict=True):
        reminders = [step for step in flow.steps if step.stop_reminder]
        if reminders:
            texts = [item.text for item in worksheet.items]
            assert reminders[0].say.en in texts, flow.id


def test_a_required_question_says_so_and_quoted_answers_are_blanks() -> None:
    catalog = sample_catalog(
        [
            {
                "id": "name",
                "type": "text",
                "required": True,
                "say": {"en": "What is your name?", "sv": "Vad heter du?"},
            },
            {"id": "hello", "type": "message", "say": {"en": "Hello {name}.", "sv": "Hej {name}."}},
        ]
    )
    for language, required in (("en", "Please answer this one."), ("sv", "Svara gärna på den här.")):
        first, second = build_worksheets(catalog, language).worksheets[0].items
        assert first.hint == required
        assert "{name}" not in second.text and "________" in second.text
        text = " ".join(pdf_text(render_worksheets(build_worksheets(catalog, language))))
        assert required in text


def test_large_print_makes_more_pages(tmp_path: Path) -> None:
    assert len(run_worksheets(tmp_path, "en", "--large")) > len(run_worksheets(tmp_path, "en"))


def test_an_unknown_language_is_told_kindly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["worksheets", "--language", "fi", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    assert "en and sv" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_the_check_fails_when_a_crisis_number_is_missing_from_the_foot_of_the_worksheets(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    file = folder / "ui" / "worksheets.sv.yaml"
    file.write_text(file.read_text(encoding="utf-8").replace("90101", "Mind"), encoding="utf-8")
    assert [str(problem) for problem in check_folder(folder)] == [
        "ui/worksheets.sv.yaml: `worksheet_help_now` must give the crisis number 90101: it is printed on every "
        "worksheet page, and paper cannot notice when someone is in crisis"
    ]
