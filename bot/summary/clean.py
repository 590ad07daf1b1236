"""Make a person's text safe to print, whatever they typed.

People write emoji, paste text with control characters, write in other
scripts, or type one very long word. :func:`clean` removes what no format
should carry (control and direction-override characters, which could hide or
reorder text on the page); everything else is kept as written, and the PDF's
embedded fonts draw it (:mod:`bot.summary.fonts`).
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_DIRECTION_CONTROLS = frozenset(
    chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
)


def clean(text: str) -> str:
    """Normalised text with no control, format or unassigned characters; newlines kept."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if all(line.isprintable() for line in text.split("\n")) and "  " not in text:
        # The common case, checked at C speed: nothing to remove.
        return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()
    out = []
    for char in text:
        if char == "\n":
            out.append(char)
        elif char == "\t":
            out.append(" ")
        elif char in _DIRECTION_CONTROLS or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(char)
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(out).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a space where possible, ending in an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"
