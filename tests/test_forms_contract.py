"""The flows, steps and options the code reads are declared (bot/services/forms.py), and the
content check says, in a sentence naming the file and the id, when content breaks one.

Before the contract, renaming ``remind`` in the appointment flow still passed the
check and then planned no reminders (hazard H8); renaming ``change_plan`` dropped
the "never stop your medicine suddenly" line (H3).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.checks import check_folder
from bot.content import DEFAULT_CONTENT_DIR


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, folder)
    return folder


def edit(folder: Path, flow: str, old: str, new: str) -> None:
    path = folder / "flows" / f"{flow}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def sentences(folder: Path) -> list[str]:
    return [str(problem) for problem in check_folder(folder)]


def test_the_shipped_content_keeps_every_contract() -> None:
    assert sentences(DEFAULT_CONTENT_DIR) == []


def test_renaming_remind_fails_the_check_with_a_sentence_that_names_it(copy: Path) -> None:
    edit(copy, "appointment", "id: remind", "id: reminders")
    assert (
        "flows/appointment.yaml: the step 'remind' is missing; the companion reads it: reminders are planned "
        "only when the answer is yes (a yes_no question). Keep its id as it is"
    ) in sentences(copy)


def test_renaming_change_plan_fails_the_check(copy: Path) -> None:
    edit(copy, "what_we_agreed", "id: change_plan", "id: plan_change")
    edit(copy, "what_we_agreed", "go: change_plan", "go: plan_change")
    assert any("'change_plan' is missing" in s and "never to stop a medicine suddenly" in s for s in sentences(copy))


def test_a_step_of_another_type_fails_the_check(copy: Path) -> None:
    edit(copy, "group_message", "type: text", "type: yes_no")
    assert any(
        s.startswith("flows/group_message.yaml, step 'message': this must stay a text question, not yes_no")
        for s in sentences(copy)
    )


def test_a_missing_option_fails_the_check(copy: Path) -> None:
    edit(copy, "new_group", "{id: stockholm,", "{id: sweden,")
    assert any("step 'timezone': the option 'stockholm' is missing" in s for s in sentences(copy))


def test_a_missing_form_flow_fails_the_check(copy: Path) -> None:
    (copy / "flows" / "my_name.yaml").unlink()
    assert any(s.startswith("flows/my_name.yaml: the flow 'my_name' is missing") for s in sentences(copy))


def test_renaming_a_time_zone_option_fails_the_check_with_a_sentence_that_names_it(copy: Path) -> None:
    """The code turns the option into a time zone (forms.TIMEZONES); a renamed one would fall back silently."""
    edit(copy, "new_group", "{id: london,", "{id: uk,")
    assert (
        "flows/new_group.yaml, step 'timezone': the option 'london' is missing; the companion reads it "
        "(the group's time zone, for session times). Keep its id as it is"
    ) in sentences(copy)
