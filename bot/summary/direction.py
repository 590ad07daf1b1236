"""Right-to-left writing (Arabic, Hebrew, Persian, Urdu) for the PDF.

A PDF page holds glyphs where they are drawn, so text has to reach it in
visual order, with Arabic letters already in their joined forms. Words are
measured and wrapped in the order they were written; each finished line is
then shaped (``arabic_reshaper``) and reordered by the Unicode bidirectional
algorithm (``python-bidi``). A paragraph whose first letter is right-to-left
is right-aligned. The HTML needs none of this: browsers do it (``dir="auto"``).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from arabic_reshaper import ArabicReshaper
from bidi import get_base_level, get_display

_RESHAPER = ArabicReshaper(
    configuration={
        "delete_harakat": False,  # vowel marks are part of what the person wrote
        "ARABIC LIGATURE ALLAH": False,  # only the lam-alef ligatures, which the script requires
    }
)


@lru_cache(maxsize=8192)
def has_rtl(text: str) -> bool:
    """True if any character is written right to left (so the line needs reordering)."""
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


def starts_rtl(text: str) -> bool:
    """True if the paragraph's first strong letter is right-to-left (it is then right-aligned)."""
    return has_rtl(text) and get_base_level(text) == 1


def _needs_shaping(text: str) -> bool:
    return any(
        "\u0600" <= char <= "\u06ff" or "\u0750" <= char <= "\u077f" or "\u08a0" <= char <= "\u08ff" for char in text
    )


@lru_cache(maxsize=8192)
def visual(line: str, rtl_paragraph: bool) -> str:
    """One line as it is drawn from left to right: letters joined and runs reordered."""
    if not has_rtl(line):
        return line
    shaped = _RESHAPER.reshape(line) if _needs_shaping(line) else line
    return str(get_display(shaped, base_dir="R" if rtl_paragraph else "L"))
