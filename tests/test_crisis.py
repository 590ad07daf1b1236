"""Crisis language: caught in English and Swedish, with misspellings and indirect phrasing,
and not raised by everyday sayings that use the same words."""

from __future__ import annotations

import pytest

from bot.content import DEFAULT_CONTENT_DIR, read_documents
from flows.catalog import Catalog
from flows.check import check_documents
from flows.crisis import REQUIRED_NUMBERS, CrisisDetector, check_crisis, fold

CRISIS = [
    # English, direct
    "I want to kill myself",
    "i'm going to kill myself tonight",
    "I have been thinking about suicide",
    "I feel suicidal",
    "I want to die",
    "i just wanna die",
    "I want to end my life",
    "I'm going to take my own life",
    "I've been self-harming again",
    "I cut myself last night",
    "I keep hurting myself",
    "I took all my pills",
    "I've taken all of my tablets",
    "I'm going to overdose",
    "I overdosed yesterday",
    "I want to hurt someone",
    "I could kill him",
    "I'm going to hang myself",
    "thinking of jumping off a bridge",
    # English, indirect
    "everyone would be better off without me",
    "I'd be better off dead",
    "there is no reason to live",
    "I have nothing to live for",
    "I don't want to be alive anymore",
    "I don't want to wake up",
    "I can't go on like this",
    "I can't take it anymore",
    "I wish I was dead",
    "I wish I had never been born",
    "I want to end it all",
    "I've been saving up my pills",
    # English, misspelt
    "i want to kil my self",
    "thinking about sucide",
    "feeling suicdal",
    "I want to kill mysefl",
    "I want to dieeee",
    "cant go on",
    "I WANT TO KILL MYSELF",
    # Swedish, direct
    "Jag vill ta livet av mig",
    "jag har självmordstankar",
    "jag tänker på självmord",
    "Jag vill dö",
    "jag vill bara dö",
    "jag skadar mig själv",
    "jag skar mig igen",
    "jag har tagit alla mina tabletter",
    "jag tänker ta en överdos",
    "jag vill skada någon",
    # Swedish, indirect
    "jag vill inte leva längre",
    "jag orkar inte leva",
    "det finns inget att leva för",
    "alla har det bättre utan mig",
    "jag vill inte finnas",
    "jag önskar att jag var död",
    "jag vill inte vakna imorgon",
    # Swedish, misspelt or without å ä ö
    "jag vill ta livet av mej",
    "sjalvmordstankar",
    "jag skadar mig sjalv",
    "jag vill do",
    "sjävlmord",
]

NOT_CRISIS = [
    "this medicine is killing my sex drive",
    "I'm dying to know what the options are",
    "my back is killing me",
    "this headache is killing me",
    "I nearly died laughing",
    "I'm bored to death in the waiting room",
    "I could kill for a cup of tea",
    "dead tired all the time",
    "the side effects are making me tired",
    "What happens if I miss a dose?",
    "Could I lower the dose?",
    "How long will I take it?",
    "I would like to stop taking it one day",
    "I killed it at work today",
    "I overdosed on chocolate at Christmas",
    "Will I die if I drink alcohol with it? I want to know",
    "My dad died last year and I still miss him",
    "I am scared to death of needles",
    "This medicine helps me sleep",
    "I want to talk about my future",
    # Swedish
    "Jag är dödstrött",
    "Den här medicinen dödar min sexlust",
    "jobbet tar livet av mig",
    "jag dog av skratt",
    "jag dör av nyfikenhet",
    "Vad händer om jag glömmer en dos?",
    "Kan jag minska dosen?",
    "jag vill leva ett bra liv",
    "jag sover dåligt och är trött",
    "jag vill prata om biverkningar",
    "dödsskönt väder idag",
]


@pytest.fixture(scope="module")
def detector(catalog: Catalog) -> CrisisDetector:
    return CrisisDetector.from_catalog(catalog, required=("en", "sv"))


@pytest.mark.parametrize("text", CRISIS)
def test_crisis_language_is_detected(detector: CrisisDetector, text: str) -> None:
    assert detector.detect(text) is not None, text


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_everyday_sayings_are_not_crisis(detector: CrisisDetector, text: str) -> None:
    found = detector.detect(text)
    assert found is None, f"{text!r} matched {found}"


def test_an_idiom_does_not_hide_a_real_crisis_in_the_same_message(detector: CrisisDetector) -> None:
    assert detector.is_crisis("I'm dying to know, because I want to die")
    assert detector.is_crisis("this medicine is killing my sex drive and I want to kill myself")


def test_cards_carry_every_crisis_number_in_both_languages(detector: CrisisDetector) -> None:
    for language in ("en", "sv"):
        for number in REQUIRED_NUMBERS:
            assert number in detector.card(language)
    assert detector.card("sv") != detector.card("en")
    assert detector.card("xx") == detector.card("en")


def test_folding() -> None:
    assert fold("Jag  KAN'T  gå—vidare!!!") == "jag kant ga vidare"
    assert fold("Dieeee") == "die"


def test_content_check_reports_a_broken_lexicon_and_wrong_examples() -> None:
    documents = read_documents(DEFAULT_CONTENT_DIR)
    assert [str(p) for p in check_documents(documents, (check_crisis,)) if "crisis" in str(p)] == []
    english = dict(documents.extra["crisis/en.yaml"])
    english["card"] = "Call someone."
    categories = dict(english["categories"])
    categories["intent"] = {
        **categories["intent"],
        "examples": ["I like apples"],
        "not_examples": ["I want to kill myself"],
    }
    english["categories"] = categories
    documents.extra["crisis/en.yaml"] = english
    del documents.extra["crisis/sv.yaml"]
    problems = [str(p) for p in check_documents(documents, (check_crisis,))]
    assert any("crisis/sv.yaml" in p and "missing" in p for p in problems)
    assert any("the card must give the number 116 123" in p for p in problems)
    assert any("'intent': the example 'I like apples' should get definite" in p for p in problems)
    assert any("'intent': the not_example 'I want to kill myself' should get less than definite" in p for p in problems)


async def test_the_console_and_every_adapter_get_the_card_through_the_service(companion) -> None:  # type: ignore[no-untyped-def]
    from bot.services.conversation import Who
    from bot.services.safety import SafetyChoice
    from flows.engine import Typed

    who = Who("console", "crisis")
    await companion.join(who)
    flow_id = companion.catalog.ordered_flows()[0].id
    opened = await companion.open(who, flow_id)
    reply = await companion.act(who, Typed("I want to kill myself"))
    assert reply.crisis and reply.messages == [companion.crisis.card("en")]
    # The flow's question waits until the person chooses to carry on.
    assert reply.prompt is None and reply.safety is not None
    assert [button.id for button in reply.safety.buttons][-2:] == [SafetyChoice.CARRY_ON, SafetyChoice.PAUSE]
    reply = await companion.answer_safety(who, SafetyChoice.CARRY_ON, reply.safety.token)
    assert reply.prompt == opened.prompt
    idle = Who("console", "idle")
    await companion.join(idle)
    # A wish to be dead gets the direct question first; "yes" brings the card.
    reply = await companion.act(idle, Typed("jag vill dö"))
    assert reply.safety is not None and reply.prompt is None
    reply = await companion.answer_safety(idle, SafetyChoice.YES, reply.safety.token)
    assert reply.crisis and reply.messages == [companion.crisis.card("en")] and reply.prompt is None
