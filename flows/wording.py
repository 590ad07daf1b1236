"""Words that read wrongly to the people the companion is for, found wherever a person reads them.

``content/wording.yaml`` lists, per language, words and phrases to avoid, why,
and what to write instead (for example Swedish "kompanjon", which reads as a
business partner, or "kontaktperson", which in social services means a
befriender, not a care coordinator). The check looks for them in every text
a person reads: the flows (questions, options, summary labels), the
companion's own words (``ui/``) and the summary's wording (``summary/``).
Comments in the YAML are not read, so a file can still say why.

A phrase matches at the start of a word, in any case: "kompanjon" also finds
"kompanjonen".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flows.catalog import Catalog, Problem
from flows.schema import LANGUAGES, Flow, Text

WORDING_FILE = "wording.yaml"


@dataclass(frozen=True, slots=True)
class Avoid:
    language: str
    phrase: str
    why: str
    instead: str

    def pattern(self) -> re.Pattern[str]:
        return re.compile(r"(?<!\w)" + re.escape(self.phrase), re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Shown:
    """One text a person reads, and where it is written."""

    file: str
    step: str | None
    field: str
    language: str
    text: str


def rules(catalog: Catalog) -> tuple[list[Avoid], list[Problem]]:
    """The phrases to avoid in ``wording.yaml``, and problems with the file itself."""
    data = catalog.extra.get(WORDING_FILE)
    if data is None:
        return [], []
    found: list[Avoid] = []
    problems: list[Problem] = []
    items = data.get("avoid") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return [], [Problem(WORDING_FILE, None, "must have a list called 'avoid'")]
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("phrase", "why", "instead")):
            problems.append(Problem(WORDING_FILE, None, f"item {number} needs phrase, why and instead"))
            continue
        language = item.get("language", "en")
        if language not in LANGUAGES:
            problems.append(Problem(WORDING_FILE, None, f"item {number}: unknown language {language!r}"))
            continue
        found.append(Avoid(language, item["phrase"], item["why"], item["instead"]))
    return found, problems


def _text(file: str, step: str | None, field: str, text: Text | None) -> Iterator[Shown]:
    if text is None:
        return
    for language, value in text.translations().items():
        if value:
            yield Shown(file, step, field, language, value)


def _flow_texts(file: str, flow: Flow) -> Iterator[Shown]:
    for name in ("title", "description", "done"):
        yield from _text(file, None, name, getattr(flow, name))
    for step in flow.steps:
        for name in ("say", "why", "suggest", "reminded", "summary_label", "min_label", "max_label"):
            yield from _text(file, step.id, name, getattr(step, name))
        if step.repeat is not None:
            yield from _text(file, step.id, "repeat.ask", step.repeat.ask)
        for option in step.options:
            for language, value in option.translations().items():
                if value:
                    yield Shown(file, step.id, f"option '{option.id}'", language, value)


def _walk(file: str, data: Any, path: str = "") -> Iterator[Shown]:
    """Texts in a nested document: any mapping with a language key holding words."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in LANGUAGES and isinstance(value, str):
                yield Shown(file, None, path or "text", key, value)
            else:
                yield from _walk(file, value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data, start=1):
            yield from _walk(file, value, f"{path}[{index}]")


def shown_texts(catalog: Catalog) -> Iterator[Shown]:
    """Every text a person reads: flows, the companion's own words, the summary's wording."""
    for flow_id, flow in catalog.flows.items():
        yield from _flow_texts(catalog.files[flow_id], flow)
    for language in catalog.ui.languages():
        for key in sorted(catalog.ui.keys(language)):
            for form in catalog.ui.forms(key, language):
                yield Shown(f"ui/{language}.yaml", None, key, language, form)
    yield from _walk("summary/sections.yaml", catalog.summary.model_dump())
    for name, data in sorted(catalog.extra.items()):
        if name.startswith("summary/"):
            yield from _walk(name, data)


def check_stop_reminders(catalog: Catalog) -> Iterator[Problem]:
    """The reminder not to stop suddenly is only in ``stop_reminder`` messages, which the
    engine gives once a day; their ``reminded`` words do not repeat it."""
    data = catalog.extra.get(WORDING_FILE)
    words = data.get("stop_reminder_words") if isinstance(data, dict) else None
    if not isinstance(words, dict):
        return
    patterns = {
        language: [re.compile(r"(?<!\w)" + re.escape(str(word)), re.IGNORECASE) for word in listed or ()]
        for language, listed in words.items()
    }
    for flow_id, flow in catalog.flows.items():
        file = catalog.files[flow_id]
        for shown in _flow_texts(file, flow):
            step = flow.step(shown.step) if shown.step else None
            if step is not None and step.stop_reminder and shown.field == "say":
                continue
            if any(pattern.search(shown.text) for pattern in patterns.get(shown.language, ())):
                where = "its 'reminded' words" if shown.field == "reminded" else f"{shown.field} ({shown.language})"
                yield Problem(
                    file,
                    shown.step,
                    f"{where} tell the person not to stop medicine suddenly. That reminder is given once a "
                    "day: say it in a message with stop_reminder: true (and short 'reminded' words for the "
                    "second time), not here",
                )


def check_channel_texts(catalog: Catalog) -> Iterator[Problem]:
    """A channel without buttons (the console) has its own words for every text that speaks of tapping."""
    data = catalog.extra.get(WORDING_FILE)
    rule = data.get("no_buttons") if isinstance(data, dict) else None
    if not isinstance(rule, dict) or not isinstance(rule.get("channel"), str):
        return
    prefix = rule["channel"] + "_"
    skip = tuple(str(start) for start in rule.get("telegram_only") or ())
    words = rule.get("words") or {}
    ui = catalog.ui
    for language in ui.languages():
        patterns = [re.compile(r"(?<!\w)" + re.escape(str(word)), re.IGNORECASE) for word in words.get(language) or ()]
        if not patterns:
            continue

        def tapping(key: str, language: str = language, patterns: list[re.Pattern[str]] = patterns) -> bool:
            return any(pattern.search(form) for form in ui.forms(key, language) for pattern in patterns)

        file = f"ui/{language}.yaml"
        keys = ui.keys(language)
        for key in sorted(keys):
            if key.startswith(prefix):
                if tapping(key):
                    yield Problem(file, None, f"'{key}' is said in the {rule['channel']}, which has no buttons to tap")
                continue
            if key.startswith(skip) or not tapping(key):
                continue
            if prefix + key not in keys:
                yield Problem(
                    file,
                    None,
                    f"'{key}' speaks of tapping, but the {rule['channel']} has no buttons: add '{prefix}{key}' "
                    f"with the words it should say there (typing a number, Enter)",
                )


def check_wording(catalog: Catalog) -> Iterator[Problem]:
    """A problem for every phrase to avoid, where it is written and what to write instead;
    and for a reminder not to stop suddenly outside a ``stop_reminder`` message."""
    avoid, problems = rules(catalog)
    yield from problems
    yield from check_stop_reminders(catalog)
    yield from check_channel_texts(catalog)
    if not avoid:
        return
    compiled = [(rule, rule.pattern()) for rule in avoid]
    # One search per text for all of a language's phrases; the phrase itself only where one is there.
    anywhere = {
        language: re.compile(
            "|".join(f"(?:{pattern.pattern})" for rule, pattern in compiled if rule.language == language), re.IGNORECASE
        )
        for language in {rule.language for rule in avoid}
    }
    for shown in shown_texts(catalog):
        found = anywhere.get(shown.language)
        if found is None or not found.search(shown.text):
            continue
        for rule, pattern in compiled:
            if rule.language == shown.language and pattern.search(shown.text):
                yield Problem(
                    shown.file,
                    shown.step,
                    f'{shown.field} ({shown.language}) says "{rule.phrase}", which {rule.why}. '
                    f"Write {rule.instead} instead",
                )
