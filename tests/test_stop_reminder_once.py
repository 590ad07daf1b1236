""" "Don't stop suddenly without your prescriber" is said at most once a day, wherever it comes up.

A review found it three times in one sitting (personal medicine, the lower-dose
practice, the question list). The flows' reminder messages and the reminder
after a typed message about stopping share one record (the local date it was
last given), so the second time a flow says its short words instead, and the
next day the whole reminder comes back. Real database (both backends), the
shipped flows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.services.conversation import Companion, Reply, Who
from bot.storage.repository import Storage
from flows.crisis import CrisisDetector
from flows.engine import Engine
from flows.safety import NOTHING, Assessment
from flows.turns import BACK, DONE, NEXT, SKIP, Context, Position, Pressed, Typed
from tests.conftest import Clock

ME = Who("console", "me")
STOPPED = "I stopped my tablets last week"
SUDDENLY = "suddenly"


class StoppingDetector(CrisisDetector):
    """The shipped lexicons, but only STOPPED is read as a message about stopping a medicine."""

    def assess(self, text: str) -> Assessment:
        return Assessment(None, stopping_medicine=True) if text == STOPPED else NOTHING


@pytest.fixture
async def person(storage: Storage, engine: Engine, clock: Clock) -> Companion:
    shipped = CrisisDetector.from_catalog(engine.catalog)
    companion = Companion(storage, engine, clock=clock, crisis=StoppingDetector(shipped.lexicons))
    await companion.join(ME)
    return companion


def _said(reply: Reply) -> str:
    return " ".join([*reply.messages, reply.prompt.text if reply.prompt else ""])


async def _until(companion: Companion, reply: Reply, step: str, said: list[str]) -> Reply:
    for _ in range(60):
        said.append(_said(reply))
        if reply.prompt is not None and reply.prompt.step == step:
            return reply
        assert reply.prompt is not None, f"the flow ended before {step}"
        reply = await companion.act(ME, Pressed(NEXT if reply.prompt.kind.value == "message" else SKIP))
    raise AssertionError(f"never reached {step}")


async def _questions_to_the_reminder(companion: Companion, said: list[str]) -> Reply:
    reply = await _until(companion, await companion.open(ME, "questions"), "changing", said)
    await companion.act(ME, Pressed("stop_one_day"))
    reply = await companion.act(ME, Pressed(DONE))
    said.append(_said(reply))
    assert reply.prompt is not None and reply.prompt.step == "not_suddenly"
    return reply


async def _personal_medicine_to_the_reminder(companion: Companion, said: list[str]) -> Reply:
    reply = await _until(companion, await companion.open(ME, "personal_medicine"), "takes_medicine", said)
    reply = await _until(companion, await companion.act(ME, Pressed("yes")), "concerns", said)
    await companion.act(ME, Pressed("come_off"))
    reply = await companion.act(ME, Pressed(DONE))
    said.append(_said(reply))
    assert reply.prompt is not None and reply.prompt.step == "not_suddenly"
    return reply


async def test_the_reminder_is_given_once_a_day_across_flows_and_typed_messages(
    person: Companion, clock: Clock
) -> None:
    said: list[str] = []
    first = await _questions_to_the_reminder(person, said)
    assert SUDDENLY in first.prompt.text and "prescriber" in first.prompt.text

    second = await _personal_medicine_to_the_reminder(person, said)
    assert SUDDENLY not in second.prompt.text
    assert "prescriber" in second.prompt.text  # the short words still point to the prescriber
    await _until(person, await person.act(ME, Pressed(NEXT)), "more_to_say", said)
    typed = await person.act(ME, Typed(STOPPED))
    assert person.safety_words.medicine("en") not in typed.messages
    assert sum(text.count(SUDDENLY) for text in said) == 1, said

    # The question list is still open at its reminder, which keeps its whole words while it is shown.
    shown = await person.open(ME, "questions")
    assert shown.prompt is not None and shown.prompt.step == "not_suddenly"
    assert SUDDENLY in shown.prompt.text
    # Reached again the same day (back, then Done), it says its short words ...
    await person.act(ME, Pressed(BACK))
    again = await person.act(ME, Pressed(DONE))
    assert again.prompt is not None and again.prompt.step == "not_suddenly"
    assert SUDDENLY not in again.prompt.text
    # ... and the next day its whole words again.
    clock.advance(days=1)
    await person.act(ME, Pressed(BACK))
    next_day = await person.act(ME, Pressed(DONE))
    assert next_day.prompt is not None and next_day.prompt.step == "not_suddenly"
    assert SUDDENLY in next_day.prompt.text


async def test_a_typed_message_about_stopping_counts_as_the_reminder(person: Companion) -> None:
    said: list[str] = []
    await _until(person, await person.open(ME, "personal_medicine"), "own_medicine", said)
    typed = await person.act(ME, Typed(STOPPED))
    assert person.safety_words.medicine("en") in typed.messages
    reply = await _questions_to_the_reminder(person, said)
    assert SUDDENLY not in reply.prompt.text


def test_the_engine_says_the_short_words_once_reminded(engine: Engine) -> None:
    step = engine.catalog.flows["assertiveness"].step("safe_change")
    for reminded in (False, True):
        context = Context(reminded=reminded)
        turn = engine.show(Position("assertiveness", "safe_change"), context)
        assert turn.prompt is not None
        assert (SUDDENLY in turn.prompt.text.lower() or "sudden" in turn.prompt.text.lower()) is not reminded
        assert turn.reminded is not reminded
        assert turn.prompt.text == (step.reminded if reminded else step.say).get("en")


def test_the_content_check_finds_the_reminder_outside_a_reminder_message(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    folder = tmp_path / "content"
    shutil.copytree(root / "content", folder)
    path = folder / "flows" / "questions.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for step in data["steps"]:
        if step["id"] == "intro":
            step["say"]["en"] += " Never stop your medicine suddenly."
        if step["id"] == "not_suddenly":
            step["reminded"]["sv"] += " Sluta inte plötsligt."
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    ).stdout
    assert "flows/questions.yaml, step 'intro': say (en) tell the person not to stop medicine suddenly" in out
    assert "flows/questions.yaml, step 'not_suddenly': its 'reminded' words tell the person" in out
