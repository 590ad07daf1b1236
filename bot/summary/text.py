"""A short plain-text preview of the summary, to send as a chat message.

The full summary is the PDF; the preview shows each section's title and its
first few answers, so the person can see at a glance what is on the page.
It stays well under Telegram's 4096-character message limit.
"""

from __future__ import annotations

from bot.summary.clean import clean, shorten
from bot.summary.document import SummaryDocument

ITEMS_PER_SECTION = 3
ITEM_LENGTH = 120
MAX_LENGTH = 3500


def render_text(document: SummaryDocument) -> str:
    lines = [clean(document.heading), *(clean(line) for line in document.details)]
    if document.nothing_yet:
        return "\n".join([*lines, "", clean(document.nothing_yet)])
    for section in document.sections:
        lines += ["", clean(section.title).upper()]
        items = [(entry.label, clean(item)) for entry in section.entries for item in entry.items if clean(item)]
        for _label, item in items[:ITEMS_PER_SECTION]:
            text = shorten(item.replace("\n", " "), ITEM_LENGTH)
            lines.append(f"• {text}")
        if len(items) > ITEMS_PER_SECTION:
            lines.append(document.preview_more.replace("{count}", str(len(items) - ITEMS_PER_SECTION)))
    preview = "\n".join(lines)
    return shorten(preview, MAX_LENGTH)
