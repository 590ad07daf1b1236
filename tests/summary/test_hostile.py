"""Whatever a person types prints safely: markup, long words, other scripts, emoji, control characters."""

from __future__ import annotations

import html
import io

import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase.pdfmetrics import stringWidth

from bot.conversation import Companion, Who
from bot.summary import build_summary, render_html, render_pdf, render_text
from bot.summary.clean import clean, for_font
from bot.summary.document import Entry, Section, SummaryDocument
from bot.summary.pdf import WIDTH, _lay_out, _Text, covered_characters
from flows.engine import Engine
from tests.summary.conftest import play

HOSTILE = {
    "markup": '<script>alert("x")</script> & <b>bold</b> <para>',
    "long": "Supercalifragilistic" * 20,
    "rtl": "שלום עולם and مرحبا بالعالم",
    "emoji": "I feel 😊👍🏽 better 🇸🇪 now ✓",
    "controls": "line\x00one\x07\x1b[31m red\u202e reversed\u200b zero",
}


def document_with(items: tuple[str, ...], label: str = "Mine") -> SummaryDocument:
    return SummaryDocument(
        language="en",
        heading="Before my appointment",
        details=("Prepared on 22/11/2026",),
        sections=(Section("about_me", "About me", None, "My answers from 22/11/2026", (Entry(label, items),)),),
        fill_in=None,
        nothing_yet=None,
        footer="Made with SDM Companion.",
        shortened_note="Shortened.",
        other_script="[…]",
        preview_more="…and {count} more",
    )


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())


async def test_hostile_answers_from_a_real_person_render_in_every_format(
    s_companion: Companion, s_engine: Engine
) -> None:
    who = Who("console", "hostile")
    person = await s_companion.join(who, "en")
    own = [HOSTILE["markup"], HOSTILE["rtl"], HOSTILE["emoji"], HOSTILE["controls"]]
    await play(s_companion, who, "asking", {"own": own})
    await play(s_companion, who, "speak_up", {"one_thing": HOSTILE["long"][:500]})
    document = await build_summary(s_companion.storage, s_engine, person.id)

    text = pdf_text(render_pdf(document))
    assert '<script>alert("x")</script> & <b>bold</b> <para>' in text
    assert "I feel better now" in text
    assert "[…] and […]" in text
    assert "lineone[31m red reversed zero" in text  # the escape character itself is gone
    assert not any(ord(char) < 32 for char in text)

    page = render_html(document)
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert html.escape('<script>alert("x")</script>') in page
    assert "שלום עולם" in page and "😊" in page
    assert "\u202e" not in page and "\x1b" not in page and "\x00" not in page
    assert 'dir="auto"' in page

    preview = render_text(document)
    assert "\x1b" not in preview and "\u202e" not in preview


def test_long_words_and_every_line_stay_inside_the_page() -> None:
    document = document_with((HOSTILE["long"], "a" * 3000, "short " * 200), label="L" * 300)
    layout = _lay_out(document, covered_characters())
    for page in layout.pages:
        for op in page:
            if isinstance(op, _Text) and not op.align_right:
                assert op.x + stringWidth(op.text, op.font, op.size) <= WIDTH + 0.01, op.text[:30]
    text = pdf_text(render_pdf(document)).replace(" ", "")
    assert HOSTILE["long"] in text


def test_pdf_body_text_is_at_least_11_pt() -> None:
    layout = _lay_out(document_with(("An answer",)), covered_characters())
    sizes = {op.size for page in layout.pages for op in page if isinstance(op, _Text)}
    assert min(sizes) >= 11


@pytest.mark.parametrize(
    ("raw", "printed"),
    [
        ("Åsa’s “best” day – ok…", "Åsa’s “best” day – ok…"),
        ("Zażółć gęślą", "Zazólc gesla"),
        ("😊", ""),
        ("Привет мир!", "[…]!"),
        ("tab\there", "tab here"),
        ("a\x00b\x1b[1m\u202ec\u200bd", "ab[1mcd"),
    ],
)
def test_for_font_keeps_swedish_and_punctuation_and_replaces_the_rest(raw: str, printed: str) -> None:
    assert for_font(raw, covered_characters(), "[…]") == printed


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_any_text_renders_to_a_readable_pdf_and_escaped_html(text: str) -> None:
    document = document_with((text,))
    pdf = render_pdf(document)
    assert pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text() is not None
    page = render_html(document)
    cleaned = clean(text)
    if "<" in cleaned:
        assert html.escape(cleaned.split("\n")[0], quote=True) in page or "<" not in cleaned.split("\n")[0]
    assert "<script" not in page.lower() or "&lt;script" in page.lower()
    fitted = for_font(text, covered_characters(), "[…]")
    assert set(fitted.replace("\n", "")) <= covered_characters()
