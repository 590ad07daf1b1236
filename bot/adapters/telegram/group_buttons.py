"""The buttons of groups: typed, named actions, written and read in one place.

Telegram sends back whatever callback data a client says, so everything read
here is only a hint of what was tapped: :func:`read_facilitator` checks the
shape (a known action, the right number of ids, digits only) and
bot/services/groups.py decides whether the presser may. The kinds the
reminders also put under their messages (mute, feedback, "who came?") are
declared in reminders.py and shared from there.

- ``g:<action>[:<id>...]``: a facilitator's (:class:`FacilitatorAction`);
- ``gj:<token>`` joins through a link, ``gj:-`` says not now;
- ``gl:<group id>`` leaves a group;
- ``gu:<group id>`` mutes a group, ``gu:<group id>:on`` unmutes it;
- ``gf:<session id>`` opens the feedback questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.reminders import ATTENDANCE_ACTION, FACILITATOR_BUTTON, FEEDBACK_BUTTON, MUTE_BUTTON

__all__ = [
    "FACILITATOR_BUTTON",
    "FEEDBACK_BUTTON",
    "JOIN_BUTTON",
    "LEAVE_BUTTON",
    "MUTE_BUTTON",
    "FacilitatorAction",
    "Tap",
    "facilitator",
    "read_facilitator",
    "read_id",
    "read_mute",
]

JOIN_BUTTON, LEAVE_BUTTON = "gj", "gl"
NOT_NOW = "-"
UNMUTE = "on"
YES = 1

_ID = re.compile(r"^[0-9]{1,12}$")


class FacilitatorAction(StrEnum):
    """What a facilitator's button asks for; its value is what goes on the wire."""

    NEW_GROUP = "new"
    GROUP = "o"
    """The group's page."""
    INVITE = "i"
    """``i:<group>`` explains a new link, ``i:<group>:1`` makes one."""
    SCHEDULE = "s"
    MESSAGE = "t"
    UPCOMING = "c"
    """The sessions still ahead, to change one."""
    SESSION = "C"
    """One session: move it or cancel it."""
    MOVE = "M"
    CANCEL = "X"
    """``X:<session>`` asks first, ``X:<session>:1`` cancels."""
    MEMBERS = "m"
    LEADS = "l"
    SET_LEADS = "L"
    """``L:<group>:<choice>``, a key of bot.services.groups.LEAD_CHOICES."""
    REPORT = "r"
    PAST = "p"
    """Sessions that have begun, to tick who came."""
    ATTENDANCE = ATTENDANCE_ACTION
    """``a:<session>``, also under the reminder sent after a session."""
    MARK = "A"
    """``A:<session>:<person>:<1 came, 0 did not>``: says what it makes true, so a second tap changes nothing."""


ARITY: dict[FacilitatorAction, frozenset[int]] = {
    FacilitatorAction.NEW_GROUP: frozenset({0}),
    FacilitatorAction.INVITE: frozenset({1, 2}),
    FacilitatorAction.CANCEL: frozenset({1, 2}),
    FacilitatorAction.SET_LEADS: frozenset({2}),
    FacilitatorAction.MARK: frozenset({3}),
}
"""How many ids each action carries (one, unless it says otherwise here)."""


@dataclass(frozen=True, slots=True)
class Tap:
    action: FacilitatorAction
    ids: tuple[int, ...] = ()

    @property
    def target(self) -> int:
        """The group or session the action is about."""
        return self.ids[0]

    @property
    def confirmed(self) -> bool:
        return self.ids[1:] == (YES,)


def facilitator(action: FacilitatorAction, *ids: int) -> str:
    return callbacks.simple(FACILITATOR_BUTTON, ":".join([action.value, *(str(i) for i in ids)]))


def read_facilitator(value: str) -> Tap | None:
    """The action a facilitator's button asks for, or None if it is not one this companion makes."""
    name, _, rest = value.partition(":")
    try:
        action = FacilitatorAction(name)
    except ValueError:
        return None
    parts = rest.split(":") if rest else []
    if len(parts) not in ARITY.get(action, frozenset({1})) or not all(_ID.match(part) for part in parts):
        return None
    ids = tuple(int(part) for part in parts)
    if action in (FacilitatorAction.INVITE, FacilitatorAction.CANCEL) and len(ids) == 2 and ids[1] != YES:
        return None
    if action is FacilitatorAction.MARK and ids[2] not in (0, 1):
        return None
    return Tap(action, ids)


def join(token_rest: str) -> str:
    return callbacks.simple(JOIN_BUTTON, token_rest)


def not_now() -> str:
    return callbacks.simple(JOIN_BUTTON, NOT_NOW)


def leave(group_id: int) -> str:
    return callbacks.simple(LEAVE_BUTTON, str(group_id))


def mute(group_id: int) -> str:
    return callbacks.simple(MUTE_BUTTON, str(group_id))


def unmute(group_id: int) -> str:
    return callbacks.simple(MUTE_BUTTON, f"{group_id}:{UNMUTE}")


def feedback(session_id: int) -> str:
    return callbacks.simple(FEEDBACK_BUTTON, str(session_id))


def read_id(value: str) -> int | None:
    return int(value) if _ID.match(value) else None


def read_mute(value: str) -> tuple[int, bool] | None:
    """(group id, muted) from ``<group id>`` or ``<group id>:on``."""
    raw, colon, switch = value.partition(":")
    group_id = read_id(raw)
    if group_id is None or (colon and switch != UNMUTE):
        return None
    return group_id, not colon
