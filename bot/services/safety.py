"""The safety responses as a person sees them: cards, the safety question, its buttons.

:mod:`flows.safety` decides *what* to do about a message (card, question,
supporter's card, a help line, the not-suddenly message); this module turns
that decision into words and buttons in the person's language, the same for
every channel. :class:`bot.services.conversation.Companion` applies it to the
person's conversation.

A message that brings the card or the question is not taken as an answer
straight away. When it was typed as the answer to a question, it is *held*
on the person's position (never anywhere else) until they choose: "Keep it as
my answer" (or "No" to the safety question) saves it as typed; anything else,
including their next message, lets it go unsaved. The held message carries a
random token and the buttons carry the same token, so a button from an older
card can never save a newer message.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.crisis import CrisisDetector
from flows.safety import Response
from flows.texts import UiTexts
from flows.turns import Button

HELD = "held"
"""The key of the held message in a run's saved position."""


class SafetyChoice(StrEnum):
    """The buttons under a card or a safety question."""

    YES = "yes"
    NO = "no"
    RATHER_NOT = "rather_not"
    SAVE = "save"
    CARRY_ON = "carry_on"
    PAUSE = "pause"


BUTTON_TEXTS = {
    SafetyChoice.YES: "button_safety_yes",
    SafetyChoice.NO: "button_safety_no",
    SafetyChoice.RATHER_NOT: "button_safety_rather_not",
    SafetyChoice.SAVE: "button_safety_save",
    SafetyChoice.CARRY_ON: "button_safety_carry_on",
    SafetyChoice.PAUSE: "button_safety_pause",
}


@dataclass(frozen=True, slots=True)
class SafetyPrompt:
    """A question or card follow-up with its buttons, ready to render in any adapter."""

    text: str
    buttons: tuple[Button, ...]
    token: str = ""
    """Ties the buttons to the held message ("" when nothing is held)."""


@dataclass(frozen=True, slots=True)
class Held:
    """A message kept on the position until the person chooses what happens to it."""

    text: str
    token: str
    stopping_medicine: bool = False
    medicine_warning: bool = False
    """Show the not-suddenly message once the person has answered the question."""

    @classmethod
    def new(cls, text: str, *, stopping_medicine: bool, medicine_warning: bool) -> Held:
        return cls(text, secrets.token_urlsafe(6), stopping_medicine, medicine_warning)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "token": self.token,
            "stopping_medicine": self.stopping_medicine,
            "medicine_warning": self.medicine_warning,
        }

    @classmethod
    def from_position(cls, position: dict[str, Any] | None, token: str | None = None) -> Held | None:
        """The message held on a position, if any (and if ``token`` is given, only if it matches)."""
        data = (position or {}).get(HELD)
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return None
        held = cls(
            data["text"],
            str(data.get("token", "")),
            bool(data.get("stopping_medicine")),
            bool(data.get("medicine_warning")),
        )
        if token is not None and not secrets.compare_digest(held.token, token):
            return None
        return held


class SafetyWords:
    """The words and buttons of each safety response, in the person's language."""

    def __init__(self, ui: UiTexts, crisis: CrisisDetector) -> None:
        self.ui = ui
        self.crisis = crisis

    def card(self, language: str) -> str:
        return self.crisis.card(language)

    def supporter_card(self, language: str) -> str:
        return self.crisis.supporter_card(language)

    def help_line(self, language: str) -> str:
        return self.ui.get("safety_help_line", language)

    def medicine(self, language: str) -> str:
        return self.ui.get("safety_medicine", language)

    def text(self, key: str, language: str) -> str:
        return self.ui.get(key, language)

    def question(self, response: Response, language: str, held: Held | None) -> SafetyPrompt:
        """The safety question (or the supporter's question) with its answers."""
        key = "safety_supporter_question" if response is Response.SUPPORTER else "safety_question"
        choices = [SafetyChoice.YES, SafetyChoice.NO]
        if response is Response.QUESTION:
            choices.append(SafetyChoice.RATHER_NOT)
        return SafetyPrompt(self.ui.get(key, language), self._buttons(choices, language), held.token if held else "")

    def after_card(self, language: str, held: Held | None, *, in_flow: bool) -> SafetyPrompt | None:
        """What follows the card: keep the message, carry on or pause (None when there is nothing to carry on with)."""
        if not in_flow:
            return None
        choices = [SafetyChoice.SAVE] if held else []
        choices += [SafetyChoice.CARRY_ON, SafetyChoice.PAUSE]
        key = "safety_after_card_held" if held else "safety_after_card"
        return SafetyPrompt(self.ui.get(key, language), self._buttons(choices, language), held.token if held else "")

    def _buttons(self, choices: list[SafetyChoice], language: str) -> tuple[Button, ...]:
        return tuple(Button(choice.value, self.ui.get(BUTTON_TEXTS[choice], language)) for choice in choices)
