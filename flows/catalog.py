"""Everything the companion can say, gathered from content documents.

A :class:`Catalog` is built from already-parsed documents (file name -> data),
so this module stays free of I/O; ``bot.content`` reads the files. Building a
catalog validates every document and raises :class:`ContentError` listing
every problem found, each naming its file and step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.explain import explain
from flows.schema import Flow, LocalText
from flows.texts import UiTexts, is_plural


class SummarySection(BaseModel):
    """A section of the printed summary, declared in content/summary/sections.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: LocalText
    intro: LocalText | None = None


class SummaryLayout(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sections: list[SummarySection] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the content, said so an author can find and fix it."""

    file: str
    step: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f", step '{self.step}'" if self.step else "")
        return f"{where}: {self.message}"


class ContentError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(slots=True)
class Documents:
    """Parsed content files, keyed by their path relative to the content folder."""

    flows: dict[str, Any] = field(default_factory=dict)
    ui: dict[str, Any] = field(default_factory=dict)
    """Language -> the parsed ui/<language>.yaml."""
    summary: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Other documents (crisis lexicon, summary wording) for the modules that own them."""
    problems: list[Problem] = field(default_factory=list)
    """Files that could not be parsed at all."""


@dataclass(frozen=True, slots=True)
class Catalog:
    flows: Mapping[str, Flow]
    ui: UiTexts
    summary: SummaryLayout
    files: Mapping[str, str]
    """Flow id -> the file it came from, for error messages."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, documents: Documents) -> Catalog:
        problems = list(documents.problems)
        flows: dict[str, Flow] = {}
        files: dict[str, str] = {}
        for name, data in sorted(documents.flows.items()):
            try:
                flow = Flow.model_validate(data)
            except ValidationError as error:
                problems.extend(explain_errors(name, data, error, Flow))
                continue
            if flow.id in flows:
                problems.append(Problem(name, None, f"flow id '{flow.id}' is also used by {files[flow.id]}"))
                continue
            flows[flow.id] = flow
            files[flow.id] = name
        ui: dict[str, dict[str, str]] = {}
        for language, data in documents.ui.items():
            if not isinstance(data, dict) or not all(
                isinstance(k, str) and (isinstance(v, str) or is_plural(v)) for k, v in data.items()
            ):
                problems.append(
                    Problem(
                        f"ui/{language}.yaml",
                        None,
                        "must be a list of 'key: text' lines (a text that counts may give one: and other: forms)",
                    )
                )
                continue
            ui[language] = data
        if "en" not in ui:
            problems.append(Problem("ui/en.yaml", None, "the English interface texts are missing"))
        try:
            summary = SummaryLayout.model_validate(documents.summary or {})
        except ValidationError as error:
            problems.extend(explain_errors("summary/sections.yaml", documents.summary, error, SummaryLayout))
            summary = SummaryLayout()
        if problems:
            raise ContentError(problems)
        return cls(flows=flows, ui=UiTexts(ui), summary=summary, files=files, extra=dict(documents.extra))

    def ordered_flows(self) -> list[Flow]:
        return sorted(self.flows.values(), key=lambda flow: (flow.menu_order, flow.id))


def explain_errors(name: str, data: Any, error: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Pydantic's errors as plain sentences naming the step id, the field and what it must be."""
    return [Problem(name, step, sentence) for step, sentence in explain(data, error, model)]
