"""Rendered questions are kept only when nothing a person wrote is in them.

The Telegram adapter keeps rendered questions (escaped text, signed buttons,
keyboard JSON) so a question asked of many people is rendered once. A
question that quotes someone's answer must never be kept: after /delete,
nothing they wrote may linger in the process either.
"""

from __future__ import annotations

import datetime as dt

from flows.engine import Engine
from flows.turns import Context, Position
from tests.telegram.harness import TelegramHarness

CONTEXT = Context(language="en", today=dt.date(2026, 11, 22))


def test_the_engine_shares_content_only_prompts_and_not_quoting_ones(test_engine: Engine) -> None:
    static = test_engine.start("kinds", CONTEXT).prompt
    assert static is not None and static.shared
    earlier = {"kinds": {"name": "Åsa Private"}}
    quoting = test_engine.start("quoting", Context(language="en", today=CONTEXT.today, earlier=earlier)).prompt
    assert quoting is not None and "Åsa Private" in quoting.text and not quoting.shared


def test_a_revisited_question_showing_an_earlier_answer_is_not_shared(test_engine: Engine) -> None:
    turn = test_engine.show(
        Position(flow="kinds", step="name", answers={"name": "Åsa Private"}, revisiting=True), CONTEXT
    )
    assert turn.prompt is not None and not turn.prompt.shared


def test_only_shared_questions_are_kept_and_never_the_messages_before_them(
    harness: TelegramHarness, test_engine: Engine
) -> None:
    handlers = harness.application.bot_data["core"]
    kept = handlers._render_shared.cache_info
    static = test_engine.start("kinds", CONTEXT).prompt
    quoting = test_engine.start(
        "quoting", Context(language="en", today=CONTEXT.today, earlier={"kinds": {"name": "Åsa Private"}})
    ).prompt
    assert static is not None and quoting is not None
    before = kept().currsize

    rendered = handlers.prompt("quoting", quoting, "en")
    assert "Åsa Private" in rendered.parts[0] and kept().currsize == before

    with_message = handlers.prompt("kinds", static, "en", ["You wrote: Åsa Private"])
    assert with_message.parts[0].startswith("You wrote: Åsa Private") and kept().currsize == before + 1
    alone = handlers.prompt("kinds", static, "en")
    assert kept().currsize == before + 1  # the one kept is the question alone
    assert "Åsa Private" not in "".join(alone.parts)
    assert with_message.keyboard is alone.keyboard  # the rendering is reused, not redone
    assert handlers.prompt("kinds", static, "en") is alone


def test_a_kept_rendering_with_messages_before_it_is_what_rendering_afresh_gives(
    harness: TelegramHarness, engine: Engine
) -> None:
    """Every question of every shipped flow, in both languages: reusing the kept rendering
    (messages in front, keyboard as it was) gives exactly the message a fresh rendering gives."""
    from flows.schema import LANGUAGES, StepType
    from flows.turns import DONE, MORE_NO, NEXT, Pressed, Typed

    handlers = harness.application.bot_data["core"]
    compared = 0
    for language in LANGUAGES:
        context = Context(language=language, today=CONTEXT.today)
        for flow_id in engine.catalog.flows:
            turn = engine.start(flow_id, context)
            ticked: set[str] = set()
            for _ in range(60):
                prompt = turn.prompt
                if prompt is None:
                    break
                before = [*turn.messages, "Åsa wrote <this> & that"]
                reused = handlers.prompt(flow_id, prompt, language, before)
                afresh = handlers._render(flow_id, prompt, language, tuple(before))
                assert reused.parts == afresh.parts, (flow_id, prompt.step)
                assert (reused.keyboard and reused.keyboard.to_dict()) == (
                    afresh.keyboard and afresh.keyboard.to_dict()
                ), (
                    flow_id,
                    prompt.step,
                )
                compared += 1
                if prompt.step.endswith("__again"):
                    action = Pressed(MORE_NO)
                elif prompt.kind is StepType.message:
                    action = Pressed(NEXT)
                elif prompt.kind is StepType.text:
                    action = Typed("Could we talk about how I sleep?")
                elif prompt.kind is StepType.checklist and prompt.step not in ticked:
                    ticked.add(prompt.step)
                    action = Pressed(prompt.options[0].id)
                elif prompt.kind is StepType.checklist:
                    action = Pressed(DONE)
                else:
                    action = Pressed(prompt.options[0].id)
                turn = engine.take(turn.position, action, context)
    assert compared > 100
