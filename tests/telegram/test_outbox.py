"""The outbox: a turn's reply is saved with the turn and delivered after the commit.

The Bot API here answers like Telegram, including a 500, a timeout, 403 and
400 "chat not found". Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.delivery import OutboxDelivery
from bot.adapters.telegram.render import escape
from bot.services.app import Services
from bot.services.conversation import Companion, Who
from bot.services.privacy import Privacy
from bot.storage.models import OutgoingMessage
from bot.storage.repository import Storage
from flows.engine import Engine
from flows.schema import StepType
from flows.turns import Typed
from tests.conftest import Clock
from tests.telegram.conftest import TOKEN
from tests.telegram.expect import shown_labels
from tests.telegram.harness import Person, RecordingRequest, TelegramHarness

outbox = OutgoingMessage.__table__
FLOW = "goals"
BLOCKED = "Forbidden: bot was blocked by the user"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_storage(request: pytest.FixtureRequest) -> Storage:
    name = "storage" if request.param == "sqlite" else "pg_storage"
    found: Storage = request.getfixturevalue(name)
    return found


@pytest.fixture
def services(any_storage: Storage, engine: Engine, clock: Clock) -> Services:
    return Services.around(Companion(any_storage, engine, clock=clock))


def application_for(services: Services) -> TelegramHarness:
    request = RecordingRequest()
    application = build_application(services, TOKEN, request=request, rate_limit=False)
    return TelegramHarness(application, request)


@pytest.fixture
async def bot(services: Services) -> AsyncIterator[TelegramHarness]:
    harness = application_for(services)
    await harness.application.initialize()
    harness.request.take()
    yield harness
    await harness.application.shutdown()


def delivery(harness: TelegramHarness) -> OutboxDelivery:
    found = harness.application.bot_data["delivery"]
    assert isinstance(found, OutboxDelivery)
    return found


def later(harness: TelegramHarness, seconds: float = 3600.0) -> None:
    """Move the outbox's clock on, so every retry is due and every lease has run out."""
    delivery(harness).outbox.wall = lambda: time.time() + seconds


async def rows(storage: Storage) -> list[Any]:
    return await storage.run(lambda tx: tx.connection.execute(select(outbox).order_by(outbox.c.id)).all())


async def answers(services: Services, who: Who) -> dict[str, Any]:
    data = await Privacy(services.conversation.storage).export(who)
    assert data is not None
    run = next(flow for flow in data["flows"] if flow["flow"] == FLOW)
    return {key: value["value"] for key, value in run["answers"].items()}


async def at_a_text_question(
    person: Person, bot: TelegramHarness, companion: Companion, step: str | None = None
) -> str:
    """Agree, open the goals flow and answer until a question is answered by typing (or until
    ``step``); its step id."""
    ui = companion.catalog.ui
    await person.says("/start")
    await person.taps(ui.get("button_agree", "en"))
    title = companion.catalog.flows[FLOW].title.get("en")
    await person.taps(next(label for label in shown_labels(person.last) if label.startswith(title)))
    who = Who("telegram", str(person.id))
    for _ in range(40):
        prompt = (await companion.current(who)).prompt
        assert prompt is not None
        if prompt.kind is StepType.text and step in (None, prompt.step):
            return prompt.step
        if prompt.kind is StepType.text:
            await person.says("Something")
            continue
        labels = shown_labels(person.keyboard_message())
        if prompt.kind is StepType.checklist:
            await person.taps(labels[0])
            prompt = (await companion.current(who)).prompt
            assert prompt is not None
            await person.taps(next(button.label for button in prompt.options if button.id == "~done"))
        else:
            await person.taps(labels[0])
    raise AssertionError("no text question in the goals flow")


async def answer_what_is_shown(person: Person, companion: Companion, who: Who) -> None:
    """Answer the question on the screen (typing, or the first button and Done for a checklist)."""
    prompt = (await companion.current(who)).prompt
    assert prompt is not None
    if prompt.kind is StepType.text:
        await person.says("Every day")
        return
    await person.taps(shown_labels(person.keyboard_message())[0])
    if prompt.kind is StepType.checklist:
        ticked = (await companion.current(who)).prompt
        assert ticked is not None
        await person.taps(next(button.label for button in ticked.options if button.id == "~done"))


async def at_a_pressed_question(person: Person, companion: Companion) -> Who:
    """Agree, open the goals flow and answer until a question is answered by a press (not a
    checklist); whose turn it is."""
    ui = companion.catalog.ui
    who = Who("telegram", str(person.id))
    await person.says("/start")
    await person.taps(ui.get("button_agree", "en"))
    title = companion.catalog.flows[FLOW].title.get("en")
    await person.taps(next(label for label in shown_labels(person.last) if label.startswith(title)))
    for _ in range(40):
        prompt = (await companion.current(who)).prompt
        assert prompt is not None
        if prompt.kind not in (StepType.text, StepType.checklist):
            return who
        await answer_what_is_shown(person, companion, who)
    raise AssertionError("no question answered by a press in the goals flow")


async def question_shown(companion: Companion, who: Who) -> str:
    prompt = (await companion.current(who)).prompt
    assert prompt is not None
    return prompt.step


def no_try_again(person: Person, companion: Companion) -> None:
    error = companion.catalog.ui.get("tg_error", "en")
    assert not any(message.get("text") == error for message in person.chat)


@pytest.mark.parametrize("failure", ["500", "timeout"])
async def test_an_answer_after_a_failed_send_lands_under_the_question_the_person_saw(
    bot: TelegramHarness, services: Services, failure: str
) -> None:
    companion = services.conversation
    sam = bot.person(4101, "Sam")
    who = Who("telegram", "4101")
    first = await at_a_text_question(sam, bot, companion)
    seen = sam.last["message_id"]
    if failure == "500":
        bot.request.fail_next("sendMessage", 500, "Internal Server Error")
    else:
        bot.request.time_out_next("sendMessage")
    await sam.says("Sleep better")
    # Saved, but the next question never reached Sam: they still see the one they answered.
    assert (await answers(services, who))[first] == "Sleep better"
    assert sam.last["message_id"] == seen  # nothing after the question they answered
    no_try_again(sam, companion)
    assert await question_shown(companion, who) == first
    # Hearing nothing, Sam types it again: it goes to the question they saw, not the one they did not.
    await sam.says("Sleep better, and walk more")
    saved = await answers(services, who)
    assert saved[first] == "Sleep better, and walk more"
    following = await question_shown(companion, who)
    assert following != first
    assert following not in saved
    # And the next question is there now.
    assert sam.last["message_id"] > seen
    assert [row.state for row in await rows(services.conversation.storage)][-2:] == ["replaced", "delivered"]


@pytest.mark.parametrize("failure", ["500", "timeout"])
async def test_the_sender_loop_delivers_the_question_later_and_the_next_answer_goes_to_it(
    bot: TelegramHarness, services: Services, failure: str
) -> None:
    companion = services.conversation
    sam = bot.person(4102, "Sam")
    who = Who("telegram", "4102")
    first = await at_a_text_question(sam, bot, companion)
    seen = sam.last["message_id"]
    if failure == "500":
        bot.request.fail_next("sendMessage", 500, "Internal Server Error")
    else:
        bot.request.time_out_next("sendMessage")
    await sam.says("Sleep better")
    pending = [row for row in await rows(companion.storage) if row.state == "pending"]
    assert len(pending) == 1 and pending[0].attempts == 1
    # Not due before its retry time...
    assert await delivery(bot).outbox.deliver_due(delivery(bot).send) == 0
    later(bot)
    assert await delivery(bot).outbox.deliver_due(delivery(bot).send) == 1
    following = await question_shown(companion, who)
    assert following != first
    assert sam.last["message_id"] > seen
    await answer_what_is_shown(sam, companion, who)
    saved = await answers(services, who)
    assert saved[first] == "Sleep better"
    assert following in saved
    assert all(row.state == "delivered" for row in await rows(companion.storage) if row.state != "replaced")


async def test_after_a_restart_pending_replies_go_out_in_order(
    bot: TelegramHarness, services: Services, clock: Clock
) -> None:
    companion = services.conversation
    sam = bot.person(4103, "Sam")
    who = Who("telegram", "4103")
    await at_a_text_question(sam, bot, companion)
    # The process commits two turns and dies before sending either: a crisis message
    # (its card is always delivered, never replaced) and a press under the safety question.
    card = await companion.act(who, Typed("I want to kill myself"), update_id=900_001)
    assert card.crisis and card.outbox_id is not None
    after = await companion.act(who, Typed("I am safe now, thank you"), update_id=900_002)
    assert after.outbox_id is not None and after.outbox_id > card.outbox_id
    assert [row.state for row in await rows(companion.storage)][-2:] == ["pending", "pending"]
    await bot.application.shutdown()
    # A new process on the same database.
    restarted = application_for(services)
    await restarted.application.initialize()
    try:
        later(restarted)
        sender = delivery(restarted)
        assert await sender.outbox.deliver_due(sender.send) == 1  # only the oldest of a chat at a time
        assert await sender.outbox.deliver_due(sender.send) == 1
        assert await sender.outbox.deliver_due(sender.send) == 0
        texts = [call.params["text"] for call in restarted.request.take() if call.method == "sendMessage"]
        assert len(texts) >= 2
        assert texts[0].startswith(escape(companion.safety_words.card("en"))[:40])
        states = [row.state for row in await rows(companion.storage)][-2:]
        assert states == ["delivered", "delivered"]
    finally:
        await restarted.application.shutdown()


@pytest.mark.parametrize(("status", "description"), [(403, BLOCKED), (400, "Bad Request: chat not found")])
async def test_a_blocked_bot_or_a_lost_chat_is_recorded_undeliverable(
    bot: TelegramHarness, services: Services, status: int, description: str
) -> None:
    companion = services.conversation
    sam = bot.person(4104, "Sam")
    await at_a_text_question(sam, bot, companion)
    bot.request.fail_next("sendMessage", status, description)
    await sam.says("Sleep better")
    last = (await rows(companion.storage))[-1]
    assert last.state == "undeliverable"
    assert last.body is None and last.shown_before is None
    later(bot)
    assert await delivery(bot).outbox.deliver_due(delivery(bot).send) == 0
    assert not [call for call in bot.request.take() if call.method == "sendMessage"]


async def test_a_redelivered_update_sends_nothing_twice(bot: TelegramHarness, services: Services) -> None:
    companion = services.conversation
    sam = bot.person(4105, "Sam")
    await at_a_text_question(sam, bot, companion)
    update = sam.update_text("Sleep better")
    first = await bot.process(update)
    assert [call.method for call in first].count("sendMessage") == 1
    again = await bot.process(update)
    assert [call.method for call in again if call.method == "sendMessage"] == []
    # Committed, then the process died before sending: the redelivery sends nothing, the loop sends it once.
    crashed = sam.update_text("Every day")
    await companion.act(Who("telegram", "4105"), Typed("Every day"), crashed.update_id)
    redelivered = await bot.process(crashed)
    assert [call for call in redelivered if call.method == "sendMessage"] == []
    later(bot)
    assert await delivery(bot).outbox.deliver_due(delivery(bot).send) == 1
    assert await delivery(bot).outbox.deliver_due(delivery(bot).send) == 0
    assert [call.method for call in bot.request.take()].count("sendMessage") == 1


async def test_a_delivered_row_keeps_no_words_and_delete_removes_the_rows(
    bot: TelegramHarness, services: Services
) -> None:
    companion = services.conversation
    sam = bot.person(4106, "Sam")
    await at_a_text_question(sam, bot, companion)
    await sam.says("My secret words")
    kept = await rows(companion.storage)
    assert kept and all(row.state == "delivered" for row in kept)
    assert all(row.body is None and row.shown_before is None for row in kept)
    bot.request.fail_next("sendMessage", 500, "Internal Server Error")
    await sam.says("More secret words")
    assert (await rows(companion.storage))[-1].state == "pending"
    assert await services.privacy.erase(Who("telegram", "4106"))
    assert await rows(companion.storage) == []


async def test_a_reply_in_parts_goes_on_from_the_part_telegram_did_not_take(
    bot: TelegramHarness, services: Services
) -> None:
    companion = services.conversation
    sam = bot.person(4107, "Sam")
    who = Who("telegram", "4107")
    await at_a_text_question(sam, bot, companion)
    card = await companion.act(who, Typed("I want to kill myself"), update_id=900_101)
    renders = await bot.application.bot_data["core"].renders(who, card, "en")
    assert len(renders) >= 2  # the card stands alone, then what follows it
    bot.request.take()
    # The card is taken; the part after it meets a 500.
    bot.request.fail_next("sendMessage", 500, "Internal Server Error", after=1)
    later(bot)
    sender = delivery(bot)
    assert await sender.outbox.deliver_due(sender.send) == 0
    assert (await rows(companion.storage))[-1].sent_parts == 1
    later(bot, 7200.0)
    assert await sender.outbox.deliver_due(sender.send) == 1
    texts = [call.params["text"] for call in bot.request.take() if call.method == "sendMessage"]
    assert len(texts) == 3
    assert texts[1] == texts[2]  # the failed part again, and the card not twice
    assert texts[0].startswith(escape(companion.safety_words.card("en"))[:40])


async def test_when_the_end_of_a_flow_is_not_delivered_the_next_answer_goes_to_its_last_question(
    bot: TelegramHarness, services: Services
) -> None:
    companion = services.conversation
    sam = bot.person(4108, "Sam")
    who = Who("telegram", "4108")
    last = companion.catalog.flows[FLOW].steps[-1].id
    assert companion.catalog.flows[FLOW].step(last).type is StepType.text
    await at_a_text_question(sam, bot, companion, last)
    seen = sam.last["message_id"]
    bot.request.fail_next("sendMessage", 500, "Internal Server Error")
    await sam.says("Ask about the side effects")
    assert sam.last["message_id"] == seen
    await sam.says("Ask about the side effects, and the dose")
    data = await Privacy(companion.storage).export(who)
    assert data is not None
    runs = [run for run in data["flows"] if run["flow"] == FLOW]
    assert [run["status"] for run in runs] == ["completed"]
    assert runs[0]["answers"][last]["value"] == "Ask about the side effects, and the dose"
    done = companion.catalog.flows[FLOW].done
    assert done is not None and done.get("en") in sam.last["text"]


async def test_a_press_on_a_question_that_arrived_goes_to_it_though_its_send_timed_out(
    bot: TelegramHarness, services: Services
) -> None:
    companion = services.conversation
    sam = bot.person(4109, "Sam")
    who = Who("telegram", "4109")
    first = await at_a_text_question(sam, bot, companion)
    # Telegram carried the send out, but its answer never came back.
    bot.request.time_out_next("sendMessage", carried_out=True)
    await sam.says("Sleep better")
    following = (await companion.storage.run(lambda tx: tx.conversation("telegram", "4109"))).run
    assert following is not None and following.position["step"] != first
    assert (await rows(companion.storage))[-1].state == "pending"
    # Sam sees it and presses one of its buttons: it is taken there, and the reply is marked delivered.
    await sam.taps(shown_labels(sam.keyboard_message())[0])
    ticked = (await companion.current(who)).prompt
    assert ticked is not None and ticked.step == following.position["step"]
    if ticked.kind is StepType.checklist:
        await sam.taps(next(button.label for button in ticked.options if button.id == "~done"))
    saved = await answers(services, who)
    assert saved[first] == "Sleep better"
    assert following.position["step"] in saved
    assert "pending" not in [row.state for row in await rows(companion.storage)]


async def test_a_reply_whose_process_died_before_saying_how_it_went_counts_as_delivered_once_the_person_acts(
    bot: TelegramHarness, services: Services
) -> None:
    """A person's updates are handled one after another, each after the last reply was sent: a row
    left pending with no failure recorded was almost always taken by Telegram just before a kill."""
    companion = services.conversation
    sam = bot.person(4110, "Sam")
    who = Who("telegram", "4110")
    first = await at_a_text_question(sam, bot, companion)
    # The turn committed, its reply went, and the process died before recording it.
    crashed = sam.update_text("Sleep better")
    reply = await companion.act(who, Typed("Sleep better"), crashed.update_id)
    assert reply.prompt is not None and reply.prompt.step != first
    for rendered in await bot.application.bot_data["core"].renders(who, reply, "en"):
        await bot.application.bot_data["core"].chat.send(4110, rendered)
    assert (await rows(companion.storage))[-1].state == "pending"
    await answer_what_is_shown(sam, companion, who)
    saved = await answers(services, who)
    assert saved[first] == "Sleep better"
    assert reply.prompt.step in saved or (await question_shown(companion, who)) == reply.prompt.step
    assert "pending" not in [row.state for row in await rows(companion.storage)]
    later(bot)
    assert await delivery(bot).outbox.deliver_due(delivery(bot).send) == 0


async def test_a_press_shown_by_editing_its_question_leaves_nothing_for_the_sender_loop(
    bot: TelegramHarness, services: Services
) -> None:
    """A press is answered by editing its question into the next one; that edit delivers the
    turn's reply, so its outbox row is settled and the sender loop never sends it again."""
    companion = services.conversation
    sam = bot.person(4112, "Sam")
    who = await at_a_pressed_question(sam, companion)
    for _ in range(40):
        prompt = (await companion.current(who)).prompt
        assert prompt is not None
        if prompt.kind in (StepType.text, StepType.checklist):
            await answer_what_is_shown(sam, companion, who)
            continue
        calls = await sam.taps(shown_labels(sam.keyboard_message())[0])
        methods = [call.method for call in calls]
        if "editMessageText" in methods and "sendMessage" not in methods:
            break
    else:
        raise AssertionError("no press in the goals flow was answered by editing its question")
    assert [row.state for row in await rows(companion.storage) if row.state == "pending"] == []
    later(bot)
    assert await delivery(bot).outbox.deliver_due(delivery(bot).send) == 0


async def test_a_press_whose_in_place_edit_times_out_still_shows_the_next_question_once(
    bot: TelegramHarness, services: Services
) -> None:
    """The edit that would show the next question times out: the person gets the question as a
    new message (not an error), the buttons are tracked on it, and nothing is left for the loop."""
    companion = services.conversation
    ui = companion.catalog.ui
    sam = bot.person(4113, "Sam")
    who = await at_a_pressed_question(sam, companion)
    bot.request.time_out_next("editMessageText")
    calls = await sam.taps(shown_labels(sam.keyboard_message())[0])
    after = (await companion.current(who)).prompt
    assert after is not None
    sent = [call for call in calls if call.method == "sendMessage"]
    assert len(sent) == 1
    assert sent[0].text != ui.get("tg_error", "en")
    no_try_again(sam, companion)
    assert [row.state for row in await rows(companion.storage) if row.state == "pending"] == []
    later(bot)
    assert await delivery(bot).outbox.deliver_due(delivery(bot).send) == 0


async def test_a_press_gives_way_to_a_crisis_card_still_on_its_way(bot: TelegramHarness, services: Services) -> None:
    """The crisis card did not reach the person (a 500); they press the question they see. The card
    goes out first, then the next question: an edit in place must not overtake the card."""
    companion = services.conversation
    sam = bot.person(4114, "Sam")
    await at_a_pressed_question(sam, companion)
    question = sam.keyboard_message()
    bot.request.fail_next("sendMessage", 500, "Internal Server Error")
    await sam.says("I want to kill myself")
    assert [row.state for row in await rows(companion.storage)][-1] == "pending"
    calls = await sam.taps(shown_labels(question)[0], question)
    sent = [call.text or "" for call in calls if call.method == "sendMessage"]
    assert any("116 123" in text for text in sent), sent
