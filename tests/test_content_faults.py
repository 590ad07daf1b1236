"""Content faults a review found by using the companion as a new user would; each stays fixed.

Each test walks the shipped content through the real engine (or runs the real
content check on a copy of the shipped content) and fails if the fault comes back.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flows.catalog import Catalog
from flows.engine import Engine
from flows.turns import DONE, NEXT, SKIP, USE_SUGGESTION, Context, Position, Pressed, Turn, Typed

ROOT = Path(__file__).parent.parent
TODAY = dt.date(2026, 12, 1)


class Walk:
    """One person through one shipped flow, the position round-tripped as storage does."""

    def __init__(self, engine: Engine, flow: str, language: str = "en") -> None:
        self.engine = engine
        self.context = Context(language=language, today=TODAY)
        self.turn = engine.start(flow, self.context)
        self.saved = dict(self.turn.saved)
        self.said: list[str] = [*self.turn.messages, self.turn.prompt.text if self.turn.prompt else ""]

    def __call__(self, action: str | Pressed | Typed) -> Turn:
        if isinstance(action, str):
            action = Pressed(action) if action.startswith("~") else Typed(action)
        position = Position.from_dict(self.turn.position.to_dict())
        self.turn = self.engine.take(position, action, self.context)
        self.saved.update(self.turn.saved)
        self.said.extend(self.turn.messages)
        if self.turn.prompt is not None:
            self.said.append(self.turn.prompt.text)
        return self.turn

    @property
    def step(self) -> str | None:
        return self.turn.prompt.step if self.turn.prompt else None

    def until(self, step: str, action: str = SKIP) -> None:
        for _ in range(60):
            if self.step == step:
                return
            prompt = self.turn.prompt
            assert prompt is not None, f"the flow ended before {step}"
            self(NEXT if prompt.kind.value == "message" else action)
        raise AssertionError(f"never reached {step}")


# --------------------------------------------------------------------- questions


def test_ask_3_questions_keeps_help_me_on_the_summary_and_in_the_question(engine: Engine) -> None:
    published = "How do I get support to help me make a decision that is right for me?"
    flow = engine.catalog.flows["questions"]
    assert published in flow.step("three_questions").say.get("en")
    printed = engine.describe(flow, "three_questions", {"three_questions": ["options", "pros_cons", "support"]}, "en")
    assert printed.endswith(published), printed
    assert "What are my options?" in printed and "What are the pros and cons of each option for me?" in printed
    # Picked again among the three to ask first, it is offered and printed whole.
    walk = Walk(engine, "questions")
    walk.until("three_questions")
    walk(Pressed("support"))
    walk(DONE)
    walk.until("top_three")
    labels = [button.label for button in walk.turn.prompt.options]
    assert published in labels
    swedish = engine.describe(flow, "three_questions", {"three_questions": ["support"]}, "sv")
    assert "hjälper mig" in swedish


def test_the_fhir_questionnaire_gives_the_third_question_whole(catalog: Catalog) -> None:
    from bot.fhir import questionnaire

    items = {item["linkId"]: item for item in questionnaire(catalog.flows["questions"])["item"]}
    displays = [option["valueCoding"]["display"] for option in items["three_questions"]["answerOption"]]
    assert "How do I get support to help me make a decision that is right for me?" in displays


def test_the_question_list_asks_about_stopping_one_day_with_the_not_suddenly_framing(engine: Engine) -> None:
    walk = Walk(engine, "questions")
    walk.until("changing")
    labels = {button.id: button.label for button in walk.turn.prompt.options}
    assert labels["stop_one_day"] == "Could I stop it one day?"
    walk(Pressed("stop_one_day"))
    walk(DONE)
    assert walk.step == "not_suddenly"
    framing = walk.turn.prompt.text
    assert "do not stop or change your medicine suddenly" in framing and "prescriber" in framing
    assert walk.saved["changing"] == ["stop_one_day"]


def test_the_question_list_asks_about_pregnancy_and_breastfeeding(engine: Engine) -> None:
    for language, words in (("en", ("pregnant", "breastfeed")), ("sv", ("gravid", "ammar"))):
        walk = Walk(engine, "questions", language)
        walk.until("about_medicine")
        labels = " ".join(button.label for button in walk.turn.prompt.options)
        for word in words:
            assert word in labels, (language, labels)


# --------------------------------------------------------------------- none of these


@pytest.mark.parametrize("step", ["side_effects", "concerns"])
def test_side_effects_and_worries_can_be_none_which_stands_alone(engine: Engine, step: str) -> None:
    walk = Walk(engine, "personal_medicine")
    walk.until("takes_medicine")
    walk(Pressed("yes"))
    walk.until(step)
    first = walk.turn.prompt.options[0].id
    walk(Pressed(first))
    walk(Pressed("none"))
    assert [b.id for b in walk.turn.prompt.options if b.ticked] == ["none"]
    walk(Pressed(first))
    assert [b.id for b in walk.turn.prompt.options if b.ticked] == [first]
    walk(Pressed("none"))
    walk(DONE)
    assert walk.saved[step] == ["none"]
    flow = engine.catalog.flows["personal_medicine"]
    assert engine.describe(flow, step, walk.saved, "en") in ("None of these", "No worries")


def test_a_checklist_that_can_say_none_needs_a_none_option(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    path = folder / "flows" / "personal_medicine.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for step in data["steps"]:
        if step["id"] == "side_effects":
            step["options"] = [option for option in step["options"] if option["id"] != "none"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = _check(folder)
    assert "a checklist with can_say_none needs an option with id 'none'" in out


# --------------------------------------------------------------------- power statement


def test_no_medicine_means_the_power_statement_is_about_treatment(engine: Engine) -> None:
    for language, medicine in (("en", "medicine"), ("sv", "medicin")):
        walk = Walk(engine, "personal_medicine", language)
        walk.until("takes_medicine")
        walk(Pressed("no"))
        start = len(walk.said)
        walk.until("who_i_am")
        walk("a dad and a gardener" if language == "en" else "pappa och trädgårdsmästare")
        walk("feel like myself" if language == "en" else "känna mig som mig själv")
        walk("my job" if language == "en" else "mitt jobb")
        after = " ".join(walk.said[start:])
        assert not re.search(rf"\b(your|my|din|min) {medicine}\b", after, re.IGNORECASE), after
        assert walk.step == "power_statement_treatment"
        walk(USE_SUGGESTION)
        statement = walk.saved["power_statement_treatment"]
        assert ("treatment" if language == "en" else "behandling") in statement
        assert medicine not in statement
        assert walk.turn.status == "finished"


def test_with_medicine_the_power_statement_still_names_it(engine: Engine) -> None:
    walk = Walk(engine, "personal_medicine")
    walk.until("takes_medicine")
    walk(Pressed("yes"))
    walk.until("who_i_am")
    walk("a mum")
    walk("sleep")
    walk("my mornings")
    walk(USE_SUGGESTION)
    assert "I want my medicine to help me sleep" in walk.saved["power_statement"]


# --------------------------------------------------------------------- Swedish


def test_swedish_sure_introduction_desc_and_summary_date(catalog: Catalog) -> None:
    questions = catalog.flows["questions"]
    assert questions.step("sure_intro").say.get("sv").startswith("Här är fyra korta frågor.")
    desc = catalog.flows["assertiveness"].step("tip_desc").say.get("sv")
    assert not re.search(r"^[DESC]:", desc, re.MULTILINE), desc
    assert "1. Beskriv" in desc
    assert catalog.ui.get("summary_prepared", "sv", date="2026-12-01") == "Sammanställd 2026-12-01"


@pytest.mark.parametrize(
    ("file", "key", "text", "phrase"),
    [
        ("ui/summary.sv.yaml", "summary_shortened", "Hela texten finns kvar i kompanjonen.", "kompanjon"),
        ("ui/roles.sv.yaml", "roles_unnamed_coordinator", "En kontaktperson", "kontaktperson"),
        ("ui/sv.yaml", "agreed", "Tack. Nu kan du säga ifrån.", "säga ifrån"),
        ("ui/sv.yaml", "agreed", "Här är ditt personliga uttalande.", "personliga uttalande"),
        ("ui/summary.sv.yaml", "summary_prepared", "Förberedd {date}", "förberedd"),
    ],
)
def test_swedish_words_that_read_wrongly_are_found_by_the_content_check(
    tmp_path: Path, file: str, key: str, text: str, phrase: str
) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    path = folder / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[key] = text
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = _check(folder)
    assert f'{key} (sv) says "{phrase}' in out, out


def test_a_flow_option_with_a_word_to_avoid_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    path = folder / "flows" / "goals.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Min vårdsamordnare", "Min kontaktperson"), encoding="utf-8"
    )
    out = _check(folder)
    assert "flows/goals.yaml, step 'helpers': option 'coordinator' (sv) says \"kontaktperson\"" in out


# --------------------------------------------------------------------- plurals


def test_counted_phrases_read_right_for_one_and_many(catalog: Catalog) -> None:
    ui = catalog.ui
    assert "has 1 member." in ui.get("gr_members_intro", "en", group="Tuesday", count=1)
    assert "has 3 members." in ui.get("gr_members_intro", "en", group="Tuesday", count=3)
    assert ui.get("gr_lead_hours", "en", hours=1) == "1 hour before"
    assert ui.get("gr_lead_hours", "en", hours=2) == "2 hours before"
    assert ui.get("gr_lead_days", "en", days=1) == "1 day before"
    assert ui.get("gr_lead_hours", "sv", hours=1) == "1 timme före"
    assert ui.get("gr_lead_hours", "sv", hours=2) == "2 timmar före"
    assert "1 member will" in ui.get("gr_message_sent", "en", count=1)
    assert "(1 member)" in ui.get("gr_report_title", "en", group="G", members=1)


def test_a_counted_phrase_without_plural_forms_fails_the_check(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    for language, text in (("en", "{count} people came"), ("sv", "{count} personer kom")):
        path = folder / "ui" / f"groups.{language}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["gr_report_answers"] = text
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = _check(folder)
    assert "'gr_report_answers' counts with {count} (\"{count} people\")" in out
    assert "'gr_report_answers' counts with {count} (\"{count} personer\")" in out


def _check(folder: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    return result.stdout


# --------------------------------------------------------------------- channels


def test_a_text_that_speaks_of_tapping_needs_console_words(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    for language, text in (("en", "Tap Next when you are ready."), ("sv", "Tryck på Nästa när du är redo.")):
        path = folder / "ui" / f"{language}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["flow_done"] = text
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        console = folder / "ui" / f"console.{language}.yaml"
        words = yaml.safe_load(console.read_text(encoding="utf-8"))
        words["console_pick_limit"] = "Tap one again to untick it." if language == "en" else "Tryck på knappen igen."
        console.write_text(yaml.safe_dump(words, allow_unicode=True), encoding="utf-8")
    out = _check(folder)
    for language in ("en", "sv"):
        assert f"ui/{language}.yaml: 'flow_done' speaks of tapping, but the console has no buttons" in out
        assert "'console_pick_limit' is said in the console, which has no buttons" in out


def test_the_console_gets_its_own_words_and_telegram_the_usual(engine: Engine) -> None:
    for channel, expected in (("console", "console_hint_checklist"), ("telegram", "hint_checklist")):
        turn = engine.start("questions", Context(today=TODAY, channel=channel))
        while turn.prompt.kind.value != "checklist":
            turn = engine.take(turn.position, Pressed(NEXT), Context(today=TODAY, channel=channel))
        assert turn.prompt.hint == engine.catalog.ui.get(expected, "en")
