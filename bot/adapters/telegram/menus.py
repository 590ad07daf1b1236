"""Telegram's command menus: everyone's, and the one a role holder sees in their own chat.

Roles are given by invitation and taken away by the operator; the menu of the
person's own chat shows the commands of the roles they hold (and only while
they hold them). Which commands a role has is decided here, in one place,
rather than by the features that answer them.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot.adapters.telegram.features import Core
from bot.roles import names
from bot.services.notice import description
from flows.schema import LANGUAGES

log = logging.getLogger(__name__)

COMMANDS = ("start", "menu", "summary", "help", "cancel", "language", "mydata", "delete")
"""The core's commands in everyone's menu, in this order (features add theirs after)."""
ROLE_COMMANDS: dict[str, tuple[str, ...]] = {
    names.COORDINATOR: ("people", "link"),
    names.FACILITATOR: ("groups", "report"),
}
"""Commands shown only in the chats of people who hold the role (if some feature answers them)."""
PUBLIC_TEXT = "tg_command_{name}"
ROLE_TEXT = "role_command_{name}"


def public_commands(core: Core) -> list[str]:
    extra = [name for feature in core.features for name in feature.public_commands if name not in COMMANDS]
    return [*COMMANDS, *extra]


def role_commands(core: Core, held: set[str]) -> list[str]:
    """The role commands some feature answers, for the roles held, in a stable order."""
    answered = {name for feature in core.features for name in feature.commands}
    out: list[str] = []
    for role in names.ROLES:
        if role in held:
            out += [name for name in ROLE_COMMANDS[role] if name in answered and name not in out]
    return out


def _commands(core: Core, names: list[str], template: str, language: str) -> list[BotCommand]:
    return [BotCommand(name, core.text(template.format(name=name), language)) for name in names]


async def register_public(application: Application) -> None:
    """Everyone's command list, in English (the default) and Swedish; Telegram shows the user's language."""
    core: Core = application.bot_data["core"]
    for language in LANGUAGES:
        commands = _commands(core, public_commands(core), PUBLIC_TEXT, language)
        await application.bot.set_my_commands(commands, language_code=None if language == "en" else language)
    await describe(application)


async def describe(application: Application) -> None:
    """The bot's description and short description per language, in the organisation's words.

    English is also the default for every other language. A refusal is logged
    and the bot starts anyway: people can use it without a description."""
    core: Core = application.bot_data["core"]
    for language in LANGUAGES:
        words = description(core.ui, language)
        code = None if language == "en" else language
        try:
            await application.bot.set_my_description(words.description, language_code=code)
            await application.bot.set_my_short_description(words.short_description, language_code=code)
        except TelegramError as error:
            log.warning("could not set the bot's description (%s): %s", language, type(error).__name__)


async def show_role_commands(core: Core, chat_id: int, held: set[str], *, strict: bool = False) -> None:
    """The public commands plus the roles', for this chat only and in both languages.

    With ``strict``, a refusal from Telegram is raised (``companion revoke-role``
    reports it); otherwise it is logged, and the role works anyway when typed."""
    for language in LANGUAGES:
        commands = _commands(core, public_commands(core), PUBLIC_TEXT, language)
        commands += _commands(core, role_commands(core, held), ROLE_TEXT, language)
        try:
            await core.chat.bot.set_my_commands(
                commands, scope=BotCommandScopeChat(chat_id), language_code=None if language == "en" else language
            )
        except TelegramError as error:
            if strict:
                raise
            log.warning("could not set the role commands for a chat: %s", type(error).__name__)
