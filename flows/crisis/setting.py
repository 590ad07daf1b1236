"""The setting of a phrase found in a sentence: negated, long ago, asked, about someone else, …

The words that tell the setting are the lexicon's word groups (``negation``,
``past``, ``others``, …), so a clinician can change them; this module only says
how near they must be and in which part of the sentence (see the reasons in
:mod:`flows.crisis.detector`). A setting is read in the sentence's own
language: an English "not" before a word both lexicons know.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flows.crisis.lexicon import CONDITIONS, CONTEXT_GROUPS
from flows.crisis.matching import Found, Matcher
from flows.crisis.text import Sentence

SETTING = "~"
"""Marks the setting word groups among the strict phrases (apart from categories)."""
NEGATION_REACH = 3
"""A negation counts when it is at most this many words before the phrase, in the same part."""
SELF_REACH = 4
""""I" counts as the one a phrase is about only this close before it (farther, it may be about
anything, and nobody is taken as the one it is about)."""


_ALL_CONDITIONS = frozenset(CONDITIONS)


class Setting:
    """The setting words of one sentence in one language: where each word group was found."""

    __slots__ = ("_part_starts", "_selves", "positions_of", "sentence", "starts_of")

    def __init__(self, starts_of: dict[str, list[int]], positions_of: dict[str, set[int]], sentence: Sentence):
        self.starts_of = starts_of
        self.positions_of = positions_of
        self.sentence = sentence
        self._part_starts: dict[int, int] | None = None
        self._selves: set[int] | None = None

    @property
    def part_starts(self) -> dict[int, int]:
        """Where each part of the sentence begins (worked out only when a question is looked for)."""
        if self._part_starts is None:
            self._part_starts = {}
            for position, part in enumerate(self.sentence.parts):
                self._part_starts.setdefault(part, position)
        return self._part_starts

    @classmethod
    def read(
        cls,
        matcher: Matcher,
        language: str,
        sentence: Sentence,
        where: Mapping[int, list[int]],
        singles: Mapping[tuple[str, str], set[int]],
        phrases: Iterable[Found] | None = None,
    ) -> Setting:
        """The setting of one sentence in one language (``phrases``: the setting phrases of
        several words found in it, in every language, when already looked for)."""
        starts: dict[str, list[int]] = {}
        positions: dict[str, set[int]] = {}
        for (found_in, category), found in singles.items():
            if found_in == language and category.startswith(SETTING):
                group = category[len(SETTING) :]
                starts[group] = sorted(found)
                positions[group] = set(found)
        if phrases is None:
            phrases = matcher.find(where, sentence.parts, strict=SETTING)
        for item in phrases:
            if item.language == language:
                group = item.category[len(SETTING) :]
                starts.setdefault(group, []).append(item.start)
                positions.setdefault(group, set()).update(item.positions)
        return cls(starts, positions, sentence)

    def has(self, group: str) -> bool:
        return group in self.starts_of

    def starts(self, group: str) -> Iterable[int]:
        return self.starts_of.get(group, ())

    def positions(self, group: str) -> set[int]:
        return self.positions_of.get(group, set())

    def settings_of(
        self, found: Found, sentence: Sentence, recovery_story: bool, wanted: frozenset[str] | None = None
    ) -> set[str]:
        """Which settings (``negated``, ``past``, …) apply to one phrase found in this sentence
        (only those in ``wanted``, when given: the ones its category has rules for)."""
        want = (wanted if wanted is not None else _ALL_CONDITIONS).__contains__
        parts = sentence.parts
        part = parts[found.start]
        active: set[str] = set()
        if want("negated"):
            inside = set(found.positions)
            if any(
                parts[p] == part and (found.start - NEGATION_REACH <= p < found.start or found.start < p < found.end)
                for p in self.starts("negation")
                if p not in inside
            ):
                active.add("negated")
        if (
            want("past")
            and (self.has("past") or self.has("recovered") or recovery_story)
            and not any(parts[p] == part for p in self.positions("present"))
        ):
            active.add("past")
        if want("accident") and self.has("accident"):
            active.add("accident")
        asks_about = want("question") or want("medicine_question")
        question_starts = (
            [p for p in self.starts("question") if self.part_starts.get(parts[p]) == p] if asks_about else []
        )
        asking = list(self.starts("asking")) if asks_about else []
        if want("question") and (
            (sentence.asks and part == parts[-1])
            or any(parts[p] == part for p in question_starts)
            or any(p < found.start and parts[p] == part for p in asking)
        ):
            active.add("question")
        medicine_question = (
            want("medicine_question")
            and (sentence.asks or bool(question_starts) or bool(asking))
            and self.has("medicine")
        )
        story = want("story") and self.has("story")
        if medicine_question or story or want("someone_else"):
            about = self.about(found, sentence)
            if medicine_question and about != "self":
                active.add("medicine_question")
            if about == "other" and want("someone_else"):
                active.add("someone_else")
            if story and about != "self":
                active.add("story")
        if want("joking") and self.has("joking"):
            active.add("joking")
        if want("someday") and self.has("someday"):
            active.add("someday")
        return active

    def about(self, found: Found, sentence: Sentence) -> str:
        """Who the words are about: "self", "other", or "unknown" (read as the writer).

        The writer, when "I" or "my" stands among the words (or just before them);
        someone else, when another person stands among them without being one of
        the phrase's words ("stopped taking his lithium"), or is the nearest person
        named before them ("my son said he wants to die"). A "my" just before another person
        belongs to that person ("cuts on my daughter's arm"). Words in quotation marks are someone's
        words reported: who said them is looked for before the quotation.
        """
        others = self.positions("others")
        selves = self._selves
        if selves is None:
            # "my daughter's arm", "min dotters arm", "my show": a "my" just before another
            # person, or a story, is about them.
            other = others | self.positions("story")
            selves = self._selves = {p for p in self.positions("self") - sentence.quoted if p + 1 not in other}
        start = found.start
        if start in sentence.quoted:
            while start - 1 in sentence.quoted:
                start -= 1
        else:
            if any(found.start <= p <= found.end for p in selves):
                return "self"
            matched = set(found.positions)
            if any(found.start < p < found.end and p not in matched for p in others):
                return "other"
        for position in range(start - 1, -1, -1):
            if position in others:
                return "other"
            if position in selves:
                return "self" if start - position <= SELF_REACH else "unknown"
        return "unknown"


def setting_phrases(words: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """A lexicon's setting word groups as (``~group``, phrase) strict phrases for the matcher."""
    return [(SETTING + group, entry) for group in CONTEXT_GROUPS for entry in words[group]]
