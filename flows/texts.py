"""The companion's own words (buttons, re-asks, menus), looked up per language.

They live in ``content/ui/<language>.yaml`` as flat ``key: text`` pairs so a
content author can change "Skip" to "Not now" without touching code. Missing
keys fall back to English; ``companion content check`` reports them.

A text that counts something ("1 member", "3 members") is written with one
form per plural category, and says which ``{name}`` is the number (``count``
unless ``by`` says otherwise)::

    gr_lead_hours:
      by: hours
      one: "{hours} hour before"
      other: "{hours} hours before"

:meth:`UiTexts.get` picks the form for the number it is given. The
categories are CLDR's; English and Swedish both use ``one`` for exactly 1
and ``other`` for every other number (:data:`PLURAL_RULES`). A language with
more categories (Polish has ``few`` and ``many``) adds its rule there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flows.schema import LANGUAGES

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
"""CLDR's plural categories, the names a plural text's forms may have."""
PLURAL_BY = "by"
"""In a plural text, the name of the ``{placeholder}`` that holds the number."""


def _one_or_other(number: int) -> str:
    return "one" if number == 1 else "other"


PLURAL_RULES: dict[str, Callable[[int], str]] = {"en": _one_or_other, "sv": _one_or_other}
"""Language -> the plural category of a whole number (CLDR: "one" is i = 1 and v = 0 in both)."""


def plural_category(language: str, number: int) -> str:
    return PLURAL_RULES.get(language, _one_or_other)(number)


def is_plural(value: Any) -> bool:
    """A text written as plural forms: a mapping with an ``other`` form and nothing but forms (and ``by``)."""
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("other"), str)
        and all(key in PLURAL_CATEGORIES or key == PLURAL_BY for key in value)
        and all(isinstance(form, str) for form in value.values())
    )


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders in a text."""
    return set(PLACEHOLDER.findall(template))


class MissingText(KeyError):
    """A key the code asks for is not in content/ui/en.yaml."""


class UiTexts:
    def __init__(self, by_language: Mapping[str, Mapping[str, Any]]) -> None:
        if "en" not in by_language:
            raise ValueError("content/ui/en.yaml is required")
        self._texts = {language: dict(texts) for language, texts in by_language.items()}

    def get(self, key: str, language: str, **params: object) -> str:
        texts = self._texts.get(language) if language in LANGUAGES else None
        found = (texts or {}).get(key)
        if not found:
            found, language = self._texts["en"].get(key), "en"
        if found is None:
            raise MissingText(key)
        template = self._form(found, language, params) if isinstance(found, Mapping) else found
        if not params:
            return template
        # Replace only the named placeholders so braces in values stay as they are.
        return PLACEHOLDER.sub(lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), template)

    def forms(self, key: str, language: str) -> list[str]:
        """Every form of a text as written (one, or one per plural category)."""
        value = self._texts.get(language, {}).get(key)
        if isinstance(value, Mapping):
            return [form for name, form in value.items() if name != PLURAL_BY]
        return [value] if isinstance(value, str) else []

    def has(self, key: str) -> bool:
        """Whether the text is there (in English, which every language falls back to)."""
        return key in self._texts["en"]

    def keys(self, language: str) -> set[str]:
        return set(self._texts.get(language, {}))

    def languages(self) -> list[str]:
        return list(self._texts)

    @staticmethod
    def _form(forms: Mapping[str, str], language: str, params: Mapping[str, object]) -> str:
        number = params.get(forms.get(PLURAL_BY, "count"))
        if isinstance(number, int) and not isinstance(number, bool):
            return forms.get(plural_category(language, number)) or forms["other"]
        return forms["other"]

    def words(self, key: str) -> frozenset[str]:
        """The comma-separated words under ``key`` in every language, lower case (``words_yes``: yes, ja...).

        People type in the language they think in, whatever they chose, so
        every language's words count."""
        found: set[str] = set()
        for language in self._texts:
            found.update(word.strip().lower() for word in self.get(key, language).split(","))
        return frozenset(word for word in found if word)

    def for_channel(self, channel: str) -> UiTexts:
        """These texts as a channel without buttons says them.

        A key ``<channel>_<key>`` (for example ``console_hint_date`` in
        ui/console.en.yaml) replaces ``<key>`` for that channel: "Type a date"
        where Telegram says "Tap a button". Keys with no such variant stay as
        they are; a variant of a key that does not exist replaces nothing."""
        prefix = f"{channel}_"
        overlaid: dict[str, dict[str, str]] = {}
        for language, texts in self._texts.items():
            mine = dict(texts)
            for key, text in texts.items():
                base = key[len(prefix) :]
                if key.startswith(prefix) and base in texts:
                    mine[base] = text
            overlaid[language] = mine
        return UiTexts(overlaid)
