"""The FHIR export an EHR can file: a Patient by identifier, author and source, versioned canonicals.

The identifier is given at export and never stored (tests/summary/test_cli.py
looks for it in every table after an export). A mistyped NHS number or personnummer is
refused, or the answers would be filed in someone else's record.
"""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from bot.fhir import NHS_NUMBER, Filing, export_fhir, nhs_number, personnummer, questionnaire_version
from bot.services.conversation import Companion, Who
from flows.engine import Engine
from tests.summary.conftest import play
from tests.summary.people import TYPICAL

BASE = "https://fhir.example.nhs.uk"


async def test_responses_are_linked_to_the_patient_with_author_and_source(
    s_companion: Companion, s_engine: Engine
) -> None:
    who = Who("console", "filing")
    person = await s_companion.join(who, "en")
    for flow_id, plan in TYPICAL["en"].items():
        await play(s_companion, who, flow_id, plan)
    filing = Filing(base_url=BASE + "/", patient=(NHS_NUMBER, "9434765919"), author="SDM Companion, Example Trust")
    exported = await export_fhir(s_companion.storage, s_engine, person.id, filing)
    again = Bundle.model_validate_json(exported.model_dump_json())
    resources = [entry.resource for entry in again.entry]
    questionnaires = {q.url: q for q in resources if isinstance(q, Questionnaire)}
    responses = [r for r in resources if isinstance(r, QuestionnaireResponse)]
    assert responses
    version = questionnaire_version()
    for flow_id in s_engine.catalog.flows:
        url = f"{BASE}/Questionnaire/{flow_id.replace('_', '-')}"
        assert questionnaires[url].version == version
        assert questionnaires[url].text is not None and questionnaires[url].text.status == "generated"
        assert s_engine.catalog.flows[flow_id].title.en in questionnaires[url].text.div
    for found in responses:
        assert found.subject is not None and found.subject.identifier is not None
        assert (found.subject.identifier.system, found.subject.identifier.value) == (NHS_NUMBER, "9434765919")
        assert found.source is not None and found.source.identifier.value == "9434765919"
        assert found.author is not None and found.author.display == "SDM Companion, Example Trust"
        url, _, pinned = found.questionnaire.partition("|")
        assert url in questionnaires and pinned == version


async def test_without_filing_nothing_names_a_patient(s_companion: Companion, s_engine: Engine) -> None:
    who = Who("console", "plain")
    person = await s_companion.join(who, "en")
    for flow_id, plan in TYPICAL["en"].items():
        await play(s_companion, who, flow_id, plan)
    exported = await export_fhir(s_companion.storage, s_engine, person.id)
    data = json.loads(exported.model_dump_json())
    responses = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert responses and all("subject" not in r and "source" not in r for r in responses)


def test_identifiers_are_checked() -> None:
    assert nhs_number("943 476 5919") == "9434765919"
    for wrong in ("9434765918", "94347659", "abcdefghij"):
        with pytest.raises(ValueError):
            nhs_number(wrong)
    assert personnummer("19121212-1212") == "191212121212"
    for wrong in ("19121212-1213", "121212-1212"):
        with pytest.raises(ValueError):
            personnummer(wrong)
