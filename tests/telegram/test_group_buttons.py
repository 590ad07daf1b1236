"""Group buttons: every action a facilitator's button can carry is written and read back; anything else is not."""

from __future__ import annotations

import pytest

from bot.adapters.telegram import callbacks, group_buttons
from bot.adapters.telegram.group_buttons import FacilitatorAction, Tap, facilitator, read_facilitator

BIG = 999_999_999_999


@pytest.mark.parametrize("action", list(FacilitatorAction))
def test_every_action_round_trips_within_telegrams_limit(action: FacilitatorAction) -> None:
    ids = {0: (), 1: (BIG,), 2: (BIG, 1), 3: (BIG, BIG, 1)}[max(group_buttons.ARITY.get(action, {1}))]
    data = facilitator(action, *ids)
    assert len(data.encode()) <= callbacks.CALLBACK_DATA_LIMIT
    parsed = callbacks.parse(data, [group_buttons.FACILITATOR_BUTTON])
    assert parsed is not None and parsed.kind == group_buttons.FACILITATOR_BUTTON
    assert read_facilitator(parsed.value) == Tap(action, ids)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "z:1",  # no such action
        "o",  # an id missing
        "o:abc",
        "o:-1",
        "o:1234567890123",  # longer than any id
        "o:1:2",  # one id too many
        "new:1",
        "i:1:2",  # a confirmation is 1 or nothing
        "X:1:0",
        "L:1",
        "A:1:2",
        "A:1:2:3",  # ticked is 1 or 0
        "A:1:2:3:4",
    ],
)
def test_made_up_data_is_not_an_action(value: str) -> None:
    assert read_facilitator(value) is None


def test_the_attendance_action_is_the_one_reminders_put_under_their_message() -> None:
    from bot.adapters.telegram.reminders import ATTENDANCE_ACTION, FACILITATOR_BUTTON

    assert read_facilitator(f"{ATTENDANCE_ACTION}:12") == Tap(FacilitatorAction.ATTENDANCE, (12,))
    assert facilitator(FacilitatorAction.ATTENDANCE, 12) == f"{FACILITATOR_BUTTON}:{ATTENDANCE_ACTION}:12"


def test_member_buttons() -> None:
    assert group_buttons.read_mute(group_buttons.mute(7).partition(":")[2]) == (7, True)
    assert group_buttons.read_mute(group_buttons.unmute(7).partition(":")[2]) == (7, False)
    assert group_buttons.read_mute("7:off") is None and group_buttons.read_mute("x") is None
    assert group_buttons.read_id(group_buttons.leave(3).partition(":")[2]) == 3
    assert group_buttons.read_id("3; drop") is None
