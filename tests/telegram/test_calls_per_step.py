"""Each shipped flow, end to end through the real Application, costs at most 1.2
rate-limited Bot API calls per answered step, and never leaves live buttons on
an older message.

Telegram lets a bot send about 30 messages a second in all and one a second to
a chat; every sendMessage and edit counts (answerCallbackQuery does not). The
number of such calls per answer is what decides how many people the bot can
serve at once, so it is counted here on whole runs, the way a person answers:
buttons where there are buttons, typing where a question asks for words.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.services.conversation import Companion, Who
from flows.schema import StepType
from flows.turns import DONE, MORE_NO, NEXT, Prompt
from tests.telegram.expect import answer_options, button_labels
from tests.telegram.harness import Call, Person, TelegramHarness, keyboard_of, shown
from tests.telegram.talk import OWN, agree

LIMIT = 1.2
UNLIMITED = {"answerCallbackQuery", "getMe", "setMyCommands"}
"""Calls Telegram does not count against a chat's sending limits."""

MENU_FLOWS = ["goals", "personal_medicine", "assertiveness", "questions", "appointment"]


def limited(calls: list[Call]) -> list[Call]:
    return [call for call in calls if call.method not in UNLIMITED and "chat_id" in call.params]


def live_messages(person: Person) -> list[dict[str, Any]]:
    """Messages in the chat whose inline buttons can still be tapped."""
    return [message for message in person.chat if keyboard_of(message.get("reply_markup"))]


def label_of(prompt: Prompt, companion: Companion, button_id: str) -> str:
    labels = button_labels(prompt, companion.catalog.ui)
    order = [*answer_options(prompt), *[b for b in prompt.options if b.id.startswith("~")], *prompt.navigation]
    return labels[[b.id for b in order].index(button_id)]


async def run_flow(harness: TelegramHarness, companion: Companion, person: Person, flow_id: str) -> tuple[int, int]:
    """Open ``flow_id`` from the menu and answer it to the end; (answered steps, limited calls)."""
    who = Who("telegram", str(person.id))
    title = companion.catalog.flows[flow_id].title.get("en")
    await person.taps(next(label for label in shown(person.last) if label.startswith(title)))
    steps = calls = 0
    for _ in range(120):
        current = await companion.current(who)
        prompt = current.prompt
        if prompt is None:
            break
        if prompt.kind is StepType.text and not prompt.step.endswith("__again"):
            made = await person.says(OWN)
        elif prompt.step.endswith("__again"):
            made = await person.taps(label_of(prompt, companion, MORE_NO), live_messages(person)[-1])
        elif prompt.kind is StepType.message:
            made = await person.taps(label_of(prompt, companion, NEXT), live_messages(person)[-1])
        elif prompt.kind is StepType.checklist and not any(b.ticked for b in prompt.options):
            tick = await person.taps(button_labels(prompt, companion.catalog.ui)[0], live_messages(person)[-1])
            assert [c.method for c in limited(tick)] == ["editMessageText"], "a tick is one edit in place"
            continue
        elif prompt.kind is StepType.checklist:
            made = await person.taps(label_of(prompt, companion, DONE), live_messages(person)[-1])
        else:
            made = await person.taps(button_labels(prompt, companion.catalog.ui)[0], live_messages(person)[-1])
        steps += 1
        calls += len(limited(made))
        live = live_messages(person)
        assert len(live) <= 1, f"{flow_id}: older messages keep live buttons ({len(live)} with buttons)"
        assert not live or live[0] is person.chat[-1], f"{flow_id}: the buttons are not on the newest message"
    assert (await companion.current(Who("telegram", str(person.id)))).prompt is None, f"{flow_id} did not finish"
    return steps, calls


@pytest.mark.parametrize("flow_id", MENU_FLOWS)
async def test_a_whole_flow_costs_at_most_1_2_limited_calls_per_answer(
    harness: TelegramHarness, companion: Companion, flow_id: str
) -> None:
    person = harness.person(6100 + MENU_FLOWS.index(flow_id), "Robin")
    await agree(person, companion)
    steps, calls = await run_flow(harness, companion, person, flow_id)
    assert steps >= 3
    assert calls / steps <= LIMIT, f"{flow_id}: {calls} limited calls for {steps} answers ({calls / steps:.2f})"


async def test_a_question_that_cannot_be_edited_comes_as_a_new_message(
    harness: TelegramHarness, companion: Companion
) -> None:
    """Telegram refuses edits of old messages: the next question then comes as a new message."""
    person = harness.person(6200, "Kim")
    await agree(person, companion)
    title = companion.catalog.flows["personal_medicine"].title.get("en")
    await person.taps(next(label for label in shown(person.last) if label.startswith(title)))
    who = Who("telegram", str(person.id))
    prompt = (await companion.current(who)).prompt
    assert prompt is not None and prompt.kind is StepType.message
    harness.request.fail_next("editMessageText", 400, "Bad Request: message can't be edited")
    made = await person.taps(label_of(prompt, companion, NEXT), live_messages(person)[-1])
    following = (await companion.current(who)).prompt
    assert following is not None and following.step != prompt.step
    # The refused edit, the question as a new message, and the old buttons taken off.
    assert sorted(call.method for call in limited(made)) == ["editMessageReplyMarkup", "editMessageText", "sendMessage"]
    assert person.last["text"].endswith(following.text) or following.text in person.last["text"]
    assert live_messages(person) == ([person.last] if shown(person.last) else [])
