"""Words every channel says the same way: the consent question, the menu's lines, yes and no.

The texts are content (content/ui/); what is said in which order, and how a
menu line reads, is decided here once, so Telegram and the console cannot
drift apart (the console shows a numbered list where Telegram shows buttons).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.conversation import FlowProgress
from flows.texts import UiTexts

CONSENT_INTRO = ("welcome", "not_for_emergencies", "privacy")
"""What the companion is, that it is not for emergencies, and what it keeps: before anything is stored."""
LANGUAGE_NAMES = {"en": "button_tg_english", "sv": "button_tg_swedish"}
"""The text that names each language, as it calls itself ("English", "Svenska"), to choose it by."""
MENU_STATES = {"not_started": "menu_not_started", "in_progress": "menu_in_progress"}
"""The interface text for each menu state (done has its own, with the date)."""


@dataclass(frozen=True, slots=True)
class Consent:
    """The consent question with what comes before it, and its two answers (agree first)."""

    texts: tuple[str, ...]
    question: str
    agree: str
    decline: str


class Words:
    def __init__(self, ui: UiTexts) -> None:
        self.ui = ui
        self._yes = ui.words("words_yes")
        self._no = ui.words("words_no")
        self._quit = ui.words("words_quit")

    def consent(self, language: str, *, reminder: str | None = None) -> Consent:
        """Everything said before the person agrees. ``reminder``: a shorter text key used instead
        of the whole introduction, for someone who has seen it already."""
        keys = (reminder,) if reminder else CONSENT_INTRO
        return Consent(
            tuple(self.ui.get(key, language) for key in keys),
            self.ui.get("consent_question", language),
            self.ui.get("button_agree", language),
            self.ui.get("button_decline", language),
        )

    def menu_intro(self, language: str) -> str:
        return self.ui.get("menu_intro", language)

    def menu_line(self, flow: FlowProgress, language: str) -> str:
        """ "Goals (done on 2026-11-30)": a flow's title and where the person is in it."""
        if flow.state == "done" and flow.done_on:
            state = self.ui.get("menu_done", language, date=flow.done_on.isoformat())
        else:
            state = self.ui.get(MENU_STATES[flow.state], language)
        return f"{flow.title} ({state})"

    def is_yes(self, typed: str) -> bool:
        """A typed yes, in any of the companion's languages ("yes", "ja", "ok"...)."""
        return typed.strip().lower() in self._yes

    def is_no(self, typed: str) -> bool:
        return typed.strip().lower() in self._no

    def is_quit(self, typed: str) -> bool:
        return typed.strip().lower() in self._quit

    def means(self, key: str, typed: str) -> bool:
        """``typed`` is one of the words under ``key`` (``words_back``, ``words_skip``...)."""
        return typed.strip().lower() in self.ui.words(key)
