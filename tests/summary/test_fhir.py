"""The FHIR R4B export validates with fhir.resources and survives a JSON round trip."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from bot.fhir import CANONICAL, export_fhir, questionnaire
from bot.services.conversation import Companion, Who
from flows.engine import Engine
from tests.summary.conftest import play
from tests.summary.people import TYPICAL


async def test_export_validates_and_round_trips(s_companion: Companion, s_engine: Engine) -> None:
    who = Who("console", "fhir")
    person = await s_companion.join(who, "sv")
    for flow_id, plan in TYPICAL["sv"].items():
        await play(s_companion, who, flow_id, plan)
    await s_companion.open(who, "me_test")  # in progress: not exported as a response

    exported = await export_fhir(s_companion.storage, s_engine, person.id)
    again = Bundle.model_validate_json(exported.model_dump_json())
    assert again == exported
    assert json.loads(again.model_dump_json()) == json.loads(exported.model_dump_json())

    resources = [entry.resource for entry in exported.entry]
    questionnaires = [r for r in resources if isinstance(r, Questionnaire)]
    responses = [r for r in resources if isinstance(r, QuestionnaireResponse)]
    assert {q.url for q in questionnaires} == {CANONICAL + flow_id for flow_id in s_engine.catalog.flows}
    assert len(responses) == 4 and all(r.status == "completed" for r in responses)

    by_flow = {r.questionnaire: r for r in responses}
    well = {item.linkId: item for item in by_flow[CANONICAL + "staying_well"].item}
    assert well["works"].answer[0].valueInteger == 6
    assert well["in_the_way"].answer[0].valueBoolean is False
    assert [a.valueCoding.code for a in well["side_effects"].answer] == ["tired", "restless"]
    assert well["side_effects"].answer[0].valueCoding.display == "Trötthet"
    assert well["own_help"].answer[0].valueString == "Laga mat på söndagar"
    asking = {item.linkId: item for item in by_flow[CANONICAL + "asking"].item}
    top = asking["top_three"].answer
    assert top[0].valueCoding.code == "support"
    assert top[1].valueString == "Kan jag ta den på kvällen i stället?"

    # Every answered linkId exists in its Questionnaire.
    links = {q.url: {item.linkId for item in q.item} for q in questionnaires}
    for r in responses:
        assert {item.linkId for item in r.item} <= links[r.questionnaire]


def test_questionnaire_from_content_carries_types_and_swedish(s_engine: Engine) -> None:
    data = questionnaire(s_engine.catalog.flows["staying_well"])
    model = Questionnaire.model_validate(data)
    items = {item.linkId: item for item in model.item}
    assert items["helps"].type == "choice" and items["helps"].repeats is True
    assert items["works"].type == "integer"
    assert items["own_help"].repeats is True and items["own_help"].maxLength == 200
    translation = data["item"][0]["_text"]["extension"][0]
    assert translation["extension"][1]["valueString"].startswith("Vad hjälper dig")
    top = {
        item.linkId: item for item in Questionnaire.model_validate(questionnaire(s_engine.catalog.flows["asking"])).item
    }
    assert top["top_three"].type == "open-choice"


def test_invalid_resources_are_refused() -> None:
    with pytest.raises(ValidationError):
        QuestionnaireResponse.model_validate(
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [{"text": "no linkId"}]}
        )


async def test_shipped_content_exports_valid_fhir(companion: Companion, engine: Engine) -> None:
    who = Who("console", "fhir-shipped")
    person = await companion.join(who, "en")
    exported = await export_fhir(companion.storage, engine, person.id)
    assert Bundle.model_validate_json(exported.model_dump_json()) == exported
    assert len(exported.entry) == len(engine.catalog.flows)
