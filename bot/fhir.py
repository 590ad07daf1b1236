"""FHIR R4B export: a Questionnaire per flow and a QuestionnaireResponse per completed run.

R4 (UK Core) is not made yet: the installed fhir.resources 8 validates R5, R4B and STU3 only.

So a trust can bring a person's answers into an electronic record, the export
uses the standard resources rather than our own format. Questionnaires are
generated from the flow content (English text, Swedish as the standard
translation extension), so they never drift from what people were asked.
Everything is built as plain data and validated by the ``fhir.resources``
models (``fhir.resources.R4B``); the result is a ``collection`` Bundle.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
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

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
PERSONNUMMER = "http://electronichealth.se/identifier/personnummer"
"""The identifier systems of an NHS number (UK Core) and a Swedish personnummer."""
XHTML = "http://www.w3.org/1999/xhtml"


@dataclass(frozen=True, slots=True)
class Filing:
    """What lets a record system file the export: given at export time and never stored.

    ``base_url``: the organisation's FHIR base; each Questionnaire's canonical URL
    is ``<base>/Questionnaire/<flow>`` with a version, and each response points
    at that exact version. ``patient``: (system, value), the person's NHS number
    or personnummer, as the response's subject and source (they gave the
    answers). ``author``: who made the record (the organisation's companion)."""

    base_url: str | None = None
    patient: tuple[str, str] | None = None
    author: str | None = None


def questionnaire_version() -> str:
    """The companion's version: the questions are its content, so they change with it."""
    try:
        return version("sdm-companion")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0"


def canonical(flow_id: str, filing: Filing | None = None) -> str:
    """A flow's Questionnaire URL: under the organisation's base, else a URN."""
    if filing is not None and filing.base_url:
        return f"{filing.base_url.rstrip('/')}/Questionnaire/{_fhir_id(flow_id)}"
    return CANONICAL + flow_id


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


def questionnaire(flow: Flow, filing: Filing | None = None) -> dict[str, Any]:
    """One flow as a FHIR Questionnaire (plain JSON-ready data), with a narrative a person can read."""
    narrative = "".join(f"<p>{html.escape(text)}</p>" for text in (flow.title.en, flow.description.en) if text)
    return {
        "resourceType": "Questionnaire",
        "id": _fhir_id(flow.id),
        "text": {"status": "generated", "div": f'<div xmlns="{XHTML}">{narrative}</div>'},
        "url": canonical(flow.id, filing),
        "version": questionnaire_version(),
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
    engine: Engine,
    flow: Flow,
    run: RunRecord,
    answers: dict[str, Any],
    person: PersonRecord,
    filing: Filing | None = None,
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
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"run-{run.id}",
        "questionnaire": canonical(flow.id, filing)
        + (f"|{questionnaire_version()}" if filing is not None and filing.base_url else ""),
        "status": "completed",
        "language": person.language,
        "authored": _instant(run.completed_at or run.updated_at),
        "item": items or None,
    }
    if filing is not None and filing.patient is not None:
        system, value = filing.patient
        patient = {"type": "Patient", "identifier": {"system": system, "value": value}}
        resource["subject"] = patient
        resource["source"] = patient  # the person answered the questions themselves
    if filing is not None and filing.author:
        resource["author"] = {"type": "Device", "display": filing.author}
    return resource


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


def bundle(
    engine: Engine,
    person: PersonRecord,
    runs: list[RunRecord],
    answers: dict[int, dict[str, Any]],
    filing: Filing | None = None,
) -> Bundle:
    """Questionnaires for every flow and a response per completed run, validated."""
    flows = engine.catalog.ordered_flows()
    entries: list[dict[str, Any]] = [
        {"fullUrl": canonical(flow.id, filing), "resource": questionnaire(flow, filing)} for flow in flows
    ]
    for run in runs:
        flow = engine.catalog.flows.get(run.flow_id)
        if flow is None or run.status != COMPLETED or flow.id in SERVICE_ONLY:
            continue  # CollaboRATE answers are counted for the service only, never put on a record
        entries.append(
            {
                "fullUrl": f"urn:sdm-companion:response:{run.id}",
                "resource": response(engine, flow, run, answers.get(run.id, {}), person, filing),
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


async def export_fhir(storage: Storage, engine: Engine, person_id: int, filing: Filing | None = None) -> Bundle:
    """Everything the person completed, as a validated FHIR R4B Bundle (LookupError if unknown)."""

    def read(tx: Transaction) -> tuple[PersonRecord, list[RunRecord], dict[int, dict[str, Any]]]:
        person = tx.person_by_id(person_id)
        if person is None:
            raise LookupError(f"no person with id {person_id}")
        runs = [run for run in tx.runs(person_id) if run.status == COMPLETED]
        by_run = tx.answers(run.id for run in runs)
        return person, runs, {run_id: {k: v for k, (v, _) in rows.items()} for run_id, rows in by_run.items()}

    person, runs, answers = await storage.run(read)
    return bundle(engine, person, runs, answers, filing)


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


def nhs_number(text: str) -> str:
    """Ten digits whose last is the modulus-11 check digit (spaces allowed); ValueError otherwise.

    Checked because a mistyped number would file a person's answers in someone else's record."""
    digits = "".join(text.split())
    if len(digits) != 10 or not digits.isdigit():
        raise ValueError("an NHS number has 10 digits")
    check = 11 - sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        raise ValueError("that NHS number's check digit is wrong: is it typed right?")
    return digits


def personnummer(text: str) -> str:
    """Twelve digits, YYYYMMDDNNNC, whose last passes the Luhn check; ValueError otherwise."""
    digits = text.replace("-", "").replace("+", "").replace(" ", "")
    if len(digits) != 12 or not digits.isdigit():
        raise ValueError("write the personnummer with 12 digits: YYYYMMDD-NNNN")
    total = 0
    for index, digit in enumerate(digits[2:11]):
        product = int(digit) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    if (10 - total % 10) % 10 != int(digits[11]):
        raise ValueError("that personnummer's check digit is wrong: is it typed right?")
    return digits
