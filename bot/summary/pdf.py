"""The summary as an A4 PDF, printable in black and white.

Drawn straight on a reportlab canvas with a small layout of our own (wrap,
bullets, headings, page breaks): the page is simple, and this is several
times faster than reportlab's general layout engine, so a summary takes a few
milliseconds. Layout runs first without drawing, so when a person wrote the
maximum everywhere the longest answers can be shortened (with a note saying
so) until the summary fits the two-page limit, and only then is it drawn.

The fonts are PDF's standard Helvetica family, built into reportlab and every
PDF reader: nothing is installed or embedded, so the file is small and quick
to make. Their character set (Windows-1252) covers English and Swedish,
curly quotes, dashes and bullets; :func:`bot.summary.clean.for_font` fits
anything else to it (plain letters for missing accents, a placeholder for
other scripts, emoji dropped). Body text is 11 pt.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from bot.summary.clean import for_font, shorten
from bot.summary.document import Entry, SummaryDocument

MAX_PAGES = 2
BODY_SIZE = 11
LEADING = 14.5
FOOTER_SIZE = 8.5
"""The footer line in the bottom margin (not body text) may be smaller."""


@dataclass(frozen=True, slots=True)
class Fit:
    """How hard to squeeze: longest answer, most answers per label, everything on one line."""

    length: int | None = None
    items: int | None = None
    compact: bool = False


SHORTEN_STEPS = (
    Fit(),
    *(Fit(length) for length in (1200, 900, 700, 500, 400, 300, 220, 160)),
    Fit(120, 8),
    Fit(100, 6, compact=True),
    Fit(80, 5, compact=True),
    Fit(80, 4, compact=True),
    Fit(60, 3, compact=True),
    Fit(50, 2, compact=True),
)
"""Tried in order (by binary search) until the summary fits MAX_PAGES; the first
that fits wins, so nobody's words are shortened more than needed. If even the
last does not fit, the summary stops at the end of page MAX_PAGES."""
INLINE_ITEM = 40
"""Chosen options this short are printed on one line after their label, to save space."""

REGULAR, BOLD, ITALIC = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"
ENCODING = "cp1252"
"""What the standard fonts can show (reportlab writes them with WinAnsiEncoding)."""
INK, SOFT = 0.0, 0.3
"""Grey levels: black for text, dark grey for dates and notes (prints clearly in black and white)."""

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 16 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN
TOP = PAGE_HEIGHT - MARGIN
BOTTOM = MARGIN + 4 * mm
BULLET_INDENT = 13.0


@lru_cache(maxsize=1)
def covered_characters() -> frozenset[str]:
    """The printable characters the standard fonts can draw."""
    covered = set()
    for code in range(0x20, 0x2200):
        char = chr(code)
        try:
            char.encode(ENCODING)
        except UnicodeEncodeError:
            continue
        if char.isprintable():
            covered.add(char)
    return frozenset(covered)


# ---------------------------------------------------------------------- layout


@dataclass(slots=True)
class _Text:
    x: float
    y: float
    font: str
    size: float
    text: str
    grey: float = INK
    align_right: bool = False


@dataclass(slots=True)
class _Rule:
    x1: float
    x2: float
    y: float
    width: float


@dataclass(slots=True)
class _Layout:
    """Drawing operations, page by page, and where the next line goes."""

    pages: list[list[_Text | _Rule]] = field(default_factory=lambda: [[]])
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

    def add(self, op: _Text | _Rule) -> None:
        self.pages[-1].append(op)


Run = tuple[str, str]
"""(font, text): a stretch of text in one font."""


_widths: dict[tuple[str, str], float] = {}
"""Width at 1 pt of each word measured so far: words repeat (labels, options) and
measuring is the layout's main cost."""


def _width(text: str, font: str, size: float) -> float:
    key = (text, font)
    unit = _widths.get(key)
    if unit is None:
        if len(_widths) > 100_000:
            _widths.clear()
        unit = _widths[key] = pdfmetrics.stringWidth(text, font, 1000) / 1000
    return unit * size


def _wrap(runs: list[Run], size: float, width: float) -> list[list[tuple[float, str, str]]]:
    """Break runs into lines no wider than ``width``: each line is [(x, font, text)].

    Words longer than a line are split; newlines in the text are kept.
    """
    lines: list[list[tuple[float, str, str]]] = [[]]
    x = 0.0
    space = {font: _width(" ", font, size) for font in {font for font, _ in runs}}

    def place(font: str, word: str) -> None:
        nonlocal x
        current = lines[-1]
        gap = space[font] if current else 0.0
        w = _width(word, font, size)
        if current and x + gap + w > width:
            lines.append([])
            current, gap, x = lines[-1], 0.0, 0.0
        if w > width:
            for piece in _split_word(word, font, size, width - x, width):
                if lines[-1] and x > 0:
                    lines.append([])
                    x = 0.0
                lines[-1].append((x, font, piece))
                x = _width(piece, font, size)
            return
        if current and current[-1][1] == font and gap:
            start, _, text = current[-1]
            current[-1] = (start, font, text + " " + word)
        else:
            current.append((x + gap, font, word))
        x += gap + w

    for font, text in runs:
        for number, paragraph in enumerate(text.split("\n")):
            if number:
                lines.append([])
                x = 0.0
            for word in paragraph.split(" "):
                if word:
                    place(font, word)
    return [line for line in lines if line] or [[]]


def _split_word(word: str, font: str, size: float, first_width: float, width: float) -> Iterator[str]:
    """Pieces of a very long word, each fitting a line (the first fits what is left)."""
    limit = max(first_width, size)
    piece = ""
    for char in word:
        if piece and _width(piece + char, font, size) > limit:
            yield piece
            piece, limit = "", width
        piece += char
    if piece:
        yield piece


def _paragraph(
    layout: _Layout,
    runs: list[Run],
    *,
    size: float = BODY_SIZE,
    leading: float = LEADING,
    indent: float = 0.0,
    grey: float = INK,
    bullet: bool = False,
) -> None:
    lines = _wrap(runs, size, WIDTH - indent)
    lift = (leading - size) / 2 + 0.2 * size
    for number, line in enumerate(lines):
        layout.need(leading)
        layout.y -= leading
        if bullet and number == 0:
            layout.add(_Text(indent - BULLET_INDENT + 2, layout.y + lift, REGULAR, size, "•", grey))
        for x, font, text in line:
            layout.add(_Text(indent + x, layout.y + lift, font, size, text, grey))


def _heading(layout: _Layout, title: str, aside: str, keep: float) -> None:
    """A heading with a note on the right (when the answers are from), over a rule."""
    size, leading = 14.0, 18.0
    title_width = _width(title, BOLD, size)
    aside_width = _width(aside, ITALIC, BODY_SIZE) if aside else 0.0
    side_by_side = title_width + aside_width + 18 <= WIDTH
    height = leading + (0 if side_by_side or not aside else LEADING) + 5 + keep
    layout.y -= 4 * mm
    layout.need(height)
    for line in _wrap([(BOLD, title)], size, WIDTH):
        layout.y -= leading
        for x, font, text in line:
            layout.add(_Text(x, layout.y + 4, font, size, text))
    if aside:
        if not side_by_side:
            layout.y -= LEADING
        layout.add(_Text(WIDTH, layout.y + 4, ITALIC, BODY_SIZE, aside, SOFT, align_right=True))
    layout.y -= 3
    layout.add(_Rule(0, WIDTH, layout.y, 0.8))
    layout.y -= 3


def _entry(layout: _Layout, entry: Entry, items: list[str], compact: bool = False) -> None:
    """A label with its answers: on one line when short (or squeezed), else a bulleted list."""
    if not items:
        return
    label = entry.label or ""
    if label and label.rstrip()[-1:] not in "?!:.":
        label += ":"
    if compact or len(items) == 1 or (not entry.own_words and all(len(item) <= INLINE_ITEM for item in items)):
        runs: list[Run] = [(BOLD, label)] if label else []
        runs.append((REGULAR, (" · " if compact and entry.own_words else ", ").join(items)))
        _paragraph(layout, runs)
        return
    if label:
        layout.need(2 * LEADING)
        _paragraph(layout, [(BOLD, entry.label or "")])
    for item in items:
        _paragraph(layout, [(REGULAR, item)], indent=BULLET_INDENT, bullet=True)


def _lay_out(document: SummaryDocument, covered: frozenset[str], squeeze: Fit = Fit()) -> _Layout:
    layout = _Layout()

    def fit(text: str) -> str:
        return for_font(text, covered, document.other_script)

    _paragraph(layout, [(BOLD, fit(document.heading))], size=20, leading=24)
    layout.y -= 2
    _paragraph(layout, [(REGULAR, "  ·  ".join(fit(line) for line in document.details))], grey=SOFT)
    if squeeze != Fit():
        _paragraph(layout, [(ITALIC, fit(document.shortened_note))], grey=SOFT)
    if document.nothing_yet:
        layout.y -= 10 * mm
        _paragraph(layout, [(REGULAR, fit(document.nothing_yet))])
        return layout
    for section in document.sections:
        _heading(layout, fit(section.title), fit(section.answered), keep=2 * LEADING)
        if section.intro:
            _paragraph(layout, [(ITALIC, fit(section.intro))])
        for entry in section.entries:
            items = [item for item in (fit(item) for item in entry.items) if item]
            if squeeze.length is not None:
                items = [shorten(item, squeeze.length) for item in items]
            if squeeze.items is not None and len(items) > squeeze.items:
                more = document.more_items.replace("{count}", str(len(items) - squeeze.items + 1))
                items = [*items[: squeeze.items - 1], fit(more)]
            label = fit(entry.label) if entry.label else None
            _entry(layout, Entry(label, (), entry.own_words), items, squeeze.compact)
    if document.fill_in is not None:
        fill = document.fill_in
        row = 10 * mm
        _heading(layout, fit(fill.title), fit(fill.intro or ""), keep=row * len(fill.lines))
        for line in fill.lines:
            layout.y -= row
            layout.add(_Text(0, layout.y + 3, BOLD, BODY_SIZE, fit(line)))
            layout.add(_Rule(0, WIDTH, layout.y, 0.5))
    return layout


# ---------------------------------------------------------------------- drawing


def render_pdf(document: SummaryDocument) -> bytes:
    """The summary as PDF bytes: one page for most people, never more than two."""
    covered = covered_characters()
    return _draw(document, _fitted(document, covered), covered)


def page_count(document: SummaryDocument) -> int:
    """How many pages the PDF of this document has (without drawing it)."""
    return len(_fitted(document, covered_characters()).pages)


def _fitted(document: SummaryDocument, covered: frozenset[str]) -> _Layout:
    """The layout with the least shortening that fits MAX_PAGES (a binary search: fewer pages
    the more answers are shortened)."""
    layout = _lay_out(document, covered, SHORTEN_STEPS[0])
    if len(layout.pages) <= MAX_PAGES:
        return layout
    low, high = 1, len(SHORTEN_STEPS) - 1
    best = _lay_out(document, covered, SHORTEN_STEPS[high])
    if len(best.pages) > MAX_PAGES:
        # Content no squeeze can fit (never with the shipped flows): stop at the page limit.
        del best.pages[MAX_PAGES:]
        return best
    while low < high:
        middle = (low + high) // 2
        candidate = _lay_out(document, covered, SHORTEN_STEPS[middle])
        if len(candidate.pages) <= MAX_PAGES:
            best, high = candidate, middle
        else:
            low = middle + 1
    return best


def _draw(document: SummaryDocument, layout: _Layout, covered: frozenset[str]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, lang=document.language)
    canvas.setTitle(for_font(document.heading, covered, document.other_script))
    canvas.setAuthor("")
    canvas.setCreator("SDM Companion")
    footer = for_font(document.footer, covered, document.other_script)
    total = len(layout.pages)
    for number, ops in enumerate(layout.pages, start=1):
        # One text object per page: far cheaper than a drawString call per fragment.
        text = canvas.beginText()
        font, grey = None, None
        for op in ops:
            if isinstance(op, _Rule):
                canvas.setLineWidth(op.width)
                canvas.line(MARGIN + op.x1, op.y, MARGIN + op.x2, op.y)
                continue
            if (op.font, op.size) != font:
                text.setFont(op.font, op.size)
                font = (op.font, op.size)
            if op.grey != grey:
                text.setFillGray(op.grey)
                grey = op.grey
            x = op.x - _width(op.text, op.font, op.size) if op.align_right else op.x
            text.setTextOrigin(MARGIN + x, op.y)
            text.textOut(op.text)
        canvas.drawText(text)
        canvas.setFont(ITALIC, FOOTER_SIZE)
        canvas.setFillGray(SOFT)
        canvas.drawString(MARGIN, MARGIN / 2, footer)
        if total > 1:
            canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN / 2, f"{number} / {total}")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
