"""Every command Telegram's menus list, with every feature of `companion run`, has its
description declared (bot/services/texts.py), so the content check guards each one."""

from __future__ import annotations

from bot.adapters.telegram import menus
from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.runner import FEATURES
from bot.roles import names
from bot.services import texts
from bot.services.app import Services
from bot.services.conversation import Companion
from tests.telegram.coordinator_helpers import TOKEN
from tests.telegram.harness import RecordingRequest


async def test_every_menu_command_has_a_declared_description(companion: Companion) -> None:
    application = build_application(
        Services.around(companion), TOKEN, request=RecordingRequest(), rate_limit=False, features=list(FEATURES)
    )
    core = application.bot_data["core"]
    declared = {key for key, _ in texts.declared()}
    public = menus.public_commands(core)
    held = menus.role_commands(core, set(names.ROLES))
    assert set(public) == set(texts.PUBLIC_COMMANDS)
    assert set(held) == set(texts.ROLE_COMMANDS)
    keys = [menus.PUBLIC_TEXT.format(name=name) for name in public]
    keys += [menus.ROLE_TEXT.format(name=name) for name in held]
    assert [key for key in keys if key not in declared] == []
