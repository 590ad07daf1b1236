"""The summary's own content file, content/summary/layout.yaml.

sections.yaml lists the sections; layout.yaml says the things that make a
printed page read like a clinical letter and that a flow file cannot say by
itself: what goes in the top third of page 1 ("at a glance"), which yes/no
answers are printed as one sentence instead of a score (the SURE check), where
the appointment is printed, which answer chooses large print, lines to fill in
on paper, and which answers are kept in the companion rather than printed
(the page says so). Keeping this in content means no flow or section id is
written in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.catalog import Catalog, Problem, explain_errors
from flows.schema import LANGUAGES, LocalText, StepType

LAYOUT_FILE = "summary/layout.yaml"


class StepRef(str):
    """``flow.step``, as written in layout.yaml."""

    @property
    def flow(self) -> str:
        return self.split(".", 1)[0]

    @property
    def step(self) -> str:
        return self.split(".", 1)[1] if "." in self else ""


_REF = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
_ID = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Together(_Strict):
    """Yes/no answers printed as one sentence: ready, not ready yet, or not all answered.

    Only a "no" counts against being ready: a skipped question is not a "no".
    """

    section: str
    steps: Annotated[list[_REF], Field(min_length=1)]
    ready_when_yes: Annotated[int, Field(ge=1)]
    label: LocalText
    ready: LocalText
    not_ready: LocalText
    not_all_answered: LocalText | None = None
    """Said when nothing was answered "no" but some questions were skipped."""

    def refs(self) -> list[StepRef]:
        return [StepRef(ref) for ref in self.steps]


class GlanceItem(_Strict):
    """One line of the top third of page 1, from one or more steps."""

    label: LocalText
    steps: list[_REF] = Field(default_factory=list)
    """Answers shown here (moved from their section). For a ``together`` group, its sentence."""
    marks: list[_ID] = Field(default_factory=list)
    """Answers marked like this (for example a medicine the person says they stopped), as written."""
    length: Annotated[int, Field(ge=20)] = 300
    """Longest text shown here; longer answers are shortened here and printed in full in their section."""

    def refs(self) -> list[StepRef]:
        return [StepRef(ref) for ref in self.steps]


class Glance(_Strict):
    title: LocalText
    items: list[GlanceItem] = Field(default_factory=list)
    in_full: LocalText
    """Said after a shortened answer, with {section}: where the whole of it is printed."""


class Appointment(_Strict):
    """The next appointment, printed under the heading."""

    date: _REF
    time: _REF | None = None
    with_whom: _REF | None = None
    note: _REF | None = None
    label: LocalText
    """With {when}: the date (and time)."""
    at_time: LocalText
    """With {date} and {time}."""
    with_label: LocalText
    note_label: LocalText
    passed: LocalText
    """Added when the date is already over."""


class FillInLayout(_Strict):
    title: LocalText
    intro: LocalText | None = None
    lines: list[LocalText] = Field(default_factory=list)


class AfterSection(_Strict):
    """Lines to fill in on paper at the end of one section (did what we agreed happen?)."""

    section: str
    lines: list[LocalText] = Field(default_factory=list)


class Elsewhere(_Strict):
    """Answers not printed on the summary; the page says where they are."""

    note: LocalText
    steps: list[_REF] = Field(default_factory=list)
    flows: list[_ID] = Field(default_factory=list)

    def refs(self) -> list[StepRef]:
        return [StepRef(ref) for ref in self.steps]


class SummaryRules(_Strict):
    first: list[_REF] = Field(default_factory=list)
    together: list[Together] = Field(default_factory=list)
    at_a_glance: Glance | None = None
    appointment: Appointment | None = None
    name: _REF | None = None
    """The step whose answer is the name at the top (copied onto the person's record)."""
    large_print: _REF | None = None
    """A yes/no step: "yes" prints the summary in large type."""
    after_section: list[AfterSection] = Field(default_factory=list)
    fill_in: FillInLayout | None = None
    elsewhere: Elsewhere | None = None

    def first_refs(self) -> list[StepRef]:
        return [StepRef(ref) for ref in self.first]

    def shown_elsewhere(self) -> set[StepRef]:
        """Steps whose answers this file places outside the sections (header, glance, print size)."""
        refs: set[StepRef] = set()
        for ref in (self.name, self.large_print):
            if ref:
                refs.add(StepRef(ref))
        if self.appointment is not None:
            appointment = self.appointment
            for ref in (appointment.date, appointment.time, appointment.with_whom, appointment.note):
                if ref:
                    refs.add(StepRef(ref))
        if self.elsewhere is not None:
            refs.update(self.elsewhere.refs())
        return refs


_cache: dict[int, tuple[Catalog, SummaryRules]] = {}


def rules_for(catalog: Catalog) -> SummaryRules:
    """The parsed layout of a catalog, parsed once per catalog (content loads once)."""
    cached = _cache.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    rules = SummaryRules.model_validate(catalog.extra.get(LAYOUT_FILE) or {})
    _cache[id(catalog)] = (catalog, rules)
    return rules


def check_layout(catalog: Catalog) -> Iterator[Problem]:
    """Content check: layout.yaml fits its format, names real steps, and is translated.

    It also checks that every answer a person gives is either printed (its step
    says ``summary:``) or placed by this file (header, large print, or the list
    of answers kept in the companion), so no answer is left off the page silently.
    """
    data: Any = catalog.extra.get(LAYOUT_FILE)
    if data is None:
        return
    try:
        rules = SummaryRules.model_validate(data)
    except ValidationError as error:
        yield from explain_errors(LAYOUT_FILE, data, error, SummaryRules)
        return
    sections = {section.id for section in catalog.summary.sections}
    for ref in rules.first_refs():
        yield from _check_ref(catalog, ref)
    for group in rules.together:
        if group.section not in sections:
            yield Problem(LAYOUT_FILE, None, f"together: no section '{group.section}' in summary/sections.yaml")
        for ref in group.refs():
            problems = list(_check_ref(catalog, ref))
            yield from problems
            if not problems and catalog.flows[ref.flow].step(ref.step).type is not StepType.yes_no:
                yield Problem(LAYOUT_FILE, None, f"together: '{ref}' is not a yes/no question")
        if group.ready_when_yes > len(group.steps):
            yield Problem(LAYOUT_FILE, None, "together: ready_when_yes is more than the number of steps")
        for name in ("label", "ready", "not_ready", "not_all_answered"):
            if getattr(group, name) is not None:
                yield from _check_translated(getattr(group, name), f"together {name}")
    texts: list[tuple[Any, str]] = []
    if rules.at_a_glance is not None:
        glance = rules.at_a_glance
        texts += [(glance.title, "at_a_glance title"), (glance.in_full, "at_a_glance in_full")]
        for item in glance.items:
            texts.append((item.label, "at_a_glance label"))
            for ref in item.refs():
                yield from _check_ref(catalog, ref)
    if rules.appointment is not None:
        appointment = rules.appointment
        for written in (appointment.date, appointment.time, appointment.with_whom, appointment.note):
            if written:
                yield from _check_ref(catalog, StepRef(written))
        for name in ("label", "at_time", "with_label", "note_label", "passed"):
            texts.append((getattr(appointment, name), f"appointment {name}"))
    for written in (rules.name, rules.large_print):
        if written:
            yield from _check_ref(catalog, StepRef(written))
    if rules.large_print:
        ref = StepRef(rules.large_print)
        flow = catalog.flows.get(ref.flow)
        if flow is not None and flow.has_step(ref.step) and flow.step(ref.step).type is not StepType.yes_no:
            yield Problem(LAYOUT_FILE, None, f"large_print: '{ref}' is not a yes/no question")
    for after in rules.after_section:
        if after.section not in sections:
            yield Problem(LAYOUT_FILE, None, f"after_section: no section '{after.section}' in summary/sections.yaml")
        texts += [(line, "after_section") for line in after.lines]
    if rules.fill_in is not None:
        texts.append((rules.fill_in.title, "fill_in"))
        texts += [(line, "fill_in") for line in rules.fill_in.lines]
        if rules.fill_in.intro is not None:
            texts.append((rules.fill_in.intro, "fill_in"))
    if rules.elsewhere is not None:
        texts.append((rules.elsewhere.note, "elsewhere note"))
        for ref in rules.elsewhere.refs():
            yield from _check_ref(catalog, ref)
        for flow_id in rules.elsewhere.flows:
            if flow_id not in catalog.flows:
                yield Problem(LAYOUT_FILE, None, f"elsewhere: there is no flow '{flow_id}'")
    for text, where in texts:
        yield from _check_translated(text, where)
    yield from _check_every_answer_placed(catalog, rules)


def unplaced_steps(catalog: Catalog, rules: SummaryRules, *, every_flow: bool = True) -> list[StepRef]:
    """Questions whose answers would be neither printed nor said to be kept elsewhere.

    With ``every_flow`` False, only flows that put some answer on the summary
    are looked at: a new flow with nothing on the summary is not a half-printed one.
    """
    placed = rules.shown_elsewhere()
    skipped_flows = set(rules.elsewhere.flows) if rules.elsewhere else set()
    out = []
    for flow in catalog.ordered_flows():
        if flow.id in skipped_flows:
            continue
        if not every_flow and not any(step.summary for step in flow.steps):
            continue
        for step in flow.steps:
            ref = StepRef(f"{flow.id}.{step.id}")
            if step.type is StepType.message or step.summary or ref in placed:
                continue
            out.append(ref)
    return out


def _check_every_answer_placed(catalog: Catalog, rules: SummaryRules) -> Iterator[Problem]:
    if rules.elsewhere is None:
        return  # a layout that does not list them makes no promise about them
    for ref in unplaced_steps(catalog, rules, every_flow=False):
        yield Problem(
            LAYOUT_FILE,
            None,
            f"'{ref}' is a question whose answer is not on the summary: give the step a summary: section, "
            "or list it under elsewhere: steps so the page says where it is kept",
        )


def _check_ref(catalog: Catalog, ref: StepRef) -> Iterator[Problem]:
    flow = catalog.flows.get(ref.flow)
    if flow is None:
        yield Problem(LAYOUT_FILE, None, f"'{ref}': there is no flow '{ref.flow}'")
    elif not flow.has_step(ref.step):
        yield Problem(LAYOUT_FILE, None, f"'{ref}': flow '{ref.flow}' has no step '{ref.step}'")


def _check_translated(text: Any, where: str) -> Iterator[Problem]:
    for language in LANGUAGES:
        if not text.translations().get(language):
            yield Problem(LAYOUT_FILE, None, f"{where}: '{text.en}' needs a translation ({language})")
