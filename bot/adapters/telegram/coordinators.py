"""Care coordinators on Telegram: role invites, sharing a summary, and reviewing it together.

Three journeys share this module because they share one rule: another
person's data is read only through :func:`bot.roles.sharing.access`, in the
same transaction as the read, so a share revoked a moment ago is already in
force and every look is in the audit log (who, what, whom, when; never the
content).

- Invites: ``/start r_<token>`` (the link ``companion invite`` prints) grants
  the role; the person is told plainly what it lets them do, and only their
  chat's command list gains the role's commands.
- The person decides: ``/share`` says which parts a coordinator would see and
  gives a single-use code (and a link) on "yes"; ``/sharing`` lists who can
  see the summary, each with a one-tap stop.
- The coordinator: ``/link CODE`` (or the ``s_`` link), ``/people``, the
  summary PDF, and "Review together": one message per summary section, ending
  in "what we agreed", which goes onto the person's record (never the
  coordinator's) and is sent to the person in their own language.

Button values are untrusted: an id in one only says what to *try*; who may
see it is decided from the presser's own record and the live share.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest, Forbidden

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.core import CHANNEL, Context, telegram_language
from bot.adapters.telegram.features import Core, Feature, FeatureFactory
from bot.adapters.telegram.menus import show_role_commands
from bot.adapters.telegram.render import Rendered, buttons, escape, split_html, text_message
from bot.adapters.telegram.summary import NAME as SUMMARY_NAME
from bot.roles import grants, sharing, tokens
from bot.services.conversation import Finished, Reply, Who
from bot.storage.repository import PersonRecord, StaleConversation, Transaction
from bot.summary.build import Records, assemble, build_summary, read_records
from bot.summary.document import Section
from bot.summary.pdf import render_pdf
from flows.engine import format_date
from flows.schema import StepType

log = logging.getLogger(__name__)

SHARE_BUTTON, COORDINATOR_BUTTON = "sh", "co"
"""Callback-data kinds this module owns: ``sh:`` for the person's side, ``co:`` for the coordinator's."""
INVITE_PAYLOAD = tokens.INVITE_PREFIX
SHARE_PAYLOAD = "s_"
AGREEMENT_FLOW = "what_we_agreed"
# Button values (after the kind): what to do, and an id to try.
YES, NO, STOP = "yes", "no", "stop"
SUMMARY, REVIEW, AGREE = "s", "r", "a"
_ID = re.compile(r"^[0-9]{1,12}$")
NAME_LIMIT = 60


@dataclass(frozen=True, slots=True)
class Agreement:
    """What the listener did with a finished "what we agreed", for the follow-up after commit."""

    person: PersonRecord | None
    saved: bool
    answers: dict[str, Any]


def _id(text: str) -> int | None:
    return int(text) if _ID.match(text) else None


def feature_factory(bot_username: str | None = None) -> FeatureFactory:
    """Kept for callers that pass a username; the core knows it (COMPANION_BOT_USERNAME or getMe)."""
    return make_feature


def make_feature(core: Core) -> Feature:
    return Coordinators(core).feature()


class Coordinators:
    """The handlers of this feature, sharing the core's helpers (send, close, registered...)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.companion = core.services.conversation
        self.ui = core.ui
        if AGREEMENT_FLOW in self.companion.catalog.flows:
            self.companion.when_finished(AGREEMENT_FLOW, self._on_agreement_finished)

    def feature(self) -> Feature:
        return Feature(
            "coordinators",
            commands={
                "share": self.on_share,
                "sharing": self.on_sharing,
                "link": self.on_link,
                "people": self.on_people,
            },
            buttons={SHARE_BUTTON: self.on_share_button, COORDINATOR_BUTTON: self.on_coordinator_button},
            start_payloads={INVITE_PAYLOAD: self.on_invite, SHARE_PAYLOAD: self.on_share_link},
            public_commands=("share", "sharing"),
            finished={AGREEMENT_FLOW: self.after_agreement},
        )

    # ------------------------------------------------------------------ helpers

    def t(self, key: str, language: str, **params: object) -> str:
        return self.ui.get(key, language, **params)

    def _now(self) -> dt.datetime:
        return self.companion.clock()

    def _person_name(self, person: PersonRecord | None, language: str) -> str:
        return (person.display_name if person else None) or self.t("roles_person_unnamed", language)

    def _coordinator_name(self, name: str | None, language: str) -> str:
        return name or self.t("roles_unnamed_coordinator", language)

    def bot_username(self) -> str:
        return self.core.bot_username()

    async def _tell(self, person: PersonRecord, rendered: Rendered) -> bool:
        """Send to someone other than the one who acted; False if Telegram will not deliver it."""
        if person.channel != CHANNEL:
            return False
        try:
            await self.core.chat.send(int(person.external_id), rendered)
        except (Forbidden, BadRequest):
            # Blocked the bot, or the chat is gone: nothing more can be done from here.
            log.info("could not reach person %s", person.id)
            return False
        return True

    @staticmethod
    async def _drop_buttons(message: Message | None) -> None:
        if message is None:
            return
        with contextlib.suppress(BadRequest, Forbidden):
            await message.edit_reply_markup(reply_markup=None)

    async def _query_start(
        self, update: Update, query: CallbackQuery, who: Who
    ) -> tuple[PersonRecord, int, Message | None] | None:
        """Answer the tap; the presser's record, chat and message if the tap is new and they agreed."""
        await self.core.chat.answer(query)
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat_id if message else query.from_user.id
        person = await self.companion.person(who)
        if person is None:
            await self.core.ask_consent(chat_id, telegram_language(query.from_user.language_code), first=False)
            return None
        if not await self.companion.claim(who, update.update_id):
            return None
        return person, chat_id, message

    # ------------------------------------------------------------------ role invites

    async def on_invite(self, update: Update, who: Who, rest: str) -> None:
        chat = update.effective_chat
        user = update.effective_user
        if chat is None:
            return
        token = INVITE_PAYLOAD + rest
        profile_name = (user.full_name if user else "").strip()[:NAME_LIMIT] or None
        now = self._now()

        def work(tx: Transaction) -> tuple[str | None, set[str], PersonRecord | None]:
            me = tx.person(who.channel, who.external_id)
            if me is None:
                return None, set(), None
            role = grants.redeem_invite(tx.connection, me.id, token, now)
            if role == grants.COORDINATOR and not me.display_name and profile_name:
                # People who share with a coordinator need to know who they are sharing with.
                tx.update_person(me.id, display_name=profile_name)
            return role, grants.roles_of(tx.connection, me.id), tx.person_by_id(me.id)

        role, held, me = await self.companion.storage.run(work)
        if me is None:
            return
        language = me.language
        if role is None:
            await self.core.chat.send(chat.id, text_message([self.t("roles_invite_bad", language)]))
            return
        texts = [self.t(f"roles_granted_{role}", language)]
        if role == grants.COORDINATOR:
            texts.append(self.t("roles_shown_as", language, name=self._coordinator_name(me.display_name, language)))
        await self.core.chat.send(chat.id, text_message(texts))
        await show_role_commands(self.core, chat.id, held)

    # ------------------------------------------------------------------ sharing: the person

    async def on_share(self, update: Update, context: Context) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        who, language, chat_id = registered.who, registered.language, registered.chat_id
        person = await self.companion.person(who)
        if person is None:
            return
        document = await build_summary(self.companion.storage, self.companion.engine, person.id, now=self._now())
        if not document.is_empty:
            listed = [f"• {section.title}" for section in document.parts()]
            sections = "\n".join([*listed, self.t("roles_share_sections_later", language)])
        else:
            sections = self.t("roles_share_sections_empty", language)
        texts = [self.t("roles_share_explain", language, sections=sections)]
        pairs = [
            (self.t("button_roles_share_yes", language), callbacks.simple(SHARE_BUTTON, YES)),
            (self.t("button_roles_share_no", language), callbacks.simple(SHARE_BUTTON, NO)),
        ]
        if person.display_name:
            texts.append(self.t("roles_share_name", language, name=person.display_name))
        else:
            texts.append(self.t("roles_share_no_name", language))
            # The core's own "name on my summary" button: the person chooses it, or not.
            pairs.append((self.t("button_roles_add_name", language), callbacks.simple(callbacks.SUMMARY, SUMMARY_NAME)))
        texts.append(self.t("roles_share_question", language))
        await self.core.chat.send(chat_id, text_message(texts, buttons(pairs)))

    async def on_sharing(self, update: Update, context: Context) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        who, language, chat_id = registered.who, registered.language, registered.chat_id
        await self._send_sharing(who, language, chat_id)

    async def _send_sharing(self, who: Who, language: str, chat_id: int) -> None:
        def work(tx: Transaction) -> list[sharing.Viewer]:
            me = tx.person(who.channel, who.external_id)
            return sharing.viewers(tx.connection, me.id) if me else []

        viewers = await self.companion.storage.run(work)
        if not viewers:
            await self.core.chat.send(chat_id, text_message([self.t("roles_sharing_none", language)]))
            return
        lines = [
            self.t(
                "roles_sharing_item",
                language,
                name=self._coordinator_name(viewer.display_name, language),
                date=format_date(viewer.since.date().isoformat(), language),
            )
            for viewer in viewers
        ]
        pairs = [
            (
                self.t("button_roles_stop", language, name=self._coordinator_name(viewer.display_name, language)),
                callbacks.simple(SHARE_BUTTON, f"{STOP}:{viewer.coordinator_id}"),
            )
            for viewer in viewers
        ]
        texts = [self.t("roles_sharing_list", language), "\n".join(lines)]
        await self.core.chat.send(chat_id, text_message(texts, buttons(pairs)))

    async def on_share_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        started = await self._query_start(update, query, who)
        if started is None:
            return
        person, chat_id, message = started
        language = person.language
        action, _, rest = value.partition(":")
        if action == YES:
            await self._make_code(person, chat_id, message, query)
        elif action == NO:
            if message is not None:
                await self.core.chat.close(message, self.core.chat.pressed_label(message, query.data), language)
            await self.core.chat.send(chat_id, text_message([self.t("roles_share_declined", language)]))
        elif action == STOP and (coordinator_id := _id(rest)) is not None:
            await self._stop_sharing(person, coordinator_id, chat_id, message)
        else:
            await self.core.chat.send(chat_id, text_message([self.t("tg_moved_on", language)]))

    async def _make_code(
        self, person: PersonRecord, chat_id: int, message: Message | None, query: CallbackQuery
    ) -> None:
        language = person.language
        now = self._now()
        code = await self.companion.storage.run(lambda tx: sharing.create_code(tx.connection, person.id, now))
        if message is not None:
            await self.core.chat.close(message, self.core.chat.pressed_label(message, query.data), language)
        shown = f"{code[:4]} {code[4:]}"
        link = tokens.deep_link(self.bot_username(), SHARE_PAYLOAD + code)
        await self.core.chat.send(
            chat_id,
            text_message(
                [self.t("roles_share_code", language, code=shown), self.t("roles_share_link", language, link=link)]
            ),
        )

    async def _stop_sharing(
        self, person: PersonRecord, coordinator_id: int, chat_id: int, message: Message | None
    ) -> None:
        """Revoke one of the person's own shares; the id only picks among *their* viewers."""
        language = person.language
        now = self._now()

        def work(tx: Transaction) -> sharing.Viewer | None:
            viewer = next(
                (v for v in sharing.viewers(tx.connection, person.id) if v.coordinator_id == coordinator_id), None
            )
            if viewer is None:
                return None
            sharing.revoke(tx.connection, person.id, coordinator_id, now)
            _drop_agreement_in_progress(tx, coordinator_id, person.id)
            return viewer

        viewer = await self.companion.storage.run(work)
        await self._drop_buttons(message)
        if viewer is None:
            await self.core.chat.send(chat_id, text_message([self.t("roles_already_stopped", language)]))
            return
        name = self._coordinator_name(viewer.display_name, language)
        await self.core.chat.send(chat_id, text_message([self.t("roles_stopped", language, name=name)]))

    # ------------------------------------------------------------------ the coordinator: linking

    async def on_link(self, update: Update, context: Context) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        who, language, chat_id = registered.who, registered.language, registered.chat_id
        text = "".join(context.args or [])
        if not text:
            is_coordinator = await self._holds(who, grants.COORDINATOR)
            key = "roles_link_how" if is_coordinator else "roles_coordinators_only"
            await self.core.chat.send(chat_id, text_message([self.t(key, language)]))
            return
        await self._link(who, language, chat_id, text)

    async def on_share_link(self, update: Update, who: Who, rest: str) -> None:
        chat = update.effective_chat
        person = await self.companion.person(who)
        if chat is None or person is None:
            return
        await self._link(who, person.language, chat.id, rest)

    async def _link(self, who: Who, language: str, chat_id: int, text: str) -> None:
        now = self._now()

        def work(tx: Transaction) -> tuple[sharing.LinkResult, PersonRecord | None, PersonRecord | None]:
            me = tx.person(who.channel, who.external_id)
            if me is None:
                return sharing.LinkResult("not_allowed"), None, None
            result = sharing.link(tx.connection, me.id, text, now)
            person = tx.person_by_id(result.person_id) if result.person_id is not None else None
            return result, me, person

        result, me, person = await self.companion.storage.run(work)
        if result.status == "not_allowed" or me is None:
            await self.core.chat.send(chat_id, text_message([self.t("roles_coordinators_only", language)]))
            return
        if result.status == "too_many_tries":
            await self.core.chat.send(chat_id, text_message([self.t("roles_link_too_many", language)]))
            return
        if result.status != "linked" or person is None:
            # Wrong, used, expired or unknown: one answer for all, so nothing is learnt.
            await self.core.chat.send(chat_id, text_message([self.t("roles_link_failed", language)]))
            return
        await self.core.chat.send(
            chat_id, text_message([self.t("roles_link_done", language, name=self._person_name(person, language))])
        )
        theirs = person.language
        undo = buttons([(self.t("button_roles_undo", theirs), callbacks.simple(SHARE_BUTTON, f"{STOP}:{me.id}"))])
        told = self.t("roles_told_linked", theirs, name=self._coordinator_name(me.display_name, theirs))
        await self._tell(person, text_message([told], undo))

    async def _holds(self, who: Who, role: str) -> bool:
        def work(tx: Transaction) -> bool:
            me = tx.person(who.channel, who.external_id)
            return me is not None and grants.has_role(tx.connection, me.id, role)

        return await self.companion.storage.run(work)

    # ------------------------------------------------------------------ the coordinator: people

    async def on_people(self, update: Update, context: Context) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        who, language, chat_id = registered.who, registered.language, registered.chat_id
        now = self._now()

        def work(tx: Transaction) -> tuple[bool, list[sharing.Sharer]]:
            me = tx.person(who.channel, who.external_id)
            if me is None:
                return False, []
            allowed = grants.has_role(tx.connection, me.id, grants.COORDINATOR)
            return allowed, sharing.sharers(tx.connection, me.id, now)  # audited either way

        allowed, people = await self.companion.storage.run(work)
        if not allowed:
            await self.core.chat.send(chat_id, text_message([self.t("roles_coordinators_only", language)]))
            return
        if not people:
            await self.core.chat.send(chat_id, text_message([self.t("roles_people_none", language)]))
            return
        await self.core.chat.send(chat_id, text_message([self.t("roles_people_intro", language)]))
        for sharer in people:
            line = self.t(
                "roles_people_item",
                language,
                name=sharer.display_name or self.t("roles_person_unnamed", language),
                date=format_date(sharer.since.date().isoformat(), language),
            )
            keyboard = buttons(
                [
                    (
                        self.t("button_roles_summary", language),
                        callbacks.simple(COORDINATOR_BUTTON, f"{SUMMARY}:{sharer.person_id}"),
                    ),
                    (
                        self.t("button_roles_review", language),
                        callbacks.simple(COORDINATOR_BUTTON, f"{REVIEW}:{sharer.person_id}"),
                    ),
                ],
                per_row=2,
            )
            await self.core.chat.send(chat_id, text_message([line], keyboard))

    async def on_coordinator_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        started = await self._query_start(update, query, who)
        if started is None:
            return
        me, chat_id, message = started
        action, _, rest = value.partition(":")
        target, _, extra = rest.partition(":")
        person_id = _id(target)
        if person_id is None or action not in (SUMMARY, REVIEW, AGREE):
            await self.core.chat.send(chat_id, text_message([self.t("roles_no_access", me.language)]))
            return
        if action == SUMMARY:
            await self._send_summary(me, person_id, chat_id)
        elif action == REVIEW:
            await self._review(me, person_id, _id(extra) if extra else None, chat_id, message)
        else:
            await self._start_agreement(update, who, me, person_id, chat_id, message)

    async def _read_shared(self, me: PersonRecord, person_id: int, action: str) -> Records | None:
        """The person's records if they share with ``me`` now; checked, audited and read in one transaction."""
        now = self._now()

        def work(tx: Transaction) -> Records | None:
            if not sharing.access(tx.connection, me.id, person_id, action, now):
                return None
            return read_records(tx, person_id)

        return await self.companion.storage.run(work)

    async def _refuse(self, me: PersonRecord, chat_id: int) -> None:
        await self.core.chat.send(chat_id, text_message([self.t("roles_no_access", me.language)]))

    async def _send_summary(self, me: PersonRecord, person_id: int, chat_id: int) -> None:
        language = me.language
        records = await self._read_shared(me, person_id, "summary")
        if records is None:
            await self._refuse(me, chat_id)
            return
        document = assemble(self.companion.engine, records, now=self._now())
        name = self._person_name(records.person, language)
        if document.is_empty:
            await self.core.chat.send(chat_id, text_message([self.t("roles_summary_empty", language, name=name)]))
            return
        await self.core.chat.bot.send_document(
            chat_id,
            document=render_pdf(document),
            filename=self.t("roles_summary_filename", language),
            caption=self.t("roles_summary_caption", language, name=name),
        )

    # ------------------------------------------------------------------ the coordinator: review together

    async def _review(
        self, me: PersonRecord, person_id: int, index: int | None, chat_id: int, message: Message | None
    ) -> None:
        """One section of the person's summary; ``index`` None starts the walk (from /people)."""
        language = me.language
        records = await self._read_shared(me, person_id, "review")
        if index is not None:
            # A step in the walk: the old section keeps its text and loses its buttons.
            await self._drop_buttons(message)
        if records is None:
            await self._refuse(me, chat_id)
            return
        document = assemble(self.companion.engine, records, now=self._now())
        name = self._person_name(records.person, language)
        agree = (self.t("button_roles_agree", language), callbacks.simple(COORDINATOR_BUTTON, f"{AGREE}:{person_id}"))
        if document.is_empty:
            await self.core.chat.send(
                chat_id, text_message([self.t("roles_review_empty", language, name=name)], buttons([agree]))
            )
            return
        parts = document.parts()
        total = len(parts)
        shown = min(max(index or 0, 0), total - 1)
        blocks = [escape(self.t("roles_review_intro", language, name=name))] if index is None else []
        heading = self.t("roles_review_part", language, number=shown + 1, total=total, title=parts[shown].title)
        blocks += section_blocks(heading, parts[shown])
        pairs: list[tuple[str, str]] = []
        if shown > 0:
            pairs.append(
                (
                    self.t("button_back", language),
                    callbacks.simple(COORDINATOR_BUTTON, f"{REVIEW}:{person_id}:{shown - 1}"),
                )
            )
        if shown < total - 1:
            pairs.append(
                (
                    self.t("button_next", language),
                    callbacks.simple(COORDINATOR_BUTTON, f"{REVIEW}:{person_id}:{shown + 1}"),
                )
            )
        else:
            pairs.append(agree)
        await self.core.chat.send(chat_id, Rendered(tuple(split_html(blocks)), buttons(pairs, per_row=2)))

    # ------------------------------------------------------------------ the coordinator: what we agreed

    async def _start_agreement(
        self, update: Update, who: Who, me: PersonRecord, person_id: int, chat_id: int, message: Message | None
    ) -> None:
        language = me.language
        now = self._now()

        def work(tx: Transaction) -> PersonRecord | None:
            if not sharing.access(tx.connection, me.id, person_id, "agreement_open", now):
                return None
            return tx.person_by_id(person_id)

        person = await self.companion.storage.run(work)
        await self._drop_buttons(message)
        if person is None:
            await self._refuse(me, chat_id)
            return
        await self.core.chat.send(
            chat_id, text_message([self.t("roles_agreed_start", language, name=self._person_name(person, language))])
        )
        # The update was claimed above; ``about`` is set here, after the check, never from the button.
        reply = await self.companion.open(who, AGREEMENT_FLOW, about={"person_id": person_id})
        await self.core.show_reply(chat_id, who, reply, language)

    def _on_agreement_finished(self, tx: Transaction, finished: Finished) -> Agreement | None:
        """Inside the coordinator's last turn: move the answers to the person's record, or drop them.

        The share is checked again here, in the same transaction as the write,
        so a person who stopped sharing during the review gets nothing written
        by that coordinator. Either way the coordinator's copy is deleted.
        """
        coordinator_id = finished.person.id
        person_id = finished.about.get("person_id")
        if not isinstance(person_id, int) or isinstance(person_id, bool):
            return None  # someone's own "what we agreed": not ours
        allowed = sharing.access(tx.connection, coordinator_id, person_id, "agreement", finished.now)
        if allowed:
            tx.add_completed_run(person_id, AGREEMENT_FLOW, finished.answers, finished.now)
        tx.delete_run(finished.run_id)
        # Nothing of the person is read unless the share is live.
        person = tx.person_by_id(person_id) if allowed else None
        return Agreement(person, allowed, dict(finished.answers))

    async def after_agreement(self, who: Who, reply: Reply) -> None:
        me = await self.companion.person(who)
        if me is None:
            return
        agreement = next((item for item in reply.outcomes if isinstance(item, Agreement)), None)
        if agreement is None:
            return
        language = me.language
        if not agreement.saved or agreement.person is None:
            await self.core.chat.send(int(who.external_id), text_message([self.t("roles_agreed_not_saved", language)]))
            return
        name = self._person_name(agreement.person, language)
        delivered = await self._tell(agreement.person, self.agreement_message(agreement, me))
        key = "roles_agreed_sent" if delivered else "roles_agreed_not_delivered"
        await self.core.chat.send(int(who.external_id), text_message([self.t(key, language, name=name)]))

    def agreement_message(self, agreement: Agreement, coordinator: PersonRecord) -> Rendered:
        """What was agreed, to the person, in their language and their own voice (the flow's words)."""
        assert agreement.person is not None
        language = agreement.person.language
        engine = self.companion.engine
        flow = self.companion.catalog.flows[AGREEMENT_FLOW]
        blocks = [
            escape(
                self.t(
                    "roles_agreed_for_person", language, name=self._coordinator_name(coordinator.display_name, language)
                )
            )
        ]
        answers = agreement.answers
        for step in flow.steps:
            value = answers.get(step.id)
            if not step.summary or value is None or value == [] or step.type is StepType.message:
                continue
            values = value if isinstance(value, list) else [value]
            items = [
                engine.describe(
                    flow, step.id, {**answers, step.id: [v] if isinstance(value, list) else v}, language
                ).strip()
                for v in values
            ]
            label = step.summary_label.get(language) if step.summary_label else ""
            lines = [f"<b>{escape(label)}</b>"] if label else []
            lines += [f"• {escape(item)}" for item in items if item]
            blocks.append("\n".join(lines))
        if answers.get("change_plan"):
            blocks.append(escape(self.t("roles_agreed_medicine_care", language)))
        return Rendered(tuple(split_html(blocks)))


# ---------------------------------------------------------------------- pure helpers


def section_blocks(heading: str, section: Section) -> list[str]:
    """One summary section as HTML blocks: heading, when answered, then each entry (all escaped)."""
    when = f"\n<i>{escape(section.answered)}</i>" if section.answered else ""
    blocks = [f"<b>{escape(heading)}</b>{when}"]
    for entry in section.entries:
        lines = [f"<b>{escape(entry.label)}</b>"] if entry.label else []
        lines += [f"• {escape(item)}" for item in entry.items]
        blocks.append("\n".join(lines))
    return blocks


def _drop_agreement_in_progress(tx: Transaction, coordinator_id: int, person_id: int) -> None:
    """When a person stops sharing, a coordinator's unfinished notes about them go too.

    Only if the coordinator is not mid-turn this very moment (their version
    moved): then the check when the notes are finished drops them instead.
    """
    run = tx.run_in_progress(coordinator_id, AGREEMENT_FLOW)
    if run is None or (run.position.get("about") or {}).get("person_id") != person_id:
        return
    coordinator = tx.person_by_id(coordinator_id)
    if coordinator is None:
        return
    try:
        active = None if coordinator.active_flow == AGREEMENT_FLOW else coordinator.active_flow
        tx.set_active_flow(coordinator, active)
    except StaleConversation:
        return
    tx.delete_run(run.id)
