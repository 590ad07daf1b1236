"""The summary as one standalone HTML page, for a screen and for printing.

Everything a person wrote is escaped and marked ``dir="auto"`` so text in a
right-to-left script shows the right way round without disturbing the page.
The style sheet is inline (no files to fetch) and has print rules for A4.
"""

from __future__ import annotations

from html import escape

from bot.summary.clean import clean
from bot.summary.document import SummaryDocument

_CSS = """
:root { color: #000; background: #fff; }
body { font-family: system-ui, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 1.05rem;
  line-height: 1.45; max-width: 44rem; margin: 1.5rem auto; padding: 0 1rem; overflow-wrap: anywhere; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
.details { color: #333; margin: 0 0 1rem; padding: 0; list-style: none; }
section { margin-top: 1.3rem; break-inside: avoid-page; }
.section-head { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem;
  border-bottom: 1.5px solid #000; margin-bottom: .4rem; }
h2 { font-size: 1.25rem; margin: 0; }
.when { color: #333; font-style: italic; text-align: right; }
.intro { font-style: italic; margin: .2rem 0; }
.label { font-weight: bold; margin: .5rem 0 .1rem; }
ul { margin: .1rem 0 .3rem; padding-left: 1.4rem; }
p.answer { margin: .1rem 0 .3rem; }
.write { border-bottom: 1px solid #000; height: 2.2rem; margin-bottom: .3rem; }
.nothing { margin-top: 2rem; font-size: 1.15rem; }
footer { margin-top: 1.5rem; color: #333; font-style: italic; }
@media print {
  @page { size: A4; margin: 16mm; }
  body { font-size: 11pt; max-width: none; margin: 0; padding: 0; }
  h1 { font-size: 20pt; }
  h2 { font-size: 14pt; }
  a { color: #000; text-decoration: none; }
}
"""


def render_html(document: SummaryDocument) -> str:
    """A complete HTML document (UTF-8), with all text escaped."""
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(document.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(document.heading)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_e(document.heading)}</h1>",
        '<ul class="details">' + "".join(f'<li dir="auto">{_e(line)}</li>' for line in document.details) + "</ul>",
    ]
    if document.nothing_yet:
        out.append(f'<p class="nothing">{_e(document.nothing_yet)}</p>')
    for section in document.sections:
        out.append(f'<section id="{_e(section.id)}">')
        out.append(
            f'<div class="section-head"><h2>{_e(section.title)}</h2>'
            f'<span class="when">{_e(section.answered)}</span></div>'
        )
        if section.intro:
            out.append(f'<p class="intro">{_e(section.intro)}</p>')
        for entry in section.entries:
            items = [item for item in (clean(item) for item in entry.items) if item]
            if not items:
                continue
            if entry.label:
                out.append(f'<p class="label">{_e(entry.label)}</p>')
            if len(items) == 1 and entry.label:
                out.append(f'<p class="answer" dir="auto">{_lines(items[0])}</p>')
            else:
                out.append("<ul>" + "".join(f'<li dir="auto">{_lines(item)}</li>' for item in items) + "</ul>")
        out.append("</section>")
    if document.fill_in is not None:
        fill = document.fill_in
        out.append('<section class="fill-in">')
        out.append(f'<div class="section-head"><h2>{_e(fill.title)}</h2></div>')
        if fill.intro:
            out.append(f'<p class="intro">{_e(fill.intro)}</p>')
        for line in fill.lines:
            out.append(f'<p class="label">{_e(line)}</p><div class="write"></div>')
        out.append("</section>")
    out.append(f"<footer>{_e(document.footer)}</footer>")
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def _e(text: str) -> str:
    return escape(clean(text), quote=True)


def _lines(text: str) -> str:
    return "<br>".join(escape(line, quote=True) for line in text.split("\n"))
