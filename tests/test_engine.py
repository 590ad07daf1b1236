"""The engine, step kind by step kind, on the test-only flow tests/content/flows/kinds.yaml."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.engine import Engine
from flows.reading import clean_text, parse_date
from flows.schema import StepType
from flows.turns import (
    BACK,
    DONE,
    KEEP,
    MORE_NO,
    MORE_YES,
    NEXT,
    PAUSE,
    RESTART,
    SKIP,
    USE_SUGGESTION,
    WHY,
    Context,
    Position,
    Pressed,
    Turn,
    Typed,
)

TODAY = dt.date(2026, 11, 22)


class Walk:
    """Drives one person through a flow, keeping the position between turns like storage would."""

    def __init__(self, engine: Engine, flow: str = "kinds", language: str = "en", earlier: dict | None = None) -> None:
        self.engine = engine
        self.context = Context(language=language, today=TODAY, earlier=earlier or {})
        self.turn = engine.start(flow, self.context)
        self.saved: dict = dict(self.turn.saved)

    def __call__(self, action: Pressed | Typed | str) -> Turn:
        if isinstance(action, str):
            action = Pressed(action) if action.startswith("~") else Typed(action)
        # Round-trip the position through plain data, as the database does.
        position = Position.from_dict(self.turn.position.to_dict())
        self.turn = self.engine.take(position, action, self.context)
        self.saved.update(self.turn.saved)
        return self.turn

    @property
    def step(self) -> str | None:
        return self.turn.prompt.step if self.turn.prompt else None

    def to(self, step: str) -> None:
        """Answer with sensible defaults until the named step is asked."""
        defaults = {
            "teach": NEXT,
            "name": "Sam",
            "mood": "good",
            "sleep_ok": "yes",
            "confidence": "9",
        }
        for _ in range(30):
            if self.step == step:
                return
            if self.step == "areas":
                self("home")
                self(DONE)
                continue
            self(defaults.get(self.step or "", SKIP))
        raise AssertionError(f"never reached {step}, stuck at {self.step}")


@pytest.fixture
def walk(test_engine: Engine) -> Walk:
    return Walk(test_engine)


# --------------------------------------------------------------------- messages


def test_start_says_messages_then_stops_at_a_wait_message(walk: Walk) -> None:
    assert walk.turn.messages == ["Hello."]
    assert walk.step == "teach"
    assert walk.turn.prompt.kind is StepType.message
    assert [b.id for b in walk.turn.prompt.options] == [NEXT]


def test_next_moves_past_a_wait_message(walk: Walk) -> None:
    walk(NEXT)
    assert walk.step == "name"


def test_typing_at_a_wait_message_also_moves_on(walk: Walk) -> None:
    walk("ok")
    assert walk.step == "name"
    assert walk.turn.problem is None


# --------------------------------------------------------------------- text


def test_text_is_saved_trimmed_and_quoted_in_the_next_question(walk: Walk) -> None:
    walk.to("name")
    walk("  Sam  ")
    assert walk.turn.saved == {"name": "Sam"}
    assert walk.turn.prompt.text == "Hi Sam. How are you today?"


def test_text_over_the_limit_is_reasked_and_nothing_is_cut(walk: Walk) -> None:
    walk.to("name")
    walk("x" * 21)
    assert walk.turn.problem == "too_long"
    assert "21" in walk.turn.messages[0] and "20" in walk.turn.messages[0]
    assert walk.step == "name"
    assert "name" not in walk.turn.position.answers


def test_empty_text_is_reasked(walk: Walk) -> None:
    walk.to("name")
    walk("   \u200b ")
    assert walk.turn.problem == "empty"
    assert walk.step == "name"


def test_control_characters_are_removed_from_text() -> None:
    assert clean_text("a\x00b\x1b[31mc\u202ed\n e ") == "ab[31mcd\n e"


def test_a_button_at_a_text_question_asks_for_typing(walk: Walk) -> None:
    walk.to("name")
    walk(Pressed("good"))
    assert walk.turn.problem == "use_typing"


def test_why_explains_without_moving_on(walk: Walk) -> None:
    walk.to("name")
    walk(WHY)
    assert walk.turn.messages == ["So the summary uses your name."]
    assert walk.step == "name"
    assert WHY in [b.id for b in walk.turn.prompt.navigation]


# --------------------------------------------------------------------- choice and branching


def test_choice_by_button_and_branch_to_a_message(walk: Walk) -> None:
    walk.to("mood")
    walk("low")
    assert walk.turn.saved == {"mood": "low"}
    assert walk.turn.messages == ["Sorry to hear that."]
    assert walk.step == "areas"


def test_choice_by_typed_label_or_number(walk: Walk) -> None:
    walk.to("mood")
    walk("okay")
    assert walk.saved["mood"] == "okay"
    walk(BACK)
    walk("1")
    assert walk.saved["mood"] == "good"
    assert walk.turn.messages == []  # "good" does not branch to "sorry"


def test_unknown_option_is_reasked(walk: Walk) -> None:
    walk.to("mood")
    for bad in (Pressed("excellent"), Typed("banana"), Typed("7"), Pressed("~forged")):
        walk(bad)
        assert walk.turn.problem == "unknown_option"
        assert walk.step == "mood"
    assert "mood" not in walk.turn.position.answers


# --------------------------------------------------------------------- checklist


def test_checklist_ticks_untick_and_done(walk: Walk) -> None:
    walk.to("areas")
    walk("home")
    walk("work")
    walk("home")
    ticked = [b.id for b in walk.turn.prompt.options if b.ticked]
    assert ticked == ["work"]
    assert walk.turn.saved == {}
    walk(DONE)
    assert walk.turn.saved == {"areas": ["work"]}


def test_checklist_limit_is_explained(walk: Walk) -> None:
    walk.to("areas")
    walk("home")
    walk("work")
    walk("friends")
    assert walk.turn.problem == "pick_limit"
    assert [b.id for b in walk.turn.prompt.options if b.ticked] == ["home", "work"]


def test_checklist_keeps_option_order_not_tap_order(walk: Walk) -> None:
    walk.to("areas")
    walk("work")
    walk("home")
    walk(DONE)
    assert walk.saved["areas"] == ["home", "work"]


def test_checklist_done_with_nothing_ticked_moves_on_without_an_answer(walk: Walk) -> None:
    walk.to("areas")
    walk(DONE)
    assert "areas" not in walk.saved
    assert walk.step == "sleep_ok"


def test_typed_text_at_a_checklist_is_reasked(walk: Walk) -> None:
    walk.to("areas")
    walk("everything really")
    assert walk.turn.problem == "tick_then_done"


# --------------------------------------------------------------------- yes/no, required


def test_yes_no_accepts_words_in_both_languages(walk: Walk) -> None:
    walk.to("sleep_ok")
    walk("ja")
    assert walk.saved["sleep_ok"] == "yes"


def test_required_question_cannot_be_skipped(walk: Walk) -> None:
    walk.to("sleep_ok")
    assert SKIP not in [b.id for b in walk.turn.prompt.navigation]
    walk(SKIP)
    assert walk.turn.problem == "required"
    assert walk.step == "sleep_ok"


# --------------------------------------------------------------------- scale


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("ten", "not_a_number"), ("11", "out_of_range"), ("-1", "out_of_range"), ("4.5", "not_a_number"), ("", "empty")],
)
def test_scale_rejects_what_is_not_a_number_in_range(walk: Walk, typed: str, problem: str) -> None:
    walk.to("confidence")
    walk(typed)
    assert walk.turn.problem == problem
    assert walk.step == "confidence"


def test_scale_shows_its_ends_and_branches_on_the_value(walk: Walk) -> None:
    walk.to("confidence")
    assert walk.turn.prompt.hint == "0 means not at all. 10 means very."
    assert [b.id for b in walk.turn.prompt.options] == [str(n) for n in range(11)]
    walk("3")
    assert walk.saved["confidence"] == 3
    assert walk.turn.messages == ["That's fine. We can work on it."]
    walk(BACK)
    walk(Pressed("8"))
    assert walk.saved["confidence"] == 8
    assert walk.step == "appointment"


# --------------------------------------------------------------------- date


def test_date_buttons_and_typed_dates(walk: Walk) -> None:
    walk.to("appointment")
    walk(Pressed("+7"))
    assert walk.saved["appointment"] == "2026-11-29"
    walk(BACK)
    walk("24/12/2026")
    assert walk.saved["appointment"] == "2026-12-24"
    walk(BACK)
    walk("3.2")  # day first; February has passed this year's... no: 3 Feb 2026 is past, so next year
    assert walk.saved["appointment"] == "2027-02-03"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("1/1/2020", "date_in_past"),
        ("31/02/2027", "not_a_date"),
        ("next tuesday-ish", "not_a_date"),
        ("2026-13-01", "not_a_date"),
    ],
)
def test_date_problems_are_reasked(walk: Walk, typed: str, problem: str) -> None:
    walk.to("appointment")
    walk(typed)
    assert walk.turn.problem == problem
    assert walk.step == "appointment"


def test_parse_date_understands_words_and_iso() -> None:
    assert parse_date("idag", TODAY, {"idag"}, {"imorgon"}) == TODAY
    assert parse_date("imorgon", TODAY, {"idag"}, {"imorgon"}) == TODAY + dt.timedelta(days=1)
    assert parse_date("2027-01-05", TODAY, set(), set()) == dt.date(2027, 1, 5)
    assert parse_date("5/1/27", TODAY, set(), set()) == dt.date(2027, 1, 5)


# --------------------------------------------------------------------- repeat loop


def test_repeat_loop_adds_items_until_no_more(walk: Walk) -> None:
    walk.to("question")
    walk("First?")
    assert walk.step == "question__again"
    assert walk.turn.prompt.text == "Add another?"
    walk(MORE_YES)
    walk("Second?")
    walk(MORE_NO)
    assert walk.saved["question"] == ["First?", "Second?"]
    assert walk.step == "first"


def test_repeat_loop_stops_at_its_maximum(walk: Walk) -> None:
    walk.to("question")
    for n in range(3):
        walk(f"Q{n}")
        if n < 2:
            walk(MORE_YES)
    assert walk.saved["question"] == ["Q0", "Q1", "Q2"]
    assert walk.step == "first"


def test_back_from_add_another_edits_the_last_item(walk: Walk) -> None:
    walk.to("question")
    walk("First?")
    walk(MORE_YES)
    walk("Secnod?")
    walk(BACK)
    assert walk.step == "question"
    assert "Your answer was: Secnod?" in walk.turn.prompt.text
    walk("Second?")
    assert walk.saved["question"] == ["First?", "Second?"]


def test_skip_inside_a_loop_keeps_the_items_and_leaves(walk: Walk) -> None:
    walk.to("question")
    walk("First?")
    walk(MORE_YES)
    walk(SKIP)
    assert walk.saved["question"] == ["First?"]
    assert walk.step == "first"


# --------------------------------------------------------------------- options from earlier answers, suggestions


def test_options_from_earlier_answers(walk: Walk) -> None:
    walk.to("question")
    walk("Can I drive?")
    walk(MORE_NO)
    labels = [(b.id, b.label) for b in walk.turn.prompt.options if b.id != DONE]
    assert labels == [("home", "Home"), ("question.1", "Can I drive?")]
    walk("question.1")
    walk(DONE)
    assert walk.saved["first"] == ["question.1"]
    assert (
        walk.engine.describe(walk.engine.catalog.flows["kinds"], "first", walk.turn.position.answers, "en")
        == "Can I drive?"
    )


def test_options_from_with_nothing_to_offer_is_passed_quietly(walk: Walk) -> None:
    walk.to("areas")
    walk(DONE)
    walk.to("question")
    walk(SKIP)
    assert walk.step == "statement"


def test_suggestion_quotes_answers_and_can_be_kept_or_rewritten(walk: Walk) -> None:
    walk.to("statement")
    assert "I am Sam and Home matter to me." in walk.turn.prompt.text
    walk(USE_SUGGESTION)
    assert walk.saved["statement"] == "I am Sam and Home matter to me."
    assert walk.turn.status == "finished"
    assert walk.turn.messages[-1] == "All done, Sam."


def test_suggestion_can_be_rewritten(walk: Walk) -> None:
    walk.to("statement")
    walk("I am Sam, a dad and a painter.")
    assert walk.saved["statement"] == "I am Sam, a dad and a painter."


# --------------------------------------------------------------------- navigation


def test_back_shows_the_earlier_answer_and_keep_keeps_it(walk: Walk) -> None:
    walk.to("mood")
    walk(BACK)
    assert walk.step == "name"
    assert "Your answer was: Sam" in walk.turn.prompt.text
    walk(KEEP)
    assert walk.step == "mood"
    assert walk.turn.position.answers["name"] == "Sam"


def test_back_at_the_first_question_explains(walk: Walk) -> None:
    walk(BACK)
    assert walk.turn.problem == "first_question"
    assert walk.step == "teach"


def test_back_to_a_checklist_restores_its_ticks(walk: Walk) -> None:
    walk.to("areas")
    walk("friends")
    walk(DONE)
    walk(BACK)
    assert [b.id for b in walk.turn.prompt.options if b.ticked] == ["friends"]


def test_skip_after_back_keeps_the_earlier_answer(walk: Walk) -> None:
    walk.to("mood")
    walk(BACK)
    walk(SKIP)
    assert walk.turn.position.answers["name"] == "Sam"


def test_pause_keeps_the_position_and_show_resumes_there(walk: Walk, test_engine: Engine) -> None:
    walk.to("mood")
    walk(PAUSE)
    assert walk.turn.status == "paused"
    assert walk.turn.prompt is None
    resumed = test_engine.show(walk.turn.position, walk.context)
    assert resumed.prompt.step == "mood"
    assert resumed.position.answers == {"name": "Sam"}


def test_restart_starts_a_fresh_run(walk: Walk) -> None:
    walk.to("mood")
    walk(RESTART)
    assert walk.turn.status == "restarted"
    assert walk.turn.position.answers == {}
    assert walk.step == "teach"


def test_a_saved_position_at_a_removed_step_restarts_kindly(test_engine: Engine, context: Context) -> None:
    stale = Position(flow="kinds", step="no_longer_here", answers={"name": "Sam"})
    turn = test_engine.take(stale, Typed("hello"), context)
    assert turn.status == "restarted"
    assert turn.messages[0].startswith("This part of the companion has been updated")
    assert turn.prompt.step == "teach"


def test_input_after_the_end_changes_nothing(walk: Walk) -> None:
    walk.to("statement")
    walk(USE_SUGGESTION)
    before = walk.turn.position.to_dict()
    walk("more text")
    assert walk.turn.status == "finished"
    assert walk.turn.position.to_dict() == before


# --------------------------------------------------------------------- languages and quotes


def test_swedish_texts_and_buttons(test_engine: Engine) -> None:
    walk = Walk(test_engine, language="sv")
    assert walk.turn.messages == ["Hej."]
    assert walk.turn.prompt.options[0].label == "Nästa ›"
    walk(NEXT)
    walk("Kim")
    assert walk.turn.prompt.text == "Hej Kim. Hur mår du i dag?"
    assert [b.label for b in walk.turn.prompt.options] == ["Bra", "Okej", "Dåligt"]


def test_unanswered_quote_reads_not_answered(walk: Walk) -> None:
    walk.to("name")
    walk(SKIP)
    assert walk.turn.prompt.text == "Hi (not answered). How are you today?"


def test_quoting_another_flows_answer(test_engine: Engine) -> None:
    walk = Walk(test_engine, flow="quoting", earlier={"kinds": {"name": "Sam"}})
    assert walk.turn.prompt.text == "Last time you said your name is Sam. Still right?"
    nothing = Walk(test_engine, flow="quoting")
    assert nothing.turn.prompt.text == "Last time you said your name is (not answered). Still right?"


def test_a_quote_of_braces_in_an_answer_is_not_expanded(walk: Walk) -> None:
    walk.to("name")
    walk("{mood}")
    assert walk.turn.prompt.text == "Hi {mood}. How are you today?"


def test_the_machine_is_built_once_per_flow_and_shared(test_engine: Engine) -> None:
    first = Walk(test_engine)
    second = Walk(test_engine)
    first.to("mood")
    second.to("areas")
    assert test_engine.machines["kinds"].machine.models == []
    assert first.step == "mood" and second.step == "areas"


def test_digits_from_other_scripts_never_crash(walk: Walk) -> None:
    walk.to("mood")
    for odd in ("¹", "٣", "²3", "1" * 40):
        walk(odd)
        assert walk.turn.problem == "unknown_option"
    walk.to("confidence")
    walk("٣")
    assert walk.turn.problem == "not_a_number"


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("14:30", "14:30"),
        ("14.30", "14:30"),
        ("1430", "14:30"),
        ("9", "09:00"),
        ("2pm", "14:00"),
        ("2.30 PM", "14:30"),
        ("12am", "00:00"),
        ("kl 14", "14:00"),
        ("kl. 8.15", "08:15"),
    ],
)
def test_time_typed_in_everyday_ways(test_engine: Engine, typed: str, saved: str) -> None:
    walk = Walk(test_engine, flow="hidden")
    walk(typed)
    assert walk.saved == {"at": saved}


@pytest.mark.parametrize("typed", ["25:00", "14:75", "13pm", "half two", "¹²:00", ""])
def test_times_that_cannot_be_read_are_reasked(test_engine: Engine, typed: str) -> None:
    walk = Walk(test_engine, flow="hidden")
    walk(typed)
    assert walk.turn.problem in ("not_a_time", "empty")
    assert walk.saved == {}


def test_time_buttons(test_engine: Engine) -> None:
    walk = Walk(test_engine, flow="hidden")
    assert [b.id for b in walk.turn.prompt.options][:2] == ["09:00", "10:00"]
    assert walk.turn.prompt.hint == "Tap a time, or type one like 14:30."
    walk(Pressed("10:00"))
    assert walk.saved == {"at": "10:00"}
    assert walk.turn.status == "finished"


def test_a_suggestion_quoting_a_skipped_answer_is_not_offered(walk: Walk) -> None:
    walk.to("name")
    walk(SKIP)
    walk.to("statement")
    assert USE_SUGGESTION not in [b.id for b in walk.turn.prompt.options]
    assert "(not answered)" not in walk.turn.prompt.text
    walk(USE_SUGGESTION)  # a stale "Use this" button from an older message
    assert walk.turn.problem == "use_typing"
    assert "statement" not in walk.turn.position.answers


def test_checklist_buttons_that_say_tick_or_untick_are_idempotent(walk: Walk) -> None:
    walk.to("areas")
    walk(Pressed("+home"))
    walk(Pressed("+home"))  # the same old button pressed twice: ticked once
    assert [b.id for b in walk.turn.prompt.options if b.ticked] == ["home"]
    walk(Pressed("-home"))
    walk(Pressed("-home"))
    assert [b.id for b in walk.turn.prompt.options if b.ticked] == []
    walk(Pressed("+work"))
    walk(Pressed("+friends"))
    walk(Pressed("+home"))  # a third tick is over the limit of two
    assert walk.turn.problem == "pick_limit"
    walk(Pressed("+nothing"))
    assert walk.turn.problem == "tick_then_done"
