"""What /privacy says and how the bot describes itself, in the organisation's own words.

Kept out of the adapters so every channel says the same: the notice, who is
responsible for the data and on what legal basis, how long it is kept, and
that Telegram keeps the chat itself after /delete (a person who deletes their
data should not think the chat on their phone went with it).
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.texts import UiTexts

DESCRIPTION_LIMIT = 512
SHORT_DESCRIPTION_LIMIT = 120
"""Telegram's limits for setMyDescription and setMyShortDescription."""


def privacy_notice(ui: UiTexts, language: str) -> list[str]:
    """The messages of /privacy, in order."""
    return [
        ui.get("org_privacy_notice", language),
        ui.get(
            "tg_privacy_controller",
            language,
            controller=ui.get("org_controller", language),
            lawful_basis=ui.get("org_lawful_basis", language),
        ),
        ui.get("tg_privacy_retention", language, retention=ui.get("org_retention", language)),
        ui.get("tg_privacy_telegram", language),
    ]


@dataclass(frozen=True, slots=True)
class Description:
    """The bot's description (shown before a person starts) and short one (its profile)."""

    description: str
    short_description: str


def description(ui: UiTexts, language: str) -> Description:
    """Cut to Telegram's limits, so a long text from an organisation never stops the start."""
    return Description(
        ui.get("tg_description", language)[:DESCRIPTION_LIMIT],
        ui.get("tg_short_description", language)[:SHORT_DESCRIPTION_LIMIT],
    )
