"""What the service does with each tier of risk, on a real database (both backends).

The detector is replaced here by one that reads a fixed table of messages, so
these tests are about what happens *after* detection: the card, the safety
question, holding and keeping the person's words, signs adding up, the rest
after "No", and the not-suddenly message. Detection itself is tested in
tests/test_crisis*.py and evaluated by benchmarks/crisis_eval.py.
"""

from __future__ import annotations

import json

import pytest

from bot.services.conversation import STOPPING_MEDICINE, Companion, NotRegistered, Who
from bot.services.privacy import Privacy
from bot.services.safety import SafetyChoice
from bot.storage.repository import Storage
from flows.crisis import CrisisDetector
from flows.engine import Engine
from flows.safety import NOTHING, Assessment, Tier
from flows.turns import Pressed, Typed
from tests.conftest import Clock

ME = Who("console", "me")
PLAN = "I have a plan"
ASKING = "Can meds cause that?"
TIRED = "Tired of everything"
GONE = "I want to disappear"
FRIEND = "Worried about my son"
STOPPED = "I stopped my tablets"
LONG = "Can this medicine cause suicidal thoughts?"
TABLE = {
    PLAN: Assessment(Tier.DEFINITE, frozenset({"plan"})),
    ASKING: Assessment(Tier.DEFINITE, frozenset({"thoughts_of_suicide"})),
    TIRED: Assessment(Tier.WEAK, frozenset({"hopelessness"})),
    GONE: Assessment(Tier.POSSIBLE, frozenset({"wish_to_be_dead"})),
    FRIEND: Assessment(Tier.SOMEONE_ELSE, frozenset({"someone_else"})),
    STOPPED: Assessment(None, stopping_medicine=True),
    LONG: Assessment(Tier.DEFINITE, frozenset({"thoughts_of_suicide"})),
}


class TableDetector(CrisisDetector):
    """The shipped lexicons and cards, but assessments read from TABLE."""

    def assess(self, text: str) -> Assessment:
        return TABLE.get(text, NOTHING)


@pytest.fixture
async def safety(storage: Storage, test_engine: Engine, clock: Clock) -> Companion:
    shipped = CrisisDetector.from_catalog(test_engine.catalog)
    companion = Companion(storage, test_engine, clock=clock, crisis=TableDetector(shipped.lexicons))
    await companion.join(ME)
    return companion


async def at_name(companion: Companion) -> None:
    """Open the test flow at its free-text question ('name')."""
    await companion.open(ME, "kinds")
    await companion.act(ME, Pressed("~next"))
    reply = await companion.act(ME, Pressed("~next"))
    assert reply.prompt is not None and reply.prompt.step == "name"


async def answers(companion: Companion) -> str:
    return json.dumps(await Privacy(companion.storage).export(ME))


def ui(companion: Companion, key: str) -> str:
    return companion.catalog.ui.get(key, "en")


async def test_a_definite_sign_brings_the_card_and_holds_the_words_until_the_person_chooses(safety: Companion) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(ASKING))
    assert reply.crisis and reply.messages == [safety.crisis.card("en")]
    assert reply.prompt is None and reply.safety is not None
    assert [b.id for b in reply.safety.buttons] == [SafetyChoice.SAVE, SafetyChoice.CARRY_ON, SafetyChoice.PAUSE]
    assert ASKING not in await answers(safety)  # held on the position, not saved as an answer
    kept = await safety.answer_safety(ME, SafetyChoice.SAVE, reply.safety.token)
    assert kept.messages[0] == ui(safety, "safety_saved")
    assert kept.prompt is not None and kept.prompt.step == "mood"  # the flow went on
    exported = await Privacy(safety.storage).export(ME)
    (run,) = exported["flows"]
    assert run["answers"]["name"]["value"] == ASKING
    assert "held" not in json.dumps(exported)


async def test_carrying_on_lets_the_words_go_and_a_second_keep_saves_nothing(safety: Companion) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(PLAN))
    token = reply.safety.token
    back = await safety.answer_safety(ME, SafetyChoice.CARRY_ON, token)
    assert back.prompt is not None and back.prompt.step == "name" and not back.messages
    late = await safety.answer_safety(ME, SafetyChoice.SAVE, token)
    assert late.messages[0] == ui(safety, "safety_not_held")
    assert late.prompt is not None and late.prompt.step == "name"
    assert PLAN not in await answers(safety)


async def test_the_next_message_lets_the_held_words_go(safety: Companion) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(PLAN))
    await safety.act(ME, Typed("Sam"))
    assert PLAN not in await answers(safety)
    late = await safety.answer_safety(ME, SafetyChoice.SAVE, reply.safety.token)
    assert late.messages[0] == ui(safety, "safety_not_held")


async def test_a_button_from_an_older_card_cannot_keep_a_newer_message(safety: Companion) -> None:
    await at_name(safety)
    old = await safety.act(ME, Typed(PLAN))
    new = await safety.act(ME, Typed(ASKING))
    assert old.safety.token != new.safety.token
    stale = await safety.answer_safety(ME, SafetyChoice.SAVE, old.safety.token)
    assert stale.messages[0] == ui(safety, "safety_not_held")
    assert ASKING not in await answers(safety)
    forged = await safety.answer_safety(ME, SafetyChoice.SAVE, "made-up")
    assert forged.messages[0] == ui(safety, "safety_not_held")


async def test_a_possible_sign_asks_directly_and_no_keeps_the_words_and_rests_the_question(
    safety: Companion, clock: Clock
) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(GONE))
    assert not reply.crisis and reply.messages == []
    assert reply.safety.text == ui(safety, "safety_question")
    assert [b.id for b in reply.safety.buttons] == [SafetyChoice.YES, SafetyChoice.NO, SafetyChoice.RATHER_NOT]
    after = await safety.answer_safety(ME, SafetyChoice.NO, reply.safety.token)
    assert after.messages[0] == ui(safety, "safety_thanks_kept")
    assert after.prompt is not None and after.prompt.step == "mood"
    assert GONE in await answers(safety)
    # The question rests: another possible sign an hour later is taken as the answer, with where help is.
    await safety.act(ME, Pressed("~back"))
    clock.advance(hours=1)
    rested = await safety.act(ME, Typed(GONE))
    assert rested.safety is None and rested.messages[0] == ui(safety, "safety_help_line")
    assert rested.prompt is not None and rested.prompt.step == "mood"
    # ... and comes back once the rest is over.
    await safety.act(ME, Pressed("~back"))
    clock.advance(hours=24)
    again = await safety.act(ME, Typed(GONE))
    assert again.safety is not None and again.safety.text == ui(safety, "safety_question")


@pytest.mark.parametrize("choice", [SafetyChoice.YES, SafetyChoice.RATHER_NOT])
async def test_yes_and_rather_not_bring_the_card_and_still_offer_to_keep_the_words(
    safety: Companion, choice: SafetyChoice
) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(GONE))
    card = await safety.answer_safety(ME, choice, reply.safety.token)
    assert card.crisis and card.messages == [safety.crisis.card("en")]
    assert SafetyChoice.SAVE in [b.id for b in card.safety.buttons]
    kept = await safety.answer_safety(ME, SafetyChoice.SAVE, card.safety.token)
    assert kept.messages[0] == ui(safety, "safety_saved")
    assert GONE in await answers(safety)


async def test_a_stale_yes_still_brings_the_card(safety: Companion) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(GONE))
    await safety.act(ME, Typed("Sam"))
    card = await safety.answer_safety(ME, SafetyChoice.YES, reply.safety.token)
    assert card.crisis and card.messages == [safety.crisis.card("en")]


async def test_weak_signs_add_up_within_a_day(safety: Companion, clock: Clock) -> None:
    await at_name(safety)
    first = await safety.act(ME, Typed(TIRED))
    assert first.safety is None and first.prompt.step == "mood"  # alone, taken as the answer
    assert TIRED in await answers(safety)
    await safety.act(ME, Pressed("~back"))
    clock.advance(hours=23)
    second = await safety.act(ME, Typed(TIRED))
    assert second.safety is not None and second.safety.text == ui(safety, "safety_question")


async def test_weak_signs_a_day_apart_do_not_add_up(safety: Companion, clock: Clock) -> None:
    await at_name(safety)
    await safety.act(ME, Typed(TIRED))
    await safety.act(ME, Pressed("~back"))
    clock.advance(hours=25)
    second = await safety.act(ME, Typed(TIRED))
    assert second.safety is None


async def test_the_definite_card_never_rests(safety: Companion) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(GONE))
    await safety.answer_safety(ME, SafetyChoice.NO, reply.safety.token)
    await safety.act(ME, Pressed("~back"))
    card = await safety.act(ME, Typed(PLAN))
    assert card.crisis and card.messages[0] == safety.crisis.card("en")


async def test_worry_about_someone_else_gets_the_supporters_card_and_one_question(safety: Companion) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(FRIEND))
    assert reply.crisis and reply.messages == [safety.crisis.supporter_card("en")]
    assert reply.safety.text == ui(safety, "safety_supporter_question")
    assert [b.id for b in reply.safety.buttons] == [SafetyChoice.YES, SafetyChoice.NO]
    after = await safety.answer_safety(ME, SafetyChoice.NO, reply.safety.token)
    assert after.messages[0] == ui(safety, "safety_thanks_kept")
    assert FRIEND in await answers(safety)


async def test_stopping_a_medicine_gets_the_not_suddenly_message_once_a_day_and_marks_the_answer(
    safety: Companion, storage: Storage, clock: Clock
) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(STOPPED))
    assert reply.safety is None and reply.prompt.step == "mood"
    assert reply.messages[-1] == ui(safety, "safety_medicine")
    person = await safety.person(ME)
    (run,) = await storage.run(lambda tx: tx.runs(person.id))
    marks = await storage.run(lambda tx: tx.marks([run.id]))
    assert marks == {run.id: {"name": frozenset({STOPPING_MEDICINE})}}
    await safety.act(ME, Pressed("~back"))
    clock.advance(hours=2)
    again = await safety.act(ME, Typed(STOPPED))
    assert ui(safety, "safety_medicine") not in again.messages  # once a day is enough
    await safety.act(ME, Pressed("~back"))
    clock.advance(days=1)
    tomorrow = await safety.act(ME, Typed(STOPPED))
    assert tomorrow.messages[-1] == ui(safety, "safety_medicine")


async def test_signs_at_the_menu_get_the_card_with_nothing_to_keep(safety: Companion) -> None:
    reply = await safety.act(ME, Typed(PLAN))
    assert reply.crisis and reply.messages == [safety.crisis.card("en")]
    assert reply.safety is None and reply.status == "idle"
    question = await safety.act(ME, Typed(GONE))
    assert question.safety is not None and question.safety.token == ""


async def test_before_consent_nothing_is_stored_and_the_answers_still_work(safety: Companion, storage: Storage) -> None:
    stranger = Who("console", "stranger")
    reply = safety.outside(GONE, "en")
    assert reply is not None and reply.safety.text == ui(safety, "safety_question")
    with pytest.raises(NotRegistered):
        await safety.answer_safety(stranger, SafetyChoice.YES)
    assert safety.outside_answer(SafetyChoice.YES, "en").messages == [safety.crisis.card("en")]
    assert safety.outside_answer(SafetyChoice.NO, "en").messages == [ui(safety, "safety_thanks")]
    assert safety.outside("What time is it?", "en") is None
    assert await safety.person(stranger) is None


async def test_a_double_tap_on_keep_saves_once(safety: Companion) -> None:
    await at_name(safety)
    reply = await safety.act(ME, Typed(PLAN))
    first = await safety.answer_safety(ME, SafetyChoice.SAVE, reply.safety.token, update_id=1)
    second = await safety.answer_safety(ME, SafetyChoice.SAVE, reply.safety.token, update_id=1)
    assert first.prompt.step == "mood" and second.status == "duplicate"
    third = await safety.answer_safety(ME, SafetyChoice.SAVE, reply.safety.token, update_id=2)
    assert third.messages[0] == ui(safety, "safety_not_held") and third.prompt.step == "mood"


async def test_keeping_words_the_question_cannot_take_says_so_and_never_claims_they_were_saved(
    safety: Companion,
) -> None:
    await at_name(safety)  # the name question takes up to 20 letters
    reply = await safety.act(ME, Typed(LONG))
    kept = await safety.answer_safety(ME, SafetyChoice.SAVE, reply.safety.token)
    assert ui(safety, "safety_saved") not in kept.messages
    assert kept.prompt is not None and kept.prompt.step == "name"
    assert LONG not in await answers(safety)


async def test_an_answer_marked_stopping_medicine_is_at_the_top_of_the_summary(companion: Companion) -> None:
    """The mark the service gives (tx.mark_answers) reaches the summary's urgent part, words as written."""
    from bot.summary.build import build_summary
    from tests.telegram.talk import finish

    said = "I stopped my lithium on Monday"
    await companion.join(ME)
    await finish(companion, ME, "personal_medicine", own_words=said)
    person = await companion.person(ME)
    run = (await companion.storage.run(lambda tx: tx.latest_completed(person.id)))["personal_medicine"]
    await companion.storage.run(
        lambda tx: tx.mark_answers(person.id, run.id, ["more_to_say"], STOPPING_MEDICINE, companion.clock())
    )
    document = await build_summary(companion.storage, companion.engine, person.id, now=companion.clock())
    assert document.glance is not None
    urgent = [item for item in document.glance.items if item.urgent]
    assert urgent and any(said in entry_text for item in urgent for entry_text in map(str, item.entries))
