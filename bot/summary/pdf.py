"""The summary as an A4 PDF: a page a prescriber can read in 30 seconds, printable in black and white.

Drawn straight on a reportlab canvas with a small layout of our own (wrap,
bullets, headings, page breaks): the page is simple, and this is several
times faster than reportlab's general layout engine.

The page reads like a clinical letter. The heading, the person's name, the
appointment and the date; then, in a box, what the appointment needs first
(``document.glance``: the power statement, the one thing they most want to
say, the top three questions, whether they feel ready to decide, anything
urgent); then what was agreed last time; then the sections; then lines to
fill in together. Nothing is shortened except in the box, which then says
where the whole answer is. Longer answers run on to page 2; page 1 always
starts with the box, so it stands alone, and its foot says where it goes on.

Fonts are embedded (see :mod:`bot.summary.fonts`), so any script prints as
written; right-to-left text is shaped and reordered (:mod:`bot.summary.direction`).
The document has its language, title and an outline of its headings. Body
text is 11 pt, or 14 pt in large print.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from bot.summary.clean import clean
from bot.summary.direction import has_rtl, starts_rtl, visual
from bot.summary.document import Entry, SummaryDocument
from bot.summary.fonts import BOLD, ITALIC, REGULAR, FontSet, fonts

INK, SOFT = 0.0, 0.25
"""Grey levels: black for text, dark grey for dates and notes (prints clearly in black and white)."""
BOX = 0.93
"""The light grey behind the "most important today" box."""

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 14 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN
TOP = PAGE_HEIGHT - 11 * mm
BOTTOM = 8 * mm + 12 * mm
"""Room under the last line for the footer (the note on what is kept elsewhere, page numbers)."""
FOOTER_SIZE = 9.0
"""The footer in the bottom margin (not body text) may be smaller."""
PAD = 2.5 * mm


@dataclass(frozen=True, slots=True)
class Sizes:
    body: float
    leading: float
    heading: float
    title: float

    @property
    def bullet_indent(self) -> float:
        return self.body * 1.2


NORMAL = Sizes(body=11.0, leading=12.7, heading=12.5, title=17.0)
LARGE = Sizes(body=14.0, leading=16.8, heading=16.0, title=20.0)
BODY_SIZE = NORMAL.body
# Kept for callers of the earlier module.
MAX_PAGES = 99


@dataclass(slots=True)
class TextOp:
    x: float
    y: float
    font: str
    size: float
    text: str
    grey: float = INK
    outline: bool = False
    """Drawn with a thin outline: bold for a face that has no bold weight."""


@dataclass(slots=True)
class RuleOp:
    x1: float
    x2: float
    y: float
    width: float


@dataclass(slots=True)
class BoxOp:
    y_top: float
    y_bottom: float


@dataclass(slots=True)
class FrameOp:
    """An empty square with its lower left corner at (x, y): a box to tick on paper."""

    x: float
    y: float
    size: float


@dataclass(slots=True)
class Mark:
    """A heading: an outline entry for the PDF's table of contents."""

    title: str
    y: float
    level: int


_Op = TextOp | RuleOp | BoxOp | FrameOp | Mark


@dataclass(slots=True)
class Layout:
    """Drawing operations, page by page, and where the next line goes."""

    pages: list[list[_Op]] = field(default_factory=lambda: [[]])
    y: float = TOP

    def room(self) -> float:
        return self.y - BOTTOM

    def new_page(self) -> None:
        self.pages.append([])
        self.y = TOP

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` still fits on this one."""
        if height > self.room() and self.y < TOP:
            self.new_page()

    def add(self, op: _Op) -> None:
        self.pages[-1].append(op)


class Writer:
    """Wraps and places text in the embedded fonts (the summary and the paper worksheets both use it)."""

    def __init__(self, font_set: FontSet, sizes: Sizes, layout: Layout) -> None:
        self.fonts = font_set
        self.sizes = sizes
        self.layout = layout
        self._widths = font_set.unit_widths

    def width(self, text: str, style: str, size: float) -> float:
        key = (text, style)
        unit = self._widths.get(key)
        if unit is None:
            if len(self._widths) > 100_000:
                self._widths.clear()
            shown = visual(text, starts_rtl(text)) if has_rtl(text) else text
            unit = self._widths[key] = self.fonts.width(shown, style, 1000) / 1000
        return unit * size

    # ------------------------------------------------------------------ lines

    def wrap(self, runs: list[tuple[str, str]], size: float, width: float) -> list[list[tuple[float, str, str]]]:
        """Break (style, text) runs into lines no wider than ``width``: each line is [(x, style, text)].

        Words longer than a line are split; newlines in the text are kept.
        """
        lines: list[list[tuple[float, str, str]]] = [[]]
        x = 0.0
        for style, text in runs:
            space = self.width(" ", style, size)
            for number, paragraph in enumerate(text.split("\n")):
                if number:
                    lines.append([])
                    x = 0.0
                for word in paragraph.split(" "):
                    if not word:
                        continue
                    w = self.width(word, style, size)
                    gap = space if lines[-1] else 0.0
                    if lines[-1] and x + gap + w > width:
                        lines.append([])
                        gap, x = 0.0, 0.0
                    if w > width:
                        for piece in self._split_word(word, style, size, width - x - gap, width):
                            if lines[-1] and x > 0:
                                lines.append([])
                                x = 0.0
                            lines[-1].append((x, style, piece))
                            x = self.width(piece, style, size)
                        continue
                    line = lines[-1]
                    if line and line[-1][1] == style and gap:
                        start, _, before = line[-1]
                        line[-1] = (start, style, before + " " + word)
                    else:
                        line.append((x + gap, style, word))
                    x += gap + w
        return [line for line in lines if line] or [[]]

    def _split_word(self, word: str, style: str, size: float, first: float, width: float) -> list[str]:
        limit = max(first, size)
        pieces, piece = [], ""
        for char in word:
            if piece and self.width(piece + char, style, size) > limit:
                pieces.append(piece)
                piece, limit = "", width
            piece += char
        if piece:
            pieces.append(piece)
        return pieces

    def place(self, x: float, y: float, style: str, text: str, size: float, grey: float, rtl: bool) -> float:
        """Draw one line fragment at (x, y); returns its width. Right-to-left text is shaped and
        reordered, and its pieces are written in reading order so the text layer reads as written."""
        shown = visual(text, rtl) if has_rtl(text) else text
        placed = []
        for name, part, outline in self.fonts.runs(shown, style):
            placed.append(TextOp(x, y, name, size, part, grey, outline))
            x += pdfmetrics.stringWidth(part, name, size)
        if has_rtl(text):
            placed = _reading_order(placed)
        for op in placed:
            self.layout.add(op)
        return sum(pdfmetrics.stringWidth(op.text, op.font, op.size) for op in placed)

    def paragraph(
        self,
        runs: list[tuple[str, str]],
        *,
        size: float | None = None,
        leading: float | None = None,
        indent: float = 0.0,
        grey: float = INK,
        bullet: str | None = None,
        right: float = 0.0,
    ) -> None:
        size = size or self.sizes.body
        leading = leading or self.sizes.leading
        text = "".join(part for _, part in runs)
        rtl = starts_rtl(text)
        available = WIDTH - indent - right
        lines = self.wrap(runs, size, available)
        lift = (leading - size) / 2 + 0.22 * size
        for number, line in enumerate(lines):
            self.layout.need(leading)
            self.layout.y -= leading
            y = self.layout.y + lift
            if bullet and number == 0:
                self.place(indent - self.sizes.bullet_indent + 1, y, REGULAR, bullet, size, grey, False)
            if rtl and len({style for _, style, _ in line}) == 1 and line:
                # A right-to-left paragraph: the line is right-aligned and reordered as a whole.
                words = " ".join(part for _, _, part in line)
                style = line[0][1]
                w = self.width(words, style, size)
                self.place(indent + available - w, y, style, words, size, grey, True)
                continue
            for x, style, part in line:
                self.place(indent + x, y, style, part, size, grey, False)


def _reading_order(ops: list[TextOp]) -> list[TextOp]:
    """Runs of right-to-left pieces written last-drawn-first, so a text layer reads them as written."""
    out: list[TextOp] = []
    group: list[TextOp] = []
    for op in ops:
        rtl = any(unicodedata.bidirectional(char) in ("R", "AL") for char in op.text)
        neutral = not any(char.isalnum() for char in op.text)
        if rtl or (group and neutral):
            group.append(op)
            continue
        out += group[::-1]
        group = []
        out.append(op)
    return out + group[::-1]


# ---------------------------------------------------------------------- the page


def _label_text(label: str | None) -> str:
    if not label:
        return ""
    return label if label.rstrip()[-1:] in "?!:." else label + ":"


def _joined(items: list[str]) -> str:
    """Short chosen options on one line: a comma between them, or a dot after a question mark."""
    if any(item.rstrip()[-1:] in "?!." for item in items):
        return "  ·  ".join(items)
    return ", ".join(items)


def _entry(writer: Writer, entry: Entry, *, indent: float = 0.0, numbered: bool = False) -> None:
    """A label with its answers: on one line when short, else the label and then a bulleted list."""
    items = [item for item in (clean(item) for item in entry.items) if item]
    if not items:
        return
    label = _label_text(entry.label)
    one_line = len(items) == 1 or (not entry.own_words and sum(len(item) for item in items) <= 160)
    if numbered:
        one_line = False
    if one_line and not any(has_rtl(item) for item in items):
        runs = [(BOLD, label + " ")] if label else []
        runs.append((REGULAR, items[0] if len(items) == 1 else _joined(items)))
        writer.paragraph(runs, indent=indent)
        return
    if label:
        writer.layout.need(2 * writer.sizes.leading)
        writer.paragraph([(BOLD, label)], indent=indent)
    for number, item in enumerate(items, start=1):
        bullet = f"{number}." if numbered else "•"
        writer.paragraph([(REGULAR, item)], indent=indent + writer.sizes.bullet_indent, bullet=bullet)


def heading(writer: Writer, title: str, aside: str | None, keep: float) -> None:
    """A section heading with a note on the right (when the answers are from), over a rule."""
    sizes = writer.sizes
    size, leading = sizes.heading, sizes.heading * 1.2
    layout = writer.layout
    layout.y -= 1.6 * mm
    layout.need(leading + 4 + keep)
    aside_width = writer.width(aside, ITALIC, sizes.body) if aside else 0.0
    title_width = writer.width(title, BOLD, size)
    side_by_side = title_width + aside_width + 18 <= WIDTH
    layout.y -= leading
    layout.add(Mark(title, layout.y + leading, 0))
    for line in writer.wrap([(BOLD, title)], size, WIDTH):
        for x, style, part in line:
            writer.place(x, layout.y + 3, style, part, size, INK, starts_rtl(part))
    if aside:
        if not side_by_side:
            layout.y -= sizes.leading
        writer.place(WIDTH - aside_width, layout.y + 3, ITALIC, aside, sizes.body, SOFT, False)
    layout.y -= 2
    layout.add(RuleOp(0, WIDTH, layout.y, 0.8))
    layout.y -= 1


def _glance(writer: Writer, document: SummaryDocument) -> None:
    glance = document.glance
    if glance is None:
        return
    layout, sizes = writer.layout, writer.sizes
    layout.y -= 2 * mm
    top = layout.y
    layout.add(Mark(glance.title, top, 0))
    box_page, box_index = len(layout.pages) - 1, len(layout.pages[-1])
    layout.add(BoxOp(top, top))
    layout.y -= PAD
    writer.paragraph([(BOLD, glance.title)], size=sizes.heading, leading=sizes.heading * 1.3, indent=PAD)
    for item in glance.items:
        layout.y -= 1
        entries = [entry for entry in item.entries if entry.items]
        if len(entries) == 1 and (entries[0].label is None or item.urgent):
            entry = entries[0]
            label = f"{_label_text(item.label)} {_label_text(entry.label)}" if entry.label else item.label
            numbered = len(entry.items) > 1 and entry.label is None
            _entry(writer, Entry(label, entry.items, entry.own_words), indent=PAD, numbered=numbered)
        else:
            writer.paragraph([(BOLD, _label_text(item.label))], indent=PAD)
            for entry in entries:
                _entry(writer, entry, indent=PAD + sizes.bullet_indent)
        if item.in_full:
            writer.paragraph([(ITALIC, item.in_full)], indent=PAD + sizes.bullet_indent, grey=SOFT)
    layout.y -= PAD
    box = layout.pages[box_page][box_index]
    if isinstance(box, BoxOp):
        box.y_bottom = layout.y if len(layout.pages) - 1 == box_page else BOTTOM


def lay_out(document: SummaryDocument, font_set: FontSet | None = None, large: bool | None = None) -> Layout:
    layout = Layout()
    sizes = LARGE if (document.large_print if large is None else large) else NORMAL
    writer = Writer(font_set or fonts(), sizes, layout)
    writer.paragraph([(BOLD, document.heading)], size=sizes.title, leading=sizes.title * 1.2)
    layout.add(Mark(document.heading, TOP, 0))
    writer.paragraph([(REGULAR, "   ·   ".join(clean(line) for line in document.details))], grey=SOFT)
    if document.nothing_yet:
        layout.y -= 10 * mm
        writer.paragraph([(REGULAR, document.nothing_yet)])
        return layout
    _glance(writer, document)
    for section in document.sections:
        heading(writer, section.title, section.answered, keep=2 * sizes.leading)
        if section.intro:
            writer.paragraph([(ITALIC, section.intro)])
        for entry in section.entries:
            _entry(writer, entry)
        for line in section.after:
            writer.paragraph([(BOLD, line)])
    if document.fill_in is not None:
        fill = document.fill_in
        row = sizes.leading * 1.7
        # Two to a row: room to write, and the page stays one page.
        pairs = [fill.lines[i : i + 2] for i in range(0, len(fill.lines), 2)]
        heading(writer, fill.title, fill.intro, keep=row * len(pairs))
        half = (WIDTH - 8 * mm) / 2
        for pair in pairs:
            layout.need(row)
            layout.y -= row
            for column, line in enumerate(pair):
                x = column * (half + 8 * mm)
                writer.place(x, layout.y + 3, BOLD, line, sizes.body, INK, False)
                layout.add(RuleOp(x + writer.width(line, BOLD, sizes.body) + 4, x + half, layout.y + 2, 0.5))
    return layout


# ---------------------------------------------------------------------- drawing


def render_pdf(document: SummaryDocument, *, large: bool | None = None) -> bytes:
    """The summary as PDF bytes: one page for most people; longer answers run on to page 2.

    ``large`` forces large print on or off (default: the person's own choice).
    """
    font_set = fonts()
    return draw(
        lay_out(document, font_set, large),
        font_set,
        language=document.language,
        title=document.title or document.heading,
        subject=document.heading,
        footer=lambda number, total: footer_ops(font_set, document, number, total),
    )


def page_count(document: SummaryDocument, *, large: bool | None = None) -> int:
    """How many pages the PDF of this document has (without drawing it)."""
    return len(lay_out(document, fonts(), large).pages)


def draw(
    layout: Layout,
    font_set: FontSet,
    *,
    language: str,
    title: str,
    subject: str,
    footer: Callable[[int, int], list[TextOp]],
) -> bytes:
    """Laid-out pages as PDF bytes, with the document's language, title and outline, and
    ``footer(page, pages)`` at the foot of each page. The summary and the worksheets share it."""
    buffer = io.BytesIO()
    regular = font_set.main(REGULAR)
    canvas = Canvas(
        buffer,
        pagesize=A4,
        pageCompression=1,
        lang=language,
        initialFontName=regular,
        initialFontSize=BODY_SIZE,
    )
    canvas.setTitle(title)
    canvas.setAuthor("")
    canvas.setSubject(subject)
    canvas.setCreator("SDM Companion")
    canvas.setViewerPreference("DisplayDocTitle", "true")
    total = len(layout.pages)
    marks = 0
    for number, ops in enumerate(layout.pages, start=1):
        for op in ops:
            if isinstance(op, BoxOp):
                canvas.setFillGray(BOX)
                canvas.rect(MARGIN - PAD, op.y_bottom, WIDTH + 2 * PAD, op.y_top - op.y_bottom, stroke=0, fill=1)
            elif isinstance(op, FrameOp):
                canvas.setStrokeGray(INK)
                canvas.setLineWidth(0.8)
                canvas.rect(MARGIN + op.x, op.y, op.size, op.size, stroke=1, fill=0)
        # One text object per page: far cheaper than a drawString call per fragment.
        text = canvas.beginText()
        current: tuple[str, float] | None = None
        grey: float | None = None
        outlined = False
        canvas.setLineWidth(0.35)
        for op in ops:
            if isinstance(op, RuleOp):
                canvas.setStrokeGray(INK)
                canvas.setLineWidth(op.width)
                canvas.line(MARGIN + op.x1, op.y, MARGIN + op.x2, op.y)
                continue
            if isinstance(op, Mark):
                key = f"h{marks}"
                marks += 1
                canvas.bookmarkHorizontal(key, MARGIN, op.y)
                canvas.addOutlineEntry(op.title, key, level=op.level)
                continue
            if not isinstance(op, TextOp):
                continue
            if (op.font, op.size) != current:
                text.setFont(op.font, op.size)
                current = (op.font, op.size)
            if op.grey != grey:
                text.setFillGray(op.grey)
                text.setStrokeGray(op.grey)
                grey = op.grey
            if op.outline != outlined:
                text.setTextRenderMode(2 if op.outline else 0)
                outlined = op.outline
            text.setTextOrigin(MARGIN + op.x, op.y)
            text.textOut(op.text)
        canvas.setLineWidth(0.35)
        canvas.drawText(text)
        _footer(canvas, footer(number, total))
        canvas.showPage()
    canvas.showOutline()
    canvas.save()
    return buffer.getvalue()


def footer_ops(font_set: FontSet, document: SummaryDocument, number: int, total: int) -> list[TextOp]:
    """The foot of each page: what is kept elsewhere and where page 1 goes on (so it stands alone)."""
    lines = []
    if document.elsewhere:
        lines.append(document.elsewhere)
    lines.append(document.footer)
    side = None
    if total > 1:
        side = document.page_of.replace("{page}", str(number)).replace("{pages}", str(total))
        if number < total:
            side = document.continued.replace("{page}", str(number + 1)) + "   " + side
    return foot_ops(font_set, lines, side)


def foot_ops(font_set: FontSet, lines: list[str], side: str | None) -> list[TextOp]:
    """Small italic lines in the bottom margin, and ``side`` (where the page goes on) above them on the right."""
    writer = Writer(font_set, NORMAL, Layout())
    wrapped = [piece for line in lines for piece in writer.wrap([(ITALIC, line)], FOOTER_SIZE, WIDTH)]
    y = 5 * mm + (len(wrapped) - 1) * (FOOTER_SIZE + 1.5)
    for line in wrapped:
        for x, style, part in line:
            writer.place(x, y, style, part, FOOTER_SIZE, SOFT, starts_rtl(part))
        y -= FOOTER_SIZE + 1.5
    if side:
        w = writer.width(side, BOLD, FOOTER_SIZE + 1)
        top = 5 * mm + len(wrapped) * (FOOTER_SIZE + 1.5) + 1
        writer.place(WIDTH - w, top, BOLD, side, FOOTER_SIZE + 1, INK, False)
    return [op for op in writer.layout.pages[0] if isinstance(op, TextOp)]


def _footer(canvas: Canvas, ops: list[TextOp]) -> None:
    text = canvas.beginText()
    for op in ops:
        text.setFont(op.font, op.size)
        text.setFillGray(op.grey)
        text.setTextRenderMode(2 if op.outline else 0)
        text.setTextOrigin(MARGIN + op.x, op.y)
        text.textOut(op.text)
    canvas.drawText(text)
