"""A whole flow through the real Application: exact texts and buttons, answers committed."""

from __future__ import annotations

from bot.services.conversation import Companion, Who
from bot.services.privacy import Privacy
from flows.schema import StepType
from flows.turns import Prompt
from tests.telegram.expect import answer_options, button_labels, numbered, prompt_text, shown_labels
from tests.telegram.harness import Person, TelegramHarness

FLOW = "questions"
OWN_QUESTION = "Can I take it with <food> & coffee?"


async def agree(person: Person, harness: TelegramHarness) -> None:
    await person.says("/start")
    await person.taps(harness.application.bot_data["core"].ui.get("button_agree", "en"))


async def open_flow(person: Person, companion: Companion, flow_id: str = FLOW) -> None:
    title = companion.catalog.flows[flow_id].title.get("en")
    label = next(text for text in shown_labels(person.last) if text.startswith(title))
    await person.taps(label)


def assert_shows(message: dict, prompt: Prompt, companion: Companion) -> None:
    assert message["text"].endswith(prompt_text(prompt, companion.catalog.ui)), (
        message["text"],
        prompt_text(prompt, companion.catalog.ui),
    )
    assert shown_labels(message) == button_labels(prompt, companion.catalog.ui)


async def test_whole_questions_flow(harness: TelegramHarness, companion: Companion) -> None:
    alice = harness.person(1001, "Alice")
    who = Who("telegram", "1001")
    await agree(alice, harness)
    await open_flow(alice, companion)
    flow = companion.catalog.flows[FLOW]
    # Messages on the way to the first question come first, in the same message.
    first_say = flow.steps[0].say.get("en")
    assert alice.last["text"].startswith(first_say)
    chosen: dict[str, object] = {}
    for _ in range(60):
        current = await companion.current(who)
        if current.prompt is None:
            break
        prompt = current.prompt
        assert_shows(alice.last, prompt, companion)
        labels = shown_labels(alice.last)
        if prompt.step.endswith("__again"):
            await alice.taps(prompt.options[1].label)  # "No, that's all"
        elif prompt.kind is StepType.message:
            await alice.taps(prompt.options[0].label)
        elif prompt.kind is StepType.text:
            await alice.says(OWN_QUESTION)
            chosen[prompt.step] = [OWN_QUESTION] if flow.step(prompt.step).repeat else OWN_QUESTION
        elif prompt.kind is StepType.checklist:
            message_id = alice.last["message_id"]
            await alice.taps(labels[0])
            # A tick edits the same message in place: no new message.
            assert alice.last["message_id"] == message_id
            ticked = (await companion.current(who)).prompt
            assert ticked is not None and answer_options(ticked)[0].ticked
            assert_shows(alice.last, ticked, companion)
            await alice.taps(next(b.label for b in ticked.options if b.id == "~done"))
            chosen[prompt.step] = [answer_options(prompt)[0].id]
        else:
            await alice.taps(labels[0])
            chosen[prompt.step] = answer_options(prompt)[0].id
    else:
        raise AssertionError("the flow did not finish")
    # The done text, then the menu with this flow marked done.
    assert flow.done is not None
    assert flow.done.get("en") in alice.last["text"]
    assert any(label.startswith(flow.title.get("en")) and "done" in label for label in shown_labels(alice.last))
    # Every answer is committed.
    data = await Privacy(companion.storage).export(who)
    assert data is not None
    answers = {key: value["value"] for key, value in data["flows"][0]["answers"].items()}
    assert chosen
    for step, value in chosen.items():
        assert answers[step] == value
    assert data["flows"][0]["status"] == "completed"


async def test_user_text_is_escaped_where_it_is_echoed(harness: TelegramHarness, companion: Companion) -> None:
    bob = harness.person(1002, "Bob")
    who = Who("telegram", "1002")
    await agree(bob, harness)
    await open_flow(bob, companion)
    for _ in range(20):
        prompt = (await companion.current(who)).prompt
        assert prompt is not None
        if prompt.kind is StepType.text:
            break
        await bob.taps(
            next(b.label for b in (*prompt.options, *prompt.navigation) if b.id in ("~skip", "~next", "~done"))
        )
    calls = await bob.says(OWN_QUESTION)
    # The Bot API parsed the HTML we sent without complaint.
    assert all(call.method != "sendMessage" or "<food>" not in (call.text or "") for call in calls)
    # Own questions come back later as options (quoted in text or on buttons) exactly as typed.
    for _ in range(20):
        prompt = (await companion.current(who)).prompt
        assert prompt is not None
        if any(b.label == OWN_QUESTION for b in prompt.options):
            break
        nxt = next(b for b in (*prompt.options, *prompt.navigation) if b.id in ("~enough", "~skip", "~next", "~done"))
        await bob.taps(nxt.label)
    else:
        raise AssertionError("own question never offered again")
    assert_shows(bob.last, prompt, companion)
    if numbered(prompt):
        # In the numbered list the typed text arrives intact (it was sent escaped).
        assert OWN_QUESTION in bob.last["text"]


async def test_a_quick_double_tap_on_a_checklist_ticks_once(harness: TelegramHarness, companion: Companion) -> None:
    import copy

    dee = harness.person(1201, "Dee")
    who = Who("telegram", "1201")
    await agree(dee, harness)
    await open_flow(dee, companion)
    for _ in range(10):  # on to the first checklist
        prompt = (await companion.current(who)).prompt
        if prompt.kind is StepType.checklist:
            break
        await dee.taps(shown_labels(dee.last)[0])
    old_keyboard = copy.deepcopy(dee.keyboard_message())
    first = shown_labels(old_keyboard)[0]
    # Two taps on the same button before the first edit reached the phone.
    await harness.process(dee.update_press(first, old_keyboard))
    await harness.process(dee.update_press(first, old_keyboard))
    ticked = [b.id for b in (await companion.current(who)).prompt.options if b.ticked]
    assert len(ticked) == 1
    # A tap on the updated button (now "untick") takes it off again.
    await dee.taps(shown_labels(dee.keyboard_message())[0])
    assert [b.id for b in (await companion.current(who)).prompt.options if b.ticked] == []
