"""Make a person's text safe to print, whatever they typed.

People write emoji, paste text with control characters, write in other
scripts, or type one very long word. :func:`clean` removes what no format
should carry (control and direction-override characters, which could hide or
reorder text on the page). :func:`for_font` then fits text to the PDF font:
a letter the font lacks is replaced by its plain form (ś -> s) when it has
one, a run of writing the font cannot show at all becomes one placeholder,
and emoji or symbols are dropped, so nothing prints as empty boxes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set as AbstractSet

_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_DIRECTION_CONTROLS = frozenset(
    chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
)


_PLAIN_LETTERS = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "ı": "i", "ŧ": "t", "Ŧ": "T"}
"""Letters with no decomposed form, written plainly when the font lacks them."""


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


def for_font(text: str, covered: AbstractSet[str], placeholder: str) -> str:
    """Text the font can draw: plain forms for missing accents, a placeholder for other scripts."""
    text = clean(text)
    if covered.issuperset(text.replace("\n", "")):
        return text
    out: list[str] = []
    for char in text:
        if char in covered or char == "\n":
            out.append(char)
            continue
        if char.isspace():
            out.append(" ")
            continue
        plain = _PLAIN_LETTERS.get(char) or "".join(
            part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part)
        )
        if plain and covered.issuperset(plain):
            out.append(plain)
            continue
        if unicodedata.category(char)[0] in "LN":
            # One placeholder for a whole run (words and the spaces between them).
            if not "".join(out).rstrip(" ").endswith(placeholder):
                out.append(placeholder)
            elif out and out[-1] == " ":
                out.pop()
            continue
        # Emoji, symbols, lone combining marks: dropped.
    return clean("".join(out))


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a space where possible, ending in an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"
