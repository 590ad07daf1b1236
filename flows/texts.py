"""The companion's own words (buttons, re-asks, menus), looked up per language.

They live in ``content/ui/<language>.yaml`` as flat ``key: text`` pairs so a
content author can change "Skip" to "Not now" without touching code. Missing
keys fall back to English; ``companion content check`` reports them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flows.schema import LANGUAGES

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders in a text."""
    return set(_PLACEHOLDER.findall(template))


class MissingText(KeyError):
    """A key the code asks for is not in content/ui/en.yaml."""


class UiTexts:
    def __init__(self, by_language: Mapping[str, Mapping[str, str]]) -> None:
        if "en" not in by_language:
            raise ValueError("content/ui/en.yaml is required")
        self._texts = {language: dict(texts) for language, texts in by_language.items()}

    def get(self, key: str, language: str, **params: object) -> str:
        texts = self._texts.get(language) if language in LANGUAGES else None
        template = (texts or {}).get(key) or self._texts["en"].get(key)
        if template is None:
            raise MissingText(key)
        if not params:
            return template
        # Replace only the named placeholders so braces in values stay as they are.
        return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), template)

    def keys(self, language: str) -> set[str]:
        return set(self._texts.get(language, {}))

    def languages(self) -> list[str]:
        return list(self._texts)

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
