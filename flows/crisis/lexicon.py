"""One language's crisis lexicon as a clinician writes it in ``content/crisis/<language>.yaml``.

The file holds the cards, word groups, spellings and categories; this module
reads it into plain data and says in words what is wrong when it cannot be
used, so an author can fix it. Matching lives in :mod:`flows.crisis.matching`.

Why categories carry their own ``tier`` and ``when`` rules: the same words
mean different things in different settings ("cut myself" while shaving,
"suicidal thoughts" asked about as a side effect, a friend's attempt years
ago), and how much each setting should soften a match is a clinical choice,
not a programming one. So the file says it, category by category, where a
clinician can read and change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flows.crisis.text import fold

TIERS = ("definite", "possible", "someone_else", "weak", "none", "reminder")
"""What a category's words bring: the crisis card, the safety question, the
supporters' card, a sign that only adds up, nothing (everyday sayings), or
the reminder not to stop a medicine suddenly."""
STRENGTH = {"none": 0, "weak": 1, "someone_else": 2, "possible": 3, "definite": 4, "reminder": 1}
"""When several settings apply to one match, the mildest wins (see ``when``)."""
CONDITIONS = (
    "negated",
    "past",
    "accident",
    "question",
    "medicine_question",
    "someone_else",
    "story",
    "joking",
    "someday",
)
"""The settings a category's ``when`` can name (each explained in the file's header)."""
CONTEXT_GROUPS = (
    "negation",
    "past",
    "present",
    "recovered",
    "accident",
    "question",
    "asking",
    "medicine",
    "self",
    "others",
    "story",
    "joking",
    "someday",
)
"""Word groups the companion reads the setting from; every lexicon must have them."""
NOT_CRISIS = "not_crisis"
"""The category of everyday sayings: written in order, and they cancel crisis words they share."""
STOPPING_MEDICINE = "stopping_medicine"
IN_ORDER = "in order"
"""A phrase written as ``- in order: "hurt .. @people"`` matches only in the written order."""


class LexiconError(ValueError):
    """A crisis lexicon that cannot be used (said so an author can fix it)."""


@dataclass(frozen=True, slots=True)
class Category:
    """One kind of crisis language: what it brings, when that changes, its phrases and examples."""

    name: str
    tier: str
    phrases: tuple[str, ...]
    ordered: frozenset[str] = frozenset()
    """Phrases written as ``in order: "…"``: their words must come in the written order."""
    when: Mapping[str, str] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    not_examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One language's crisis words and cards, as written in content."""

    language: str
    card: str
    carry_on: str
    supporter_card: str
    categories: Mapping[str, Category]
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Word groups by name (``medicine``, ``negation``, …), used as ``@name`` in phrases."""
    spellings: Mapping[str, str] = field(default_factory=dict)
    """Folded misspelling -> folded meant word(s)."""

    @classmethod
    def from_document(cls, language: str, data: Any) -> Lexicon:
        if not isinstance(data, dict):
            raise LexiconError("must be a YAML mapping with card, carry_on, supporter_card, words and categories")
        texts = {}
        for key in ("card", "carry_on", "supporter_card"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise LexiconError(f"'{key}' is missing or empty")
            texts[key] = data[key].strip()
        words = _words(data.get("words"))
        spellings = _spellings(data.get("spellings"))
        raw_categories = data.get("categories")
        if not isinstance(raw_categories, dict) or not raw_categories:
            raise LexiconError("'categories' must list the categories, each with a tier and phrases")
        categories = {name: _category(str(name), value, words) for name, value in raw_categories.items()}
        return cls(
            language=language,
            card=texts["card"],
            carry_on=texts["carry_on"],
            supporter_card=texts["supporter_card"],
            categories=categories,
            words=words,
            spellings=spellings,
        )


def _words(raw: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise LexiconError("'words' must list the word groups (negation, past, medicine, …)")
    groups: dict[str, tuple[str, ...]] = {}
    for name, entries in raw.items():
        if not isinstance(entries, list) or not entries or not all(isinstance(e, str) and e.strip() for e in entries):
            raise LexiconError(f"the word group '{name}' must be a list of words or phrases")
        groups[str(name)] = tuple(entries)
    missing = [name for name in CONTEXT_GROUPS if name not in groups]
    if missing:
        raise LexiconError(f"the word groups {', '.join(missing)} are missing under 'words'")
    for name, entries in groups.items():
        for entry in entries:
            for other in (word[1:] for word in entry.replace("/", " ").split() if word.startswith("@")):
                if any("@" in inner for inner in groups.get(other, ())):
                    raise LexiconError(f"the word group '{name}' names '@{other}', which names a group itself")
            check_phrase(entry, groups, strict=True, where=f"the word group '{name}'")
    return groups


def _spellings(raw: Any) -> dict[str, str]:
    raw = raw or {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise LexiconError('\'spellings\' must be lines of "written": "meant"')
    return {fold(k): fold(v) for k, v in raw.items() if fold(k) and fold(v)}


def _category(name: str, raw: Any, words: Mapping[str, tuple[str, ...]]) -> Category:
    if not isinstance(raw, dict):
        raise LexiconError(f"the category '{name}' must have a tier and phrases")
    tier = raw.get("tier")
    if tier not in TIERS:
        raise LexiconError(f"the category '{name}' has tier '{tier}'; use one of: {', '.join(TIERS)}")
    raw_phrases = raw.get("phrases")
    if not isinstance(raw_phrases, list) or not raw_phrases:
        raise LexiconError(f"the category '{name}' must have a list of phrases")
    phrases: list[str] = []
    ordered: set[str] = set()
    for entry in raw_phrases:
        if isinstance(entry, dict) and set(entry) == {IN_ORDER} and isinstance(entry[IN_ORDER], str):
            phrases.append(entry[IN_ORDER])
            ordered.add(entry[IN_ORDER])
        elif isinstance(entry, str) and entry.strip():
            phrases.append(entry)
        else:
            raise LexiconError(f"the category '{name}' has a phrase that is not words in quotes: {entry!r}")
    strict = name == NOT_CRISIS
    for phrase in phrases:
        check_phrase(phrase, words, strict=strict, where=f"the category '{name}'")
    when = raw.get("when") or {}
    if not isinstance(when, dict):
        raise LexiconError(f"'when' in the category '{name}' must be lines of 'setting: tier'")
    for condition, value in when.items():
        if condition not in CONDITIONS:
            raise LexiconError(f"'when' in the category '{name}' names '{condition}'; use: {', '.join(CONDITIONS)}")
        allowed = ("none", "reminder") if tier == "reminder" else tuple(t for t in TIERS if t != "reminder")
        if value not in allowed:
            raise LexiconError(f"'when: {condition}' in the category '{name}' must be one of: {', '.join(allowed)}")
        if STRENGTH[value] > STRENGTH[tier]:
            raise LexiconError(f"'when: {condition}: {value}' in the category '{name}' is stronger than its tier")
    examples, not_examples = raw.get("examples") or [], raw.get("not_examples") or []
    for key, value in (("examples", examples), ("not_examples", not_examples)):
        if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
            raise LexiconError(f"'{key}' in the category '{name}' must be a list of messages")
    return Category(
        name=name,
        tier=tier,
        phrases=tuple(phrases),
        ordered=frozenset(ordered),
        when=dict(when),
        examples=tuple(examples),
        not_examples=tuple(not_examples),
    )


def check_phrase(phrase: str, words: Mapping[str, tuple[str, ...]], *, strict: bool, where: str) -> None:
    """Raise :class:`LexiconError` for a phrase that cannot be matched, naming it."""
    slots = phrase.split()
    real = [slot for slot in slots if slot not in ("..", "...")]
    if not real:
        raise LexiconError(f"{where} has an empty phrase")
    if slots[0] in ("..", "...") or slots[-1] in ("..", "..."):
        raise LexiconError(
            f"'{phrase}' in {where} cannot start or end with '{slots[0] if slots[0] in ('..', '...') else slots[-1]}'"
        )
    if strict and "..." in slots:
        raise LexiconError(f"'{phrase}' in {where}: '...' is only for crisis phrases; use '..' here")
    for slot in real:
        for choice in slot.split("/"):
            if not choice:
                raise LexiconError(f"'{phrase}' in {where} has an empty choice in '{slot}'")
            if choice.startswith("@"):
                group = words.get(choice[1:])
                if group is None:
                    raise LexiconError(
                        f"'{phrase}' in {where} uses the word group '{choice}', which is not under 'words'"
                    )
                if any(len(entry.split()) > 1 for entry in group):
                    raise LexiconError(
                        f"'{phrase}' in {where} uses '{choice}', whose entries must be single words to be used in a phrase"
                    )
                continue
            if choice == "#":
                continue
            if choice.startswith("=") and ("*" in choice or len(choice) < 2):
                raise LexiconError(f"'{phrase}' in {where} has '{choice}': '=' is followed by one whole word")
            core = fold(choice.strip("*").removeprefix("="))
            if not core or " " in core:
                raise LexiconError(f"'{phrase}' in {where} has '{choice}', which is not one word")
            if "*" in choice and len(core) < 3:
                raise LexiconError(f"'{phrase}' in {where}: '{choice}' needs at least 3 letters besides the star")
