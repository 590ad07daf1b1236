"""Turning a message into sentences of words the phrases can be compared with.

Why here and not in :mod:`flows.crisis.text`: reading needs the lexicons (their
spellings table, and their words to correct typing mistakes towards), while
``text`` needs nothing. Everything is cached per whitespace-separated chunk of
text and per word, because chat repeats its words: the regular expressions and
the correction run once for each new chunk, not once per message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import pairwise

from flows.crisis.lexicon import Lexicon
from flows.crisis.text import (
    ASK_MARK,
    PART_MARK,
    QUOTE_MARK,
    Sentence,
    fold,
    fold_word,
    is_swap,
    tokens_of,
    within_one_edit,
)

FUZZY_MIN_LENGTH = 6
"""Words this long (or longer) are read as a lexicon word one typing mistake away."""
SWAP_MIN_LENGTH = 4
"""Shorter words are read as a lexicon word only with two neighbouring letters swapped ("wnat")."""
MAYBE_END = "\x1b"
"""A chunk ended with . ! or …: the end of a sentence if the next chunk starts one, else of a part."""
_CACHE_LIMIT = 200_000
_WORD = re.compile(r"[^\W_]+")
_TRAILING_STOP = re.compile(r"[.!…]+(?=[)\]'’\"”»]*$)")
_STARTS_SENTENCE = re.compile(r"[A-ZÅÄÖ0-9]")
_MARKS = frozenset((ASK_MARK, PART_MARK, QUOTE_MARK, MAYBE_END))


class Reader:
    """Reads messages into :class:`~flows.crisis.text.Sentence` s for every lexicon at once."""

    def __init__(self, lexicons: Iterable[Lexicon]) -> None:
        spellings: dict[str, str] = {}
        vocabulary: set[str] = set()
        prefixes: set[str] = set()
        for lexicon in lexicons:
            spellings.update(lexicon.spellings)
            for text in _all_phrases(lexicon):
                for slot in text.split():
                    for choice in _choices(slot, lexicon.words):
                        word = fold(choice.strip("*=")).replace(" ", "")
                        if not word or choice in ("#", "..", "..."):
                            continue
                        if choice.endswith("*") and not choice.startswith("*"):
                            if len(word) >= FUZZY_MIN_LENGTH - 1:
                                prefixes.add(word)
                        elif "*" not in choice:
                            vocabulary.add(word)
        self._one_word = {k: tuple(v.split()) for k, v in spellings.items() if " " not in k}
        self._several: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {}
        for written in sorted(spellings, key=lambda key: -len(key.split())):
            if " " in written:
                key = tuple(written.split())
                entry = (key, tuple(spellings[written].split()))
                self._several[key[0]] = (*self._several.get(key[0], ()), entry)
        self._pairs = frozenset(key[:2] for entries in self._several.values() for key, _meant in entries)
        """The first two words of every spelling of several words: a quick test whether any applies."""
        self._vocabulary = frozenset(vocabulary)
        self._kept = frozenset(word for written in spellings for word in written.split())
        """Words of the spellings table are read as written, never corrected towards another
        word first ("multi storey" is a spelling of "multistorey", not "multi stored")."""
        self._long_by_first: dict[str, tuple[str, ...]] = {}
        self._short_by_length: dict[int, tuple[str, ...]] = {}
        for word in sorted(vocabulary):
            if len(word) >= FUZZY_MIN_LENGTH:
                self._long_by_first[word[0]] = (*self._long_by_first.get(word[0], ()), word)
            elif len(word) >= SWAP_MIN_LENGTH:
                self._short_by_length[len(word)] = (*self._short_by_length.get(len(word), ()), word)
        self._prefixes = tuple(sorted(prefixes))
        self._prefixes_by_first: dict[str, tuple[str, ...]] = {}
        for prefix in self._prefixes:
            self._prefixes_by_first[prefix[0]] = (*self._prefixes_by_first.get(prefix[0], ()), prefix)
        self.correct = lru_cache(maxsize=65_536)(self._correct)
        self._chunks: dict[str, tuple[str, ...]] = {}

    def sentences(self, text: str) -> list[Sentence]:
        """The message as sentences of corrected, folded words (what the phrases see)."""
        out: list[Sentence] = []
        words: list[str] = []
        parts: list[int] = []
        quotes: list[int] = []
        part = 0
        chunks = self._chunks
        for line in text.splitlines():
            pieces = line.split()
            for index, piece in enumerate(pieces):
                items = chunks.get(piece)
                if items is None:
                    items = self._chunk(piece)
                for item in items:
                    if item not in _MARKS:
                        words.append(item)
                        parts.append(part)
                    elif item == PART_MARK:
                        if words and parts[-1] == part:
                            part += 1
                    elif item == QUOTE_MARK:
                        quotes.append(len(words))
                    elif (
                        item == MAYBE_END and index + 1 < len(pieces) and not _STARTS_SENTENCE.match(pieces[index + 1])
                    ):
                        if words and parts[-1] == part:
                            part += 1
                    elif words:
                        out.append(self._sentence(words, parts, item == ASK_MARK, quotes))
                        words, parts, quotes, part = [], [], [], 0
            if words:
                out.append(self._sentence(words, parts, False, quotes))
                words, parts, quotes, part = [], [], [], 0
        return out

    def normalise(self, text: str) -> str:
        """The text as the phrases see it: folded, misspellings corrected (for tests and authors)."""
        return " ".join(" ".join(sentence.words) for sentence in self.sentences(text))

    def _chunk(self, chunk: str) -> tuple[str, ...]:
        """One whitespace-free chunk as folded, spelled, corrected words and marks (cached)."""
        if len(self._chunks) >= _CACHE_LIMIT:
            self._chunks.clear()
        stop = _TRAILING_STOP.search(chunk)
        body, closing = (chunk[: stop.start()], chunk[stop.end() :]) if stop else (chunk, "")
        items: list[str] = []
        for kind, token in tokens_of(body) + tokens_of(closing):
            if kind:
                items.append(token)
                continue
            for piece in _WORD.findall(fold_word(token)):
                items.extend(self._one_word.get(piece) or (self.correct(piece),))
        if stop:
            items.append(MAYBE_END)
        self._chunks[chunk] = result = tuple(items)
        return result

    def _sentence(self, words: list[str], parts: list[int], asks: bool, quotes: list[int]) -> Sentence:
        """One sentence, with spellings of several words applied and quoted words marked
        (words between a pair of quotation marks; an unpaired mark is ignored)."""
        if not self._pairs.isdisjoint(pairwise(words)):
            words, parts, quotes = self._spelled(words, parts, quotes)
        quoted: set[int] = set()
        for opening, closing in zip(quotes[0::2], quotes[1::2], strict=False):
            quoted.update(range(opening, closing))
        return Sentence(tuple(words), tuple(parts), asks, frozenset(quoted))

    def _spelled(self, words: list[str], parts: list[int], quotes: list[int]) -> tuple[list[str], list[int], list[int]]:
        """Spellings of several words applied ("do not" -> "dont"), longest first; the
        replacement takes the part of its first word, and quotation marks move with it."""
        new_words: list[str] = []
        new_parts: list[int] = []
        moved: dict[int, int] = {}
        i = 0
        while i < len(words):
            moved[i] = len(new_words)
            for written, meant in self._several.get(words[i], ()):
                if tuple(words[i : i + len(written)]) == written and len(set(parts[i : i + len(written)])) == 1:
                    new_words.extend(meant)
                    new_parts.extend([parts[i]] * len(meant))
                    i += len(written)
                    break
            else:
                new_words.append(words[i])
                new_parts.append(parts[i])
                i += 1
        moved[len(words)] = len(new_words)
        return new_words, new_parts, [moved.get(q, len(new_words)) for q in quotes]

    def _correct(self, word: str) -> str:
        """A word one typing mistake from a lexicon word is read as that word."""
        if len(word) < SWAP_MIN_LENGTH or word in self._vocabulary or word in self._kept or word.isdigit():
            return word
        if len(word) >= FUZZY_MIN_LENGTH:
            if any(word.startswith(prefix) for prefix in self._prefixes_by_first.get(word[0], ())):
                # It begins like a lexicon word already ("hängning", "självmordstankar"): a word of
                # another language one letter away ("hanging") is not what was meant.
                return word
            for candidate in self._long_by_first.get(word[0], ()):
                if within_one_edit(word, candidate):
                    return candidate
            for prefix in self._prefixes:
                if word[0] == prefix[0] and not word.startswith(prefix):
                    for cut in (len(prefix) - 1, len(prefix), len(prefix) + 1):
                        if within_one_edit(word[:cut], prefix):
                            return prefix + word[cut:]
            return word
        for candidate in self._short_by_length.get(len(word), ()):
            if is_swap(word, candidate):
                return candidate
        return word


def _all_phrases(lexicon: Lexicon) -> Iterable[str]:
    for category in lexicon.categories.values():
        yield from category.phrases
    for entries in lexicon.words.values():
        yield from entries


def _choices(slot: str, words: Mapping[str, Sequence[str]], depth: int = 0) -> Iterable[str]:
    """Every word a slot can stand for, with word groups opened (a group may name one other group)."""
    for choice in slot.split("/"):
        if choice.startswith("@") and depth < 2:
            for entry in words.get(choice[1:], ()):
                for word in entry.split():
                    yield from _choices(word, words, depth + 1)
        elif not choice.startswith("@"):
            yield choice
