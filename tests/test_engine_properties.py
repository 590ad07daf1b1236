"""Whatever a person sends, the engine never raises, never loses an answer, and
always leaves a position it can take the next turn from."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.engine import Engine
from flows.machine import step_of
from flows.schema import END
from flows.turns import (
    BACK,
    DONE,
    KEEP,
    MORE_NO,
    MORE_YES,
    NEXT,
    PAUSE,
    SKIP,
    USE_SUGGESTION,
    WHY,
    Context,
    Position,
    Pressed,
    Typed,
)

NAVIGATION = [BACK, SKIP, PAUSE, DONE, NEXT, KEEP, WHY, USE_SUGGESTION, MORE_YES, MORE_NO]
OPTION_IDS = [
    "good",
    "okay",
    "low",
    "home",
    "work",
    "friends",
    "yes",
    "no",
    "+7",
    "+14",
    "question.1",
    "nonsense",
    "~x",
]

typed = st.one_of(
    st.text(max_size=40),
    st.text(min_size=90, max_size=400),
    st.integers(min_value=-20, max_value=30).map(str),
    st.sampled_from(
        ["", " ", "yes", "nej", "back", "24/12/2026", "1/1/2020", "😀🔥", "\x00\x1b", "{name}", "ja", "¹", "٣"]
    ),
).map(Typed)
pressed = st.sampled_from(NAVIGATION + OPTION_IDS + [str(n) for n in range(-1, 12)]).map(Pressed)
actions = st.lists(st.one_of(typed, pressed), max_size=60)


def _valid(engine: Engine, position: Position) -> bool:
    if position.step == END:
        return True
    step_id, again = step_of(position.step)
    flow = engine.catalog.flows[position.flow]
    return flow.has_step(step_id) and (not again or flow.step(step_id).repeat is not None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=actions, language=st.sampled_from(["en", "sv"]))
def test_any_input_sequence_is_safe(test_engine: Engine, actions: list, language: str) -> None:
    context = Context(language=language, today=dt.date(2026, 11, 22))
    turn = test_engine.start("kinds", context)
    answered: set[str] = set()
    for action in actions:
        before = turn.position.to_dict()
        position = Position.from_dict(before)
        turn = test_engine.take(position, action, context)
        assert _valid(test_engine, turn.position)
        # Everything said is text; a question is waiting unless paused or finished.
        assert all(isinstance(message, str) for message in turn.messages)
        if turn.status == "active":
            assert turn.prompt is not None and turn.prompt.text
        if turn.status == "paused":
            assert turn.position.to_dict() == before
            turn = test_engine.show(turn.position, context)
        # Answers given are never lost: a key once answered stays answered.
        assert answered <= set(turn.position.answers)
        assert set(turn.saved) <= set(turn.position.answers)
        # A rejected input changes nothing saved.
        if turn.problem is not None:
            assert turn.saved == {}
            assert turn.position.answers == before["answers"]
        answered |= set(turn.position.answers)
        if turn.status == "finished":
            break
