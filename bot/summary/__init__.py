"""The printable pre-consultation summary: build it once, render it three ways.

    document = await build_summary(storage, engine, person_id)
    render_pdf(document) -> bytes      # A4, for printing
    render_html(document) -> str       # one standalone page
    render_text(document) -> str       # every part, as plain text for a record or an email
    render_preview(document) -> str    # a short chat preview
    await missing_flows(storage, engine, person_id)  # for "What's missing?"

Its content check (layout.yaml, ``bot.summary.layout.check_layout``) is one
of the checks bot/checks.py names for ``companion content check``.
"""

from bot.summary.build import assemble, build_summary, missing_flows, read_records
from bot.summary.document import Entry, FillIn, Missing, Section, SummaryDocument
from bot.summary.html import render_html
from bot.summary.pdf import render_pdf
from bot.summary.text import render_preview, render_text

__all__ = [
    "Entry",
    "FillIn",
    "Missing",
    "Section",
    "SummaryDocument",
    "assemble",
    "build_summary",
    "missing_flows",
    "read_records",
    "render_html",
    "render_pdf",
    "render_preview",
    "render_text",
]
