"""The summary as an A4 PDF, printable in black and white.

reportlab draws it with the Bitstream Vera fonts that ship inside the
reportlab package, so nothing needs installing on the machine. Vera covers
English and Swedish, curly quotes and dashes; :func:`bot.summary.clean.for_font`
fits anything else to it. Body text is 11 pt. The page limit is two pages: if
a person wrote the maximum everywhere, the longest answers are shortened
(with a note saying so) until it fits.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from functools import lru_cache
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from bot.summary.clean import for_font, shorten
from bot.summary.document import Entry, SummaryDocument

MAX_PAGES = 2
BODY_SIZE = 11
FOOTER_SIZE = 8.5
"""The footer line in the bottom margin (not body text) may be smaller."""
SHORTEN_STEPS = (None, 900, 500, 300, 160, 80)
"""Longest answer (characters) tried in turn until the summary fits MAX_PAGES."""

_FONT = "SummarySans"
_INK = colors.black
_SOFT = colors.Color(0.3, 0.3, 0.3)
_MARGIN = 16 * mm


@lru_cache(maxsize=1)
def _fonts() -> frozenset[int]:
    """Register the bundled Vera family once; return the characters it can draw."""
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    faces = {
        _FONT: "Vera.ttf",
        _FONT + "-Bold": "VeraBd.ttf",
        _FONT + "-Italic": "VeraIt.ttf",
        _FONT + "-BoldItalic": "VeraBI.ttf",
    }
    covered: set[int] | None = None
    for name, file in faces.items():
        font = TTFont(name, os.path.join(folder, file))
        pdfmetrics.registerFont(font)
        codes = set(font.face.charToGlyph)
        covered = codes if covered is None else covered & codes
    pdfmetrics.registerFontFamily(
        _FONT, normal=_FONT, bold=_FONT + "-Bold", italic=_FONT + "-Italic", boldItalic=_FONT + "-BoldItalic"
    )
    return frozenset(covered or ())


@lru_cache(maxsize=1)
def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    body = ParagraphStyle("body", fontName=_FONT, fontSize=BODY_SIZE, leading=14.5, textColor=_INK)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=_FONT + "-Bold", fontSize=20, leading=24, spaceAfter=4),
        "detail": ParagraphStyle("detail", parent=body, textColor=_SOFT),
        "heading": ParagraphStyle("heading", parent=body, fontName=_FONT + "-Bold", fontSize=14, leading=17),
        "when": ParagraphStyle("when", parent=body, fontName=_FONT + "-Italic", textColor=_SOFT, alignment=TA_RIGHT),
        "intro": ParagraphStyle("intro", parent=body, fontName=_FONT + "-Italic", spaceAfter=2),
        "label": ParagraphStyle("label", parent=body, fontName=_FONT + "-Bold", spaceBefore=3),
        "item": body,
        "note": ParagraphStyle("note", parent=body, fontName=_FONT + "-Italic", textColor=_SOFT),
    }


def render_pdf(document: SummaryDocument) -> bytes:
    """The summary as PDF bytes: one page for most people, never more than two."""
    covered = _fonts()
    for limit in SHORTEN_STEPS:
        pdf, pages = _build(document, covered, limit)
        if pages <= MAX_PAGES:
            return pdf
    return pdf


def _build(document: SummaryDocument, covered: frozenset[int], limit: int | None) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=document.heading,
        author="",
        creator="SDM Companion",
        subject=document.heading,
        lang=document.language,
    )
    pages = [0]
    footer = for_font(document.footer, covered, document.other_script)

    def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        pages[0] += 1
        canvas.saveState()
        canvas.setFont(_FONT + "-Italic", FOOTER_SIZE)
        canvas.setFillColor(_SOFT)
        canvas.drawString(_MARGIN, _MARGIN / 2, footer)
        canvas.drawRightString(A4[0] - _MARGIN, _MARGIN / 2, str(doc.page))
        canvas.restoreState()

    # The frame keeps 6 pt of padding on each side inside the margins.
    story = list(_story(document, covered, limit, template.width - 12))
    template.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue(), pages[0]


def _story(document: SummaryDocument, covered: frozenset[int], limit: int | None, width: float) -> Iterable[Flowable]:
    styles = _styles()

    def fit(text: str) -> str:
        return _markup(for_font(text, covered, document.other_script))

    yield Paragraph(fit(document.heading), styles["title"])
    yield Paragraph("&nbsp;&nbsp;·&nbsp;&nbsp;".join(fit(line) for line in document.details), styles["detail"])
    if document.nothing_yet:
        yield Spacer(1, 10 * mm)
        yield Paragraph(fit(document.nothing_yet), styles["item"])
        return
    shortened = False
    for section in document.sections:
        block: list[Flowable] = [Spacer(1, 4 * mm), _heading(fit(section.title), fit(section.answered), width)]
        if section.intro:
            block.append(Paragraph(fit(section.intro), styles["intro"]))
        for entry in section.entries:
            items = [for_font(item, covered, document.other_script) for item in entry.items]
            if limit is not None:
                cut = [shorten(item, limit) for item in items]
                shortened = shortened or cut != items
                items = cut
            block.extend(_entry(entry, [item for item in items if item], fit))
        # Keep a heading with its first answers; long sections may still split.
        yield KeepTogether(block[:3])
        yield from block[3:]
    if document.fill_in is not None:
        fill = document.fill_in
        block = [Spacer(1, 5 * mm), _heading(fit(fill.title), fit(fill.intro or ""), width)]
        block.append(_writing_lines([fit(line) for line in fill.lines], width))
        yield KeepTogether(block)
    if shortened:
        yield Spacer(1, 3 * mm)
        yield Paragraph(fit(document.shortened_note), styles["note"])


def _heading(title: str, when: str, width: float) -> Table:
    """A section heading with the date of its answers on the right, over a rule."""
    styles = _styles()
    table = Table(
        [[Paragraph(title, styles["heading"]), Paragraph(when, styles["when"]) if when else ""]],
        colWidths=[width * 0.55, width * 0.45],
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.8, _INK),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


INLINE_ITEM = 40
"""Chosen options this short are printed on one line after their label, to save space."""


def _entry(entry: Entry, items: list[str], fit: Callable[[str], str]) -> list[Flowable]:
    """A label with its answers: on one line when short, else a bulleted list."""
    styles = _styles()
    if not items:
        return []
    label = ""
    if entry.label:
        label = fit(entry.label) + ("" if entry.label.rstrip()[-1:] in "?!:." else ":")
        label = f"<b>{label}</b> "
    if len(items) == 1 or (not entry.own_words and all(len(item) <= INLINE_ITEM for item in items)):
        return [Paragraph(label + ", ".join(_markup(item) for item in items), styles["item"])]
    out: list[Flowable] = []
    if entry.label:
        out.append(Paragraph(fit(entry.label), styles["label"]))
    out.append(
        ListFlowable(
            [ListItem(Paragraph(_markup(item), styles["item"]), leftIndent=12) for item in items],
            bulletType="bullet",
            start="•",
            bulletFontName=_FONT,
            bulletFontSize=BODY_SIZE,
            leftIndent=12,
        )
    )
    return out


def _writing_lines(labels: list[str], width: float) -> Table:
    """A small form: each label on a rule, with room to write after it and above it."""
    styles = _styles()
    table = Table(
        [[Paragraph(label, styles["label"]), ""] for label in labels],
        colWidths=[width * 0.38, width * 0.62],
        rowHeights=[10 * mm] * len(labels),
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, _INK),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _markup(text: str) -> str:
    """Escape text for reportlab's paragraph markup; keep line breaks."""
    return escape(text).replace("\n", "<br/>")
