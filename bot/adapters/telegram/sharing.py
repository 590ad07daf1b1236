"""Sharing on Telegram, the person's side: /share says what a coordinator would see and, on "yes",
gives a single-use code (and a link); /sharing lists who can see the summary, each with a one-tap stop.

A coordinator whose share is stopped is told at once; what they were writing
with the person is kept as their draft (see bot/services/sharing.py).
"""

from __future__ import annotations

import re
from enum import StrEnum

from telegram import CallbackQuery, Update

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.core import Context
from bot.adapters.telegram.features import Core, Feature
from bot.adapters.telegram.render import buttons, text_message
from bot.adapters.telegram.summary import NAME as SUMMARY_NAME
from bot.roles import tokens
from bot.services.conversation import Who
from bot.services.sharing import Stopped
from flows.formatting import format_date

SHARE_BUTTON = "sh"
"""``sh:<action>[:<coordinator id>]``: the person's own sharing buttons."""
SHARE_PAYLOAD = "s_"
"""``/start s_<code>``: the link form of a share code, opened by the coordinator."""
COORDINATOR_BUTTON, DRAFTS = "co", "d"
"""The coordinator's buttons (bot/adapters/telegram/coordinator.py): "co:d" shows their drafts."""
_ID = re.compile(r"^[0-9]{1,12}$")


class ShareAction(StrEnum):
    YES = "yes"
    NO = "no"
    STOP = "stop"


def stop_button(label: str, coordinator_id: int) -> tuple[str, str]:
    return label, callbacks.simple(SHARE_BUTTON, f"{ShareAction.STOP}:{coordinator_id}")


def coordinator_name(core: Core, name: str | None, language: str) -> str:
    return name or core.text("roles_unnamed_coordinator", language)


def feature(core: Core) -> Feature:
    sharing = core.services.sharing

    async def on_share(update: Update, context: Context) -> None:
        registered = await core.registered(update)
        if registered is None:
            return
        language, chat_id = registered.language, registered.chat_id
        offer = await sharing.offer(registered.who)
        if offer is None:
            return
        if offer.sections:
            listed = [f"• {title}" for title in offer.sections]
            sections = "\n".join([*listed, core.text("roles_share_sections_later", language)])
        else:
            sections = core.text("roles_share_sections_empty", language)
        texts = [core.text("roles_share_explain", language, sections=sections)]
        pairs = [
            (core.text("button_roles_share_yes", language), callbacks.simple(SHARE_BUTTON, ShareAction.YES)),
            (core.text("button_roles_share_no", language), callbacks.simple(SHARE_BUTTON, ShareAction.NO)),
        ]
        if offer.display_name:
            texts.append(core.text("roles_share_name", language, name=offer.display_name))
        else:
            texts.append(core.text("roles_share_no_name", language))
            # The summary's own "name on my summary" button: the person chooses it, or not.
            pairs.append(
                (core.text("button_roles_add_name", language), callbacks.simple(callbacks.SUMMARY, SUMMARY_NAME))
            )
        texts.append(core.text("roles_share_question", language))
        await core.chat.send(chat_id, text_message(texts, buttons(pairs)))

    async def on_sharing(update: Update, context: Context) -> None:
        registered = await core.registered(update)
        if registered is None:
            return
        language, chat_id = registered.language, registered.chat_id
        viewers = await sharing.viewers(registered.who)
        if not viewers:
            await core.chat.send(chat_id, text_message([core.text("roles_sharing_none", language)]))
            return
        lines = [
            core.text(
                "roles_sharing_item",
                language,
                name=coordinator_name(core, viewer.display_name, language),
                date=format_date(viewer.since.date().isoformat(), language),
            )
            for viewer in viewers
        ]
        pairs = [
            stop_button(
                core.text("button_roles_stop", language, name=coordinator_name(core, viewer.display_name, language)),
                viewer.coordinator_id,
            )
            for viewer in viewers
        ]
        texts = [core.text("roles_sharing_list", language), "\n".join(lines)]
        await core.chat.send(chat_id, text_message(texts, buttons(pairs)))

    async def on_button(update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        pressed = await core.pressed(update, query, who)
        if pressed is None:
            return
        language, chat_id, message = pressed.language, pressed.chat_id, pressed.message
        action, _, rest = value.partition(":")
        if action == ShareAction.YES:
            code = await sharing.create_code(who)
            if message is not None:
                await core.chat.close(message, core.chat.pressed_label(message, query.data), language)
            if code is None:
                return
            shown = f"{code[:4]} {code[4:]}"
            link = tokens.deep_link(core.bot_username(), SHARE_PAYLOAD + code)
            texts = [
                core.text("roles_share_code", language, code=shown),
                core.text("roles_share_link", language, link=link),
            ]
            await core.chat.send(chat_id, text_message(texts))
        elif action == ShareAction.NO:
            if message is not None:
                await core.chat.close(message, core.chat.pressed_label(message, query.data), language)
            await core.chat.send(chat_id, text_message([core.text("roles_share_declined", language)]))
        elif action == ShareAction.STOP and _ID.match(rest):
            stopped = await sharing.stop(who, int(rest))
            await core.chat.drop_buttons(message)
            if stopped is None:
                await core.chat.send(chat_id, text_message([core.text("roles_already_stopped", language)]))
                return
            name = coordinator_name(core, stopped.viewer.display_name, language)
            await core.chat.send(chat_id, text_message([core.text("roles_stopped", language, name=name)]))
            await _tell_coordinator(core, stopped)
        else:
            await core.chat.send(chat_id, text_message([core.text("tg_moved_on", language)]))

    return Feature(
        "sharing",
        commands={"share": on_share, "sharing": on_sharing},
        buttons={SHARE_BUTTON: on_button},
        public_commands=("share", "sharing"),
    )


async def _tell_coordinator(core: Core, stopped: Stopped) -> None:
    """The coordinator hears at once that a share stopped; a draft they were writing is theirs to see."""
    coordinator = stopped.coordinator
    if coordinator is None:
        return
    language = coordinator.language
    name = stopped.person_name or core.text("roles_person_unnamed", language)
    texts = [core.text("roles_share_ended", language, name=name)]
    pairs: list[tuple[str, str]] = []
    if stopped.draft_kept:
        texts.append(core.text("roles_draft_kept", language))
        pairs.append((core.text("button_roles_drafts", language), callbacks.simple(COORDINATOR_BUTTON, DRAFTS)))
    await core.tell(
        coordinator.channel, coordinator.external_id, text_message(texts, buttons(pairs) if pairs else None)
    )
