"""The summary from real answers in a real database, rendered to PDF and read back with pypdf."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from bot.services.conversation import Companion, Who
from bot.summary import build_summary, missing_flows, render_html, render_pdf, render_preview, render_text
from bot.summary.pdf import page_count
from flows.engine import Engine
from tests.summary.conftest import maximal, play
from tests.summary.people import TYPICAL


def pdf_text(pdf: bytes) -> tuple[str, int]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split()), len(reader.pages)


async def answer_all(companion: Companion, who: Who, language: str) -> int:
    person = await companion.join(who, language)
    for flow_id, plan in TYPICAL[language].items():
        await play(companion, who, flow_id, plan)
    return person.id


def in_order(text: str, parts: list[str]) -> None:
    """Every part appears in the text, each after the one before."""
    position = 0
    for part in parts:
        found = text.find(" ".join(part.split()), position)
        assert found >= 0, f"{part!r} missing or out of order after position {position}"
        position = found + 1


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_typical_person_gets_one_page_with_every_heading_and_answer_in_order(
    s_companion: Companion, s_engine: Engine, language: str
) -> None:
    who = Who("console", f"typical-{language}")
    person_id = await answer_all(s_companion, who, language)
    document = await build_summary(s_companion.storage, s_engine, person_id)
    text, pages = pdf_text(render_pdf(document))

    assert pages == 1
    used = {step.summary for flow in s_engine.catalog.flows.values() for step in flow.steps if step.summary}
    titles = [section.title.get(language) for section in s_engine.catalog.summary.sections if section.id in used]
    assert len(titles) == 6
    assert [section.title for section in document.sections] == titles
    plan = TYPICAL[language]
    in_order(
        text,
        [
            titles[0],
            plan["me_test"]["power"],
            titles[1],
            plan["me_test"]["goal"],
            plan["me_test"]["first_step"],
            titles[2],
            plan["staying_well"]["own_help"][0],
            titles[3],
            plan["staying_well"]["concern"],
            titles[4],
            plan["speak_up"]["one_thing"],
            titles[5],
            plan["asking"]["own"][0],
        ],
    )
    fill = s_engine.catalog.extra["summary/layout.yaml"]["fill_in"]
    in_order(text, [titles[-1], fill["title"][language], *(line[language] for line in fill["lines"])])
    assert "Language" not in text and "Språk" not in text  # header space is for what matters


async def test_top_three_come_first_and_are_not_repeated(s_companion: Companion, s_engine: Engine) -> None:
    who = Who("console", "top")
    person_id = await answer_all(s_companion, who, "en")
    document = await build_summary(s_companion.storage, s_engine, person_id)
    questions = next(section for section in document.sections if section.id == "my_questions")
    first, rest = questions.entries[0], questions.entries[1]
    assert first.label == "To ask first"
    assert first.items == ("What are my options?", "Can I drive?", "Could I take it in the evening instead?")
    assert rest.items == ("What are the pros and cons for me?", "Is the weight gain from the tablets?")
    text, _ = pdf_text(render_pdf(document))
    assert text.count("Can I drive?") == 1


@pytest.mark.parametrize(
    ("answers", "expected"),
    [(["yes"] * 4, "I feel ready."), (["yes", "yes", "no", "yes"], "I need more information or support.")],
)
async def test_readiness_is_a_sentence_not_a_score(
    s_companion: Companion, s_engine: Engine, answers: list[str], expected: str
) -> None:
    who = Who("console", "sure-" + "".join(answers))
    person = await s_companion.join(who, "en")
    steps = ["sure_sure", "sure_know", "sure_values", "sure_support"]
    await play(s_companion, who, "asking", {"common": ["options"], **dict(zip(steps, answers, strict=False))})
    document = await build_summary(s_companion.storage, s_engine, person.id)
    (section,) = document.sections
    readiness = section.entries[-1]
    assert readiness.label == "Am I ready to decide?"
    assert readiness.items == (expected,)
    text, _ = pdf_text(render_pdf(document))
    assert expected in text
    assert not re.search(r"\b[0-4] ?/ ?4\b", text)


async def test_sections_without_answers_are_left_out(s_companion: Companion, s_engine: Engine) -> None:
    who = Who("console", "one-section")
    person = await s_companion.join(who, "en")
    await play(s_companion, who, "speak_up", {"one_thing": "Please listen to me first."})
    await play(s_companion, who, "me_test", {})  # finished, everything skipped
    document = await build_summary(s_companion.storage, s_engine, person.id)
    assert [section.id for section in document.sections] == ["what_i_want_to_say"]
    text, _ = pdf_text(render_pdf(document))
    assert "About me" not in text and "What matters to me" not in text
    assert "Please listen to me first." in text


async def test_nothing_answered_says_what_to_do_first(s_companion: Companion, s_engine: Engine) -> None:
    who = Who("console", "nobody")
    person = await s_companion.join(who, "sv")
    document = await build_summary(s_companion.storage, s_engine, person.id)
    assert document.is_empty and document.fill_in is None
    first = s_engine.catalog.ordered_flows()[0].title.get("sv")
    assert first in (document.nothing_yet or "")
    text, pages = pdf_text(render_pdf(document))
    assert pages == 1 and first in text
    assert "Under besöket" not in text
    assert first in render_text(document) and first in render_html(document)


async def test_latest_completed_run_is_used_and_dated(s_companion: Companion, s_engine: Engine, clock) -> None:
    who = Who("console", "again")
    person = await s_companion.join(who, "en")
    await play(s_companion, who, "speak_up", {"one_thing": "Old words"})
    clock.advance(days=3)
    await play(s_companion, who, "speak_up", {"one_thing": "New words"})
    await s_companion.open(who, "me_test")  # in progress: not on the summary yet
    document = await build_summary(s_companion.storage, s_engine, person.id)
    (section,) = document.sections
    assert section.entries[0].items == ("New words",)
    assert section.answered == "My answers from 25/11/2026"
    missing = {item.flow_id: item.in_progress for item in document.missing}
    assert missing == {"me_test": True, "staying_well": False, "asking": False}
    assert [m.flow_id for m in await missing_flows(s_companion.storage, s_engine, person.id)] == [
        "me_test",
        "staying_well",
        "asking",
    ]


async def test_chosen_name_is_shown_only_when_chosen(s_companion: Companion, s_engine: Engine) -> None:
    who = Who("console", "named")
    person = await s_companion.join(who, "en")
    await play(s_companion, who, "speak_up", {"one_thing": "Hello"})
    document = await build_summary(s_companion.storage, s_engine, person.id)
    assert not any(line.startswith("My name") for line in document.details)
    await s_companion.storage.run(lambda tx: tx.update_person(person.id, display_name="Björn"))
    document = await build_summary(s_companion.storage, s_engine, person.id)
    assert document.details[0] == "My name: Björn"
    assert "My name: Björn" in pdf_text(render_pdf(document))[0]


async def test_unknown_person_is_a_lookup_error(s_companion: Companion, s_engine: Engine) -> None:
    with pytest.raises(LookupError):
        await build_summary(s_companion.storage, s_engine, 4242)


async def test_person_who_wrote_the_maximum_everywhere_keeps_every_word(
    s_companion: Companion, s_engine: Engine
) -> None:
    who = Who("console", "maximal")
    person = await s_companion.join(who, "sv")
    words = "Ordet ”åäö” – en lång mening om hur det känns, "
    for flow in s_engine.catalog.ordered_flows():
        await play(s_companion, who, flow.id, maximal(lambda n: (words * 100)[:n]))
    document = await build_summary(s_companion.storage, s_engine, person.id)
    pdf = render_pdf(document)
    text, pages = pdf_text(pdf)
    assert pages == page_count(document) >= 2
    flat = text.replace(" ", "")
    for section in document.sections:
        assert section.title.replace(" ", "") in flat
        for entry in section.entries:
            for item in entry.items:
                assert item.replace(" ", "") in flat, item[:40]  # nothing shortened
    first_page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Fortsätter på sidan 2." in first_page and f"Sidan 1 av {pages}" in first_page


async def test_shipped_flows_at_maximum_print_every_section(companion: Companion, engine: Engine) -> None:
    """The real content, whatever flows it has, filled in to the limit."""
    who = Who("console", "shipped-max")
    person = await companion.join(who, "en")
    for flow in engine.catalog.ordered_flows():
        await play(companion, who, flow.id, maximal(lambda n: ("I’d like — to say this clearly. " * 100)[:n]))
    document = await build_summary(companion.storage, engine, person.id)
    assert document.sections and document.glance is not None
    text, _pages = pdf_text(render_pdf(document))
    for section in document.sections:
        assert section.title in text
    assert document.glance.title in text
    assert any(item.in_full for item in document.glance.items)  # the long power statement says where it is


def test_preview_is_short_and_lists_sections(s_engine: Engine) -> None:
    from bot.summary.document import Entry, Section, SummaryDocument

    items = tuple(f"Question number {n} " + "x" * 200 for n in range(8))
    document = SummaryDocument(
        language="en",
        heading="Before my appointment",
        details=("Prepared on 22/11/2026",),
        sections=(Section("my_questions", "My questions", None, "My answers from 22/11/2026", (Entry("Q", items),)),),
        fill_in=None,
        nothing_yet=None,
        footer="",
        shortened_note="",
        other_script="[…]",
        preview_more="…and {count} more on the page",
    )
    preview = render_preview(document)
    assert "MY QUESTIONS" in preview and "…and 5 more on the page" in preview
    assert len(preview) < 1000
    assert "Question number 3" not in preview
