"""The shape of a flow file, as pydantic models.

Flow files are written by people who are not programmers (service users and
nurses co-producing content), so the format stays flat: a flow is a list of
steps, each step has a ``type`` and a few plainly named fields. Validation
here catches mistakes a YAML parser cannot (an option without an id, a scale
whose ends are swapped); ``flows.check`` adds the checks that need the whole
flow (unknown step references, unreachable steps, missing translations).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

LANGUAGES: tuple[str, ...] = ("en", "sv")
"""Languages the companion speaks. ``en`` is the fallback for missing text."""

NONE_OPTION = "none"
"""The option id of "None of these" on a checklist with ``can_say_none``."""

END = "end"
"""The step id that means "the flow is finished" in ``next`` and ``go``."""

_ID = r"^[a-z][a-z0-9_]*$"


def _text_from_yaml(value: Any) -> Any:
    """Let authors write ``say: Hello`` as shorthand for English-only text."""
    if isinstance(value, str):
        return {"en": value}
    return value


class Text(BaseModel):
    """Words a person reads, per language. English is required and is the fallback."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str
    sv: str | None = None

    def get(self, language: str) -> str:
        value = getattr(self, language, None) if language in LANGUAGES else None
        return value or self.en

    def translations(self) -> dict[str, str | None]:
        return {language: getattr(self, language) for language in LANGUAGES}


LocalText = Annotated[Text, BeforeValidator(_text_from_yaml)]


class StepType(StrEnum):
    message = "message"
    text = "text"
    choice = "choice"
    checklist = "checklist"
    yes_no = "yes_no"
    scale = "scale"
    date = "date"
    time = "time"


class Option(BaseModel):
    """One button. ``id`` is what is saved; the label is what is shown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=_ID, max_length=24)]
    en: str
    sv: str | None = None
    in_full: LocalText | None = None
    """The whole wording, when the button says it shorter (a published question too long
    for a button): printed on the summary, and offered in full where earlier answers are."""

    def get(self, language: str) -> str:
        value = self.sv if language == "sv" else None
        return value or self.en

    def words(self, language: str) -> str:
        """The option as printed and quoted: its whole wording if it has one, else its label."""
        return self.in_full.get(language) if self.in_full is not None else self.get(language)

    def translations(self) -> dict[str, str | None]:
        return {language: getattr(self, language) for language in LANGUAGES}


class Condition(BaseModel):
    """A test on an earlier answer, used by ``next`` rules.

    Exactly one of the comparisons is given. ``is`` compares a choice or a
    yes/no answer; ``has`` asks whether a checklist includes an option;
    ``at_least`` / ``at_most`` compare a scale; ``answered`` is true when the
    step has an answer at all (it was not skipped).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    step: str
    is_: str | None = Field(default=None, alias="is")
    is_not: str | None = None
    has: str | None = None
    at_least: int | None = None
    at_most: int | None = None
    answered: bool | None = None

    @model_validator(mode="after")
    def _one_comparison(self) -> Condition:
        given = [
            name
            for name in ("is_", "is_not", "has", "at_least", "at_most", "answered")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError("a condition needs exactly one of: is, is_not, has, at_least, at_most, answered")
        return self

    def holds(self, answers: dict[str, Any]) -> bool:
        value = answers.get(self.step)
        if self.answered is not None:
            return (value is not None) == self.answered
        if value is None:
            return False
        if self.is_ is not None:
            return str(value) == self.is_
        if self.is_not is not None:
            return str(value) != self.is_not
        if self.has is not None:
            return isinstance(value, list) and self.has in value
        if not isinstance(value, int):
            return False
        if self.at_least is not None:
            return value >= self.at_least
        return self.at_most is not None and value <= self.at_most


class Rule(BaseModel):
    """``go`` to a step, ``when`` all conditions hold (no ``when``: always)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    go: str
    when: list[Condition] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _single_condition(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("when"), dict):
            data = {**data, "when": [data["when"]]}
        return data


class Repeat(BaseModel):
    """Ask the same question again while the person says yes ("add another?")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ask: LocalText
    max: Annotated[int, Field(ge=2, le=50)] = 10


class Step(BaseModel):
    """One message or question. Which fields apply depends on ``type``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=_ID, max_length=32)]
    type: StepType
    say: LocalText
    why: LocalText | None = None
    """A short "why we ask" note, shown on request."""
    required: bool = False
    summary: str | None = None
    """The summary section this answer belongs in (an id from content/summary)."""
    summary_label: LocalText | None = None
    """How the answer is introduced in the summary; defaults to a short form of ``say``."""
    next: str | list[Rule] | None = None
    """The following step: a step id, or rules tried in order. Default: the next step in the file."""

    # message
    wait: bool = False
    """For a message: wait for a "Next" button before going on (paces teaching)."""
    stop_reminder: bool = False
    """For a message: it reminds the person not to stop or change medicine suddenly without
    their prescriber. The reminder is given at most once a day (wherever it comes up: any flow,
    or a message in which they say they stopped); after that the step says ``reminded``."""
    reminded: LocalText | None = None
    """What a ``stop_reminder`` message says instead once the person has had the reminder that day."""
    # text
    max_length: Annotated[int, Field(ge=1, le=3000)] = 500
    suggest: LocalText | None = None
    """For text: a ready-made answer (may quote earlier answers) the person can keep or rewrite."""
    repeat: Repeat | None = None
    can_say_none: bool = False
    """For text: typing "no", "none" or "nothing" (or "nej", "inget", "ingenting") means there is
    nothing to add, so it is not saved as an answer. For questions worded "Is there …?".
    For a checklist: its option ``none`` ("None of these") stands alone. Ticking it unticks the
    others and ticking another unticks it, so "none" is an answer, told apart from a skip."""
    # choice / checklist
    options: list[Option] = Field(default_factory=list)
    options_from: list[str] = Field(default_factory=list)
    """For checklist/choice: also offer the answers given at these earlier steps."""
    max_picks: Annotated[int, Field(ge=1)] | None = None
    # scale
    min: int = 0
    max: int = 10
    min_label: LocalText | None = None
    max_label: LocalText | None = None
    # date
    when: Literal["future", "past", "any"] = "any"

    @model_validator(mode="after")
    def _fields_fit_type(self) -> Step:
        kind = self.type
        if kind in (StepType.choice, StepType.checklist):
            if not self.options and not self.options_from:
                raise ValueError(f"a {kind.value} step needs options (or options_from)")
            ids = [option.id for option in self.options]
            if len(ids) != len(set(ids)):
                raise ValueError("option ids must be different from each other")
        elif self.options or self.options_from:
            raise ValueError(f"a {kind.value} step cannot have options")
        if kind is StepType.scale and not self.min < self.max:
            raise ValueError("a scale needs min smaller than max")
        if kind is StepType.scale and self.max - self.min > 10:
            raise ValueError("a scale can have at most 11 points (one row of buttons)")
        if self.repeat is not None and kind is not StepType.text:
            raise ValueError("only text steps can repeat")
        if self.can_say_none and kind not in (StepType.text, StepType.checklist):
            raise ValueError("only text and checklist steps can use can_say_none")
        if self.can_say_none and kind is StepType.checklist and NONE_OPTION not in {o.id for o in self.options}:
            raise ValueError(
                f"a checklist with can_say_none needs an option with id '{NONE_OPTION}' (\"None of these\")"
            )
        if self.suggest is not None and kind is not StepType.text:
            raise ValueError("only text steps can suggest an answer")
        if self.max_picks is not None and kind is not StepType.checklist:
            raise ValueError("max_picks is only for checklists")
        if self.stop_reminder and kind is not StepType.message:
            raise ValueError("only a message can be a stop_reminder")
        if self.stop_reminder and self.reminded is None:
            raise ValueError("a stop_reminder message needs 'reminded': what it says once the person has been told")
        if self.reminded is not None and not self.stop_reminder:
            raise ValueError("'reminded' is only for a message with stop_reminder: true")
        if kind is StepType.message and self.required:
            raise ValueError("a message cannot be required")
        return self

    @property
    def is_question(self) -> bool:
        return self.type is not StepType.message

    def next_rules(self, following: str) -> list[Rule]:
        """The rules in order, ending with an unconditional fallback."""
        if self.next is None:
            return [Rule(go=following)]
        if isinstance(self.next, str):
            return [Rule(go=self.next)]
        rules = list(self.next)
        if not rules or rules[-1].when:
            rules.append(Rule(go=following))
        return rules


class Flow(BaseModel):
    """A scripted conversation: one YAML file under content/flows/."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=_ID, max_length=32)]
    title: LocalText
    description: LocalText
    sources: list[str] = Field(default_factory=list)
    """What the flow's words draw on (tools, papers, projects), one line each, for the clinical
    reviewer (docs/content-review.md). A flow on the menu must name at least one (flows/check.py)."""
    menu_order: int = 100
    menu: bool = True
    """False for flows the companion offers at a moment of its own (after a group
    session, during a review with a care coordinator), not in the menu."""
    for_everyone: bool = True
    """False for a menu part only some people need (getting ready for a SIP meeting): the
    summary's "What's missing?" does not suggest it to everyone who has not done it."""
    steps: Annotated[list[Step], Field(min_length=1)]
    done: LocalText | None = None
    """Said when the flow is finished."""

    _index: dict[str, Step] = PrivateAttr(default_factory=dict)
    _order: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _unique_step_ids(self) -> Flow:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step id '{step.id}' is used twice")
            if step.id == END:
                raise ValueError(f"'{END}' is reserved for the end of the flow")
            seen.add(step.id)
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._index = {step.id: step for step in self.steps}
        self._order = [step.id for step in self.steps]

    def step(self, step_id: str) -> Step:
        return self._index[step_id]

    def has_step(self, step_id: str) -> bool:
        return step_id in self._index

    def following(self, step_id: str) -> str:
        """The step after ``step_id`` in file order, or END."""
        index = self._order.index(step_id)
        return self._order[index + 1] if index + 1 < len(self._order) else END


QUOTE = re.compile(r"\{(?:([a-z][a-z0-9_]*)\.)?([a-z][a-z0-9_]*)\}")
"""``{step_id}`` quotes the answer given at that step of this flow;
``{flow_id.step_id}`` quotes the person's latest finished answer in another flow."""


def quoted_flows(flow: Flow) -> set[str]:
    """Other flows whose answers this flow quotes (so a turn loads only those)."""
    found: set[str] = set()
    for step in flow.steps:
        for text in (step.say, step.suggest, step.repeat.ask if step.repeat else None):
            for value in text.translations().values() if text else ():
                found.update(other for other, _ in QUOTE.findall(value or "") if other and other != flow.id)
    for value in flow.done.translations().values() if flow.done else ():
        found.update(other for other, _ in QUOTE.findall(value or "") if other and other != flow.id)
    return found
