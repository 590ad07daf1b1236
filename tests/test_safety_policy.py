"""The safety policy over a conversation: signs add up within a day, the question rests after
"No", the crisis card never rests, and the not-suddenly reminder comes once a local day."""

from __future__ import annotations

import datetime as dt

from flows.safety import (
    NOTHING,
    QUESTION_REST,
    SIGNAL_WINDOW,
    Answer,
    Assessment,
    Response,
    SafetyState,
    Tier,
    answered,
    decide,
)

NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
DEFINITE = Assessment(Tier.DEFINITE, frozenset({"intent"}))
POSSIBLE = Assessment(Tier.POSSIBLE, frozenset({"wish_to_be_dead"}))
WEAK = Assessment(Tier.WEAK, frozenset({"hopelessness"}))
SOMEONE_ELSE = Assessment(Tier.SOMEONE_ELSE, frozenset({"someone_else"}))
STOPPING = Assessment(None, frozenset({"stopping_medicine"}), stopping_medicine=True)


def run(steps: list[tuple[Assessment, dt.datetime]], state: SafetyState | None = None) -> list[Response]:
    """Responses to messages at the given times, from a person who answers "No" when asked."""
    state = state or SafetyState()
    out = []
    for assessment, now in steps:
        decision = decide(assessment, state, now, now.date())
        state = decision.state
        out.append(decision.response)
        if decision.response is Response.QUESTION:
            _response, state = answered(Answer.NO, state, now)
    return out


def test_each_tier_gets_its_response() -> None:
    assert decide(DEFINITE, SafetyState(), NOON, NOON.date()).response is Response.CARD
    assert decide(POSSIBLE, SafetyState(), NOON, NOON.date()).response is Response.QUESTION
    assert decide(SOMEONE_ELSE, SafetyState(), NOON, NOON.date()).response is Response.SUPPORTER
    assert decide(WEAK, SafetyState(), NOON, NOON.date()).response is Response.NONE
    assert decide(NOTHING, SafetyState(), NOON, NOON.date()).response is Response.NONE


def test_two_weak_signs_within_a_day_bring_the_question() -> None:
    hour = dt.timedelta(hours=1)
    assert run([(WEAK, NOON), (WEAK, NOON + 23 * hour)]) == [Response.NONE, Response.QUESTION]


def test_weak_signs_further_apart_than_the_window_do_not_add_up() -> None:
    later = NOON + SIGNAL_WINDOW + dt.timedelta(minutes=1)
    assert run([(WEAK, NOON), (WEAK, later)]) == [Response.NONE, Response.NONE]


def test_a_possible_sign_after_a_weak_one_asks_once() -> None:
    minute = dt.timedelta(minutes=1)
    assert run([(WEAK, NOON), (POSSIBLE, NOON + minute)]) == [Response.NONE, Response.QUESTION]


def test_after_no_the_question_rests_and_a_help_line_is_shown_instead() -> None:
    minute = dt.timedelta(minutes=1)
    responses = run([(POSSIBLE, NOON), (POSSIBLE, NOON + minute), (WEAK, NOON + 2 * minute), (WEAK, NOON + 3 * minute)])
    assert responses == [Response.QUESTION, Response.HELP_LINE, Response.HELP_LINE, Response.HELP_LINE]


def test_the_question_comes_back_when_the_rest_is_over() -> None:
    after = NOON + QUESTION_REST + dt.timedelta(minutes=1)
    assert run([(POSSIBLE, NOON), (POSSIBLE, after)]) == [Response.QUESTION, Response.QUESTION]


def test_no_clears_the_signs_that_led_to_the_question() -> None:
    decision = decide(WEAK, SafetyState(), NOON, NOON.date())
    decision = decide(WEAK, decision.state, NOON, NOON.date())
    assert decision.response is Response.QUESTION
    _response, state = answered(Answer.NO, decision.state, NOON)
    assert state.signals == ()
    assert state.resting_until == NOON + QUESTION_REST


def test_the_crisis_card_never_rests() -> None:
    minute = dt.timedelta(minutes=1)
    responses = run([(POSSIBLE, NOON), (DEFINITE, NOON + minute), (DEFINITE, NOON + 2 * minute)])
    assert responses == [Response.QUESTION, Response.CARD, Response.CARD]


def test_yes_and_rather_not_say_bring_the_card_and_keep_the_state() -> None:
    state = decide(POSSIBLE, SafetyState(), NOON, NOON.date()).state
    for answer in (Answer.YES, Answer.RATHER_NOT):
        response, after = answered(answer, state, NOON)
        assert response is Response.CARD
        assert after == state


def test_the_medicine_reminder_comes_once_a_local_day() -> None:
    state = SafetyState()
    shown = []
    # 23:30 and 00:30 UTC are different local days in Stockholm (UTC+1): the caller
    # passes the person's local date, and the reminder follows it.
    moments = [
        (dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), dt.date(2026, 12, 1)),
        (dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC), dt.date(2026, 12, 1)),
        (dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC), dt.date(2026, 12, 2)),
        (dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC), dt.date(2026, 12, 2)),
    ]
    for now, today in moments:
        decision = decide(STOPPING, state, now, today)
        state = decision.state
        shown.append(decision.medicine_warning)
    assert shown == [True, False, True, False]


def test_the_medicine_reminder_comes_with_a_crisis_response_too() -> None:
    both = Assessment(Tier.DEFINITE, frozenset({"acts_taken", "stopping_medicine"}), stopping_medicine=True)
    decision = decide(both, SafetyState(), NOON, NOON.date())
    assert decision.response is Response.CARD and decision.medicine_warning


def test_the_state_keeps_no_text_and_survives_a_round_trip() -> None:
    state = decide(WEAK, SafetyState(), NOON, NOON.date()).state
    _response, state = answered(Answer.NO, decide(STOPPING, state, NOON, NOON.date()).state, NOON)
    data = state.to_dict()
    assert set(data) == {"signals", "resting_until", "medicine_told_on"}
    assert SafetyState.from_dict(data) == state
    assert SafetyState.from_dict(None) == SafetyState()
    naive = SafetyState.from_dict({"signals": ["2026-12-01T12:00:00"]})
    assert naive.signals == (NOON,)
