"""How a message is cut into sentences, parts of sentences and words before matching.

Why this shape: crisis language is judged a sentence at a time (a long
message about side effects can hold one sentence that matters), negation and
questions are judged within a part of a sentence (between commas, or before a
"but"), and words are compared after folding away what people type
differently for the same word: case, accents (å, ä, ö), apostrophes, letters
held down ("dieeee"). Pure and free of any lexicon.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_LATIN_FOLD = str.maketrans("åäöéèêëáàâíìïóòôúùüñçøæ", "aaoeeeeaaaiiiooouuuncoa", "'’‘`´")
"""Fast path for the accents Swedish and English text mostly has (and apostrophes removed)."""
_NOT_WORD = re.compile(r"[^\w]+")
_REPEATS = re.compile(r"(\w)\1{2,}")
_COMBINING = re.compile(r"[\u0300-\u036f]+")

QUOTE_MARK = "\x1f"
"""Stands for an opening or closing quotation mark inside a clause (a word of its own)."""


def fold(text: str) -> str:
    """Lower case, no accents (å -> a, ö -> o), no apostrophes, one space between words.

    Letters typed three or more times in a row count once ("dieeee" -> "die").
    """
    text = _fold_letters(text)
    text = _NOT_WORD.sub(" ", text).replace("_", " ")
    return " ".join(text.split())


def _fold_letters(text: str) -> str:
    text = text.casefold().translate(_LATIN_FOLD)
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return _REPEATS.sub(r"\1", text)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence as words (folded), with where its parts begin and whether it asks."""

    words: tuple[str, ...]
    parts: tuple[int, ...]
    """For each word, which part of the sentence (between commas, dashes, …) it is in."""
    asks: bool
    """The sentence ends with a question mark."""
    quoted: frozenset[int] = frozenset()
    """Positions of words inside quotation marks (someone else's words, reported)."""


PART_MARK = "\x1e"
"""Stands for the end of a part of a sentence (a comma, a dash, …) among the words."""
END_MARK = "\x1d"
"""Stands for the end of a sentence among the words."""
ASK_MARK = "\x1c"
"""Stands for the end of a sentence that asks (a question mark) among the words."""

# One pass over the raw text finds words and the marks between them. A sentence
# ends at ? and at a line break always, and at . ! … when what follows starts a
# new sentence (a capital or a digit): chat often writes "i'm done. with
# everything. just done." as one thought, so those full stops only end a part.
_TOKENS = re.compile(
    r"([^\W_]+(?:['’‘`´][^\W_]+)*)"  # a word, apostrophes inside it kept for now
    r"|(\?+)"  # a question ends a sentence
    r"|(\n+|[.!…]+(?=\s+[A-ZÅÄÖ0-9]))"  # so do line breaks and full stops before a capital
    r"|([,;:()\[\]{}.!…]+|\s[-–—]+\s|[–—])"  # these end a part of a sentence
    r"|(['‘’\"“”«»])"  # a quotation mark (not inside a word)
)


def fold_word(word: str) -> str:
    """One word folded: lower case, no accents, no apostrophes, held-down letters once."""
    word = word.casefold()
    if word.isascii():
        word = word.replace("'", "").replace("`", "")
    else:
        word = word.translate(_LATIN_FOLD)
        if not word.isascii():
            word = _COMBINING.sub("", unicodedata.normalize("NFKD", word))
    return _REPEATS.sub(r"\1", word) if len(word) > 2 else word


def tokens_of(text: str) -> list[tuple[int, str]]:
    """The raw words and marks of a whole message, in order: (0, word) for a word (not yet
    folded), or (kind, mark) with :data:`ASK_MARK`, :data:`END_MARK`, :data:`PART_MARK` or
    :data:`QUOTE_MARK`."""
    out: list[tuple[int, str]] = []
    for word, ask, end, part, quote in _TOKENS.findall(text):
        if word:
            out.append((0, word))
        elif ask:
            out.append((1, ASK_MARK))
        elif end:
            out.append((2, END_MARK))
        elif part:
            out.append((3, PART_MARK))
        elif quote:
            out.append((4, QUOTE_MARK))
    return out


def within_one_edit(a: str, b: str) -> bool:
    """True if one insertion, deletion, substitution or swap of neighbours turns a into b."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return is_swap(a, b)
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def is_swap(a: str, b: str) -> bool:
    """True if a and b differ only by two neighbouring letters swapped ("wnat", "want")."""
    if len(a) != len(b) or a == b:
        return False
    i = 0
    while a[i] == b[i]:
        i += 1
    return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
