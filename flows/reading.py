"""Read what a person typed or pressed as an answer to one step.

Typed text is cleaned of invisible characters, then read as a number from a
list, an option's label, a yes/no word (in any language the content speaks),
a scale point, a date or a time. What does not fit is never an error: it is a
problem (a ui text key) and the words to explain it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from typing import Any

from flows.formatting import example_date
from flows.schema import Step, StepType
from flows.texts import UiTexts
from flows.turns import USE_SUGGESTION, Action, Button, Context, Pressed

Reading = tuple[Any, str | None, dict[str, Any]]
"""(value, problem, params): the value to save, or the ui key saying why not and its {placeholders}."""


class Words:
    """Words with a meaning of their own (yes, no, none, today, tomorrow), from the
    interface texts of every language, so a person may answer in either."""

    def __init__(self, ui: UiTexts) -> None:
        self.ui = ui
        self._sets: dict[str, frozenset[str]] = {}
        self._yes_no: dict[str, str] | None = None

    def of(self, key: str) -> frozenset[str]:
        """The comma-separated words of a ui text, in every language, in lower case."""
        found = self._sets.get(key)
        if found is None:
            found = self._sets[key] = self.ui.words(key)
        return found

    def yes_no(self) -> dict[str, str]:
        """Typed word -> "yes" or "no"."""
        if self._yes_no is None:
            mapping = {w: "yes" for w in self.of("words_yes")}
            mapping.update({w: "no" for w in self.of("words_no")})
            self._yes_no = mapping
        return self._yes_no

    def says_none(self, typed: str) -> bool:
        """True for "no", "none", "nothing" (or "nej", "inget"…): nothing to add."""
        words = " ".join(clean_text(typed).lower().replace(",", " ").split()).rstrip(".!")
        return words in self.of("words_none") or words in self.of("words_no")


def read_answer(
    step: Step, action: Action, options: list[Button], suggestion: str | None, words: Words, context: Context
) -> Reading:
    """Turn an action into a value for this step, or say why it does not fit.

    ``options`` are the buttons the step shows now; ``suggestion`` is its
    ready-made answer, if it has one the person can take."""
    kind = step.type
    if kind is StepType.text:
        if isinstance(action, Pressed):
            if action.button == USE_SUGGESTION and suggestion is not None:
                return suggestion, None, {}
            return None, "use_typing", {}
        text = clean_text(action.text)
        if not text:
            return None, "empty", {}
        if len(text) > step.max_length:
            return None, "too_long", {"limit": step.max_length, "length": len(text)}
        return text, None, {}
    if isinstance(action, Pressed):
        if not any(button.id == action.button for button in options):
            return None, "unknown_option", {}
        if kind is StepType.date:
            return _read_date(step, action.button, words, context)
        if kind is StepType.time:
            return _read_time(action.button)
        return int(action.button) if kind is StepType.scale else action.button, None, {}
    typed = clean_text(action.text)
    if not typed:
        return None, "empty", {}
    if kind is StepType.scale:
        number = parse_int(typed)
        if number is None:
            return None, "not_a_number", {"low": step.min, "high": step.max}
        if not step.min <= number <= step.max:
            return None, "out_of_range", {"low": step.min, "high": step.max}
        return number, None, {}
    if kind is StepType.date:
        return _read_date(step, typed, words, context)
    if kind is StepType.time:
        return _read_time(typed)
    match = match_option(typed, options, words.yes_no())
    if match is None or not any(button.id == match for button in options):
        return None, "unknown_option", {}
    return match, None, {}


def _read_time(typed: str) -> Reading:
    moment = parse_time(typed)
    if moment is None:
        return None, "not_a_time", {}
    return moment.strftime("%H:%M"), None, {}


def _read_date(step: Step, typed: str, words: Words, context: Context) -> Reading:
    day = parse_date(typed, context.today, words.of("words_today"), words.of("words_tomorrow"))
    if day is None:
        return None, "not_a_date", {"example": example_date(context)}
    if step.when == "future" and day < context.today:
        return None, "date_in_past", {"example": example_date(context)}
    if step.when == "past" and day > context.today:
        return None, "date_in_future", {}
    return day.isoformat(), None, {}


def match_option(typed: str, options: Iterable[Button], words: dict[str, str]) -> str | None:
    """Match typed text to an option: its number in the list, its label, or yes/no words."""
    lowered = typed.strip().lower().rstrip(".!")
    listed = list(options)
    index = list_number(lowered)
    if index is not None and listed and 1 <= index <= len(listed):
        return listed[index - 1].id
    for button in listed:
        if lowered in (button.label.lower(), button.id):
            return button.id
    return words.get(lowered)


def list_number(typed: str) -> int | None:
    """A small whole number typed with ASCII digits ("3"), or None.

    ``str.isdigit`` is true for "¹" and "٣", which ``int`` may refuse; people
    pick options with plain digits, so accept only those.
    """
    text = typed.strip()
    if text.isascii() and text.isdigit() and len(text) <= 3:
        return int(text)
    return None


def parse_int(typed: str) -> int | None:
    """A whole number of up to six ASCII digits, with an optional sign, or None."""
    text = typed.strip()
    if text.startswith(("+", "-")):
        sign, digits = text[0], text[1:]
    else:
        sign, digits = "", text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 6:
        return None
    return int(sign + digits)


_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


def clean_text(text: str) -> str:
    """Strip control and invisible characters (keeping new lines) and outer spaces."""
    kept = []
    for char in text:
        if char in "\n\t" or unicodedata.category(char) not in _CONTROL or char == "\u200d":
            kept.append(char)
    return "".join(kept).strip()


def parse_date(typed: str, today: dt.date, today_words: Iterable[str], tomorrow_words: Iterable[str]) -> dt.date | None:
    """Read a date the way people in the UK and Sweden write it (day first, or ISO)."""
    text = typed.strip().lower()
    if text.startswith("+") and text[1:].isascii() and text[1:].isdigit() and len(text) <= 4:
        return today + dt.timedelta(days=int(text[1:]))
    if text in today_words:
        return today
    if text in tomorrow_words:
        return today + dt.timedelta(days=1)
    for separator in ("-", "/", ".", " "):
        parts = [p for p in text.split(separator) if p]
        if len(parts) in (2, 3) and all(p.isascii() and p.isdigit() for p in parts):
            break
    else:
        return None
    numbers = [int(p) for p in parts]
    try:
        if len(parts[0]) == 4 and len(numbers) == 3:
            return dt.date(numbers[0], numbers[1], numbers[2])
        day, month = numbers[0], numbers[1]
        if len(numbers) == 3:
            year = numbers[2] + (2000 if numbers[2] < 100 else 0)
            return dt.date(year, month, day)
        candidate = dt.date(today.year, month, day)
        # "3/4" written in December means next April.
        if candidate < today - dt.timedelta(days=180):
            candidate = dt.date(today.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def parse_time(typed: str) -> dt.time | None:
    """Read a time of day: 14:30, 14.30, 1430, 9, 2pm, 2.30 pm, kl 14."""
    text = typed.strip().lower().replace(" ", "")
    if text.startswith("kl"):
        text = text[2:].lstrip(".")
    suffix = None
    for marker in ("am", "pm"):
        if text.endswith(marker):
            suffix, text = marker, text[: -len(marker)]
    for separator in (":", "."):
        if separator in text:
            hours, _, minutes = text.partition(separator)
            break
    else:
        hours, minutes = (text[:-2], text[-2:]) if len(text) in (3, 4) else (text, "0")
    if not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit()):
        return None
    hour, minute = int(hours), int(minutes)
    if suffix is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return dt.time(hour, minute)
    return None
