"""The summary as one standalone HTML page, for a screen and for printing.

Everything a person wrote is escaped and marked ``dir="auto"`` so text in a
right-to-left script shows the right way round without disturbing the page.
The style sheet is inline (no files to fetch). Its print rules lay the page
out like the PDF, on A4: what the appointment needs first in a box at the top,
then the sections, then lines to fill in. Headings go h1, h2, h3 in order, the
page has its language and title, and all text is black or dark grey on white
(contrast well above WCAG AA).
"""

from __future__ import annotations

import base64
from functools import lru_cache
from html import escape

from bot.summary.clean import clean
from bot.summary.document import Entry, SummaryDocument
from bot.summary.fonts import BOLD, ITALIC, REGULAR, main_font_file

PAGE_CSS = """
:root { color: #000; background: #fff; }
body { font-family: "Summary Sans", "Atkinson Hyperlegible", "Noto Sans", "DejaVu Sans", system-ui, Arial, sans-serif;
  font-size: 1.05rem; line-height: 1.4; max-width: 46rem; margin: 1.5rem auto; padding: 0 1rem;
  overflow-wrap: anywhere; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
.details { color: #333; margin: 0 0 .6rem; padding: 0; list-style: none; }
.details li { display: inline; }
.details li + li::before { content: " · "; }
.glance { background: #eee; padding: .4rem .7rem .5rem; margin: .4rem 0 .6rem; }
.glance h2 { margin: 0 0 .2rem; }
section { margin-top: .7rem; }
.section-head { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem;
  border-bottom: 1.5px solid #000; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin: 0; }
h3 { font-size: 1rem; margin: .25rem 0 0; }
.when { color: #333; font-style: italic; text-align: right; }
.intro, .in-full { font-style: italic; margin: .1rem 0; color: #333; }
.label { font-weight: bold; }
p { margin: .1rem 0; }
ul, ol { margin: .05rem 0 .2rem; padding-left: 1.4rem; }
.fill-in .rows { display: grid; grid-template-columns: 1fr 1fr; column-gap: 2rem; }
.write { display: flex; gap: .5rem; margin-top: .5rem; }
.write span { flex: 1; border-bottom: 1px solid #000; }
.after { font-weight: bold; margin-top: .3rem; }
.nothing { margin-top: 2rem; font-size: 1.15rem; }
footer { margin-top: .8rem; color: #333; font-style: italic; font-size: .9rem; }
body.large { font-size: 1.35rem; }
@media print {
  @page { size: A4; margin: 10mm 13mm; }
  body { font-size: 9.6pt; line-height: 1.25; max-width: none; margin: 0; padding: 0; }
  section { margin-top: .45rem; }
  body.large { font-size: 13pt; }
  h1 { font-size: 16pt; }
  h2 { font-size: 12pt; }
  h3 { font-size: 10pt; }
  .glance { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  footer { font-size: 8pt; margin-top: .4rem; }
  a { color: #000; text-decoration: none; }
}
"""


def render_html(document: SummaryDocument, *, large: bool | None = None) -> str:
    """A complete HTML document (UTF-8), with all text escaped."""
    big = document.large_print if large is None else large
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(document.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(document.title or document.heading)}</title>",
        f"<style>{_font_faces()}{PAGE_CSS}</style>",
        "</head>",
        f'<body class="{"large" if big else "normal"}">',
        "<main>",
        f"<h1>{_e(document.heading)}</h1>",
        '<ul class="details">' + "".join(f'<li dir="auto">{_e(line)}</li>' for line in document.details) + "</ul>",
    ]
    if document.nothing_yet:
        out.append(f'<p class="nothing">{_e(document.nothing_yet)}</p>')
    if document.glance is not None:
        out.append('<section class="glance" aria-labelledby="glance">')
        out.append(f'<h2 id="glance">{_e(document.glance.title)}</h2>')
        for item in document.glance.items:
            entries = [entry for entry in item.entries if entry.items]
            if len(entries) == 1 and entries[0].label is None:
                entry = entries[0]
                out += _entry(Entry(item.label, entry.items, entry.own_words), numbered=len(entry.items) > 1)
            else:
                out.append(f"<h3>{_e(item.label)}</h3>")
                for entry in entries:
                    out += _entry(entry)
            if item.in_full:
                out.append(f'<p class="in-full">{_e(item.in_full)}</p>')
        out.append("</section>")
    for section in document.sections:
        out.append(f'<section id="{_e(section.id)}">')
        out.append(
            f'<div class="section-head"><h2>{_e(section.title)}</h2>'
            f'<span class="when">{_e(section.answered)}</span></div>'
        )
        if section.intro:
            out.append(f'<p class="intro">{_e(section.intro)}</p>')
        for entry in section.entries:
            out += _entry(entry)
        for line in section.after:
            out.append(f'<p class="after">{_e(line)}</p>')
        out.append("</section>")
    if document.fill_in is not None:
        fill = document.fill_in
        out.append('<section class="fill-in">')
        out.append(f'<div class="section-head"><h2>{_e(fill.title)}</h2>')
        if fill.intro:
            out.append(f'<span class="when">{_e(fill.intro)}</span>')
        out.append("</div>")
        out.append('<div class="rows">')
        for line in fill.lines:
            out.append(f'<p class="write"><b>{_e(line)}</b><span></span></p>')
        out.append("</div>")
        out.append("</section>")
    footer = [document.elsewhere] if document.elsewhere else []
    footer.append(document.footer)
    out.append("<footer>" + "<br>".join(_e(line) for line in footer) + "</footer>")
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def _entry(entry: Entry, *, numbered: bool = False) -> list[str]:
    items = [item for item in (clean(item) for item in entry.items) if item]
    if not items:
        return []
    label = entry.label or ""
    if label and label.rstrip()[-1:] not in "?!:.":
        label += ":"
    head = f'<span class="label">{_e(label)}</span> ' if label else ""
    if len(items) == 1 and not numbered:
        return [f'<p>{head}<span dir="auto">{_lines(items[0])}</span></p>']
    if not entry.own_words and not numbered and sum(len(item) for item in items) <= 160:
        joined = ", ".join(_lines(item) for item in items)
        return [f"<p>{head}{joined}</p>"]
    tag = "ol" if numbered else "ul"
    listed = "".join(f'<li dir="auto">{_lines(item)}</li>' for item in items)
    return [f"<p>{head}</p><{tag}>{listed}</{tag}>" if head else f"<{tag}>{listed}</{tag}>"]


def _e(text: str) -> str:
    return escape(clean(text), quote=True)


def _lines(text: str) -> str:
    return "<br>".join(escape(line, quote=True) for line in text.split("\n"))


@lru_cache(maxsize=1)
def _font_faces() -> str:
    """The PDF's main face, inline, so the page prints the same way on any machine (no files to fetch).

    Other scripts fall back to the reader's own fonts, which browsers choose per character.
    """
    rules = []
    for style, weight, slant in ((REGULAR, "normal", "normal"), (BOLD, "bold", "normal"), (ITALIC, "normal", "italic")):
        data = base64.b64encode(main_font_file(style).read_bytes()).decode("ascii")
        rules.append(
            '@font-face { font-family: "Summary Sans"; '
            f"src: url(data:font/ttf;base64,{data}) format('truetype'); "
            f"font-weight: {weight}; font-style: {slant}; }}"
        )
    return "\n".join(rules) + "\n"
