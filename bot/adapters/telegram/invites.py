"""Role invites on Telegram: ``/start r_<token>`` (the link ``companion invite`` prints) grants the role.

The person is told plainly what the role lets them do, and only their own
chat's command list gains the role's commands.
"""

from __future__ import annotations

from telegram import Update

from bot.adapters.telegram.features import Core, Feature
from bot.adapters.telegram.menus import show_role_commands
from bot.adapters.telegram.render import text_message
from bot.roles import names, tokens
from bot.services.conversation import Who

NAME_LIMIT = 60
GRANTED = {names.COORDINATOR: "roles_granted_coordinator", names.FACILITATOR: "roles_granted_facilitator"}
"""What each role is told when it is granted."""


def feature(core: Core) -> Feature:
    coordination = core.services.coordination

    async def on_invite(update: Update, who: Who, rest: str) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return
        profile_name = (user.full_name if user else "").strip()[:NAME_LIMIT] or None
        invited = await coordination.redeem_invite(who, tokens.INVITE_PREFIX + rest, profile_name)
        if invited.me is None:
            return
        language = invited.me.language
        if invited.role is None:
            await core.chat.send(chat.id, text_message([core.text("roles_invite_bad", language)]))
            return
        texts = [core.text(GRANTED[invited.role], language)]
        if invited.role == names.COORDINATOR:
            name = invited.me.display_name or core.text("roles_unnamed_coordinator", language)
            texts.append(core.text("roles_shown_as", language, name=name))
        await core.chat.send(chat.id, text_message(texts))
        await show_role_commands(core, chat.id, set(invited.held))

    return Feature("invites", start_payloads={tokens.INVITE_PREFIX: on_invite})
