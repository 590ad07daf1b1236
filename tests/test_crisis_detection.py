"""Detection in detail: tiers, negation, settings (past, questions, someone else, stories),
sentences and long messages, typing mistakes, Swedish, and stopping a medicine."""

from __future__ import annotations

import re

import pytest

from flows.catalog import Catalog
from flows.crisis import REQUIRED_NUMBERS, CrisisDetector, LexiconError, fold
from flows.crisis.lexicon import check_phrase
from flows.crisis.matching import Matcher, Source
from flows.safety import Tier


@pytest.fixture(scope="module")
def detector(catalog: Catalog) -> CrisisDetector:
    return CrisisDetector.from_catalog(catalog, required=("en", "sv"))


def tier(detector: CrisisDetector, text: str) -> Tier | None:
    return detector.assess(text).tier


DEFINITE = [
    "I want to kill myself",
    "I've been cutting again",
    "I burned my arm on purpose",
    "I took a whole box of paracetamol",
    "I've saved up my tablets for the weekend",
    "I have a plan to end it tonight",
    "my voices tell me to hurt my baby",
    "I'm going to hurt my stepdad when he gets home",
    "jag har skadat mig",
    "rösterna säger att jag ska skada mitt barn",
    "jag har tagit en massa tabletter",
    "jag tänker på självmord varje dag",
]
POSSIBLE = [
    "I wish I was dead",
    "Everyone would be better without me",
    "I just want to sleep forever",
    "I'm thinking of not waking up tomorrow and honestly I hope I don't wake up",
    "goodbye everyone, thanks for everything",
    "Life has no meaning anymore",
    "jag orkar inte mer",
    "livet är meningslöst",
    "jag vill försvinna",
    "jag vill sova och aldrig vakna",
]
SOMEONE_ELSE = [
    "my friend keeps saying she wants to unalive herself",
    "I'm worried my son wants to die",
    "My sister tried to kill herself last month and I'm scared she'll try again",
    "min kompis säger att hon vill ta livet av sig",
]
WEAK = [
    "nothing will ever get better",
    "I'm so tired of everything",
    "Can this medicine cause suicidal thoughts?",
    "Kan medicinen ge självmordstankar?",
]
NOTHING = [
    "this medicine is killing my sex drive",
    "What if I take all my tablets at once by mistake?",
    "I'm afraid I'll cut myself shaving because of the shaking",
    "I worry the tablets will hurt my baby when I'm pregnant",
    "Jag skar mig på en kniv när jag lagade mat",
    "Jag är dödstrött",
    "my sister is going to kill me when she finds out",
    "I took all my tablets this morning, like the doctor said",
    "My goal is to get back to work",
]


@pytest.mark.parametrize("text", DEFINITE)
def test_definite(detector: CrisisDetector, text: str) -> None:
    assert tier(detector, text) is Tier.DEFINITE, detector.judge(text)


@pytest.mark.parametrize("text", POSSIBLE)
def test_possible(detector: CrisisDetector, text: str) -> None:
    assert tier(detector, text) is Tier.POSSIBLE, detector.judge(text)


@pytest.mark.parametrize("text", SOMEONE_ELSE)
def test_about_someone_else(detector: CrisisDetector, text: str) -> None:
    assert tier(detector, text) is Tier.SOMEONE_ELSE, detector.judge(text)


@pytest.mark.parametrize("text", WEAK)
def test_weak(detector: CrisisDetector, text: str) -> None:
    assert tier(detector, text) is Tier.WEAK, detector.judge(text)


@pytest.mark.parametrize("text", NOTHING)
def test_nothing(detector: CrisisDetector, text: str) -> None:
    assert tier(detector, text) is None, detector.judge(text)


def test_is_crisis_is_the_card_or_the_question(detector: CrisisDetector) -> None:
    for text in DEFINITE + POSSIBLE:
        assert detector.is_crisis(text)
        assert detector.detect(text) is not None
    for text in SOMEONE_ELSE + WEAK + NOTHING:
        assert not detector.is_crisis(text)
        assert detector.detect(text) is None
    match = detector.detect("I want to kill myself")
    assert match is not None and match.language == "en" and match.category in ("intent", "thoughts_of_suicide")


# ---------------------------------------------------------------------- negation


def test_a_negated_definite_phrase_still_gets_the_question(detector: CrisisDetector) -> None:
    for text in ("I'm not suicidal", "I would never hurt myself", "jag tänker inte ta livet av mig"):
        assert tier(detector, text) is Tier.POSSIBLE, text


def test_a_negation_elsewhere_does_not_cancel_a_sign(detector: CrisisDetector) -> None:
    assert tier(detector, "I'd never do anything, I just wish I wasn't here") is Tier.POSSIBLE


def test_a_negated_wish_is_only_a_weak_sign(detector: CrisisDetector) -> None:
    assert tier(detector, "I don't want to die, I want to get better") is Tier.WEAK


# ---------------------------------------------------------------------- settings


def test_order_matters_where_the_lexicon_says_so(detector: CrisisDetector) -> None:
    assert tier(detector, "I'm going to kill my sister") is Tier.DEFINITE
    assert tier(detector, "my sister is going to kill me") is None


def test_a_story_of_past_recovery_gets_no_card(detector: CrisisDetector) -> None:
    for text in (
        "used to self harm as a teen, been clean 6 years and proud of it",
        "I overdosed back in 2019. I'm in a much better place now and I want to stay on my meds",
        "för fem år sen försökte jag ta mitt liv, men nu mår jag bra",
    ):
        assert tier(detector, text) in (Tier.WEAK, None), text


def test_a_past_that_is_happening_again_is_not_a_recovery_story(detector: CrisisDetector) -> None:
    assert tier(detector, "I used to cut myself and I've started cutting again") is Tier.DEFINITE


def test_someone_elses_story_gets_no_card(detector: CrisisDetector) -> None:
    for text in (
        "Reading a book where the main character self-harms, it's a good book",
        "my grandad took his own life before I was born, should I tell the doctor?",
        "såg en serie där en tjej tog livet av sig",
    ):
        assert tier(detector, text) not in (Tier.DEFINITE, Tier.POSSIBLE), text


def test_a_question_about_the_writer_is_not_a_medicine_question(detector: CrisisDetector) -> None:
    text = "Since I started the fluoxetine I've been having thoughts about killing myself, is that normal?"
    assert tier(detector, text) is Tier.DEFINITE


def test_words_in_quotation_marks_belong_to_the_one_who_said_them(detector: CrisisDetector) -> None:
    assert tier(detector, "my son said 'whats the point of me being here' at dinner") is Tier.SOMEONE_ELSE


def test_a_laugh_softens_a_threat_to_others_but_not_a_wish_to_die(detector: CrisisDetector) -> None:
    assert tier(detector, "if the cat knocks my pills over again im gonna kill her haha") is Tier.WEAK
    assert tier(detector, "i want to die lol") is Tier.POSSIBLE


# ---------------------------------------------------------------------- sentences and long messages


def test_every_sentence_of_a_long_message_is_read(detector: CrisisDetector) -> None:
    filler = "The side effects are mostly a dry mouth and feeling sleepy in the morning. "
    text = (filler * 60)[:3900] + " Honestly I have a plan to end it tonight. " + "Can we talk about the weight?"
    assert len(text) <= 4096
    assert tier(detector, text) is Tier.DEFINITE
    assert tier(detector, filler * 50) is None


def test_sentences_and_their_parts(detector: CrisisDetector) -> None:
    sentences = detector.sentences("I'm fine, really. Are you? i'm done. with everything.\nNew line")
    assert [s.words for s in sentences] == [
        ("im", "fine", "really"),
        ("are", "you"),
        ("im", "done", "with", "everything"),
        ("new", "line"),
    ]
    assert [s.asks for s in sentences] == [False, True, False, False]
    assert sentences[0].parts == (0, 0, 1)
    assert sentences[2].parts == (0, 0, 1, 1)


def test_words_of_a_phrase_may_be_apart_and_in_another_order(detector: CrisisDetector) -> None:
    assert tier(detector, "the pills, I took them all") is Tier.DEFINITE
    assert tier(detector, "ibland orkar jag faktiskt inte mer") is Tier.POSSIBLE
    # Too far apart in one long sentence is not one phrase.
    far = "I want to ask about so many things at my next appointment with the nurse before I die of boredom"
    assert tier(detector, far) is None


# ---------------------------------------------------------------------- spelling


@pytest.mark.parametrize(
    "text",
    [
        "i wnat to die",
        "feeling suicdal",
        "i want to kil my self",
        "been having sewerslide thoughts",
        "I WANT TO DIEEEE",
    ],
)
def test_typing_mistakes_are_forgiven(detector: CrisisDetector, text: str) -> None:
    assert detector.is_crisis(text), text


def test_swedish_without_a_o_and_with_chat_spelling(detector: CrisisDetector) -> None:
    for text in ("jag vill ta livet av mej", "sjalvmordstankar", "orkar int mer", "jag vill do"):
        assert detector.is_crisis(text), text


def test_short_words_are_not_bent_into_crisis_words(detector: CrisisDetector) -> None:
    for text in ("I had a dye job", "my dad died last year", "that is a lie", "I would like to live near the sea"):
        assert tier(detector, text) is None, text


# ---------------------------------------------------------------------- stopping a medicine


@pytest.mark.parametrize(
    "text",
    [
        "I stopped taking my sertraline three days ago",
        "I'm going to stop my tablets tomorrow",
        "I've not taken my meds for a week",
        "jag har slutat med min medicin",
        "jag tänker sluta ta tabletterna",
    ],
)
def test_stopping_a_medicine(detector: CrisisDetector, text: str) -> None:
    assessment = detector.assess(text)
    assert assessment.stopping_medicine, text
    assert assessment.tier is None


@pytest.mark.parametrize(
    "text",
    [
        "could I stop one day?",
        "what happens if I stop?",
        "I stopped drinking",
        "I would like to come off it one day",
        "My husband's stopped taking his lithium",
        "Kan jag sluta med tabletterna?",
        "tabletterna har tagit slut",
        "I've never stopped my tablets",
    ],
)
def test_not_stopping_a_medicine(detector: CrisisDetector, text: str) -> None:
    assert not detector.assess(text).stopping_medicine, text


# ---------------------------------------------------------------------- cards


def test_the_supporters_card_carries_the_same_numbers_in_both_languages(detector: CrisisDetector) -> None:
    for language in ("en", "sv"):
        for number in REQUIRED_NUMBERS:
            assert number in detector.supporter_card(language)
        assert detector.supporter_card(language) != detector.card(language)
    assert detector.supporter_card("sv") != detector.supporter_card("en")
    assert detector.supporter_card("xx") == detector.supporter_card("en")


# ---------------------------------------------------------------------- generalising by concept


def _found(phrase: str, text: str, language: str = "en") -> bool:
    matcher = Matcher([Source(language=language, words={}, loose=[("c", phrase, False)], strict=[])])
    words = fold(text).split()
    return bool(matcher.find(matcher.scan(words), [0] * len(words)))


def test_a_wide_gap_lets_most_of_a_sentence_stand_between() -> None:
    text = "i hope i get some horrible disease and die"
    assert _found("hope ... die", text)
    assert not _found("hope .. die", text)


def test_an_exact_word_is_not_matched_by_its_stem() -> None:
    assert _found("i ... =dying", "i think i am dying")
    assert not _found("i ... =dying", "my cat died and i miss her")
    assert _found("i ... dying", "my cat died and i miss her")


def test_a_swedish_compound_is_read_as_its_last_word_but_an_english_word_is_not() -> None:
    assert _found("tog .. allt .. skåpet", "tog allt i medicinskåpet", "sv")
    assert not _found("took .. cabinet", "took the supercabinet", "en")


def test_a_compounds_last_part_is_never_read_as_a_setting_word() -> None:
    """ "självmordstankar" ends in "tankar" (the stem of "tänker", a word of now): read as that,
    a story of thoughts last winter would be told as now, and get the card."""
    matcher = Matcher(
        [
            Source(
                language="sv",
                words={},
                loose=[("c", "tänker .. hoppa", False)],
                strict=[("~present", "tänker")],
            )
        ]
    )
    where = matcher.scan(("hade", "sjalvmordstankar", "forra", "vintern"))
    assert ("sv", "~present") not in matcher.singles(where)
    assert ("sv", "~present") in matcher.singles(matcher.scan(("jag", "tanker", "pa", "det")))


def test_a_past_of_suicidal_thoughts_turned_round_is_a_recovery_story(detector: CrisisDetector) -> None:
    assert tier(detector, "i was suicidal last winter but the new meds have really turned it round") is Tier.WEAK
    text = "jag hade självmordstankar förra vintern men nya medicinen har vänt det"
    assert tier(detector, text) is Tier.WEAK


def test_a_my_before_another_person_or_a_story_is_theirs(detector: CrisisDetector) -> None:
    assert tier(detector, "found cuts on my daughters arm last night") is Tier.SOMEONE_ELSE
    assert tier(detector, "hittade skärsår på min dotters arm igår") is Tier.SOMEONE_ELSE
    assert tier(detector, "a character in my show tried to kill herself, it was hard to watch") is None


def test_words_of_a_spelling_or_starting_like_a_lexicon_word_are_not_corrected_into_others(
    detector: CrisisDetector,
) -> None:
    assert detector.normalise("the multi storey") == "the multistorey"
    assert detector.normalise("har läst på om hängning") == "har last pa om hangning"


@pytest.mark.parametrize(
    ("phrase", "strict", "message"),
    [
        ("kill ... time", True, "'...' is only for crisis phrases"),
        ("=dying*", False, "'=' is followed by one whole word"),
        ("... die", False, "cannot start or end with '...'"),
    ],
)
def test_the_new_phrase_syntax_is_checked(phrase: str, strict: bool, message: str) -> None:
    with pytest.raises(LexiconError, match=re.escape(message)):
        check_phrase(phrase, {}, strict=strict, where="the category 'c'")


# ---------------------------------------------------------------------- the kinds development-4 showed missing
# Each concept in other words than any labelled set uses, in both languages: these are what the
# lexicon was broadened for, so a rule narrowed back to one set's sentence fails here.

CONCEPTS_DEFINITE = [
    "i took my nans tablets, the whole lot",  # another person's medicine, all of it
    "har ätit upp sambons stesolid, varenda en",
    "tried to hang last week and the belt broke",  # an aborted or interrupted attempt
    "got the razor in my pocket ready for later",  # means at hand, ready
    "har rakbladet i fickan redo",
    "köpte alvedon på flera olika apotek",  # bought in several places
    "keep reopening the wounds on my arm",  # self-harm without "myself"
    "river upp såren hela tiden",
    "brände låren med cigaretten igår",
    "the voices keep on telling me to hang",  # commanding voices without naming them
    "dom tjatar på att jag ska skära mig",
    "funderar på att köra av vägen på motorvägen ikväll",
    "necked the lot with vodka",  # pills taken in other verbs
    "ate all my sleeping pills",
    "åt upp alla mina sömntabletter",
    "tog allihop med vodka",
    "svälter mig själv som straff",
    "i went to the bridge last night to end it but i came home",
    "åkte till bron igår för att göra slut på det men åkte hem",
]
CONCEPTS_POSSIBLE = [
    "i wouldnt even care if i never woke up",  # not waking, in other words
    "skulle inte bry mig om jag aldrig vaknade",
    "im fine with not being around anymore tbh",
    "skulle va skönt att inte vakna",
    "önskar att jag inte levde",
    "what happens if someone takes too many of them at once",  # overdose questions
    "vad händer om man tar för många sömntabletter",
    "räcker 30 stycken för att det ska vara dödligt",
    "which bridge round here is the highest",
    "i'm stuck, theres no way to escape this and it'll never change",  # trapped
    "sitter fast och det blir aldrig bättre",
    "dont think i can keep going much longer",
    "klarar inte det här mer",
    "jag är bara ett problem för alla",  # a burden
    "if i dont make it back, sorry for everything",  # farewell
    "i was going to jump but i bottled it",  # stopped at the last moment
    "skulle hoppa men jag fegade ur",
    "stoppade mig själv i sista sekunden",
    "jag klarar inte mer",
    "jag kommer försvinna och ingen kommer hitta mig",
    "i wont be a problem much longer",
    "i have a bottle of pills and i'm thinking about it",
]
CONCEPTS_NOT_ASKED = [
    "the paperwork is such a burden this month",
    "pappersarbetet är en börda",
    "tentan blir min död",
    "kan inte vakna på morgonen av tabletterna",
    "I had to say goodbye to my old nurse today, she's moving on",
    "sa hejdå till min kontaktperson idag, hon slutar",
    "I cut my hand opening a tin",
    "jag borde ta upp det med läkaren",
    "i have 30 tablets left in the box",
    "i cant go on like this with the itching, can we talk about switching",
    "can we end it here for today",
    "jag pallar inte mer med biverkningarna",
    "took a lot of the pressure off me",
    "i took the lot of forms to the office",
    "mamma tog alla sina tabletter i morse som hon ska",
    "is it ok to take all my tablets at night, i forget them at work",  # "at" is not Swedish "åt"
]


@pytest.mark.parametrize("text", CONCEPTS_DEFINITE)
def test_a_kind_once_missed_gets_the_card_in_other_words(detector: CrisisDetector, text: str) -> None:
    assert tier(detector, text) is Tier.DEFINITE


@pytest.mark.parametrize("text", CONCEPTS_POSSIBLE)
def test_a_kind_once_missed_gets_at_least_the_question_in_other_words(detector: CrisisDetector, text: str) -> None:
    assert detector.is_crisis(text)


@pytest.mark.parametrize("text", CONCEPTS_NOT_ASKED)
def test_everyday_words_near_those_kinds_get_neither(detector: CrisisDetector, text: str) -> None:
    assert not detector.is_crisis(text)


def test_a_question_about_how_many_is_the_question_not_the_card_even_for_someone_else(
    detector: CrisisDetector,
) -> None:
    text = "how many amitriptyline would someone need for it to be fatal"
    assert tier(detector, text) is Tier.POSSIBLE
    assert tier(detector, "vilken bro i stan är högst") is Tier.POSSIBLE


# ---------------------------------------------------------------------- the kinds development-5 showed missing
# The same, for development-5 (held-out set 2 until it was run): a place of danger now, means
# gathered together or kept "for when", arrangements for pets "when I'm not here", a time of plan,
# another person's medicine with drink, voices saying "do it", no future self, taking up space,
# thanks for putting up with one; and a leaflet's statement, "bråkade" (not "brukade", used to),
# tablets put back in a drawer and the everyday words near the new phrases, which get neither.

CONCEPTS_5_DEFINITE = [
    "im up on the roof of the car park right now",
    "sitter på räcket på bron just nu",
    "got my sleeping pills and a bottle of gin, house to myself",
    "har sömntabletterna och vinet, ensam hemma hela helgen",
    "been keeping the morphine from hospital for when the time comes and i go through with it",
    "gömde morfinet från sjukhuset tills jag väl gör det",
    "asked my neighbour to feed the cat for when im not around anymore",
    "bad grannen mata katten efter att jag inte finns längre",
    "i swallowed a load of my dads temazepam with whisky",
    "svalde massor av pappas imovane med vin",
    "the voice just keeps saying do it, take them all",
    "rösten viskar hela tiden ta dem",
    "ive decided, im not going to be around after my birthday",
    "tomorrow im ending it, ive made my mind up",
    "looked up how long it takes to bleed out",
    "ive got a hammer in my bag for when i see him",
    "i used the lighter on myself again",
    "använde tändaren på mig själv igen",
]
CONCEPTS_5_POSSIBLE = [
    "can anyone tell me why i bother carrying on",
    "why am i still alive honestly",
    "not sure how much longer i can keep going",
    "hur länge till ska jag orka hålla ut",
    "i cant imagine myself in a years time",
    "kan inte föreställa mig om ett år",
    "nobody needs me around",
    "ingen behöver mig längre",
    "i just take up room",
    "tar bara upp plats här",
    "sorry for everything and thanks for putting up with me all this time",
    "tack för att ni stått ut med mig så länge",
    "this is the last message you will get from me",
    "det här blir sista meddelandet jag skickar till nån",
    "jag ska inte besvära er så mycket längre",
    "if i died in the night it would be a relief",
    "om jag dog i natt vore det en befrielse",
    "feels like im trapped with no escape",
    "jag är instängd och det finns ingen utväg",
    "walls are closing in on me",
]
CONCEPTS_5_NOT_ASKED = [
    "my leaflet says sertraline may cause suicidal thoughts in young people",
    "i bipacksedeln står det att den kan ge självmordstankar",
    "bråkade med sambon igår, jag skulle verkligen vilja flytta",
    "i put the tablets back in the cupboard",
    "for when im ready to talk to the doctor about the dose",
    "we are going through with it, the move to leeds",
    "i put the tablets back in the drawer after",
    "im so on edge right now",
    "my meds are already working, feeling better",
    "i used it on myself and the rash went",
    "the kids go to their dads when im not here at weekends",
    "wrote my passwords down in a notebook",
    "i took my tablets with a glass of wine last night",
    "house to myself this weekend, remembered my tablets",
    "i keep some tablets for when its time to travel",
    "boxen tar upp mycket plats",
    "jag ska inte störa mer ikväll, god natt",
    "tog alla barnen till parken",
    "tabletterna börjar verka, jag mår bättre",
    "hon hjälper mig genom att finnas där",
    "barnen är hos pappa när jag inte är hemma",
    "sitter på kanten av sängen nu",
    "har alla tabletterna framme på bordet nu så jag inte glömmer",
]


@pytest.mark.parametrize("text", CONCEPTS_5_DEFINITE)
def test_a_kind_development_5_showed_missing_gets_the_card_in_other_words(detector: CrisisDetector, text: str) -> None:
    assert tier(detector, text) is Tier.DEFINITE


@pytest.mark.parametrize("text", CONCEPTS_5_POSSIBLE)
def test_a_kind_development_5_showed_missing_gets_at_least_the_question_in_other_words(
    detector: CrisisDetector, text: str
) -> None:
    assert detector.is_crisis(text)


@pytest.mark.parametrize("text", CONCEPTS_5_NOT_ASKED)
def test_statements_and_everyday_words_near_development_5s_kinds_get_neither(
    detector: CrisisDetector, text: str
) -> None:
    assert not detector.is_crisis(text)
