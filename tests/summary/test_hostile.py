"""Whatever a person types prints safely and as written: markup, long words, any script, emoji, control characters."""

from __future__ import annotations

import html
import io
import shutil
import subprocess

import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase.pdfmetrics import stringWidth

from bot.services.conversation import Companion, Who
from bot.summary import build_summary, render_html, render_pdf, render_text
from bot.summary.clean import clean
from bot.summary.document import Entry, Section, SummaryDocument
from bot.summary.pdf import WIDTH, TextOp, lay_out
from flows.engine import Engine
from tests.summary.conftest import play

HOSTILE = {
    "markup": '<script>alert("x")</script> & <b>bold</b> <para>',
    "long": "Supercalifragilistic" * 20,
    "rtl": "שלום עולם and مرحبا بالعالم",
    "emoji": "I feel 😊👍🏽 better 🇸🇪 now ✓",
    "controls": "line\x00one\x07\x1b[31m red\u202e reversed\u200b zero",
}

SCRIPTS = {
    "polish": "Chcę mniej spać. Zażółć gęślą jaźń, mówi Łukasz.",
    "swedish": "Åsa’s “bästa” dag – jag vill orka mer på förmiddagen…",
    "arabic": "أريد أن أنام أقل وأن ألعب مع أطفالي",
    "chinese": "我是两个孩子的母亲，我想睡得更好。",
    "names": "Đorđe Nguyễn Ṣertralin Ελένη Ольга",
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


def pdf_lines(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [line.strip() for page in reader.pages for line in page.extract_text().split("\n")]


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(pdf_lines(pdf)).split())


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
    assert "I feel" in text and "better" in text and "✓" in text
    assert "مرحبا بالعالم" in text and "שלום" in text
    assert "lineone[31m red reversed zero" in text  # the escape character itself is gone
    assert not any(ord(char) < 32 for char in text)

    page = render_html(document)
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert html.escape('<script>alert("x")</script>') in page
    assert "שלום עולם" in page and "😊" in page
    assert "\u202e" not in page and "\x1b" not in page and "\x00" not in page
    assert 'dir="auto"' in page

    plain = render_text(document)
    assert "\x1b" not in plain and "\u202e" not in plain
    assert HOSTILE["markup"] in plain and "😊👍🏽" in plain


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_script_is_extracted_from_the_pdf_as_written(script: str) -> None:
    written = SCRIPTS[script]
    lines = pdf_lines(render_pdf(document_with((written, "Something else"))))
    assert written in [line.removeprefix("•").strip() for line in lines]


def test_arabic_is_joined_and_right_aligned_but_reads_back_in_writing_order() -> None:
    written = SCRIPTS["arabic"]
    layout = lay_out(document_with((written, "x")))
    ops = [op for page in layout.pages for op in page if isinstance(op, TextOp) and "Summary-Arabic" in op.font]
    # Joined forms come from the copies of the face that hold them (initial, medial, final).
    assert {"initial", "medial", "final"} <= {op.font.rsplit("-", 1)[-1] for op in ops}
    right = max(op.x + stringWidth(op.text, op.font, op.size) for op in ops)
    assert right == pytest.approx(WIDTH - 0, abs=0.5) or right > WIDTH - 15


def test_emoji_are_drawn_with_a_glyph_not_dropped() -> None:
    layout = lay_out(document_with((HOSTILE["emoji"], "x")))
    emoji = [op for page in layout.pages for op in page if isinstance(op, TextOp) and op.font == "Summary-Emoji"]
    assert "".join(op.text for op in emoji).startswith("😊👍")


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="pdffonts (poppler-utils) is not installed")
def test_every_font_is_embedded(tmp_path) -> None:
    target = tmp_path / "s.pdf"
    target.write_bytes(render_pdf(document_with((*tuple(SCRIPTS.values()), HOSTILE["emoji"]))))
    listing = subprocess.run(["pdffonts", str(target)], capture_output=True, text=True, check=True).stdout
    rows = listing.splitlines()[2:]
    assert len(rows) >= 5
    for row in rows:
        columns = row.split()
        assert columns[-5:-2] == ["yes", "yes", "yes"], row  # embedded, subset, with a Unicode map


def test_long_words_and_every_line_stay_inside_the_page() -> None:
    document = document_with((HOSTILE["long"], "a" * 3000, "short " * 200), label="L" * 300)
    layout = lay_out(document)
    for page in layout.pages:
        for op in page:
            if isinstance(op, TextOp):
                assert op.x + stringWidth(op.text, op.font, op.size) <= WIDTH + 0.01, op.text[:30]
    text = pdf_text(render_pdf(document)).replace(" ", "")
    assert HOSTILE["long"] in text


def test_pdf_body_text_is_at_least_11_pt_and_14_pt_in_large_print() -> None:
    for large, smallest in ((False, 11), (True, 14)):
        layout = lay_out(document_with(("An answer",)), large=large)
        sizes = {op.size for page in layout.pages for op in page if isinstance(op, TextOp)}
        assert min(sizes) >= smallest


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
