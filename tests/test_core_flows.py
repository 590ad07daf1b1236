"""The four core flows, completed in the console chat in English and Swedish.

Each test types a script the way a person would (numbers for buttons, words
like "skip" or "hoppa", an empty line to finish a checklist or move past a
teaching message) and then reads the database: the answers must be there, the
run finished, and the branch taken must show in what was said. The two
languages take different branches through each flow, so together they walk
most paths a person can take.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from bot.adapters.console import CHANNEL, ConsoleChat
from bot.services.app import Services
from bot.services.conversation import Companion

NEXT = ""  # Enter: move past a teaching message, or finish a checklist
DONE = ""


@dataclass
class Result:
    output: str
    exit_code: int
    answers: dict[str, dict[str, Any]]
    """flow id -> step id -> saved value, for the latest run of each flow."""
    status: dict[str, str]


def _menu_number(companion: Companion, flow_id: str) -> str:
    ids = [flow.id for flow in companion.catalog.ordered_flows()]
    return str(ids.index(flow_id) + 1)


async def chat(companion: Companion, language: str, *flows_and_lines: tuple[str, list[str]]) -> Result:
    """Agree to the privacy notice, then open each flow from the menu and type its lines."""
    lines = ["1"]
    for flow_id, script in flows_and_lines:
        lines.append(_menu_number(companion, flow_id))
        lines.extend(script)
    lines.append("q")
    stdout = io.StringIO()
    console = ConsoleChat(
        Services.around(companion),
        profile="tester",
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=stdout,
        language=language,
    )
    exit_code = await console.run()

    def read(tx: Any) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        person = tx.person(CHANNEL, "tester")
        assert person is not None, "the person should have joined"
        runs = sorted(tx.runs(person.id), key=lambda run: run.id)
        by_run = tx.answers(run.id for run in runs)
        answers = {run.flow_id: {key: value for key, (value, _) in by_run[run.id].items()} for run in runs}
        return answers, {run.flow_id: run.status for run in runs}

    answers, status = await companion.storage.run(read)
    return Result(stdout.getvalue(), exit_code, answers, status)


def finished(result: Result, flow_id: str) -> dict[str, Any]:
    assert result.exit_code == 0
    assert result.status.get(flow_id) == "completed", result.output[-2000:]
    return result.answers[flow_id]


# --------------------------------------------------------------------- goals


async def test_goals_in_english_with_another_area_and_low_confidence(companion: Companion) -> None:
    result = await chat(
        companion,
        "en",
        (
            "goals",
            [
                "1",
                "8",
                DONE,  # areas: home, something else
                "My allotment",  # other_area
                "Seeing my children",  # important
                "1",
                DONE,  # focus: home
                "I want to keep my flat tidy",
                "Wash up every evening",  # first_step
                "1",  # step_when: in a week
                "1",
                "4",
                DONE,  # helpers: myself, care coordinator
                "3",  # confidence: low -> a kind word
                "sleep better so I can get up",  # treatment_help
            ],
        ),
    )
    answers = finished(result, "goals")
    assert answers["areas"] == ["home", "other"]
    assert answers["other_area"] == "My allotment"
    assert answers["focus"] == ["home"]
    assert answers["goal"] == "I want to keep my flat tidy"
    assert answers["step_when"] == "2026-11-29"
    assert answers["helpers"] == ["myself", "coordinator"]
    assert answers["confidence"] == 3
    assert answers["treatment_help"] == "sleep better so I can get up"
    assert "Many people feel unsure at the start" in result.output


async def test_goals_in_swedish_skipping_the_goal_goes_straight_to_treatment(companion: Companion) -> None:
    result = await chat(
        companion,
        "sv",
        (
            "goals",
            [
                "3",
                DONE,  # areas: work or study
                "hoppa",  # important
                "1",
                DONE,  # focus: work
                "hoppa över",  # goal skipped -> no first step, no date
                "orka gå till jobbet",  # treatment_help
            ],
        ),
    )
    answers = finished(result, "goals")
    assert answers["areas"] == ["work"]
    assert answers["focus"] == ["work"]
    assert "goal" not in answers and "first_step" not in answers and "step_when" not in answers
    assert answers["treatment_help"] == "orka gå till jobbet"
    assert "Stora mål börjar med små steg" not in result.output
    assert "En sista fråga" in result.output
    assert "Tack. Dina svar är sparade." in result.output


# --------------------------------------------------------------------- personal medicine


async def test_personal_medicine_in_english_builds_the_power_statement(companion: Companion) -> None:
    result = await chat(
        companion,
        "en",
        # First, only the treatment question in "What matters to me", which the power statement part quotes.
        ("goals", [DONE, "skip", "skip", "get back to work"]),
        (
            "personal_medicine",
            [
                NEXT,
                NEXT,  # the two teaching messages
                "2",
                DONE,  # meaning: being a parent
                "2",
                DONE,  # self-care: walking
                "Baking bread",
                "2",  # own personal medicine, then "no, that's all"
                "3",  # helps most: the bread, offered from the answer typed just before
                "1",  # takes medicine: yes
                "Olanzapine",
                "6",  # how well
                "1",
                "9",
                DONE,  # side effects: sleepiness, something else
                "Feeling hungry all the time",
                "3",  # gets in the way: a lot
                "Too tired to walk in the morning",
                "5",
                DONE,  # concerns: would like to come off it -> do not stop suddenly
                NEXT,
                "skip",  # more to say
                NEXT,  # power statement intro
                "a mum and a baker",
                "stay well enough to work",
                "my mornings with my son",
                "1",  # keep the suggested power statement
            ],
        ),
    )
    answers = finished(result, "personal_medicine")
    assert answers["meaning"] == ["parent"]
    assert answers["own_medicine"] == ["Baking bread"]
    assert answers["helps_most"] == "own_medicine.1"
    assert answers["side_effects"] == ["sleepy", "other"]
    assert answers["in_the_way"] == "a_lot"
    assert answers["concerns"] == ["come_off"]
    assert "more_to_say" not in answers
    assert answers["power_statement"] == (
        "I am a mum and a baker. I want my medicine to help me stay well enough to work. "
        "It must not get in the way of my mornings with my son. "
        "I would like us to make decisions about my medicine together."
    )
    assert "please do not stop or change your medicine suddenly" in result.output.lower()
    assert 'Your answer about treatment in "What matters to me": get back to work' in result.output


async def test_personal_medicine_in_swedish_without_medicine_writes_own_statement(companion: Companion) -> None:
    result = await chat(
        companion,
        "sv",
        (
            "personal_medicine",
            [
                NEXT,
                NEXT,
                DONE,  # meaning: nothing ticked
                "1",
                DONE,  # self-care: sleep
                "hoppa",  # own personal medicine
                "1",  # helps most: sleep (the only option)
                "2",  # takes medicine: no -> straight to the power statement
                NEXT,
                "hoppa",  # who I am: skipped, so no ready-made statement
                "klara mitt jobb",
                "hoppa",
                "Jag heter Kim. Jag vill vara med och bestämma.",
            ],
        ),
    )
    answers = finished(result, "personal_medicine")
    assert answers["self_care"] == ["sleep"]
    assert answers["helps_most"] == "sleep"
    assert answers["takes_medicine"] == "no"
    for medicine_step in ("medicine_names", "how_well", "side_effects", "concerns"):
        assert medicine_step not in answers
    assert "power_statement" not in answers
    assert answers["power_statement_own"] == "Jag heter Kim. Jag vill vara med och bestämma."
    assert "Vilken medicin tar du?" not in result.output
    assert "utsättningssymtom" not in result.output


# --------------------------------------------------------------------- assertiveness


async def test_assertiveness_in_english_with_tips_and_a_lower_dose(companion: Companion) -> None:
    result = await chat(
        companion,
        "en",
        (
            "assertiveness",
            [
                "3",  # confidence before
                "1",  # show me the tips
                NEXT,
                NEXT,
                NEXT,
                "2",  # situation: a lower dose
                "I would like to talk about lowering my dose.",
                "2",
                "3",
                DONE,  # self-check: said what I want, clear and calm
                NEXT,  # example answer
                NEXT,  # do not change it on your own
                "1",  # try the same one again
                "I feel better and would like to try a lower dose, slowly.",
                "I want to talk about a lower dose.",  # the one thing
                "4",  # confidence after: still low -> a kind word
            ],
        ),
    )
    answers = finished(result, "assertiveness")
    assert answers["confidence_before"] == 3
    assert answers["start_with"] == "tips"
    assert answers["situation"] == "lower_dose"
    assert answers["self_check"] == ["said_want", "clear_calm"]
    assert answers["reply_again"].startswith("I feel better")
    assert answers["one_thing"] == "I want to talk about a lower dose."
    assert answers["confidence_after"] == 4
    assert "Tip 2: the four steps called DESC" in result.output
    assert "Please do not lower or stop it on your own" in result.output
    assert "It is OK to still feel unsure" in result.output


async def test_assertiveness_in_swedish_straight_to_practice_two_situations(companion: Companion) -> None:
    result = await chat(
        companion,
        "sv",
        (
            "assertiveness",
            [
                "5",
                "2",  # straight to practice
                "4",  # situation: time to think
                "hoppa",  # no reply written -> straight to the example
                NEXT,
                "2",  # practise another situation
                "5",  # someone I trust to come with me
                "Jag vill att min bror följer med.",
                DONE,  # self-check: nothing ticked
                NEXT,
                "3",  # practised enough
                "Jag behöver mer tid innan jag bestämmer mig.",
                "8",
            ],
        ),
    )
    answers = finished(result, "assertiveness")
    assert answers["start_with"] == "practise"
    assert answers["situation"] == "bring_someone"
    assert answers["reply"] == "Jag vill att min bror följer med."
    assert "self_check" not in answers
    assert answers["one_thing"] == "Jag behöver mer tid innan jag bestämmer mig."
    assert answers["confidence_after"] == 8
    assert "Tips 1" not in result.output
    assert "Kan jag ge dig mitt svar nästa vecka?" in result.output  # the example for "time to think"
    assert "Det är okej att fortfarande känna sig osäker" not in result.output


# --------------------------------------------------------------------- questions


async def test_questions_in_english_with_a_decision_not_yet_ready(companion: Companion) -> None:
    result = await chat(
        companion,
        "en",
        (
            "questions",
            [
                "1",
                "2",
                DONE,  # the three questions: options, pros and cons
                "6",
                DONE,  # about medicine: can I drive?
                "1",
                DONE,  # changing: could I lower the dose? -> do not change suddenly
                NEXT,
                DONE,  # other options: none
                "4",
                DONE,  # support: someone I trust
                "Can I take it at night?",
                "1",
                "Will it change my sleep?",
                "2",
                "1",
                "4",
                "6",
                DONE,  # top three: options, lower dose, my first own question
                "1",  # a decision is coming
                "Whether to try a new medicine",
                "2",
                "1",
                "1",
                "1",  # SURE: not sure yet, the rest yes
            ],
        ),
    )
    answers = finished(result, "questions")
    assert answers["three_questions"] == ["options", "pros_cons"]
    assert answers["changing"] == ["lower_dose"]
    assert "other_options" not in answers
    assert answers["own"] == ["Can I take it at night?", "Will it change my sleep?"]
    assert answers["top_three"] == ["options", "lower_dose", "own.1"]
    assert answers["decision_what"] == "Whether to try a new medicine"
    assert [answers[step] for step in ("sure_sure", "sure_know", "sure_values", "sure_support")] == [
        "no",
        "yes",
        "yes",
        "yes",
    ]
    assert "please do not stop or change your medicine suddenly" in result.output
    assert "may not be ready to decide yet" in result.output


async def test_questions_in_swedish_ready_to_decide(companion: Companion) -> None:
    result = await chat(
        companion,
        "sv",
        (
            "questions",
            [
                "3",
                DONE,  # support to decide
                DONE,  # about medicine: none
                DONE,  # changing: none -> no warning message
                "1",
                DONE,  # talking therapy
                "5",
                DONE,  # coordinated individual plan
                "Kan jag få träffa en kurator?",
                "nej",
                "1",
                "2",
                "3",
                DONE,
                "ja",
                "hoppa",
                "ja",
                "ja",
                "ja",
                "ja",
            ],
        ),
    )
    answers = finished(result, "questions")
    assert answers["three_questions"] == ["support"]
    assert answers["other_options"] == ["therapy"]
    assert answers["support_info"] == ["joint_plan"]
    assert answers["own"] == ["Kan jag få träffa en kurator?"]
    assert answers["top_three"] == ["support", "therapy", "joint_plan"]
    assert "decision_what" not in answers
    assert all(answers[step] == "yes" for step in ("sure_sure", "sure_know", "sure_values", "sure_support"))
    assert "samordnad individuell plan (SIP)" in result.output
    assert "utsättningssymtom" not in result.output
    assert "Det låter som att du känner dig redo" in result.output
