"""What a turn takes and gives, as plain data.

An adapter hands the engine a saved :class:`Position`, one :class:`Action`
(:class:`Typed` or :class:`Pressed`) and a :class:`Context`, and gets back a
:class:`Turn`: the messages, the :class:`Prompt` now waiting (with its
:class:`Button` s), the answers to save and the new position. Nothing here
knows how a turn is taken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from flows.schema import StepType

# Button ids for navigation. They start with "~" so they never clash with
# option ids, which content writes as plain lowercase words.
BACK, SKIP, PAUSE, RESTART = "~back", "~skip", "~pause", "~restart"
DONE, NEXT, KEEP, WHY = "~done", "~next", "~keep", "~why"
USE_SUGGESTION, MORE_YES, MORE_NO = "~suggested", "~more", "~enough"
NAVIGATION = frozenset({BACK, SKIP, PAUSE, RESTART})

Status = Literal["active", "paused", "finished", "restarted"]


@dataclass(slots=True)
class Position:
    """Where one person is in one flow, as plain data (saved as JSON).

    ``answers`` is this run's working copy of the answers, so a turn needs one
    read; every change to it is also written as an answer row in the same
    transaction.
    """

    flow: str
    step: str
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    ticks: list[str] = field(default_factory=list)
    revisiting: bool = False
    about: dict[str, Any] = field(default_factory=dict)
    """What this run is about when that is not the person answering (e.g. the
    person a care coordinator is reviewing with). Set by the service, carried
    unchanged by the engine, handed to listeners when the flow is finished."""
    last_time: dict[str, Any] = field(default_factory=dict)
    """The answers of the person's last finished run of this flow, when they do it again:
    each question offers to keep its earlier answer (copied into this run) instead of a blank."""

    def to_dict(self) -> dict[str, Any]:
        data = {
            "flow": self.flow,
            "step": self.step,
            "answers": self.answers,
            "history": self.history,
            "ticks": self.ticks,
            "revisiting": self.revisiting,
            "about": self.about,
        }
        if self.last_time:
            data["last_time"] = self.last_time
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Position:
        return cls(
            flow=data["flow"],
            step=data["step"],
            answers=dict(data.get("answers") or {}),
            history=list(data.get("history") or []),
            ticks=list(data.get("ticks") or []),
            revisiting=bool(data.get("revisiting", False)),
            about=dict(data.get("about") or {}),
            last_time=dict(data.get("last_time") or {}),
        )

    def copy(self) -> Position:
        """A copy a turn can change without touching the saved position."""
        return Position(
            flow=self.flow,
            step=self.step,
            answers=dict(self.answers),
            history=list(self.history),
            ticks=list(self.ticks),
            revisiting=self.revisiting,
            about=dict(self.about),
            last_time=dict(self.last_time),
        )


@dataclass(frozen=True, slots=True)
class Typed:
    """Text the person typed."""

    text: str


@dataclass(frozen=True, slots=True)
class Pressed:
    """A button the person pressed: an option id or a navigation id."""

    button: str


Action = Typed | Pressed


@dataclass(frozen=True, slots=True)
class Context:
    """What a turn needs from outside: the person's language, today's date, and
    their latest finished answers in other flows this flow quotes (flow id ->
    step id -> value)."""

    language: str = "en"
    today: dt.date = field(default_factory=dt.date.today)
    earlier: dict[str, dict[str, Any]] = field(default_factory=dict)
    reminded: bool = False
    """The person has had the reminder not to stop medicine suddenly today, so a
    ``stop_reminder`` message says its ``reminded`` words instead."""
    channel: str = ""
    """Where the person is ("console", "telegram"). A ui text ``<channel>_<key>`` in the
    content, where there is one, is said instead of ``<key>`` (the console has no buttons
    to tap)."""


@dataclass(frozen=True, slots=True)
class Button:
    id: str
    label: str
    ticked: bool = False


@dataclass(frozen=True, slots=True)
class Prompt:
    """The question now waiting for the person, ready to render in any adapter."""

    step: str
    kind: StepType
    text: str
    options: tuple[Button, ...] = ()
    navigation: tuple[Button, ...] = ()
    max_length: int | None = None
    hint: str | None = None
    shared: bool = field(default=False, compare=False)
    """Built once from the content and shown to everyone at this step: it holds
    nothing a person wrote, so adapters may keep it (rendered) as long as they like."""


@dataclass(slots=True)
class Turn:
    """The result of one turn. ``saved`` holds answers to write, by step id."""

    position: Position
    status: Status
    messages: list[str] = field(default_factory=list)
    prompt: Prompt | None = None
    saved: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    """Why the input was not accepted (a ui text key), or None."""
    reminded: bool = False
    """This turn gave the reminder not to stop medicine suddenly (a ``stop_reminder`` message)."""
