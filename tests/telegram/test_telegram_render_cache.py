"""Rendered questions are kept only when nothing a person wrote is in them.

The Telegram adapter keeps rendered questions (escaped text, signed buttons,
keyboard JSON) so a question asked of many people is rendered once. A
question that quotes someone's answer must never be kept: after /delete,
nothing they wrote may linger in the process either.
"""

from __future__ import annotations

import datetime as dt

from flows.engine import Context, Engine, Position
from tests.telegram.harness import TelegramHarness

CONTEXT = Context(language="en", today=dt.date(2026, 11, 22))


def test_the_engine_shares_content_only_prompts_and_not_quoting_ones(test_engine: Engine) -> None:
    static = test_engine.start("kinds", CONTEXT).prompt
    assert static is not None and static.shared
    earlier = {"kinds": {"name": "Åsa Private"}}
    quoting = test_engine.start("quoting", Context(language="en", today=CONTEXT.today, earlier=earlier)).prompt
    assert quoting is not None and "Åsa Private" in quoting.text and not quoting.shared


def test_a_revisited_question_showing_an_earlier_answer_is_not_shared(test_engine: Engine) -> None:
    turn = test_engine.show(Position(flow="kinds", step="name", answers={"name": "Åsa Private"}, revisiting=True), CONTEXT)
    assert turn.prompt is not None and not turn.prompt.shared


def test_only_shared_questions_are_kept_and_never_the_messages_before_them(
    harness: TelegramHarness, test_engine: Engine
) -> None:
    handlers = harness.application.bot_data["companion"]
    kept = handlers._render_shared.cache_info
    static = test_engine.start("kinds", CONTEXT).prompt
    quoting = test_engine.start(
        "quoting", Context(language="en", today=CONTEXT.today, earlier={"kinds": {"name": "Åsa Private"}})
    ).prompt
    assert static is not None and quoting is not None
    before = kept().currsize

    rendered = handlers._prompt("quoting", quoting, "en")
    assert "Åsa Private" in rendered.parts[0] and kept().currsize == before

    with_message = handlers._prompt("kinds", static, "en", ["You wrote: Åsa Private"])
    assert with_message.parts[0].startswith("You wrote: Åsa Private") and kept().currsize == before + 1
    alone = handlers._prompt("kinds", static, "en")
    assert kept().currsize == before + 1  # the one kept is the question alone
    assert "Åsa Private" not in "".join(alone.parts)
    assert with_message.keyboard_json == alone.keyboard_json  # the rendering is reused, not redone
    assert handlers._prompt("kinds", static, "en") is alone
