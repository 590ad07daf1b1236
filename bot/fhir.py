"""FHIR R4B export: a Questionnaire per flow and a QuestionnaireResponse per completed run.

So a trust can bring a person's answers into an electronic record, the export
uses the standard resources rather than our own format. Questionnaires are
generated from the flow content (English text, Swedish as the standard
translation extension), so they never drift from what people were asked.
Everything is built as plain data and validated by the ``fhir.resources``
models (``fhir.resources.R4B``); the result is a ``collection`` Bundle.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from bot.services.forms import SERVICE_ONLY
from bot.storage.repository import COMPLETED, PersonRecord, RunRecord, Storage, Transaction
from flows.engine import Engine
from flows.schema import LANGUAGES, Flow, Option, Step, StepType, Text

CANONICAL = "urn:sdm-companion:questionnaire:"
"""Base of each Questionnaire's canonical URL (a URN: the companion has no web address of its own)."""
OPTIONS_SYSTEM = "urn:sdm-companion:option:"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

_TYPES = {
    StepType.text: "text",
    StepType.choice: "choice",
    StepType.checklist: "choice",
    StepType.yes_no: "boolean",
    StepType.scale: "integer",
    StepType.date: "date",
    StepType.message: "display",
}
_TYPES.update({kind: "time" for kind in StepType if kind.value == "time"})


def questionnaire(flow: Flow) -> dict[str, Any]:
    """One flow as a FHIR Questionnaire (plain JSON-ready data)."""
    return {
        "resourceType": "Questionnaire",
        "id": _fhir_id(flow.id),
        "url": CANONICAL + flow.id,
        "name": "".join(part.capitalize() for part in flow.id.split("_")),
        "title": flow.title.en,
        "_title": _translations(flow.title),
        "status": "active",
        "description": flow.description.en,
        "language": "en",
        "item": [_item(flow, step) for step in flow.steps],
    }


def _item(flow: Flow, step: Step) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": step.id,
        "text": step.say.en,
        "_text": _translations(step.say),
        "type": _TYPES.get(step.type, "string"),
    }
    if step.type is StepType.message:
        return item
    if step.required:
        item["required"] = True
    if step.type is StepType.text:
        item["maxLength"] = step.max_length
        if step.repeat:
            item["repeats"] = True
    if step.type in (StepType.choice, StepType.checklist):
        if step.options_from:
            # Earlier answers are offered too, so free text is allowed alongside the options.
            item["type"] = "open-choice"
        if step.type is StepType.checklist:
            item["repeats"] = True
        item["answerOption"] = [
            {"valueCoding": {"system": OPTIONS_SYSTEM + flow.id, "code": option.id, "display": option.words("en")}}
            for option in _options(flow, step).values()
        ] or None
        if item["answerOption"] is None:
            del item["answerOption"]
    if step.type is StepType.scale:
        item["extension"] = [
            {"url": MIN_VALUE, "valueInteger": step.min},
            {"url": MAX_VALUE, "valueInteger": step.max},
        ]
    return item


def response(
    engine: Engine, flow: Flow, run: RunRecord, answers: dict[str, Any], person: PersonRecord
) -> dict[str, Any]:
    """One completed run as a QuestionnaireResponse, answers in the person's language."""
    items = []
    for step in flow.steps:
        value = answers.get(step.id)
        if step.type is StepType.message or value is None:
            continue
        found = _answers(engine, flow, step, value, answers, person.language)
        if found:
            items.append({"linkId": step.id, "text": step.say.get(person.language), "answer": found})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"run-{run.id}",
        "questionnaire": CANONICAL + flow.id,
        "status": "completed",
        "language": person.language,
        "authored": _instant(run.completed_at or run.updated_at),
        "item": items or None,
    }


def _answers(
    engine: Engine, flow: Flow, step: Step, value: Any, answers: dict[str, Any], language: str
) -> list[dict[str, Any]]:
    if step.type is StepType.yes_no:
        return [{"valueBoolean": value == "yes"}]
    if step.type is StepType.scale:
        return [{"valueInteger": int(value)}]
    if step.type is StepType.date:
        return [{"valueDate": str(value)}]
    if _TYPES.get(step.type) == "time":
        clock = str(value)
        return [{"valueTime": clock if clock.count(":") == 2 else clock + ":00"}]
    if step.type not in _TYPES:
        return [{"valueString": engine.describe(flow, step.id, answers, language)}]
    values = value if isinstance(value, list) else [value]
    if step.type is StepType.text:
        return [{"valueString": str(item)} for item in values if str(item).strip()]
    fixed = _options(flow, step)
    out: list[dict[str, Any]] = []
    for item in values:
        shown = engine.describe(flow, step.id, {**answers, step.id: [item]}, language)
        if item in fixed:
            out.append({"valueCoding": {"system": OPTIONS_SYSTEM + flow.id, "code": item, "display": shown}})
        elif shown.strip():
            out.append({"valueString": shown})
    return out


def bundle(engine: Engine, person: PersonRecord, runs: list[RunRecord], answers: dict[int, dict[str, Any]]) -> Bundle:
    """Questionnaires for every flow and a response per completed run, validated."""
    flows = engine.catalog.ordered_flows()
    entries: list[dict[str, Any]] = [
        {"fullUrl": CANONICAL + flow.id, "resource": questionnaire(flow)} for flow in flows
    ]
    for run in runs:
        flow = engine.catalog.flows.get(run.flow_id)
        if flow is None or run.status != COMPLETED or flow.id in SERVICE_ONLY:
            continue  # CollaboRATE answers are counted for the service only, never put on a record
        entries.append(
            {
                "fullUrl": f"urn:sdm-companion:response:{run.id}",
                "resource": response(engine, flow, run, answers.get(run.id, {}), person),
            }
        )
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": _instant(dt.datetime.now(dt.UTC)),
            "entry": entries,
        }
    )


async def export_fhir(storage: Storage, engine: Engine, person_id: int) -> Bundle:
    """Everything the person completed, as a validated FHIR R4B Bundle (LookupError if unknown)."""

    def read(tx: Transaction) -> tuple[PersonRecord, list[RunRecord], dict[int, dict[str, Any]]]:
        person = tx.person_by_id(person_id)
        if person is None:
            raise LookupError(f"no person with id {person_id}")
        runs = [run for run in tx.runs(person_id) if run.status == COMPLETED]
        by_run = tx.answers(run.id for run in runs)
        return person, runs, {run_id: {k: v for k, (v, _) in rows.items()} for run_id, rows in by_run.items()}

    person, runs, answers = await storage.run(read)
    return bundle(engine, person, runs, answers)


def _options(flow: Flow, step: Step) -> dict[str, Option]:
    """A step's own options, then those of the steps it offers answers from (they keep their ids)."""
    found = {option.id: option for option in step.options}
    for source in step.options_from:
        if flow.has_step(source):
            for option in flow.step(source).options:
                found.setdefault(option.id, option)
    return found


def _translations(text: Text) -> dict[str, Any] | None:
    extensions = [
        {
            "url": TRANSLATION,
            "extension": [{"url": "lang", "valueCode": language}, {"url": "content", "valueString": value}],
        }
        for language, value in text.translations().items()
        if language != "en" and language in LANGUAGES and value
    ]
    return {"extension": extensions} if extensions else None


def _instant(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()


def _fhir_id(value: str) -> str:
    """FHIR ids allow letters, digits, '-' and '.' only."""
    return value.replace("_", "-")
