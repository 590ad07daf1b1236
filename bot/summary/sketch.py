"""A drawing of the PDF's layout as SVG, for the README (docs/summary-layout.svg).

It is drawn from the same layout the PDF is drawn from, so a test can draw it
again and compare: the picture in the README cannot drift from the page.
"""

from __future__ import annotations

from html import escape

from reportlab.pdfbase.pdfmetrics import stringWidth

from bot.summary.document import SummaryDocument
from bot.summary.fonts import fonts
from bot.summary.pdf import INK, MARGIN, PAD, PAGE_HEIGHT, PAGE_WIDTH, WIDTH, BoxOp, RuleOp, TextOp, footer_ops, lay_out

_FAMILY = "Atkinson Hyperlegible, Noto Sans, DejaVu Sans, sans-serif"


def layout_svg(document: SummaryDocument, page: int = 0) -> str:
    """Page ``page`` of the summary as an SVG picture (A4, in points)."""
    layout = lay_out(document)
    ops = [*layout.pages[page], *footer_ops(fonts(), document, page + 1, len(layout.pages))]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PAGE_WIDTH:.0f} {PAGE_HEIGHT:.0f}" '
        f'width="{PAGE_WIDTH:.0f}" height="{PAGE_HEIGHT:.0f}" font-family="{_FAMILY}">',
        f'<rect width="{PAGE_WIDTH:.0f}" height="{PAGE_HEIGHT:.0f}" fill="#fff" stroke="#999"/>',
        f'<line x1="0" y1="{PAGE_HEIGHT / 3:.1f}" x2="{PAGE_WIDTH:.0f}" y2="{PAGE_HEIGHT / 3:.1f}" '
        'stroke="#c00" stroke-dasharray="6 4"/>',
    ]
    for op in ops:
        if isinstance(op, BoxOp):
            height = op.y_top - op.y_bottom
            out.append(
                f'<rect x="{MARGIN - PAD:.1f}" y="{PAGE_HEIGHT - op.y_top:.1f}" width="{WIDTH + 2 * PAD:.1f}" '
                f'height="{height:.1f}" fill="#eee"/>'
            )
    for op in ops:
        if isinstance(op, RuleOp):
            y = PAGE_HEIGHT - op.y
            out.append(
                f'<line x1="{MARGIN + op.x1:.1f}" y1="{y:.1f}" x2="{MARGIN + op.x2:.1f}" y2="{y:.1f}" '
                f'stroke="#000" stroke-width="{op.width}"/>'
            )
        elif isinstance(op, TextOp):
            weight = ' font-weight="bold"' if "Bold" in op.font or op.outline else ""
            style = ' font-style="italic"' if "Italic" in op.font else ""
            fill = "#000" if op.grey == INK else "#404040"
            # Each piece keeps the width it has in the PDF, whatever font the viewer has.
            width = stringWidth(op.text, op.font, op.size)
            out.append(
                f'<text x="{MARGIN + op.x:.1f}" y="{PAGE_HEIGHT - op.y:.1f}" font-size="{op.size}" '
                f'textLength="{width:.1f}" lengthAdjust="spacingAndGlyphs" '
                f'fill="{fill}"{weight}{style}>{escape(op.text)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"
