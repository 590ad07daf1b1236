"""Embedded fonts for the PDF, for any script, from pip packages (nothing installed on the system).

The main face is Atkinson Hyperlegible (regular, bold, italic), drawn for
readers with low vision by the Braille Institute; it covers English, Swedish,
Polish and most European languages. Any character it lacks is drawn from a
fallback chosen by script: Noto Sans for other Latin, Greek and Cyrillic
letters, Noto Sans Arabic, Hebrew, the Indic and South-East Asian scripts and
Ethiopic, WenQuanYi Micro Hei for Chinese, Japanese and Korean, and Noto Emoji
and Noto Sans Symbols for emoji and symbols. Fallback faces come in one
weight; bold text in them is drawn with a thin outline instead.

Fonts are loaded the first time a character needs them (a fallback is never
read for a page that does not use it) and embedded as subsets, so a PDF holds
only the letters it prints.

Arabic letters change shape with their neighbours. The shaping (by
``arabic_reshaper``) gives each letter its joined form; each form is drawn from
its own copy of the Arabic face whose character map points the plain letter
at the joined glyph. So the PDF's text layer still holds the plain letters, and
copying or reading the text aloud gives the words as the person wrote them.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR, BOLD, ITALIC = "regular", "bold", "italic"

Run = tuple[str, str, bool]
"""(font name, text, drawn with an outline to look bold)."""


def _package_dir(module: str) -> Path:
    imported = __import__(module)
    return Path(str(imported.__file__)).resolve().parent


@dataclass(frozen=True, slots=True)
class _FaceFile:
    name: str
    module: str
    path: str
    subfont: int = 0

    def file(self) -> Path:
        return _package_dir(self.module) / self.path


_MAIN = {
    REGULAR: _FaceFile("Summary-Regular", "fontpkg_atkinson_hyperlegible", "files/AtkinsonHyperlegible-Regular.ttf"),
    BOLD: _FaceFile("Summary-Bold", "fontpkg_atkinson_hyperlegible", "files/AtkinsonHyperlegible-Bold.ttf"),
    ITALIC: _FaceFile("Summary-Italic", "fontpkg_atkinson_hyperlegible", "files/AtkinsonHyperlegible-Italic.ttf"),
}

_NOTO = "manimgx_fonts"
_FALLBACKS = {
    "latin": _FaceFile("Summary-NotoSans", _NOTO, "NotoSans[wght].ttf"),
    "arabic": _FaceFile("Summary-Arabic", _NOTO, "NotoSansArabic[wght].ttf"),
    "hebrew": _FaceFile("Summary-Hebrew", _NOTO, "NotoSansHebrew[wght].ttf"),
    "armenian": _FaceFile("Summary-Armenian", _NOTO, "NotoSansArmenian[wght].ttf"),
    "devanagari": _FaceFile("Summary-Devanagari", _NOTO, "NotoSansDevanagari[wght].ttf"),
    "bengali": _FaceFile("Summary-Bengali", _NOTO, "NotoSansBengali[wght].ttf"),
    "gurmukhi": _FaceFile("Summary-Gurmukhi", _NOTO, "NotoSansGurmukhi[wght].ttf"),
    "gujarati": _FaceFile("Summary-Gujarati", _NOTO, "NotoSansGujarati[wght].ttf"),
    "oriya": _FaceFile("Summary-Oriya", _NOTO, "NotoSansOriya[wght].ttf"),
    "tamil": _FaceFile("Summary-Tamil", _NOTO, "NotoSansTamil[wght].ttf"),
    "telugu": _FaceFile("Summary-Telugu", _NOTO, "NotoSansTelugu[wght].ttf"),
    "kannada": _FaceFile("Summary-Kannada", _NOTO, "NotoSansKannada[wght].ttf"),
    "malayalam": _FaceFile("Summary-Malayalam", _NOTO, "NotoSansMalayalam[wght].ttf"),
    "sinhala": _FaceFile("Summary-Sinhala", _NOTO, "NotoSansSinhala[wght].ttf"),
    "thai": _FaceFile("Summary-Thai", _NOTO, "NotoSansThai[wght].ttf"),
    "lao": _FaceFile("Summary-Lao", _NOTO, "NotoSansLao[wght].ttf"),
    "myanmar": _FaceFile("Summary-Myanmar", _NOTO, "NotoSansMyanmar[wght].ttf"),
    "georgian": _FaceFile("Summary-Georgian", _NOTO, "NotoSansGeorgian[wght].ttf"),
    "ethiopic": _FaceFile("Summary-Ethiopic", _NOTO, "NotoSansEthiopic[wght].ttf"),
    "khmer": _FaceFile("Summary-Khmer", _NOTO, "NotoSansKhmer[wght].ttf"),
    "cjk": _FaceFile("Summary-CJK", "paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc"),
    "emoji": _FaceFile("Summary-Emoji", _NOTO, "NotoEmoji[wght].ttf"),
    "symbols": _FaceFile("Summary-Symbols", _NOTO, "NotoSansSymbols[wght].ttf"),
}

_SCRIPTS: tuple[tuple[int, int, str], ...] = (
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x08A0, 0x08FF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0AFF, "gujarati"),
    (0x0B00, 0x0B7F, "oriya"),
    (0x0B80, 0x0BFF, "tamil"),
    (0x0C00, 0x0C7F, "telugu"),
    (0x0C80, 0x0CFF, "kannada"),
    (0x0D00, 0x0D7F, "malayalam"),
    (0x0D80, 0x0DFF, "sinhala"),
    (0x0E00, 0x0E7F, "thai"),
    (0x0E80, 0x0EFF, "lao"),
    (0x1000, 0x109F, "myanmar"),
    (0x10A0, 0x10FF, "georgian"),
    (0x1100, 0x11FF, "cjk"),
    (0x1200, 0x139F, "ethiopic"),
    (0x1780, 0x17FF, "khmer"),
    (0x2E80, 0x9FFF, "cjk"),
    (0xAC00, 0xD7AF, "cjk"),
    (0xF900, 0xFAFF, "cjk"),
    (0xFB1D, 0xFB4F, "hebrew"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0xFF00, 0xFFEF, "cjk"),
    (0x1F000, 0x1FAFF, "emoji"),
    (0x20000, 0x3FFFF, "cjk"),
)
_LAST_RESORT = ("latin", "symbols", "emoji", "cjk")
_INVISIBLE = frozenset("\u200d\ufe0e\ufe0f\u200c")
"""Joiners and emoji presentation selectors: they shape a sequence, they are not drawn."""

_FORMS = ("isolated", "initial", "medial", "final")
_LAM = "\u0644"
_lock = threading.Lock()


def script_of(char: str) -> str | None:
    code = ord(char)
    for low, high, script in _SCRIPTS:
        if low <= code <= high:
            return script
    return None


class FontSet:
    """The faces the summary draws with, registered with reportlab once per process."""

    def __init__(self) -> None:
        self._fonts: dict[str, TTFont] = {}
        self._covered: dict[str, frozenset[int]] = {}
        self._choice: dict[tuple[str, str], tuple[str, bool]] = {}
        self._arabic_forms: dict[str, tuple[str, str]] | None = None
        self._runs: dict[tuple[str, str], list[Run]] = {}
        self.unit_widths: dict[tuple[str, str], float] = {}
        """Width at 1 pt of words measured so far (words repeat: labels, options, dates)."""
        self._main_chars: dict[str, frozenset[str]] = {}
        for style in (REGULAR, BOLD, ITALIC):
            font = self._load(_MAIN[style])
            self._main_chars[style] = frozenset(chr(code) for code in font.face.charToGlyph)

    def main(self, style: str) -> str:
        return _MAIN[style].name

    def names(self) -> list[str]:
        """Fonts loaded so far (for tests: the fallbacks are loaded only when needed)."""
        return list(self._fonts)

    def _load(self, face: _FaceFile, name: str | None = None) -> TTFont:
        name = name or face.name
        font = self._fonts.get(name)
        if font is None:
            with _lock:
                font = self._fonts.get(name)
                if font is None:
                    font = TTFont(name, str(face.file()), subfontIndex=face.subfont)
                    if name != face.name:
                        # A copy with its own character map must be embedded as a face of its own:
                        # reportlab shares one font object between fonts of the same face name.
                        font.face.name = font.face.name + b"-" + name.rsplit("-", 1)[-1].encode("ascii")
                    pdfmetrics.registerFont(font)
                    self._covered[name] = frozenset(font.face.charToGlyph)
                    self._fonts[name] = font
        return font

    def _has(self, name: str, char: str) -> bool:
        return ord(char) in self._covered[name]

    def font_for(self, char: str, style: str) -> tuple[str, bool]:
        """(font name, outline for bold) for one character."""
        key = (char, style)
        known = self._choice.get(key)
        if known is not None:
            return known
        main = _MAIN[style].name
        if self._has(main, char):
            choice = (main, False)
        else:
            script = script_of(char)
            candidates = (script, *_LAST_RESORT) if script else _LAST_RESORT
            choice = (main, False)  # nothing has it: the main face's "missing" glyph
            for candidate in candidates:
                if candidate is None:
                    continue
                name = self._load(_FALLBACKS[candidate]).fontName
                if self._has(name, char):
                    choice = (name, style == BOLD)
                    break
        if len(self._choice) < 200_000:
            self._choice[key] = choice
        return choice

    def runs(self, text: str, style: str) -> list[Run]:
        """Split text (already in visual order) into stretches of one font each."""
        if self._main_chars[style].issuperset(text):
            return [(_MAIN[style].name, text, False)]  # the common case, checked at C speed
        key = (text, style)
        known = self._runs.get(key)
        if known is None:
            if len(self._runs) > 20_000:
                self._runs.clear()
            known = self._runs[key] = self._split(text, style)
        return known

    def _split(self, text: str, style: str) -> list[Run]:
        out: list[Run] = []
        for char in text:
            if char in _INVISIBLE:
                continue
            form = self._arabic_form(char)
            if form is not None:
                name, plain = form
                choice = (name, style == BOLD)
                char = plain
            else:
                choice = self.font_for(char, style)
            if out and out[-1][0] == choice[0] and out[-1][2] == choice[1]:
                out[-1] = (choice[0], out[-1][1] + char, choice[1])
            else:
                out.append((choice[0], char, choice[1]))
        return out

    def width(self, text: str, style: str, size: float) -> float:
        return sum(pdfmetrics.stringWidth(part, name, size) for name, part, _bold in self.runs(text, style))

    # ------------------------------------------------------------------ Arabic forms

    def _arabic_form(self, char: str) -> tuple[str, str] | None:
        """For a joined Arabic form (U+FB50-FEFF): the font drawing it, and the plain letter it stands for."""
        code = ord(char)
        if not (0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF):
            return None
        if self._arabic_forms is None:
            self._arabic_forms = self._build_arabic_forms()
        return self._arabic_forms.get(char)

    def _build_arabic_forms(self) -> dict[str, tuple[str, str]]:
        """One copy of the Arabic face per joining form, each mapping plain letters to that form's glyphs.

        Lam-alef is one glyph for two letters: it is drawn as the alef (mapped to
        the ligature) after a lam mapped to an empty glyph, in a copy of its own.
        """
        face = _FALLBACKS["arabic"]
        base = self._load(face)
        glyphs = base.face.charToGlyph
        blank = glyphs.get(0x200D) or glyphs.get(0x200B)
        copies: dict[str, TTFont] = {}
        out: dict[str, tuple[str, str]] = {}

        def copy(kind: str) -> TTFont:
            font = copies.get(kind)
            if font is None:
                font = copies[kind] = self._load(face, f"{face.name}-{kind}")
            return font

        for code in (*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)):
            if code not in glyphs:
                continue
            parts = unicodedata.decomposition(chr(code)).split()
            if not parts or parts[0].strip("<>") not in _FORMS:
                continue
            form, letters = parts[0].strip("<>"), [chr(int(part, 16)) for part in parts[1:]]
            if len(letters) == 1:
                font = copy(form)
                font.face.charToGlyph[ord(letters[0])] = glyphs[code]
                font.face.charWidths[ord(letters[0])] = base.face.charWidths.get(code, 0)
                out[chr(code)] = (font.fontName, letters[0])
            elif len(letters) == 2 and letters[0] == _LAM and blank is not None:
                font = copy(f"lam-alef-{form}")
                font.face.charToGlyph[ord(letters[1])] = glyphs[code]
                font.face.charWidths[ord(letters[1])] = base.face.charWidths.get(code, 0)
                font.face.charToGlyph[ord(_LAM)] = blank
                font.face.charWidths[ord(_LAM)] = 0
                # Text here is in visual order (right to left): the alef comes first.
                out[chr(code)] = (font.fontName, letters[1] + _LAM)
        for font in copies.values():
            self._covered[font.fontName] = frozenset(font.face.charToGlyph)
        return out


def main_font_file(style: str) -> Path:
    """The main face's file for a style (the HTML embeds it too)."""
    return _MAIN[style].file()


@lru_cache(maxsize=1)
def fonts() -> FontSet:
    """The process's font set (loading the three main faces takes a few milliseconds, once)."""
    return FontSet()
