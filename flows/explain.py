"""Say what is wrong with a content file in a plain sentence, not a pydantic path.

Pydantic reports ``steps.3.options.0.id: Field required``. An author needs
"flows/goals.yaml, step 'goal': in `options`, number 1, `id` is missing: ...":
the file, the step by its id, the field by its name, what is wrong in words and
what it should be. :func:`explain` walks each error's location through the
models it came from, so it knows a step from an option from a rule, and drops
pydantic's own markers (which member of a union, which validator).
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from flows.schema import Condition, Flow, Option, Repeat, Rule, Step, StepType, Text

WORDS = "words to say: a text, or `en:` and `sv:` texts"
WHOLE_NUMBER = "a whole number"
YES_OR_NO = "true or false (yes or no)"
AN_ID = "an id: small letters a-z, digits and _, starting with a letter (for example `side_effects`)"
STEP_ID = "the id of a step in this flow (or `end`)"

WHAT: dict[tuple[type[BaseModel] | None, str], str] = {
    (None, "id"): AN_ID,
    (None, "en"): "English text",
    (None, "sv"): "Swedish text",
    (None, "title"): WORDS,
    (None, "description"): WORDS,
    (None, "done"): WORDS,
    (None, "say"): WORDS,
    (None, "why"): WORDS,
    (None, "suggest"): WORDS,
    (None, "summary_label"): WORDS,
    (None, "min_label"): WORDS,
    (None, "max_label"): WORDS,
    (None, "intro"): WORDS,
    (None, "ask"): WORDS,
    (None, "steps"): "a list of steps, each with an `id`, a `type` and what to `say`",
    (None, "sections"): "a list of sections, each with an `id` and a `title`",
    (None, "sources"): "a list of texts",
    (None, "type"): "one of: " + ", ".join(kind.value for kind in StepType),
    (None, "options"): "a list of choices, each with an `id` and its words (`en:`, `sv:`)",
    (None, "options_from"): "a list of step ids",
    (None, "next"): "a step id, or a list of rules, each with `go:` and perhaps `when:`",
    (None, "repeat"): '`ask:` (the words for "add another?") and perhaps `max:`',
    (None, "summary"): "the id of a section in summary/sections.yaml",
    (None, "required"): YES_OR_NO,
    (None, "wait"): YES_OR_NO,
    (None, "can_say_none"): YES_OR_NO,
    (None, "menu"): YES_OR_NO,
    (None, "answered"): YES_OR_NO,
    (None, "max_length"): WHOLE_NUMBER,
    (None, "min"): WHOLE_NUMBER,
    (None, "max"): WHOLE_NUMBER,
    (None, "max_picks"): WHOLE_NUMBER,
    (None, "menu_order"): WHOLE_NUMBER,
    (None, "at_least"): WHOLE_NUMBER,
    (None, "at_most"): WHOLE_NUMBER,
    (Step, "when"): "one of: future, past, any",
    (Rule, "when"): "a condition, or a list of conditions, each naming a `step`",
    (Rule, "go"): STEP_ID,
    (Condition, "step"): "the id of an earlier step",
    (Condition, "is"): "an option id (or yes or no)",
    (Condition, "is_not"): "an option id (or yes or no)",
    (Condition, "has"): "an option id",
}

NOUN: dict[type[BaseModel], str] = {
    Flow: "a flow",
    Step: "a step",
    Option: "an option",
    Rule: "a rule",
    Condition: "a condition",
    Repeat: "`repeat`",
    Text: "a text",
}

SHAPE: dict[type[BaseModel], str] = {
    Flow: "one flow, with `id`, `title`, `description` and `steps`",
    Step: "a step, with an `id`, a `type` and what to `say`",
    Option: "a choice, with an `id` and its words (`en:`, `sv:`)",
    Rule: "a rule, with `go:` and perhaps `when:`",
    Condition: "a condition, naming a `step` and one of `is`, `is_not`, `has`, `at_least`, `at_most`, `answered`",
    Repeat: '`ask:` (the words for "add another?") and perhaps `max:`',
    Text: WORDS,
}

TYPE_ERRORS = frozenset(
    {
        "string_type",
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "bool_type",
        "bool_parsing",
        "list_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "enum",
        "literal_error",
        "string_pattern_mismatch",
    }
)


def explain(data: Any, error: ValidationError, model: type[BaseModel]) -> list[tuple[str | None, str]]:
    """(step id or None, sentence) for each thing wrong with ``data``, validated as ``model``.

    Steps are named by their id (or ``#3`` for the third, if it has none)."""
    found = [_Where.of(item, data, model) for item in error.errors()]
    out: list[tuple[str | None, str]] = []
    for where in found:
        if where.kind in TYPE_ERRORS and any(other.deeper_than(where) for other in found):
            # One member of a union did not fit at all (``next: [rules]`` is not a
            # step id); the member that nearly fitted says what is really wrong.
            continue
        said = (where.step, where.sentence())
        if said not in out:
            out.append(said)
    return out


class _Where:
    """One pydantic error, its location read through the models."""

    def __init__(
        self,
        item: Any,
        step: str | None,
        path: list[str | int],
        model: type[BaseModel] | None,
        container: type[BaseModel] | None,
        unknown: Any,
    ) -> None:
        self.item = item
        self.kind: str = item["type"]
        self.step = step
        self.path = path
        """Field names and list positions below the step (or the file), without pydantic's markers."""
        self.model = model
        """The model the last field belongs to (or, with no field, the model that failed)."""
        self.container = container
        """The model the location leads into (for an unknown field: the one that does not have it)."""
        self.unknown = unknown
        """For an unknown field: its name as written."""

    @classmethod
    def of(cls, item: Any, data: Any, model: type[BaseModel]) -> _Where:
        location = list(item["loc"])
        step = None
        if model is Flow and len(location) >= 2 and location[0] == "steps" and isinstance(location[1], int):
            step = _step_name(data, location[1])
            location, model = location[2:], Step
        unknown = location.pop() if item["type"] == "extra_forbidden" and location else None
        path: list[str | int] = []
        current: type[BaseModel] | None = model
        owner: type[BaseModel] | None = model
        for part in location:
            if isinstance(part, int):
                path.append(part)
                continue
            field = _field(current, part)
            if field is None:
                continue  # a union member's name or a validator's: not the author's words
            path.append(part)
            owner = current
            current = _nested_model(current.model_fields[field].annotation) if current else None
        model_of_last = owner if path and isinstance(path[-1], str) else current
        return cls(item, step, path, model_of_last, current, unknown)

    def deeper_than(self, other: _Where) -> bool:
        return (
            self.step == other.step and len(self.path) > len(other.path) and self.path[: len(other.path)] == other.path
        )

    def sentence(self) -> str:
        item, kind = self.item, self.kind
        fields = [part for part in self.path if isinstance(part, str)]
        name = fields[-1] if fields and isinstance(self.path[-1], str) else None
        within = _within(self.path if name is None else self.path[:-1])
        prefix = f"in {within}, " if within else ""
        if kind == "extra_forbidden":
            within = _within(self.path)
            prefix = f"in {within}, " if within else ""
            container = self.container
            noun = NOUN.get(container) if container else None
            sentence = (
                f"`{self.unknown}` is not something {noun} can have"
                if noun
                else f"`{self.unknown}` is not a known name here"
            )
            allowed = _allowed(container)
            close = difflib.get_close_matches(str(self.unknown), allowed, n=1)
            if close:
                sentence += f" (did you mean `{close[0]}`?)"
            elif container is Text:
                sentence += " (write `en:` for English and `sv:` for Swedish)"
            return prefix + sentence
        if kind == "value_error":
            message = str(item["msg"]).removeprefix("Value error, ")
            return prefix + (f"`{name}`: {message}" if name else message)
        if name is None:
            # The whole thing (the file, a step, an option...) is the wrong shape.
            shape = SHAPE.get(self.model, "") if self.model else ""
            if kind in TYPE_ERRORS and shape:
                thing = "this file" if not self.path and self.step is None else "this"
                return prefix + f"{thing} must be {shape}"
            return prefix + str(item["msg"])
        what = _what(self.model, name)
        given = item.get("input")
        if kind == "missing":
            return prefix + (f"`{name}` is missing: it must be {what}" if what else f"`{name}` is missing")
        if kind in TYPE_ERRORS:
            shown = f" (not {_shown(given)})" if _shown(given) else ""
            return prefix + (f"`{name}` must be {what}{shown}" if what else f"`{name}` {item['msg'].lower()}")
        ctx = item.get("ctx") or {}
        if kind == "string_too_long":
            return prefix + f"`{name}` is {len(str(given))} characters; keep it to {ctx.get('max_length')}"
        if kind in ("greater_than_equal", "greater_than"):
            return prefix + f"`{name}` must be at least {ctx.get('ge', ctx.get('gt'))} (not {given})"
        if kind in ("less_than_equal", "less_than"):
            return prefix + f"`{name}` must be at most {ctx.get('le', ctx.get('lt'))} (not {given})"
        if kind == "too_short":
            least = ctx.get("min_length", 1)
            return prefix + f"`{name}` needs at least {least} {'item' if least == 1 else 'items'}"
        return prefix + f"`{name}`: {item['msg']}"


def _step_name(data: Any, index: int) -> str:
    try:
        step_id = data["steps"][index].get("id")
    except (KeyError, IndexError, TypeError, AttributeError):
        step_id = None
    return str(step_id) if isinstance(step_id, str) and step_id else f"#{index + 1}"


def _field(model: type[BaseModel] | None, part: str) -> str | None:
    """The field of ``model`` that ``part`` (a name or an alias) names, or None."""
    if model is None:
        return None
    for name, info in model.model_fields.items():
        if part in (name, info.alias):
            return name
    return None


def _allowed(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, looking inside list[...], X | None and Annotated[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return None
    for argument in typing.get_args(annotation):
        found = _nested_model(argument)
        if found is not None:
            return found
    return None


def _what(model: type[BaseModel] | None, name: str) -> str | None:
    return WHAT.get((model, name)) or WHAT.get((None, name))


def _within(path: list[str | int]) -> str:
    """``["options", 0]`` -> "`options`, number 1"; ``["next", 0, "when", 1]`` -> "`next`, number 1, `when`, number 2"."""
    words = []
    for part in path:
        words.append(f"number {part + 1}" if isinstance(part, int) else f"`{part}`")
    return ", ".join(words)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a group of `key: value` lines"
    return ""
