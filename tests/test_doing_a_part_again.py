"""Doing a part again offers to keep each earlier answer instead of starting blank.

A review redid "What matters to me" with three skips and lost the goal, the
first step, the helpers and the confidence from the summary, which uses the
latest finished run. Now each question of the new run shows the answer from
last time with "Keep my answer"; a kept answer is saved as the new run's own.
Engine on the shipped flows, and the service on a real database (both backends).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.services.conversation import Companion, Reply, Who
from flows.engine import Engine
from flows.schema import StepType
from flows.turns import DONE, KEEP, MORE_NO, NEXT, SKIP, Context, Position, Pressed, Typed

ME = Who("console", "again")
CONTEXT = Context(today=dt.date(2026, 12, 1))


def _answer(reply: Reply) -> list[Pressed | Typed]:
    """Something to answer the current question with, the way a person might."""
    prompt = reply.prompt
    assert prompt is not None
    options = [button for button in prompt.options if not button.id.startswith("~")]
    if prompt.kind is StepType.message:
        return [Pressed(NEXT)]
    if prompt.kind is StepType.text:
        return [Typed(f"my words for {prompt.step}")]
    if prompt.kind is StepType.checklist:
        return [Pressed(options[0].id), Pressed(DONE)] if options else [Pressed(DONE)]
    if prompt.step.endswith("__again"):
        return [Pressed(MORE_NO)]
    return [Pressed(options[-1].id if prompt.kind is StepType.scale else options[0].id)]


async def _latest(companion: Companion, flow_id: str) -> dict[str, Any]:
    def read(tx: Any) -> dict[str, Any]:
        person = tx.person(ME.channel, ME.external_id)
        run = tx.latest_completed(person.id)[flow_id]
        return {key: value for key, (value, _) in tx.answers([run.id])[run.id].items()}

    return await companion.storage.run(read)


async def _finish(companion: Companion, flow_id: str, choose: Any) -> list[str]:
    reply = await companion.open(ME, flow_id)
    shown = [*reply.messages]
    for _ in range(200):
        if reply.prompt is None:
            break
        shown.append(reply.prompt.text)
        for action in choose(reply):
            reply = await companion.act(ME, action)
            shown.extend(reply.messages)
    assert reply.status == "finished", shown[-3:]
    return shown


async def test_keeping_every_earlier_answer_keeps_the_whole_part(companion: Companion) -> None:
    await companion.join(ME)
    for flow_id in ("goals", "personal_medicine", "questions"):
        await _finish(companion, flow_id, _answer)
        first = await _latest(companion, flow_id)
        assert first, flow_id

        def keep(reply: Reply) -> list[Pressed | Typed]:
            if any(button.id == KEEP for button in reply.prompt.options):
                return [Pressed(KEEP)]
            return _answer(reply)

        shown = await _finish(companion, flow_id, keep)
        assert companion.catalog.ui.get("doing_again", "en") in shown
        assert any(text.startswith("Last time you answered") for line in shown for text in line.split("\n\n"))
        assert await _latest(companion, flow_id) == first, flow_id


async def test_a_new_answer_replaces_one_and_the_rest_are_kept(companion: Companion) -> None:
    await companion.join(ME)
    await _finish(companion, "goals", _answer)
    first = await _latest(companion, "goals")

    def change_the_goal(reply: Reply) -> list[Pressed | Typed]:
        if reply.prompt.step == "goal":
            return [Typed("Go back to college")]
        if any(button.id == KEEP for button in reply.prompt.options):
            return [Pressed(KEEP)]
        return _answer(reply)

    await _finish(companion, "goals", change_the_goal)
    second = await _latest(companion, "goals")
    assert second["goal"] == "Go back to college"
    assert {key: value for key, value in second.items() if key != "goal"} == {
        key: value for key, value in first.items() if key != "goal"
    }


def test_the_engine_offers_last_time_and_saves_it_when_kept(engine: Engine) -> None:
    last_time = {"meaning": ["parent", "art"], "own_medicine": ["Baking bread", "Swimming"], "helps_most": "art"}
    turn = engine.start("personal_medicine", CONTEXT, last_time)
    assert turn.messages[0] == engine.catalog.ui.get("doing_again", "en")
    while turn.prompt.step != "meaning":
        turn = engine.take(turn.position, Pressed(NEXT), CONTEXT)
    assert "Last time you answered: Being a parent, Art, music or writing" in turn.prompt.text
    turn = engine.take(Position.from_dict(turn.position.to_dict()), Pressed(KEEP), CONTEXT)
    assert turn.saved == {"meaning": ["parent", "art"]}
    assert turn.prompt.step == "self_care"
    assert all(button.id != KEEP for button in turn.prompt.options)  # nothing to keep there
    turn = engine.take(turn.position, Pressed(SKIP), CONTEXT)
    assert turn.prompt.step == "own_medicine"
    assert "Baking bread; Swimming" in turn.prompt.text
    turn = engine.take(turn.position, Pressed(KEEP), CONTEXT)
    assert turn.saved == {"own_medicine": ["Baking bread", "Swimming"]}
    assert turn.prompt.step == "own_medicine__again"  # "Is there something else?"
    turn = engine.take(turn.position, Pressed(MORE_NO), CONTEXT)
    # Options made of this run's own answers are not offered from last time.
    assert turn.prompt.step == "helps_most"
    assert all(button.id != KEEP for button in turn.prompt.options)


def test_a_first_time_has_nothing_to_keep(engine: Engine) -> None:
    turn = engine.start("goals", CONTEXT)
    assert engine.catalog.ui.get("doing_again", "en") not in turn.messages
    assert "last_time" not in turn.position.to_dict()
    assert all(button.id != KEEP for button in turn.prompt.options)
