"""The shipped summary as a prescriber reads it: one page for ordinary answers, what matters in the
top third, and every answer on the page (or the page says where it is)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
from typing import Any

import pypdf
import pytest

from bot.services.app import Services
from bot.services.conversation import Companion, Who
from bot.services.privacy import Privacy
from bot.storage.repository import PersonRecord, RunRecord
from bot.summary import assemble, build_summary, render_html, render_pdf, render_text
from bot.summary.build import Records
from bot.summary.layout import StepRef, rules_for, unplaced_steps
from bot.summary.pdf import PAGE_HEIGHT
from flows.engine import Engine
from flows.schema import StepType
from tests.summary.conftest import play
from tests.summary.ordinary import LAST_TIME, ORDINARY, POWER

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


def positions(pdf: bytes, page: int = 0) -> list[tuple[float, str]]:
    """(height from the top of the page, text) of every piece of text pypdf finds on a page."""
    found: list[tuple[float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            found.append((PAGE_HEIGHT - tm[5] * cm[3] - cm[5], text))

    pypdf.PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return found


def top_of(found: list[tuple[float, str]], words: str) -> float:
    """Where (from the top) the piece of text holding the start of ``words`` is."""
    start = " ".join(words.split()[:6])
    for depth, text in found:
        if start in " ".join(text.split()):
            return depth
    raise AssertionError(f"{start!r} not found on the page")


async def ordinary_person(companion: Companion, language: str) -> int:
    Services.around(companion)
    who = Who("console", f"ordinary-{language}")
    person = await companion.join(who, language)
    await play(companion, who, "what_we_agreed", LAST_TIME[language])
    for flow_id, plan in ORDINARY[language].items():
        await play(companion, who, flow_id, plan)
    return person.id


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_ordinary_answers_fit_one_page_with_what_matters_in_the_top_third(
    companion: Companion, engine: Engine, clock: Any, language: str
) -> None:
    person_id = await ordinary_person(companion, language)
    document = await build_summary(companion.storage, engine, person_id, now=clock())
    pdf = render_pdf(document)
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1
    found = positions(pdf)
    plan = ORDINARY[language]
    third = PAGE_HEIGHT / 3
    assert document.glance is not None
    sure = {"en": "I need more information or support.", "sv": "Jag behöver mer information eller stöd."}
    top_three = document.glance.items[2].entries[0].items
    assert len(top_three) == 3 and plan["questions"]["own"][0] in top_three
    for words in [POWER[language], plan["assertiveness"]["one_thing"], *top_three, sure[language]]:
        assert top_of(found, words) < third, words
    urgent = document.glance.items[-1]
    assert urgent.urgent
    side_effects = urgent.entries[0].items
    assert plan["personal_medicine"]["other_effect"] in side_effects  # typed, not "Something else"
    assert top_of(found, side_effects[0]) < third
    # What we agreed last time comes next, before everything else.
    agreed = top_of(found, LAST_TIME[language]["will_do"])
    assert third - 40 < agreed < top_of(found, plan["goals"]["goal"])
    assert document.sections[0].id == "what_we_agreed"


async def test_the_appointment_the_something_else_and_both_priorities_are_printed(
    companion: Companion, engine: Engine, clock: Any
) -> None:
    person_id = await ordinary_person(companion, "en")
    document = await build_summary(companion.storage, engine, person_id, now=clock())
    text = " ".join(render_text(document).split())
    assert "My appointment: 06/12/2026 at 14:00" in document.details
    assert "Who with: My doctor or psychiatrist" in document.details
    assert "My note: Bring my sister." in document.details
    assert "My allotment" in text and "Something else" not in text
    assert "I want to work on: Work or study" in text  # also among the parts of life that matter
    assert "What helps me most: Walking or exercise" in text
    assert "My name: Sam" in document.details


def _everything_answered(engine: Engine, language: str) -> tuple[Records, dict[StepRef, str]]:
    """Records in which every question of every shipped flow has an answer; and each answer in words."""
    catalog = engine.catalog
    person = PersonRecord(1, "console", "all", language, "Europe/London", None, None, 1, NOW)
    latest: dict[str, RunRecord] = {}
    answers: dict[int, dict[str, tuple[Any, dt.datetime]]] = {}
    words: dict[StepRef, str] = {}
    for number, flow in enumerate(catalog.ordered_flows(), start=1):
        latest[flow.id] = RunRecord(number, flow.id, "completed", NOW, NOW, NOW)
        given: dict[str, Any] = {}
        for step in flow.steps:
            token = f"A{number}x{step.id.replace('_', 'x')}"
            if step.type is StepType.message:
                continue
            if step.type is StepType.text:
                value: Any = [f"{token} one", f"{token} two"] if step.repeat else f"{token} words"
            elif step.type is StepType.checklist:
                value = [option.id for option in step.options] or [f"{step.options_from[0]}.1"]
            elif step.type is StepType.choice:
                value = step.options[-1].id if step.options else f"{step.options_from[0]}.1"
            elif step.type is StepType.yes_no:
                value = "yes"
            elif step.type is StepType.scale:
                value = step.max
            elif step.type is StepType.date:
                value = "2026-12-09"
            else:
                value = "14:30"
            given[step.id] = value
        for step_id, value in given.items():
            step = flow.step(step_id)
            ref = StepRef(f"{flow.id}.{step_id}")
            if step.type is StepType.text:
                words[ref] = value[0] if isinstance(value, list) else value
            elif step.type is StepType.checklist and step.options:
                words[ref] = step.options[0].get(language)
            elif step.type is StepType.choice and step.options:
                words[ref] = step.options[-1].get(language)
            elif step.type is StepType.scale:
                words[ref] = f"{step.max}"
            elif step.type is StepType.date:
                words[ref] = "09/12/2026" if language == "en" else "2026-12-09"
            elif step.type is StepType.time:
                words[ref] = "14:30"
        answers[number] = {key: (value, NOW) for key, value in given.items()}
    return Records(person, latest, answers, frozenset()), words


@pytest.mark.parametrize("language", ["en", "sv"])
def test_every_answer_of_every_shipped_flow_is_printed_or_the_page_says_where_it_is(
    engine: Engine, language: str
) -> None:
    records, words = _everything_answered(engine, language)
    document = assemble(engine, records, now=NOW)
    rules = rules_for(engine.catalog)
    assert not unplaced_steps(engine.catalog, rules)
    pdf = render_pdf(document)
    formats = {
        "pdf": " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages).split()),
        "html": html.unescape(render_html(document)),
        "text": " ".join(render_text(document).split()),
    }
    elsewhere = rules.elsewhere
    assert elsewhere is not None
    kept_elsewhere = set(elsewhere.refs()) | {ref for ref in words if ref.flow in elsewhere.flows}
    checked = 0
    for ref, said in words.items():
        step = engine.catalog.flows[ref.flow].step(ref.step)
        if ref in kept_elsewhere:
            for name, shown in formats.items():
                assert " ".join(elsewhere.note.get(language).split()) in shown, (name, ref)
            continue
        if ref == StepRef(rules.large_print or "") or ref == StepRef(rules.name or ""):
            continue  # the print size itself, and the name (on the person's record, checked elsewhere)
        if step.type is StepType.yes_no:
            continue  # yes/no answers are sentences (readiness) or decide which question came next
        for name, shown in formats.items():
            assert said in shown, (name, ref, said)
        checked += 1
    assert checked >= 35


def test_an_answer_marked_stopping_medicine_is_urgent_and_printed_as_written(engine: Engine) -> None:
    records, _words = _everything_answered(engine, "en")
    flow = engine.catalog.flows["personal_medicine"]
    run = records.latest[flow.id]
    said = "I stopped taking my sertraline three days ago because of the side effects"
    answers = {key: value for key, value in records.answers[run.id].items()}
    answers["more_to_say"] = (said, NOW)
    marked = dataclasses.replace(
        records,
        answers={**records.answers, run.id: answers},
        marks={run.id: {"more_to_say": frozenset({"stopping_medicine"})}},
    )
    document = assemble(engine, marked, now=NOW)
    assert document.glance is not None
    urgent = [item for item in document.glance.items if item.urgent]
    assert urgent and urgent[0].entries[0].items == (said,)
    in_sections = [item for section in document.sections for entry in section.entries for item in entry.items]
    assert said not in in_sections  # printed once, at the top
    found = positions(render_pdf(document))
    assert top_of(found, said) < PAGE_HEIGHT / 2
    unmarked = assemble(engine, records, now=NOW)
    assert unmarked.glance is not None
    assert all(said not in entry.items for item in unmarked.glance.items for entry in item.entries)


async def test_sure_with_every_question_skipped_says_nothing_about_readiness(
    companion: Companion, engine: Engine
) -> None:
    who = Who("console", "sure-skipped")
    person = await companion.join(who, "en")
    reply = await play(companion, who, "questions", {"three_questions": ["options"], "decision_coming": "yes"})
    assert not any("may not be ready" in message for message in reply.messages)
    document = await build_summary(companion.storage, engine, person.id)
    words = render_text(document)
    assert "Am I ready to decide?" not in words and "I need more information" not in words


async def test_sure_with_some_skipped_and_no_no_is_not_called_not_ready(companion: Companion, engine: Engine) -> None:
    who = Who("console", "sure-some")
    person = await companion.join(who, "en")
    plan = {"three_questions": ["options"], "decision_coming": "yes", "sure_sure": "yes", "sure_know": "yes"}
    reply = await play(companion, who, "questions", plan)
    assert not any("may not be ready" in message for message in reply.messages)
    document = await build_summary(companion.storage, engine, person.id)
    words = render_text(document)
    assert "I am not sure yet: I left some of these questions out." in words
    assert "I need more information" not in words


@pytest.mark.parametrize(("typed", "language"), [("No", "en"), ("nothing.", "en"), ("nej", "sv"), ("Inget", "sv")])
async def test_no_to_an_is_there_question_saves_nothing(
    companion: Companion, engine: Engine, typed: str, language: str
) -> None:
    who = Who("console", f"none-{len(typed)}-{language}")
    person = await companion.join(who, language)
    await play(companion, who, "questions", {"three_questions": ["options"], "own": [typed]})
    document = await build_summary(companion.storage, engine, person.id)
    words = render_text(document)
    assert typed not in words.split("\n")[3:] and f"- {typed}" not in words and f": {typed}" not in words
    exported = await Privacy(companion.storage).export(who)
    (run,) = exported["flows"]
    assert "own" not in run["answers"]


async def test_large_print_is_14_pt_from_the_persons_choice(companion: Companion, engine: Engine, clock: Any) -> None:
    from bot.summary.pdf import TextOp, lay_out

    person_id = await ordinary_person(companion, "en")
    who = Who("console", "ordinary-en")
    await play(companion, who, "print_size", {"large_print": "yes"})
    document = await build_summary(companion.storage, engine, person_id, now=clock())
    assert document.large_print
    layout = lay_out(document)
    sizes = [op.size for page in layout.pages for op in page if isinstance(op, TextOp)]
    assert min(sizes) == 14
    assert len(layout.pages) >= 2
    # Page 1 still stands alone: it starts with what matters most.
    found = positions(render_pdf(document))
    assert top_of(found, POWER["en"]) < PAGE_HEIGHT / 2
    assert "font-size: 13pt" in render_html(document) and 'class="large"' in render_html(document)


async def test_the_layout_picture_in_the_readme_is_the_page_as_it_is_drawn(
    companion: Companion, engine: Engine, clock: Any
) -> None:
    """docs/summary-layout.svg is drawn from the ordinary English summary; redraw it with
    ``python -m tests.summary.draw_layout`` when the layout changes on purpose."""
    from pathlib import Path

    from bot.summary.sketch import layout_svg

    person_id = await ordinary_person(companion, "en")
    document = await build_summary(companion.storage, engine, person_id, now=clock())
    picture = Path(__file__).resolve().parents[2] / "docs" / "summary-layout.svg"
    assert picture.read_text(encoding="utf-8") == layout_svg(document)


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_the_pdf_has_its_language_title_and_an_outline_of_its_headings(
    companion: Companion, engine: Engine, clock: Any, language: str
) -> None:
    person_id = await ordinary_person(companion, language)
    document = await build_summary(companion.storage, engine, person_id, now=clock())
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(document)))
    assert reader.trailer["/Root"]["/Lang"] == language
    assert reader.metadata is not None and reader.metadata.title == f"{document.heading} · Sam"
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"]
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert document.glance is not None
    assert titles == [
        document.heading,
        document.glance.title,
        *(s.title for s in document.sections),
        "Under besöket" if language == "sv" else "During the appointment",
    ]
