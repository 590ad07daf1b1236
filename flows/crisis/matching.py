"""Finding a lexicon's phrases in a sentence: concepts, not strings.

Each word of a phrase is a *slot*: a set of word stems (Snowball, so "cut",
"cuts" and "cutting" are one word, as are "tablett", "tabletter" and
"tabletterna"), words that begin or end a certain way, or any number of ten
or more. Crisis phrases match when every slot is found in one sentence within
a few words of each other, in any order ("the pills, I've taken them all"; "ibland
orkar jag inte mer"). Everyday sayings and setting words are *strict*: their
words come in the written order within one part of a sentence, because they
cancel or soften a match and must not do so by accident.

Three more ways a phrase generalises or narrows: ``...`` lets most of a
sentence stand between two words ("I hope I get some disease and die"); a
Swedish (or other compounding language's) word not in the lexicon is also read
as its last part, when that is a word of a crisis phrase ("medicinskåpet" as
"skåpet"); ``=word`` is that word as written, for where a stem would reach
everyday words ("=dying" is not "died", "=död" is not "dödar").

Speed: one :class:`Matcher` holds every language's phrases. Each word is
looked up once (cached) for every slot it fills in any language, and a phrase
is checked only when all its slots are filled somewhere in the sentence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import snowballstemmer

from flows.crisis.text import fold

GAP_WORDS = 4
"""How many other words ``..`` allows between two words of a crisis phrase, on average."""
NEAR_WORDS = 1
"""How many other words may stand between two words written side by side ("skadar jag mig")."""
WIDE_GAP_WORDS = 10
"""How many other words ``...`` allows between two words of a crisis phrase: about a whole
sentence part ("I hope I get some disease and die")."""
GAP = ".."
WIDE_GAP = "..."
STRICT_GAP_WORDS = 3
"""How many other words ``..`` allows in an everyday saying or setting phrase."""
NUMBER_AT_LEAST = 10
NUMBER_AT_MOST = 999
"""``#`` in a phrase stands for a number written in digits from 10 to 999 (a count of
tablets: not a phone number such as 1177, nor a year)."""
COMPOUNDING = frozenset({"sv", "da", "no", "nb", "de", "nl", "fi"})
"""Languages that write compounds as one word: a word not in the lexicon is also read as its
last part ("sömntabletterna", "medicinskåpet")."""
COMPOUND_HEAD = 3
COMPOUND_TAIL = 5
"""A compound's first part has at least this many letters, its last part (the lexicon word) at
least :data:`COMPOUND_TAIL` (so short words such as "rep" in "hopprep" are not read inside others)."""
_STEM_CACHE_LIMIT = 200_000
_ANCHOR_CACHE_LIMIT = 200_000
_ALGORITHMS = {
    "en": "english",
    "sv": "swedish",
    "da": "danish",
    "no": "norwegian",
    "nb": "norwegian",
    "de": "german",
    "nl": "dutch",
    "fi": "finnish",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
}


class Stemmer:
    """Snowball stems for one language, cached (the stemmer is pure Python and the cache makes it cheap)."""

    def __init__(self, language: str) -> None:
        algorithm = _ALGORITHMS.get(language)
        self._stem: Callable[[str], str] | None = (
            snowballstemmer.stemmer(algorithm).stemWord if algorithm in snowballstemmer.algorithms() else None
        )
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        found = self._cache.get(word)
        if found is not None:
            return found
        if len(self._cache) >= _STEM_CACHE_LIMIT:
            self._cache.clear()
        stem = self._stem(word) if self._stem is not None and len(word) > 2 else word
        self._cache[word] = stem
        return stem


@dataclass(frozen=True, slots=True)
class Slot:
    """One word of a phrase: what may stand there."""

    stems: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    """Folded beginnings of words ("suicid*")."""
    suffixes: tuple[str, ...] = ()
    """Stemmed endings of words ("*tablett" matches "litiumtabletterna")."""
    number: bool = False
    words: frozenset[str] = frozenset()
    """Folded words matched as written, not by their stem ("=dying": not "died")."""


@dataclass(frozen=True, slots=True)
class Phrase:
    """A compiled phrase: its language, category (or word group) and slots (ids into the matcher's slots)."""

    language: str
    category: str
    text: str
    slots: tuple[int, ...]
    gaps: tuple[bool, ...]
    """For strict phrases: whether ``..`` stands before each slot."""
    ordered: bool = False
    """A loose phrase whose words must come in the written order (still with words between)."""
    needs: frozenset[int] = frozenset()
    """The phrase's slots as a set (every one must be filled somewhere)."""
    reach: int = 0
    """How far apart the first and last word of a loose phrase may be: each ``..`` allows
    :data:`GAP_WORDS` other words, each pair written side by side :data:`NEAR_WORDS`."""


class Found(NamedTuple):
    """One phrase found in one sentence: where (word positions), never the words."""

    category: str
    language: str
    phrase: str
    positions: tuple[int, ...]

    @property
    def start(self) -> int:
        return self.positions[0]

    @property
    def end(self) -> int:
        return self.positions[-1]


def compile_slot(slot: str, words: Mapping[str, Sequence[str]], stem: Callable[[str], str]) -> Slot:
    """One slot of a phrase ("kill/killing", "suicid*", "@medicine", "#") as a :class:`Slot`."""
    stems: set[str] = set()
    prefixes: list[str] = []
    suffixes: list[str] = []
    number = False
    exact: set[str] = set()
    choices: list[str] = []
    for choice in slot.split("/"):
        if choice.startswith("@"):
            choices.extend(entry for group_entry in words[choice[1:]] for entry in group_entry.split("/"))
        else:
            choices.append(choice)
    for choice in choices:
        if choice.startswith("@"):
            # A group entry that names another group (allowed one level deep).
            inner = compile_slot(choice, words, stem)
            stems.update(inner.stems)
            prefixes.extend(inner.prefixes)
            suffixes.extend(inner.suffixes)
            number = number or inner.number
            exact.update(inner.words)
        elif choice.startswith("="):
            exact.add(fold(choice[1:]).replace(" ", ""))
        elif choice == "#":
            number = True
        elif choice.endswith("*") and not choice.startswith("*"):
            prefixes.append(fold(choice[:-1]).replace(" ", ""))
        elif choice.startswith("*"):
            suffixes.append(stem(fold(choice.strip("*")).replace(" ", "")))
        else:
            stems.add(stem(fold(choice).replace(" ", "")))
    return Slot(frozenset(stems), tuple(sorted(set(prefixes))), tuple(sorted(set(suffixes))), number, frozenset(exact))


@dataclass(frozen=True, slots=True)
class Source:
    """One language's phrases for a :class:`Matcher`."""

    language: str
    words: Mapping[str, Sequence[str]]
    """The lexicon's word groups (for ``@name``)."""
    loose: Sequence[tuple[str, str, bool]]
    """(category, phrase, in order) of crisis phrases: near each other, in any order unless marked."""
    strict: Sequence[tuple[str, str]]
    """(category, phrase) of everyday sayings and setting words: in order."""
    common: Sequence[str] = ()
    """Small common words, never a good place to start checking a phrase."""


class Matcher:
    """Every language's phrases, compiled and indexed; finds them in a sentence.

    Every distinct slot (per language, since stems are) has an id. :meth:`scan`
    notes where in a sentence each slot is filled (cached per word, so a word
    is stemmed once per language); :meth:`find` then checks only the phrases
    whose every slot is filled somewhere, for nearness (loose phrases, any
    order) or order (strict ones). Strict phrases of one word are not phrases
    at all: :meth:`singles` gives their positions straight from the scan.
    """

    def __init__(self, sources: Iterable[Source]) -> None:
        self.slots: list[Slot] = []
        self._ids: dict[tuple[str, Slot], int] = {}
        self._stems: dict[str, Stemmer] = {}
        self._loose: list[Phrase] = []
        self._strict: list[Phrase] = []
        self._single_of: dict[int, list[tuple[str, str]]] = {}
        common_stems: dict[str, set[str]] = {}
        for source in sources:
            stem = self._stems.setdefault(source.language, Stemmer(source.language))
            common_stems[source.language] = {stem(fold(word)) for word in source.common}
            for category, text, ordered in source.loose:
                self._loose.append(self._compile(source, category, text, ordered=ordered))
            for category, text in source.strict:
                phrase = self._compile(source, category, text)
                if len(phrase.slots) == 1:
                    self._single_of.setdefault(phrase.slots[0], []).append((source.language, category))
                else:
                    self._strict.append(phrase)
        self._language_of_slot = {slot_id: language for (language, _slot), slot_id in self._ids.items()}
        # Loose phrases are listed under the slot least often filled in ordinary text
        # (no small common words, few choices, few phrases), strict ones under their
        # first slot: a phrase is checked only when that slot is filled.
        uses: Counter[int] = Counter(slot for phrase in self._loose for slot in set(phrase.slots))

        def cost(slot_id: int) -> tuple[bool, int]:
            slot = self.slots[slot_id]
            common = common_stems[self._language_of_slot[slot_id]]
            small = slot.number or any(len(s) <= 3 or s in common for s in slot.stems)
            return (small, len(slot.stems) + 5 * len(slot.prefixes) + 5 * len(slot.suffixes) + uses[slot_id])

        self._loose_by_slot: dict[int, list[Phrase]] = {}
        for phrase in self._loose:
            key = phrase.slots[0] if phrase.ordered else min(phrase.slots, key=cost)
            self._loose_by_slot.setdefault(key, []).append(phrase)
        self._strict_by_slot: dict[str, dict[int, list[Phrase]]] = {}
        for phrase in self._strict:
            # Listed by kind ("~" for all setting words, or the category) and by category.
            for kind in {_kind(phrase.category), phrase.category}:
                self._strict_by_slot.setdefault(kind, {}).setdefault(phrase.slots[0], []).append(phrase)
        self._exact: dict[str, dict[str, list[int]]] = {language: {} for language in self._stems}
        self._prefix: dict[str, list[tuple[str, int]]] = {}
        self._suffix: dict[str, dict[str, list[tuple[str, int]]]] = {language: {} for language in self._stems}
        self._number: list[int] = []
        self._written: dict[str, list[int]] = {}
        for (language, slot), slot_id in self._ids.items():
            for word in slot.words:
                self._written.setdefault(word, []).append(slot_id)
            for stem_ in slot.stems:
                self._exact[language].setdefault(stem_, []).append(slot_id)
            for prefix in slot.prefixes:
                self._prefix.setdefault(prefix[:3], []).append((prefix, slot_id))
            for suffix in slot.suffixes:
                self._suffix[language].setdefault(suffix[-3:], []).append((suffix, slot_id))
            if slot.number:
                self._number.append(slot_id)
        # A compound's last part may fill a crisis phrase's word, never a setting word (a slot can
        # be both, when a setting group and a phrase share one word: "självmordstankar" is not "tänker").
        setting = {slot for phrase in self._strict if phrase.category.startswith("~") for slot in phrase.slots}
        setting.update(slot for slot, keys in self._single_of.items() if any(c.startswith("~") for _l, c in keys))
        self._crisis_slots = frozenset(slot for phrase in self._loose for slot in phrase.slots) - setting
        self._cache: dict[str, tuple[int, ...]] = {}

    @property
    def languages(self) -> list[str]:
        return list(self._stems)

    def _compile(self, source: Source, category: str, text: str, *, ordered: bool = False) -> Phrase:
        stem = self._stems[source.language]
        slot_ids: list[int] = []
        gaps: list[bool] = []
        widths: list[int] = []
        width = NEAR_WORDS
        for raw in text.split():
            if raw in (GAP, WIDE_GAP):
                width = WIDE_GAP_WORDS if raw == WIDE_GAP else GAP_WORDS
                continue
            key = (source.language, compile_slot(raw, source.words, stem))
            if key not in self._ids:
                self._ids[key] = len(self.slots)
                self.slots.append(key[1])
            slot_ids.append(self._ids[key])
            gaps.append(width != NEAR_WORDS)
            widths.append(width)
            width = NEAR_WORDS
        reach = sum(1 + width for width in widths[1:])
        return Phrase(
            source.language, category, text, tuple(slot_ids), tuple(gaps), ordered, frozenset(slot_ids), reach
        )

    def slots_of(self, word: str) -> tuple[int, ...]:
        """The slots a word fills, in every language (cached)."""
        filled = self._cache.get(word)
        if filled is None:
            if len(self._cache) >= _ANCHOR_CACHE_LIMIT:
                self._cache.clear()

            filled = self._cache[word] = self._compute_slots(word)
        return filled

    def scan(self, words: Sequence[str]) -> dict[int, list[int]]:
        """Where each slot is filled in one sentence: slot id -> word positions."""
        where: dict[int, list[int]] = {}
        cache = self._cache
        for position, word in enumerate(words):
            filled = cache.get(word)
            if filled is None:
                filled = self.slots_of(word)
            for slot_id in filled:
                if slot_id in where:
                    where[slot_id].append(position)
                else:
                    where[slot_id] = [position]
        return where

    def find(
        self,
        where: Mapping[int, list[int]],
        parts: Sequence[int],
        *,
        strict: str = "",
        blocked: frozenset[int] = frozenset(),
    ) -> list[Found]:
        """The loose phrases found, given a :meth:`scan` (or with ``strict`` the strict phrases
        of that kind: a category, ``~group`` for one setting group or ``~`` for them all);
        blocked positions take no part."""
        if blocked:
            where = {slot: kept for slot, ps in where.items() if (kept := [p for p in ps if p not in blocked])}
        by_slot = self._strict_by_slot.get(strict, {}) if strict else self._loose_by_slot
        found: list[Found] = []
        filled = where.keys()
        for key, starts in where.items():
            phrases = by_slot.get(key)
            if phrases is None:
                continue
            for phrase in phrases:
                if not filled >= phrase.needs:
                    continue
                for start in starts:
                    if strict:
                        positions = self._strict_at(phrase, start, where, parts)
                    elif phrase.ordered:
                        positions = self._ordered_at(phrase, start, where)
                    else:
                        positions = self._loose_at(phrase, start, key, where)
                    if positions is not None:
                        found.append(Found(phrase.category, phrase.language, phrase.text, positions))
                        if not strict:
                            break
        return found

    def singles(self, where: Mapping[int, list[int]]) -> dict[tuple[str, str], set[int]]:
        """Positions of the one-word strict phrases found, by (language, category)."""
        out: dict[tuple[str, str], set[int]] = {}
        single_of = self._single_of
        for slot in where.keys() & single_of.keys():
            for key in single_of[slot]:
                if key in out:
                    out[key].update(where[slot])
                else:
                    out[key] = set(where[slot])
        return out

    def _compute_slots(self, word: str) -> tuple[int, ...]:
        out: list[int] = []
        for language, stem in self._stems.items():
            stemmed = stem(word)
            exact = self._exact[language]
            found = exact.get(stemmed, ())
            out.extend(found)
            if not found and language in COMPOUNDING and len(word) >= COMPOUND_HEAD + COMPOUND_TAIL:
                # A compound is read as its last word ("medicinskåpet" as "skåpet"): the longest
                # tail that is a word of a crisis phrase (never a setting word: "frågaråtenkompis"
                # is not about a friend).
                for cut in range(COMPOUND_HEAD, len(word) - COMPOUND_TAIL + 1):
                    tail = stem(word[cut:])
                    if len(tail) >= COMPOUND_TAIL - 1 and tail in exact:
                        out.extend(slot for slot in exact[tail] if slot in self._crisis_slots)
                        break
            suffixes = self._suffix[language]
            if suffixes:
                for key in {stemmed[-3:], word[-3:]}:
                    for suffix, slot_id in suffixes.get(key, ()):
                        if stemmed.endswith(suffix) or word.endswith(suffix):
                            out.append(slot_id)
        out.extend(self._written.get(word, ()))
        for prefix, slot_id in self._prefix.get(word[:3], ()):
            if word.startswith(prefix):
                out.append(slot_id)
        if self._number and word.isdigit() and NUMBER_AT_LEAST <= int(word) <= NUMBER_AT_MOST:
            out.extend(self._number)
        return tuple(sorted(set(out)))

    @staticmethod
    def _loose_at(phrase: Phrase, start: int, key: int, where: Mapping[int, list[int]]) -> tuple[int, ...] | None:
        """Every slot within reach of the word at ``start`` (which fills slot ``key``), in any order.

        Each slot takes a different word; nearest words are tried first, and a
        choice is undone when it leaves another slot without a word ("stepped back":
        "back" could fill two slots)."""
        reach = phrase.reach
        if len(phrase.slots) == 2:
            other = phrase.slots[1] if phrase.slots[0] == key else phrase.slots[0]
            best = min((p for p in where[other] if p != start), key=lambda p: abs(p - start), default=None)
            if best is None or abs(best - start) > reach:
                return None
            return (start, best) if start < best else (best, start)
        rest = list(phrase.slots)
        rest.remove(key)
        options = []
        single = True
        for slot in rest:
            filled = where[slot]
            if len(filled) == 1:
                # The usual case: the word stands once in the sentence.
                position = filled[0]
                if position == start or abs(position - start) > reach:
                    return None
                options.append(filled)
                continue
            near = sorted((p for p in filled if p != start and abs(p - start) <= reach), key=lambda p: abs(p - start))
            if not near:
                return None
            single = False
            options.append(near)
        if single:
            # One choice for every slot: found if each has a word of its own, all within reach.
            words = {start, *(option[0] for option in options)}
            if len(words) == len(options) + 1 and max(words) - min(words) <= reach:
                return tuple(sorted(words))
            return None
        chosen = [start]

        def place(index: int) -> bool:
            if index == len(options):
                return True
            for position in options[index]:
                if position in chosen or max(max(chosen), position) - min(min(chosen), position) > reach:
                    continue
                chosen.append(position)
                if place(index + 1):
                    return True
                chosen.pop()
            return False

        return tuple(sorted(chosen)) if place(0) else None

    @staticmethod
    def _ordered_at(phrase: Phrase, start: int, where: Mapping[int, list[int]]) -> tuple[int, ...] | None:
        """Every slot after the one before it, all within reach of the first word at ``start``."""
        last = start + phrase.reach
        chosen = [start]

        def place(index: int) -> bool:
            if index == len(phrase.slots):
                return True
            for position in where[phrase.slots[index]]:
                if chosen[-1] < position <= last:
                    chosen.append(position)
                    if place(index + 1):
                        return True
                    chosen.pop()
            return False

        return tuple(chosen) if place(1) else None

    @staticmethod
    def _strict_at(
        phrase: Phrase, start: int, where: Mapping[int, list[int]], parts: Sequence[int]
    ) -> tuple[int, ...] | None:
        """Every slot in order from ``start``, next to each other unless ``..`` allows a few words between."""
        positions = [start]
        previous = start
        part = parts[start]
        gaps = phrase.gaps
        slots = phrase.slots
        for index in range(1, len(slots)):
            last = previous + 1 + (STRICT_GAP_WORDS if gaps[index] else 0)
            for position in where[slots[index]]:
                if previous < position <= last and parts[position] == part:
                    previous = position
                    positions.append(position)
                    break
            else:
                return None
        return tuple(positions)


def _kind(category: str) -> str:
    """Strict phrases are looked for by kind: a setting group ("~negation" -> "~") or a category."""
    return category[0] if category.startswith("~") else category
