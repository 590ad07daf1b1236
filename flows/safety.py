"""What the companion does when a message may be about risk: the safety policy.

Pure. :mod:`flows.crisis` reads one message and says what it found (an
:class:`Assessment`); this module decides what to do about it, given what the
person wrote earlier (a :class:`SafetyState`, kept by the service with the
person's record and holding no text), and returns a :class:`Decision`.

The tiers follow how clinicians are taught to respond:

- **definite** (intent, plan, method, preparation, acts already taken,
  self-harm, harm to others, voices commanding harm): the crisis card first,
  every time. It never rests.
- **possible** (passive or indirect signs: a wish to be dead, being a burden,
  not wanting to wake up, wanting to disappear, farewells): ask directly and
  kindly whether the person is thinking of ending their life. Asking does not
  plant the idea. "Yes" and "I'd rather not say" bring the card; "No" thanks
  them, keeps their message and carries on, and the question then rests for
  :data:`QUESTION_REST`, during which a possible sign gets a short line saying
  where help is instead of the question again.
- **someone else** (worry that a friend, child or partner may harm
  themselves): a card for supporters and one gentle question whether the
  person is struggling too.
- **weak signs** (hopelessness that alone is not enough to ask about) add up:
  two signs of any "possible" strength within :data:`SIGNAL_WINDOW` bring the
  question even if each alone would not.

Separately, a message saying the person has stopped or is about to stop a
medicine gets, at most once a local day, the reminder not to stop suddenly
without the prescriber.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

SIGNAL_WINDOW = dt.timedelta(hours=24)
"""Signs within this long of each other add up."""
QUESTION_REST = dt.timedelta(hours=24)
"""After the person answers "No" to the safety question, it rests this long."""


class Tier(StrEnum):
    """How strongly one message points to risk (see the module docstring)."""

    DEFINITE = "definite"
    POSSIBLE = "possible"
    SOMEONE_ELSE = "someone_else"
    WEAK = "weak"
    """A sign that alone does not warrant the question, but adds up."""


@dataclass(frozen=True, slots=True)
class Assessment:
    """What one message holds, as :mod:`flows.crisis` found it (never the text itself)."""

    tier: Tier | None = None
    categories: frozenset[str] = frozenset()
    """The lexicon categories that matched (``intent``, ``wish_to_be_dead``, …), for
    evaluation and counts; never logged with anything the person wrote."""
    stopping_medicine: bool = False
    """The person says they have stopped, or are about to stop, a medicine."""

    @property
    def is_risk(self) -> bool:
        """True for anything the companion should respond to about the person's own safety."""
        return self.tier in (Tier.DEFINITE, Tier.POSSIBLE, Tier.WEAK)


NOTHING = Assessment()


class Response(StrEnum):
    """What the companion shows before anything else."""

    NONE = "none"
    CARD = "card"
    """The crisis card (local crisis numbers)."""
    QUESTION = "question"
    """The direct safety question, with Yes / No / I'd rather not say."""
    SUPPORTER = "supporter"
    """The card for someone worried about another person, and whether they are struggling too."""
    HELP_LINE = "help_line"
    """A short line saying where help is, while the question rests after a "No"."""


class Answer(StrEnum):
    """The buttons under the safety question (and under the supporter's question)."""

    YES = "yes"
    NO = "no"
    RATHER_NOT = "rather_not"


@dataclass(frozen=True, slots=True)
class SafetyState:
    """What the policy remembers about one person between messages: times, never text."""

    signals: tuple[dt.datetime, ...] = ()
    """When recent possible or weak signs were seen (only those within SIGNAL_WINDOW are kept)."""
    resting_until: dt.datetime | None = None
    medicine_told_on: dt.date | None = None
    """The local date the not-suddenly message was last shown."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "signals": [moment.isoformat() for moment in self.signals],
            "resting_until": self.resting_until.isoformat() if self.resting_until else None,
            "medicine_told_on": self.medicine_told_on.isoformat() if self.medicine_told_on else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SafetyState:
        if not data:
            return cls()
        return cls(
            signals=tuple(_moment(value) for value in data.get("signals") or ()),
            resting_until=_moment(data["resting_until"]) if data.get("resting_until") else None,
            medicine_told_on=dt.date.fromisoformat(data["medicine_told_on"]) if data.get("medicine_told_on") else None,
        )


@dataclass(frozen=True, slots=True)
class Decision:
    response: Response = Response.NONE
    medicine_warning: bool = False
    """Show the message not to stop a medicine suddenly without the prescriber."""
    state: SafetyState = field(default_factory=SafetyState)
    """The person's state after this message (save it with the turn)."""

    @property
    def interrupts(self) -> bool:
        """The message is not taken as an answer until the person chooses (card, question, supporter)."""
        return self.response in (Response.CARD, Response.QUESTION, Response.SUPPORTER)


def decide(assessment: Assessment, state: SafetyState, now: dt.datetime, today: dt.date) -> Decision:
    """What to do about one message, given the person's recent signs."""
    signals = tuple(moment for moment in state.signals if now - moment < SIGNAL_WINDOW)
    resting = state.resting_until is not None and now < state.resting_until
    response = Response.NONE
    if assessment.tier is Tier.DEFINITE:
        response = Response.CARD
    elif assessment.tier in (Tier.POSSIBLE, Tier.WEAK):
        adds_up = assessment.tier is Tier.POSSIBLE or len(signals) >= 1
        signals = (*signals, now)
        if adds_up:
            response = Response.HELP_LINE if resting else Response.QUESTION
    elif assessment.tier is Tier.SOMEONE_ELSE:
        response = Response.SUPPORTER
    warn = assessment.stopping_medicine and state.medicine_told_on != today
    new_state = replace(
        state,
        signals=signals,
        resting_until=state.resting_until if resting else None,
        medicine_told_on=today if warn else state.medicine_told_on,
    )
    return Decision(response=response, medicine_warning=warn, state=new_state)


def answered(answer: Answer, state: SafetyState, now: dt.datetime) -> tuple[Response, SafetyState]:
    """The person pressed a button under the safety (or supporter's) question.

    Yes and "I'd rather not say" bring the crisis card. No rests the question
    and clears the signs that led to it.
    """
    if answer is Answer.NO:
        return Response.NONE, replace(state, signals=(), resting_until=now + QUESTION_REST)
    return Response.CARD, state


def _moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
