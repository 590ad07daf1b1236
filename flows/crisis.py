"""Recognise crisis language in what a person types, before anything else happens.

Pure: the lexicon comes from ``content/crisis/<language>.yaml`` (written by
people, not programmers) through the catalog, and :meth:`CrisisDetector.detect`
is a function of the text alone. Every language's phrases are checked on every
message, because a person who chose English may still write in Swedish.

Why phrases and not single words: "killing" and "dying" are everyday words
("this medicine is killing my sex drive" is a side effect to record; "I'm
dying to know" is curiosity). A match needs a phrase ("kill myself", "want to
die"), and a match that overlaps an everyday saying listed under
``not_crisis`` does not count. To catch misspellings the text and the phrases
are normalised the same way (case, å/ä/ö folding, apostrophes, repeated
letters, a ``spellings`` table), and longer words within one typing mistake of
a lexicon word are read as that word.

Missing a crisis is worse than a false alarm (a false alarm costs a card and
the same question again), so negations such as "I'm not suicidal" still match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flows.catalog import Catalog, Problem
from flows.safety import NOTHING, Assessment, Tier

CRISIS_FILE = "crisis/{language}.yaml"
GAP_WORDS = 3
"""How many other words ``..`` in a phrase allows."""
FUZZY_MIN_LENGTH = 6
"""Words this long (or longer) match a lexicon word with one typing mistake."""
REQUIRED_NUMBERS = ("999", "111", "116 123", "112", "1177", "90101")
"""Every crisis card must carry all of these (UK and Sweden)."""

_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[^\w]+")
_REPEATS = re.compile(r"(\w)\1{2,}")
_LATIN_FOLD = str.maketrans("åäöéèêëáàâíìïóòôúùüñçøæ", "aaoeeeeaaaiiiooouuuncoa", "'’‘`´")
"""Fast path for the accents Swedish and English text mostly has (and apostrophes removed)."""


class LexiconError(ValueError):
    """A crisis lexicon that cannot be used (said so an author can fix it)."""


def fold(text: str) -> str:
    """Lower case, no accents (å -> a, ö -> o), no apostrophes, one space between words.

    Letters typed three or more times in a row count once ("dieee" -> "die").
    """
    text = text.casefold().translate(_LATIN_FOLD)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in text if not unicodedata.combining(char))
    text = _APOSTROPHES.sub("", text)
    text = _NOT_WORD.sub(" ", text).replace("_", " ")
    text = _REPEATS.sub(r"\1", text)
    return " ".join(text.split())


def _slot_regex(slot: str) -> str:
    """One word of a phrase: choices split by "/", a trailing "*" for any ending."""
    choices = []
    for raw in slot.split("/"):
        word = fold(raw.rstrip("*")).replace(" ", "")
        if not word:
            raise LexiconError(f"'{slot}' has an empty choice")
        choices.append(re.escape(word) + (r"\w*" if raw.endswith("*") else ""))
    return "(?:" + "|".join(choices) + ")" if len(choices) > 1 else choices[0]


def phrase_regex(phrase: str) -> str:
    """Turn one lexicon phrase into a regular expression over folded text."""
    parts: list[str] = []
    gap = False
    for slot in phrase.split():
        if slot == "..":
            if not parts:
                raise LexiconError(f"'{phrase}' cannot start with '..'")
            gap = True
            continue
        if parts:
            parts.append(rf"(?: \S+){{0,{GAP_WORDS}}} " if gap else " ")
        parts.append(_slot_regex(slot))
        gap = False
    if not parts:
        raise LexiconError("an empty phrase")
    if gap:
        raise LexiconError(f"'{phrase}' cannot end with '..'")
    return "".join(parts) + r"(?!\S)"


def _within_one_edit(a: str, b: str) -> bool:
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
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One language's crisis phrases and card, as written in content."""

    language: str
    card: str
    carry_on: str
    phrases: tuple[str, ...]
    not_crisis: tuple[str, ...] = ()
    spellings: Mapping[str, str] = field(default_factory=dict)
    examples_crisis: tuple[str, ...] = ()
    examples_not_crisis: tuple[str, ...] = ()

    @classmethod
    def from_document(cls, language: str, data: Any) -> Lexicon:
        if not isinstance(data, dict):
            raise LexiconError("must be a YAML mapping with card, carry_on and phrases")
        for key in ("card", "carry_on"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise LexiconError(f"'{key}' is missing or empty")
        phrases = data.get("phrases")
        if not isinstance(phrases, list) or not phrases or not all(isinstance(p, str) for p in phrases):
            raise LexiconError("'phrases' must be a list of phrases")
        not_crisis = data.get("not_crisis") or []
        spellings = data.get("spellings") or {}
        examples = data.get("examples") or {}
        if not isinstance(not_crisis, list) or not all(isinstance(p, str) for p in not_crisis):
            raise LexiconError("'not_crisis' must be a list of phrases")
        if not isinstance(spellings, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in spellings.items()
        ):
            raise LexiconError('\'spellings\' must be lines of "written": "meant"')
        if not isinstance(examples, dict):
            raise LexiconError("'examples' must have 'crisis' and 'not_crisis' lists")
        return cls(
            language=language,
            card=data["card"].strip(),
            carry_on=data["carry_on"].strip(),
            phrases=tuple(phrases),
            not_crisis=tuple(not_crisis),
            spellings={fold(k): fold(v) for k, v in spellings.items() if fold(k)},
            examples_crisis=tuple(examples.get("crisis") or ()),
            examples_not_crisis=tuple(examples.get("not_crisis") or ()),
        )


@dataclass(frozen=True, slots=True)
class Match:
    """Where crisis language was found (in folded text; never logged)."""

    language: str
    phrase: str


class CrisisDetector:
    """Checks text against every language's lexicon. Build once; share freely."""

    def __init__(self, lexicons: Mapping[str, Lexicon]) -> None:
        self.lexicons = dict(lexicons)
        self._phrases: list[tuple[re.Pattern[str], str, str]] = []
        idioms: list[str] = []
        spellings: dict[str, str] = {}
        vocabulary: set[str] = set()
        for language, lexicon in self.lexicons.items():
            for phrase in lexicon.phrases:
                self._phrases.append((re.compile(phrase_regex(phrase)), language, phrase))
                for slot in phrase.split():
                    for choice in slot.split("/"):
                        word = fold(choice)
                        if len(word) >= FUZZY_MIN_LENGTH and not choice.endswith("*") and " " not in word:
                            vocabulary.add(word)
            idioms.extend(phrase_regex(idiom) for idiom in lexicon.not_crisis)
            spellings.update(lexicon.spellings)
        # Index phrases by their first word, so a message is checked only
        # against the phrases that can start at each of its words (one big
        # alternation costs ~0.3 ms a message; this costs a few microseconds).
        self._starts: dict[str, list[tuple[re.Pattern[str], str, str]]] = {}
        self._prefix_starts: list[tuple[str, tuple[re.Pattern[str], str, str]]] = []
        for entry in self._phrases:
            first = entry[2].split()[0]
            for choice in first.split("/"):
                word = fold(choice.rstrip("*")).replace(" ", "")
                if choice.endswith("*"):
                    self._prefix_starts.append((word, entry))
                else:
                    self._starts.setdefault(word, []).append(entry)
        self._idioms = re.compile(r"(?<!\S)(?:" + "|".join(idioms) + ")") if idioms else None
        self._spellings = (
            re.compile(
                r"(?<!\S)(?:" + "|".join(re.escape(k) for k in sorted(spellings, key=len, reverse=True)) + r")(?!\S)"
            )
            if spellings
            else None
        )
        self._spelling_map = spellings
        self._vocabulary = frozenset(vocabulary)
        self._by_first: dict[str, tuple[str, ...]] = {}
        for word in vocabulary:
            self._by_first[word[0]] = (*self._by_first.get(word[0], ()), word)
        self._correct = lru_cache(maxsize=4096)(self._correct_word)

    @classmethod
    def from_catalog(cls, catalog: Catalog, *, required: tuple[str, ...] = ()) -> CrisisDetector:
        """Read every ``crisis/<language>.yaml``; raise if a required language is missing."""
        lexicons = {}
        for name, data in catalog.extra.items():
            match = re.fullmatch(r"crisis/([a-z]{2})\.yaml", name)
            if match:
                lexicons[match.group(1)] = Lexicon.from_document(match.group(1), data)
        missing = [language for language in required if language not in lexicons]
        if missing:
            raise LexiconError(f"no crisis lexicon for {', '.join(missing)} (content/crisis/<language>.yaml)")
        return cls(lexicons)

    # ------------------------------------------------------------------ detection

    def normalise(self, text: str) -> str:
        """The text as the phrases see it: folded, misspellings corrected."""
        folded = fold(text)
        if self._vocabulary:
            folded = " ".join(self._correct(word) for word in folded.split(" "))
        if self._spellings is not None:
            folded = self._spellings.sub(lambda m: self._spelling_map[m.group(0)], folded)
        return folded

    def detect(self, text: str) -> Match | None:
        """The first crisis phrase in ``text`` that is not part of an everyday saying, or None."""
        if not self._phrases or not text:
            return None
        folded = self.normalise(text)
        offset = 0
        for word in folded.split(" "):
            candidates = self._starts.get(word, ())
            if self._prefix_starts:
                extra = [entry for stem, entry in self._prefix_starts if word.startswith(stem)]
                if extra:
                    candidates = [*candidates, *extra]
            for pattern, language, phrase in candidates:
                found = pattern.match(folded, offset)
                if found is not None and not self._inside_idiom(folded, found.start(), found.end()):
                    return Match(language, phrase)
            offset += len(word) + 1
        return None

    def is_crisis(self, text: str) -> bool:
        return self.detect(text) is not None

    def assess(self, text: str) -> Assessment:
        """What one message holds, for the safety policy (see flows.safety)."""
        found = self.detect(text)
        return Assessment(Tier.DEFINITE, frozenset({"crisis"})) if found else NOTHING

    def supporter_card(self, language: str) -> str:
        return self._lexicon(language).card

    def card(self, language: str) -> str:
        return self._lexicon(language).card

    def carry_on(self, language: str) -> str:
        return self._lexicon(language).carry_on

    # ------------------------------------------------------------------ internals

    def _lexicon(self, language: str) -> Lexicon:
        lexicon = self.lexicons.get(language) or self.lexicons.get("en")
        if lexicon is None:
            raise LexiconError("no crisis lexicon loaded")
        return lexicon

    def _inside_idiom(self, folded: str, start: int, end: int) -> bool:
        if self._idioms is None:
            return False
        # Look at idioms near the match only; an idiom overlapping it cancels it.
        for idiom in self._idioms.finditer(folded, max(0, start - 60), min(len(folded), end + 60)):
            if idiom.start() < end and start < idiom.end():
                return True
        return False

    def _correct_word(self, word: str) -> str:
        if len(word) < FUZZY_MIN_LENGTH - 1 or word in self._vocabulary:
            return word
        for candidate in self._by_first.get(word[:1], ()):
            if _within_one_edit(word, candidate):
                return candidate
        return word


# ---------------------------------------------------------------------- content check


def check_crisis(catalog: Catalog) -> Iterator[Problem]:
    """``companion content check``: the lexicons load, cards carry every number, examples behave.

    Only runs when the content has crisis files at all, so partial content
    folders used to try out a flow are not reported.
    """
    names = [name for name in catalog.extra if name.startswith("crisis/")]
    if not names:
        return
    for language in ("en", "sv"):
        if CRISIS_FILE.format(language=language) not in catalog.extra:
            yield Problem(CRISIS_FILE.format(language=language), None, "the crisis lexicon and card are missing")
    lexicons = {}
    for name in sorted(names):
        language = name.removeprefix("crisis/").removesuffix(".yaml")
        try:
            lexicon = Lexicon.from_document(language, catalog.extra[name])
            CrisisDetector({language: lexicon})
        except (LexiconError, re.error) as error:
            yield Problem(name, None, str(error))
            continue
        lexicons[language] = lexicon
        for number in REQUIRED_NUMBERS:
            if number not in lexicon.card:
                yield Problem(name, None, f"the card must give the number {number}")
    detector = CrisisDetector(lexicons)
    for language, lexicon in lexicons.items():
        name = CRISIS_FILE.format(language=language)
        for example in lexicon.examples_crisis:
            if not detector.is_crisis(example):
                yield Problem(name, None, f"the example '{example}' should be crisis language but is not detected")
        for example in lexicon.examples_not_crisis:
            found = detector.detect(example)
            if found is not None:
                yield Problem(name, None, f"the example '{example}' is detected by the phrase '{found.phrase}'")


def _register() -> None:
    from flows.check import EXTRA_CHECKS

    if check_crisis not in EXTRA_CHECKS:
        EXTRA_CHECKS.append(check_crisis)


_register()
