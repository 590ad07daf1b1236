"""/summary through the real Application: a PDF document, a preview, what's missing, the name."""

from __future__ import annotations

import io

from pypdf import PdfReader

from bot.services.conversation import Companion, Who
from tests.telegram.harness import Call, TelegramHarness, keyboard_of
from tests.telegram.talk import agree, finish, skips


def pdf_text(call: Call) -> str:
    ((_, (filename, data)),) = call.files.items()
    assert filename == "my-summary.pdf"
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def sent(calls: list[Call], method: str) -> list[Call]:
    return [call for call in calls if call.method == method]


async def test_summary_with_nothing_answered_says_what_to_do_first(
    harness: TelegramHarness, companion: Companion
) -> None:
    sam = harness.person(501, "Sam")
    await agree(sam, companion)
    calls = await sam.says("/summary")
    assert sent(calls, "sendDocument") == []
    assert sam.last["text"].startswith("There is nothing on your summary yet.")
    # The menu comes with it, so the first step is one tap away.
    assert any(
        label.startswith("What matters to me") for row in keyboard_of(sam.last["reply_markup"]) for label, _ in row
    )


async def test_summary_sends_a_pdf_and_a_preview(harness: TelegramHarness, companion: Companion) -> None:
    sam = harness.person(502, "Sam")
    await agree(sam, companion)
    await finish(companion, Who("telegram", "502"), "questions")
    calls = await sam.says("/summary")
    (document,) = sent(calls, "sendDocument")
    text = pdf_text(document)
    assert "My questions" in text
    assert "Can I drive <safely> & still work nights?" in text
    preview = sent(calls, "sendMessage")[-1]
    assert preview.text.startswith("Before my appointment")
    assert "MY QUESTIONS" in preview.text
    assert [label for row in preview.buttons for label, _ in row] == [
        "What's missing?",
        "Name on my summary",
        "Large print",
    ]


async def test_whats_missing_lists_flows_not_done_and_starts_one(
    harness: TelegramHarness, companion: Companion
) -> None:
    sam = harness.person(503, "Sam")
    await agree(sam, companion)
    await finish(companion, Who("telegram", "503"), "questions")
    await sam.says("/summary")
    await sam.taps("What's missing?")
    assert sam.last["text"] == "Not on your summary yet:"
    labels = [label for row in keyboard_of(sam.last["reply_markup"]) for label, _ in row]
    titles = {flow.title.get("en") for flow in companion.catalog.flows.values() if flow.menu}
    assert "Questions for my next appointment" not in labels
    assert set(labels) <= titles
    assert "What matters to me" in labels
    await sam.taps("What matters to me")
    current = await companion.current(Who("telegram", "503"))
    assert current.flow_id == "goals"


async def test_the_person_chooses_the_name_on_their_summary(harness: TelegramHarness, companion: Companion) -> None:
    sam = harness.person(504, "Sam")
    who = Who("telegram", "504")
    await agree(sam, companion)
    await finish(companion, who, "questions")
    await sam.says("/summary")
    await sam.taps("Name on my summary")
    assert sam.last["text"].startswith("What name would you like at the top of your summary?")
    await sam.says("Robin <3")
    assert (await companion.person(who)).display_name == "Robin <3"
    calls = await sam.says("/summary")
    assert "My name: Robin <3" in pdf_text(sent(calls, "sendDocument")[0])
    # The preview is sent in HTML mode: the person's words are escaped, never markup.
    assert "My name: Robin &lt;3" in sent(calls, "sendMessage")[-1].text
    # Skipping the question takes the name off again.
    await sam.says("/summary")
    await sam.taps("Name on my summary")
    await skips(sam, companion)
    assert (await companion.person(who)).display_name is None
    calls = await sam.says("/summary")
    assert "My name:" not in pdf_text(sent(calls, "sendDocument")[0])


async def test_summary_before_consent_asks_for_consent_and_sends_nothing(
    harness: TelegramHarness, companion: Companion
) -> None:
    stranger = harness.person(505, "Kim")
    calls = await stranger.says("/summary")
    assert sent(calls, "sendDocument") == []
    assert stranger.last["text"].endswith(companion.catalog.ui.get("consent_question", "en"))
    assert await companion.person(Who("telegram", "505")) is None


async def test_the_person_chooses_large_print_under_the_summary(harness: TelegramHarness, companion: Companion) -> None:
    sam = harness.person(506, "Sam")
    who = Who("telegram", "506")
    await agree(sam, companion)
    await finish(companion, who, "questions")
    calls = await sam.says("/summary")
    normal = pdf_sizes(sent(calls, "sendDocument")[0])
    await sam.taps("Large print")
    assert sam.last["text"].startswith("Would you like your summary in large print?")
    await sam.taps(companion.catalog.ui.get("button_yes", "en"))
    calls = await sam.says("/summary")
    large = pdf_sizes(sent(calls, "sendDocument")[0])
    assert 11.0 in normal and 14.0 not in normal  # body text (the footer line is smaller)
    assert 14.0 in large and 11.0 not in large


def pdf_sizes(call: Call) -> set[float]:
    """The font sizes of the text in a sent PDF (read back with pypdf)."""
    ((_, (_filename, data)),) = call.files.items()
    sizes: set[float] = set()

    def visit(text: str, cm: object, tm: list[float], font: object, size: float) -> None:
        if text.strip():
            sizes.add(round(size * tm[3], 1))

    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return sizes
