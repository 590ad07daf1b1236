"""Readability of the words people read: English Flesch reading ease, Swedish LIX.

Many people using the companion live with psychosis, depression or bipolar
disorder, may be tired or unwell, and may find long paperwork hard to read.
So ``companion content check`` scores every message on its own, not a whole
file: one hard message is enough to lose someone. The scores are the classic
formulas, computed here (pure, no dictionary files) so they run anywhere:

- Flesch reading ease (English) = 206.835 - 1.015 * words/sentence
  - 84.6 * syllables/word. Higher is easier; 60-70 is plain English.
- LIX (Swedish, Björnsson) = words/sentence + 100 * long words/words, where a
  long word has more than six letters. Lower is easier; under 40 is easy text.

Both formulas are unreliable on a few words ("Biverkningar?" alone scores LIX
101), so a message is scored only when it has at least :data:`MIN_WORDS`
words. Button labels are not scored; they are short by design.

Lengths are checked too: no message over :data:`HARD_LIMIT` characters, and
in each flow at most :data:`LONG_SHARE` of the messages over
:data:`SOFT_LIMIT` characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from flows.catalog import Catalog, Problem
from flows.schema import QUOTE, Flow, Step, Text

FLESCH_MINIMUM = 65.0
"""English messages must score at least this (plain English)."""
LIX_MAXIMUM = 40.0
"""Swedish messages must score at most this (easy Swedish)."""
MIN_WORDS = 6
"""Shorter messages are not scored: the formulas mean little on a few words."""
SOFT_LIMIT = 300
"""Most messages should be shorter than this many characters."""
HARD_LIMIT = 600
"""No message may be longer than this many characters."""
LONG_SHARE = 0.2
"""At most this share of a flow's messages may be longer than SOFT_LIMIT."""
WELCOME_KEYS = (
    "welcome",
    "not_for_emergencies",
    "privacy",
    "consent_question",
    "declined",
    "agreed",
    "menu_intro",
    "org_privacy_notice",
    "org_lawful_basis",
    "org_retention",
    "tg_privacy_telegram",
    "tg_description",
)
"""Interface texts that are whole messages a newcomer reads first, so they are scored too (with
what /privacy says, which an organisation's lawyers may be tempted to write in their own words)."""

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?:;…]+(?=\s|$)|\n+")
_VOWELS = re.compile(r"[aeiouy]+")


@dataclass(frozen=True, slots=True)
class Score:
    """One message's figures."""

    words: int
    sentences: int
    syllables: int
    long_words: int

    @property
    def flesch(self) -> float:
        words = max(self.words, 1)
        return 206.835 - 1.015 * (words / max(self.sentences, 1)) - 84.6 * (self.syllables / words)

    @property
    def lix(self) -> float:
        words = max(self.words, 1)
        return words / max(self.sentences, 1) + 100.0 * self.long_words / words


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


def sentences_in(text: str) -> int:
    """Sentences end at . ! ? : ; … or a line break; a trailing fragment counts too."""
    parts = [part for part in _SENTENCE_END.split(text) if words_of(part)]
    return max(len(parts), 1)


def english_syllables(word: str) -> int:
    """Syllables in an English word, by vowel groups with the usual corrections.

    Good to about one syllable in ten on everyday words, which is what the
    Flesch formula was made with (it was counted by hand, not by dictionary).
    """
    word = word.lower().replace("’", "'").split("'")[0]
    word = re.sub(r"[^a-z]", "", word)
    if not word:
        return 0
    if len(word) <= 3:
        return 1
    # Silent endings: "make", "loved", "takes" (but not "needed", "little").
    if (word.endswith("e") and not word.endswith(("le", "ee", "ye"))) or (
        word.endswith("le") and len(word) > 2 and word[-3] in "aeiouy"
    ):
        word = word[:-1]
    elif (word.endswith("es") and not word.endswith(("ses", "zes", "ces", "ges", "xes", "ies"))) or (
        word.endswith("ed") and not word.endswith(("ted", "ded"))
    ):
        word = word[:-2]
    count = len(_VOWELS.findall(word))
    # Vowels said as two sounds: "period", "being", "idea", "situation".
    count += len(re.findall(r"i[ao]|[aeiouy]ing|ua|uo", word)) - len(re.findall(r"(?:ci|si|ti|gi)[ao]", word))
    count += 1 if re.search(r"[^aeiou]ea$", word) else 0
    # A silent e inside: "statement", "lovely", "hopeful".
    count -= len(re.findall(r"[^aeiouy]e(?:ment|ly|ful|less|ness)", word))
    return max(count, 1)


def score_english(text: str) -> Score:
    words = words_of(text)
    return Score(
        words=len(words),
        sentences=sentences_in(text),
        syllables=sum(english_syllables(word) for word in words),
        long_words=sum(1 for word in words if len(word) > 6),
    )


def score_swedish(text: str) -> Score:
    words = words_of(text)
    return Score(
        words=len(words),
        sentences=sentences_in(text),
        syllables=0,
        long_words=sum(1 for word in words if len(word.replace("-", "")) > 6),
    )


def flesch(text: str) -> float:
    """English Flesch reading ease of ``text`` (higher is easier)."""
    return score_english(text).flesch


def lix(text: str) -> float:
    """Swedish LIX of ``text`` (lower is easier)."""
    return score_swedish(text).lix


# --------------------------------------------------------------------- content


@dataclass(frozen=True, slots=True)
class Message:
    """One text a person reads, with where it lives, for reports."""

    file: str
    step: str | None
    field: str
    language: str
    text: str


def _readable(text: str) -> str:
    """The text as a person reads it: a quoted answer stands in as one short word."""
    return QUOTE.sub("it", text)


def _step_texts(step: Step) -> Iterator[tuple[str, Text]]:
    for name in ("say", "why", "suggest", "reminded"):
        value = getattr(step, name)
        if value is not None:
            yield name, value
    if step.repeat is not None:
        yield "repeat.ask", step.repeat.ask


def messages_of_flow(file: str, flow: Flow) -> Iterator[Message]:
    for name in ("description", "done"):
        text = getattr(flow, name)
        if text is not None:
            for language, value in text.translations().items():
                if value:
                    yield Message(file, None, name, language, _readable(value))
    for step in flow.steps:
        for name, text in _step_texts(step):
            for language, value in text.translations().items():
                if value:
                    yield Message(file, step.id, name, language, _readable(value))


def messages(catalog: Catalog) -> Iterator[Message]:
    """Every scored message: all flow texts, and the welcome texts a newcomer reads."""
    for flow_id, flow in catalog.flows.items():
        yield from messages_of_flow(catalog.files[flow_id], flow)
    for language in catalog.ui.languages():
        known = catalog.ui.keys(language)
        for key in WELCOME_KEYS:
            if key in known:
                yield Message(f"ui/{language}.yaml", None, key, language, catalog.ui.get(key, language))


@dataclass(frozen=True, slots=True)
class Rated:
    message: Message
    score: float | None
    """Flesch (en) or LIX (sv); None when the message is too short to score."""

    @property
    def passes(self) -> bool:
        if self.score is None:
            return True
        if self.message.language == "sv":
            return self.score <= LIX_MAXIMUM
        return self.score >= FLESCH_MINIMUM

    @property
    def badness(self) -> float:
        """How far from easy: bigger is worse, comparable within one language."""
        if self.score is None:
            return float("-inf")
        return self.score if self.message.language == "sv" else -self.score


def rate(message: Message) -> Rated:
    if len(words_of(message.text)) < MIN_WORDS:
        return Rated(message, None)
    value = lix(message.text) if message.language == "sv" else flesch(message.text)
    return Rated(message, round(value, 1))


def worst(catalog: Catalog, language: str, count: int = 10) -> list[Rated]:
    """The hardest messages in one language, hardest first (for authors revising text)."""
    rated = [rate(message) for message in messages(catalog) if message.language == language]
    scored = [item for item in rated if item.score is not None]
    return sorted(scored, key=lambda item: item.badness, reverse=True)[:count]


def _where(message: Message) -> str:
    return f"{message.field} ({message.language})"


def _start(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


def check_readability(catalog: Catalog) -> Iterator[Problem]:
    """Problems for hard or long messages, hardest first, each saying what to change."""
    failing = [item for item in (rate(m) for m in messages(catalog)) if not item.passes]
    for item in sorted(failing, key=lambda rated: rated.badness, reverse=True):
        message = item.message
        if message.language == "sv":
            verdict = f"LIX {item.score} (must be {LIX_MAXIMUM:.0f} or less)"
        else:
            verdict = f"Flesch reading ease {item.score} (must be {FLESCH_MINIMUM:.0f} or more)"
        yield Problem(
            message.file,
            message.step,
            f"{_where(message)} is hard to read: {verdict}. Use shorter sentences and shorter words. "
            f'It starts: "{_start(message.text)}"',
        )
    by_file: dict[str, list[Message]] = {}
    for message in messages(catalog):
        by_file.setdefault(message.file, []).append(message)
        if len(message.text) > HARD_LIMIT:
            yield Problem(
                message.file,
                message.step,
                f"{_where(message)} is {len(message.text)} characters; keep every message under {HARD_LIMIT} "
                "(split it into two steps)",
            )
    for file, items in sorted(by_file.items()):
        for language in {item.language for item in items}:
            mine = [item for item in items if item.language == language]
            long = [item for item in mine if len(item.text) > SOFT_LIMIT]
            if mine and len(long) > LONG_SHARE * len(mine):
                steps = ", ".join(item.step or item.field for item in long)
                yield Problem(
                    file,
                    None,
                    f"{len(long)} of {len(mine)} messages ({language}) are over {SOFT_LIMIT} characters "
                    f"(at most {LONG_SHARE:.0%} may be): {steps}",
                )
