"""Read one message for risk: which categories it holds, and how strongly it points to risk.

Pure: a function of the text and the lexicons alone (no time, no person, no
I/O); :mod:`flows.safety` decides what to do about it over a conversation.
Every language's lexicon is checked on every message, because a person who
chose English may still write in Swedish.

How a message is read:

1. It is cut into sentences and parts of sentences, and misspellings are
   corrected (:mod:`flows.crisis.reading`: the ``spellings`` table, then one
   typing mistake in a longer word, or two letters swapped in a short one:
   "suicdal", "i wnat to die"). Full stops followed by a small letter only end
   a part ("i'm done. with everything. just done." is one thought).
2. Each category's phrases are looked for in every sentence, as Snowball
   stems, near each other in any order, or in the written order where the
   file says ``in order:`` ("kill .. @people": "my sister is going to kill me"
   is not about harming her) (:mod:`flows.crisis.matching`). Everyday sayings
   (``not_crisis``: "this medicine is killing my sex drive") take their words
   out of play first, so they cannot be read as crisis words.
3. For each phrase found, the *setting* is read from the lexicon's word
   groups (:mod:`flows.crisis.setting`), in the sentence's own language, and
   the category's ``when`` rules say what that setting changes. The choices,
   all written in the lexicon where a clinician can change them:

   - *negated*: a negation just before it ("I'm not suicidal", "I'd never hurt
     myself"). Definite categories become the safety question, never
     nothing: missing a crisis is worse than asking once too often, and a
     person may say "not" and mean the opposite. A negated passive sign ("I
     don't want to die") is a weak sign. A negation elsewhere does not count:
     "I'd never do anything, I just wish I wasn't here" is still a sign.
   - *past*: the sentence says it was long ago ("used to", "years ago", "in
     2019") or tells of recovery ("clean for three years"), or the message
     tells of recovery ("I'm much better now") and of a past; unless the same part of the sentence says it is now or recent
     ("again", "still", "last week", "I want"). A story of past recovery is a
     weak sign at most: it adds up with other signs, but gets no card.
   - *accident*: shaving, cooking, "by mistake". A cut while cooking is not
     self-harm; "what if I take all my tablets at once by mistake?" is a
     question about safety.
   - *question* / *medicine_question*: the sentence asks, and (for the
     second) is about a medicine, and the words are not about the person
     themselves ("Can this medicine cause suicidal thoughts?"). Such a
     question is a weak sign: it is kept as the person's question, for the
     prescriber, and a second sign within a day still brings the safety
     question. "Since I started fluoxetine I've had thoughts of killing
     myself, is that normal?" is about the person, so it stays definite. A
     question about method ("how many would be too many") keeps at least the
     safety question, as do questions about taking a whole packet.
   - *someone_else*: the words are about another person: one stands among
     them ("stopped taking his lithium"), or is the nearest person named
     before them ("my son said he wants to die"), and the words themselves
     are not the writer's ("kill myself", "my arms"). Such messages get the
     supporters' card, not the crisis card. Words in quotation marks belong
     to whoever is named before the quotation. A friend's attempt long ago,
     or a story, gets nothing.
   - *story*: a film, book or news item about someone else.
   - *joking*: "lol", "haha". It softens only threats to others, which with
     a laugh are most often figures of speech; never a wish to die, because
     a veiled statement is often made with a laugh.
   - *someday*: "one day", "eventually" (for stopping a medicine: the
     reminder is for stopping now or soon).

   When several settings apply, the mildest result wins; when none does,
   the category's tier stands.
4. The message's tier is the strongest of what was found. ``stopping_medicine``
   is reported apart (:attr:`~flows.safety.Assessment.stopping_medicine`).

Idioms get nothing, and hyperbole that uses a death wish ("the waiting room
music made me want to die lol") still gets the safety question: telling it
apart from a veiled disclosure is not safe to do by words alone.

:meth:`CrisisDetector.is_crisis` is True for the definite and possible
tiers: the messages that get the card or the safety question.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flows.catalog import Catalog
from flows.crisis.lexicon import CONTEXT_GROUPS, NOT_CRISIS, STOPPING_MEDICINE, STRENGTH, Lexicon, LexiconError
from flows.crisis.matching import Found, Matcher, Source
from flows.crisis.reading import Reader
from flows.crisis.setting import SETTING, Setting, setting_phrases
from flows.crisis.text import Sentence
from flows.safety import NOTHING, Assessment, Tier

CRISIS_FILE = "crisis/{language}.yaml"
_TIERS = {
    "definite": Tier.DEFINITE,
    "possible": Tier.POSSIBLE,
    "someone_else": Tier.SOMEONE_ELSE,
    "weak": Tier.WEAK,
}
_CRISIS_TIERS = (Tier.DEFINITE, Tier.POSSIBLE)


@dataclass(frozen=True, slots=True)
class Match:
    """The phrase that made a message crisis language (for tests and the content check; never logged)."""

    language: str
    phrase: str
    category: str = ""


@dataclass(frozen=True, slots=True)
class Judged:
    """One phrase found, with the tier its setting gave it."""

    found: Found
    tier: str
    settings: frozenset[str]


class CrisisDetector:
    """Checks text against every language's lexicon. Build once; share freely."""

    def __init__(self, lexicons: Mapping[str, Lexicon]) -> None:
        self.lexicons = dict(lexicons)
        self._reader = Reader(self.lexicons.values())
        self._matcher = Matcher(_source(lexicon) for lexicon in self.lexicons.values())
        self._wanted = {
            language: {name: frozenset(category.when) for name, category in lexicon.categories.items()}
            for language, lexicon in self.lexicons.items()
        }

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

    # ------------------------------------------------------------------ reading a message

    def assess(self, text: str) -> Assessment:
        """What one message holds: its tier, the categories found, and whether it stops a medicine."""
        judged = self.judge(text)
        if not judged:
            return NOTHING
        tier: Tier | None = None
        categories: set[str] = set()
        stopping = False
        for item in judged:
            if item.tier == "none":
                continue
            categories.add(item.found.category)
            if item.tier == "reminder":
                stopping = True
                continue
            if item.found.category == STOPPING_MEDICINE:
                continue
            candidate = _TIERS[item.tier]
            if tier is None or STRENGTH[candidate.value] > STRENGTH[tier.value]:
                tier = candidate
        return Assessment(tier=tier, categories=frozenset(categories), stopping_medicine=stopping)

    def detect(self, text: str) -> Match | None:
        """The strongest phrase that makes ``text`` crisis language (definite or possible), or None."""
        best: Judged | None = None
        for item in self.judge(text):
            if item.tier in ("definite", "possible") and (best is None or STRENGTH[item.tier] > STRENGTH[best.tier]):
                best = item
        return None if best is None else Match(best.found.language, best.found.phrase, best.found.category)

    def is_crisis(self, text: str) -> bool:
        """True when the message gets the crisis card or the safety question (definite or possible)."""
        return self.assess(text).tier in _CRISIS_TIERS

    def judge(self, text: str) -> list[Judged]:
        """Every phrase found in ``text``, each with the tier its setting gives it (once one of a
        category's phrases holds the category's own tier in a sentence, its other phrases there
        are not judged: they could bring no more)."""
        if not text or not self.lexicons:
            return []
        matcher = self._matcher
        scanned: list[tuple[Sentence, dict[int, list[int]], list[Found]]] = []
        anything = False
        for sentence in self._reader.sentences(text):
            where = matcher.scan(sentence.words)
            found = matcher.find(where, sentence.parts)
            if found:
                anything = True
                found = self._without_idioms(sentence, where, found)
            scanned.append((sentence, where, found))
        if not anything:
            return []
        # The setting is read in the sentence's own language: the one whose setting words
        # (negations, pronouns, question words, ...) it uses most; a tie goes to the
        # phrase's own language. A message that
        # tells of a past and of recovery is a recovery story throughout.
        readings: list[tuple[dict[str, int], dict[str, Setting]]] = []
        told: set[str] = set()
        for sentence, where, found in scanned:
            if not found:
                # Only whether it tells of a past or of recovery matters here.
                told.update(group for (_language, group), _p in matcher.singles(where).items())
                for group in (SETTING + "past", SETTING + "recovered"):
                    if matcher.find(where, sentence.parts, strict=group):
                        told.add(group)
                readings.append(({}, {}))
                continue
            singles = matcher.singles(where)
            known = dict.fromkeys(self.lexicons, 0)
            marked: dict[str, set[int]] = {}
            for (language, _group), positions in singles.items():
                marked.setdefault(language, set()).update(positions)
            for language, positions in marked.items():
                known[language] = len(positions)
            languages = {_likeliest(known, item.language) for item in found}
            languages.add(max(known, key=known.__getitem__))
            phrases = matcher.find(where, sentence.parts, strict=SETTING) if len(languages) > 1 else None
            readings.append(
                (known, {lang: Setting.read(matcher, lang, sentence, where, singles, phrases) for lang in languages})
            )
        recovery_story = (
            SETTING + "past" in told or any(s.has("past") for _k, by in readings for s in by.values())
        ) and (SETTING + "recovered" in told or any(s.has("recovered") for _k, by in readings for s in by.values()))
        judged: list[Judged] = []
        for (sentence, _where, found), (known, by_language) in zip(scanned, readings, strict=True):
            seen: dict[tuple[str, tuple[int, ...], frozenset[str]], set[str]] = {}
            language_of = {own: _likeliest(known, own) for own in {item.language for item in found}}
            whole: set[tuple[str, str]] = set()
            for item in found:
                if (item.language, item.category) in whole:
                    # This category already holds its own tier in this sentence: another of
                    # its phrases can bring no more.
                    continue
                language = language_of[item.language]
                category = self.lexicons[item.language].categories[item.category]
                wanted = self._wanted[item.language][item.category]
                active = seen.get((language, item.positions, wanted))
                if active is None:
                    active = by_language[language].settings_of(item, sentence, recovery_story, wanted)
                    seen[(language, item.positions, wanted)] = active
                results = [category.when[name] for name in active if name in category.when]
                if results:
                    tier = min(results, key=STRENGTH.__getitem__)
                else:
                    tier = category.tier
                    whole.add((item.language, item.category))
                judged.append(Judged(item, tier, frozenset(active)))
        return judged

    def sentences(self, text: str) -> list[Sentence]:
        """The message as sentences of corrected, folded words (what the phrases see)."""
        return self._reader.sentences(text)

    def normalise(self, text: str) -> str:
        """The text as the phrases see it: folded, misspellings corrected (for tests and authors)."""
        return self._reader.normalise(text)

    # ------------------------------------------------------------------ cards

    def card(self, language: str) -> str:
        return self._lexicon(language).card

    def carry_on(self, language: str) -> str:
        return self._lexicon(language).carry_on

    def supporter_card(self, language: str) -> str:
        """The card for someone worried about another person (same numbers as the crisis card)."""
        return self._lexicon(language).supporter_card

    # ------------------------------------------------------------------ internals

    def _lexicon(self, language: str) -> Lexicon:
        lexicon = self.lexicons.get(language) or self.lexicons.get("en")
        if lexicon is None:
            raise LexiconError("no crisis lexicon loaded")
        return lexicon

    def _without_idioms(self, sentence: Sentence, where: Mapping[int, list[int]], found: list[Found]) -> list[Found]:
        """Find the phrases again with the words of everyday sayings taken out of play."""
        blocked: set[int] = set()
        for idiom in self._matcher.find(where, sentence.parts, strict=NOT_CRISIS):
            blocked.update(range(idiom.start, idiom.end + 1))
        if not blocked or not any(blocked.intersection(item.positions) for item in found):
            return found
        return self._matcher.find(where, sentence.parts, blocked=frozenset(blocked))


def _source(lexicon: Lexicon) -> Source:
    """A lexicon's phrases for the matcher: crisis phrases loose, sayings and setting words strict."""
    idioms = lexicon.categories.get(NOT_CRISIS)
    return Source(
        language=lexicon.language,
        words=lexicon.words,
        loose=[
            (c.name, p, p in c.ordered) for c in lexicon.categories.values() if c.name != NOT_CRISIS for p in c.phrases
        ],
        strict=[*((NOT_CRISIS, p) for p in (idioms.phrases if idioms else ())), *setting_phrases(lexicon.words)],
        common=[word for group in CONTEXT_GROUPS for entry in lexicon.words[group] for word in entry.split()],
    )


def _likeliest(known: dict[str, int], own: str) -> str:
    """The language with most of the sentence's words; on a tie, the phrase's own."""
    return max(known, key=lambda language: (known[language], language == own))
