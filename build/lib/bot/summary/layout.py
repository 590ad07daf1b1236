"""The summary's own content file, content/summary/layout.yaml.

sections.yaml lists the sections; layout.yaml says the few things that make a
printed page read well and that a flow file cannot say by itself: which
answers come first in a section (the top three questions), which yes/no
answers are printed as one sentence instead of a score (the SURE check), and
the lines to fill in during the appointment. Keeping this in content means no
flow or section id is written in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.catalog import Catalog, Problem, _explain
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


class Together(BaseModel):
    """Yes/no answers printed as one sentence: ready, or not ready yet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    section: str
    steps: Annotated[list[_REF], Field(min_length=1)]
    ready_when_yes: Annotated[int, Field(ge=1)]
    label: LocalText
    ready: LocalText
    not_ready: LocalText

    def refs(self) -> list[StepRef]:
        return [StepRef(ref) for ref in self.steps]


class FillInLayout(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: LocalText
    intro: LocalText | None = None
    lines: list[LocalText] = Field(default_factory=list)


class SummaryRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    first: list[_REF] = Field(default_factory=list)
    together: list[Together] = Field(default_factory=list)
    fill_in: FillInLayout | None = None

    def first_refs(self) -> list[StepRef]:
        return [StepRef(ref) for ref in self.first]


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
    """Content check: layout.yaml fits its format, names real steps, and is translated."""
    data: Any = catalog.extra.get(LAYOUT_FILE)
    if data is None:
        return
    try:
        rules = SummaryRules.model_validate(data)
    except ValidationError as error:
        yield from _explain(LAYOUT_FILE, data, error)
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
        for name in ("label", "ready", "not_ready"):
            yield from _check_translated(getattr(group, name), f"together {name}")
    if rules.fill_in is not None:
        texts = [rules.fill_in.title, *rules.fill_in.lines]
        if rules.fill_in.intro is not None:
            texts.append(rules.fill_in.intro)
        for text in texts:
            yield from _check_translated(text, "fill_in")


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
