"""The summary as plain text: the whole of it for a record or an email, or a short chat preview.

:func:`render_text` is a real summary: every section, every label and every
answer, as written, for pasting into a care record or an email.
:func:`render_preview` is the short version sent as a chat message beside
the PDF: each section's title and its first few answers, well under
Telegram's 4096-character limit.
"""

from __future__ import annotations

from bot.summary.clean import clean, shorten
from bot.summary.document import Entry, SummaryDocument

ITEMS_PER_SECTION = 3
ITEM_LENGTH = 120
MAX_LENGTH = 3500


def render_text(document: SummaryDocument) -> str:
    """Every part of the summary as plain text with labels (UTF-8, nothing shortened)."""
    lines = [clean(document.heading), "=" * len(clean(document.heading)), *(clean(line) for line in document.details)]
    if document.nothing_yet:
        return "\n".join([*lines, "", clean(document.nothing_yet), ""])
    if document.glance is not None:
        lines += ["", clean(document.glance.title).upper()]
        for item in document.glance.items:
            entries = [entry for entry in item.entries if entry.items]
            if len(entries) == 1 and entries[0].label is None:
                lines += _entry(Entry(item.label, entries[0].items, entries[0].own_words))
            else:
                lines.append(f"{clean(item.label)}:")
                for entry in entries:
                    lines += ["  " + line for line in _entry(entry)]
            if item.in_full:
                lines.append(f"  {clean(item.in_full)}")
    for section in document.sections:
        lines += ["", f"{clean(section.title).upper()} ({clean(section.answered)})"]
        if section.intro:
            lines.append(clean(section.intro))
        for entry in section.entries:
            lines += _entry(entry)
        lines += [f"{clean(line)} ____" for line in section.after]
    if document.fill_in is not None:
        fill = document.fill_in
        lines += ["", clean(fill.title).upper()]
        if fill.intro:
            lines.append(clean(fill.intro))
        lines += [f"{clean(line)}: ____" for line in fill.lines]
    if document.elsewhere:
        lines += ["", clean(document.elsewhere)]
    lines += ["", clean(document.footer), ""]
    return "\n".join(lines)


def _entry(entry: Entry) -> list[str]:
    items = [item for item in (clean(item) for item in entry.items) if item]
    if not items:
        return []
    label = clean(entry.label) if entry.label else ""
    if label and label[-1:] not in "?!:.":
        label += ":"
    if len(items) == 1 and "\n" not in items[0]:
        return [f"{label} {items[0]}".strip()]
    out = [label] if label else []
    for item in items:
        first, *rest = item.split("\n")
        out.append(f"- {first}")
        out += [f"  {line}" for line in rest]
    return out


def render_preview(document: SummaryDocument) -> str:
    """A short preview for a chat message: section titles and their first few answers."""
    lines = [clean(document.heading), *(clean(line) for line in document.details)]
    if document.nothing_yet:
        return "\n".join([*lines, "", clean(document.nothing_yet)])
    groups: list[tuple[str, list[str]]] = []
    if document.glance is not None:
        groups.append(
            (
                document.glance.title,
                [clean(item) for glance in document.glance.items for entry in glance.entries for item in entry.items],
            )
        )
    for section in document.sections:
        groups.append((section.title, [clean(item) for entry in section.entries for item in entry.items]))
    for title, items in groups:
        items = [item for item in items if item]
        lines += ["", clean(title).upper()]
        for item in items[:ITEMS_PER_SECTION]:
            lines.append(f"• {shorten(item.replace(chr(10), ' '), ITEM_LENGTH)}")
        if len(items) > ITEMS_PER_SECTION:
            lines.append(document.preview_more.replace("{count}", str(len(items) - ITEMS_PER_SECTION)))
    return shorten("\n".join(lines), MAX_LENGTH)
