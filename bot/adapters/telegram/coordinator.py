"""The care coordinator on Telegram: /link CODE (or the ``s_`` link), /people, a shared summary,
"review together" (one message per part of the summary, ending in "what we agreed"), and drafts.

Every look goes through bot/services/coordination.py, which checks the live
share and writes the audit row in the same transaction. Button values are
untrusted hints of what was tapped.
"""

from __future__ import annotations

import re
from enum import StrEnum

from telegram import CallbackQuery, Update

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.core import Context
from bot.adapters.telegram.features import Core, Feature, Pressed
from bot.adapters.telegram.render import Rendered, buttons, escape, split_html, text_message
from bot.adapters.telegram.sharing import COORDINATOR_BUTTON, DRAFTS, SHARE_BUTTON, SHARE_PAYLOAD, ShareAction
from bot.roles import names
from bot.services import forms
from bot.services.conversation import Person, Reply, Who
from bot.services.coordination import Agreement, Draft
from bot.summary.document import Section
from bot.summary.pdf import render_pdf
from flows.formatting import format_date
from flows.schema import StepType

_ID = re.compile(r"^[0-9]{1,12}$")


class CoordinatorAction(StrEnum):
    """``co:<action>:<person id>[:<part>]`` (or ``co:d`` and ``co:x:<draft id>``)."""

    SUMMARY = "s"
    REVIEW = "r"
    AGREE = "a"
    DRAFTS = DRAFTS
    DISCARD = "x"


def _id(text: str) -> int | None:
    return int(text) if _ID.match(text) else None


def person_name(core: Core, person: Person | None, language: str) -> str:
    return (person.display_name if person else None) or core.text("roles_person_unnamed", language)


def section_blocks(heading: str, section: Section) -> list[str]:
    """One summary section as HTML blocks: heading, when answered, then each entry (all escaped)."""
    when = f"\n<i>{escape(section.answered)}</i>" if section.answered else ""
    blocks = [f"<b>{escape(heading)}</b>{when}"]
    for entry in section.entries:
        lines = [f"<b>{escape(entry.label)}</b>"] if entry.label else []
        lines += [f"• {escape(item)}" for item in entry.items]
        blocks.append("\n".join(lines))
    return blocks


class Coordinator:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.coordination = core.services.coordination
        self.conversation = core.services.conversation
        self.t = core.text

    def feature(self) -> Feature:
        return Feature(
            "coordinator",
            commands={"link": self.on_link, "people": self.on_people},
            buttons={COORDINATOR_BUTTON: self.on_button},
            start_payloads={SHARE_PAYLOAD: self.on_share_link},
            finished={forms.WHAT_WE_AGREED.flow: self.after_agreement},
        )

    # ------------------------------------------------------------------ linking

    async def on_link(self, update: Update, context: Context) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        who, language, chat_id = registered.who, registered.language, registered.chat_id
        text = "".join(context.args or [])
        if not text:
            key = (
                "roles_link_how" if await self.coordination.holds(who, names.COORDINATOR) else "roles_coordinators_only"
            )
            await self.core.chat.send(chat_id, text_message([self.t(key, language)]))
            return
        await self._link(who, language, chat_id, text)

    async def on_share_link(self, update: Update, who: Who, rest: str) -> None:
        chat = update.effective_chat
        person = await self.conversation.person(who)
        if chat is not None and person is not None:
            await self._link(who, person.language, chat.id, rest)

    async def _link(self, who: Who, language: str, chat_id: int, text: str) -> None:
        linked = await self.coordination.link(who, text)
        me, person, status = linked.me, linked.person, linked.result.status
        if status == "not_allowed" or me is None:
            await self.core.chat.send(chat_id, text_message([self.t("roles_coordinators_only", language)]))
            return
        if status == "too_many_tries":
            await self.core.chat.send(chat_id, text_message([self.t("roles_link_too_many", language)]))
            return
        if status != "linked" or person is None:
            # Wrong, used, expired or unknown: one answer for all, so nothing is learnt.
            await self.core.chat.send(chat_id, text_message([self.t("roles_link_failed", language)]))
            return
        name = person_name(self.core, person, language)
        await self.core.chat.send(chat_id, text_message([self.t("roles_link_done", language, name=name)]))
        theirs = person.language
        undo = buttons(
            [(self.t("button_roles_undo", theirs), callbacks.simple(SHARE_BUTTON, f"{ShareAction.STOP}:{me.id}"))]
        )
        told = self.t("roles_told_linked", theirs, name=me.display_name or self.t("roles_unnamed_coordinator", theirs))
        await self.core.tell(person.channel, person.external_id, text_message([told], undo))

    # ------------------------------------------------------------------ people

    async def on_people(self, update: Update, context: Context) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        language, chat_id = registered.language, registered.chat_id
        people = await self.coordination.people(registered.who)
        if people is None:
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
            pairs = [
                (self.t("button_roles_summary", language), self._data(CoordinatorAction.SUMMARY, sharer.person_id)),
                (self.t("button_roles_review", language), self._data(CoordinatorAction.REVIEW, sharer.person_id)),
            ]
            await self.core.chat.send(chat_id, text_message([line], buttons(pairs, per_row=2)))

    @staticmethod
    def _data(action: CoordinatorAction, *ids: int) -> str:
        return callbacks.simple(COORDINATOR_BUTTON, ":".join([action.value, *(str(i) for i in ids)]))

    # ------------------------------------------------------------------ the coordinator's buttons

    async def on_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        pressed = await self.core.pressed(update, query, who)
        if pressed is None:
            return
        me = await self.conversation.person(who)
        if me is None:
            return
        name, _, rest = value.partition(":")
        target, _, extra = rest.partition(":")
        try:
            action = CoordinatorAction(name)
        except ValueError:
            action = None
        if action is CoordinatorAction.DRAFTS:
            await self._drafts(pressed)
            return
        number = _id(target)
        if action is None or number is None:
            await self._refuse(pressed)
            return
        if action is CoordinatorAction.DISCARD:
            key = "roles_draft_discarded" if await self.coordination.discard_draft(who, number) else "tg_moved_on"
            await self.core.chat.drop_buttons(pressed.message)
            await self.core.chat.send(pressed.chat_id, text_message([self.t(key, pressed.language)]))
        elif action is CoordinatorAction.SUMMARY:
            await self._summary(me, number, pressed)
        elif action is CoordinatorAction.REVIEW:
            await self._review(me, number, _id(extra) if extra else None, pressed)
        else:
            await self._start_agreement(who, me, number, pressed)

    async def _refuse(self, pressed: Pressed) -> None:
        await self.core.chat.send(pressed.chat_id, text_message([self.t("roles_no_access", pressed.language)]))

    async def _summary(self, me: Person, person_id: int, pressed: Pressed) -> None:
        language = pressed.language
        shared = await self.coordination.shared(me, person_id, "summary")
        if shared is None:
            await self._refuse(pressed)
            return
        name = person_name(self.core, shared.person, language)
        if shared.document.is_empty:
            await self.core.chat.send(
                pressed.chat_id, text_message([self.t("roles_summary_empty", language, name=name)])
            )
            return
        await self.core.chat.send_document(
            pressed.chat_id,
            render_pdf(shared.document),
            self.t("roles_summary_filename", language),
            self.t("roles_summary_caption", language, name=name),
        )

    async def _review(self, me: Person, person_id: int, index: int | None, pressed: Pressed) -> None:
        """One part of the person's summary; ``index`` None starts the walk (from /people)."""
        language = pressed.language
        shared = await self.coordination.shared(me, person_id, "review")
        if index is not None:
            # A step in the walk: the old part keeps its text and loses its buttons.
            await self.core.chat.drop_buttons(pressed.message)
        if shared is None:
            await self._refuse(pressed)
            return
        name = person_name(self.core, shared.person, language)
        agree = (self.t("button_roles_agree", language), self._data(CoordinatorAction.AGREE, person_id))
        if shared.document.is_empty:
            texts = [self.t("roles_review_empty", language, name=name)]
            await self.core.chat.send(pressed.chat_id, text_message(texts, buttons([agree])))
            return
        parts = shared.document.parts()
        total = len(parts)
        shown = min(max(index or 0, 0), total - 1)
        blocks = [escape(self.t("roles_review_intro", language, name=name))] if index is None else []
        heading = self.t("roles_review_part", language, number=shown + 1, total=total, title=parts[shown].title)
        blocks += section_blocks(heading, parts[shown])
        pairs: list[tuple[str, str]] = []
        if shown > 0:
            pairs.append((self.t("button_back", language), self._data(CoordinatorAction.REVIEW, person_id, shown - 1)))
        if shown < total - 1:
            pairs.append((self.t("button_next", language), self._data(CoordinatorAction.REVIEW, person_id, shown + 1)))
        else:
            pairs.append(agree)
        await self.core.chat.send(pressed.chat_id, Rendered(tuple(split_html(blocks)), buttons(pairs, per_row=2)))

    # ------------------------------------------------------------------ what we agreed

    async def _start_agreement(self, who: Who, me: Person, person_id: int, pressed: Pressed) -> None:
        language = pressed.language
        opened = await self.coordination.open_agreement(who, me, person_id)
        await self.core.chat.drop_buttons(pressed.message)
        if opened is None:
            await self._refuse(pressed)
            return
        person, reply = opened
        texts = [self.t("roles_agreed_start", language, name=person_name(self.core, person, language))]
        await self.core.chat.send(pressed.chat_id, text_message(texts))
        await self.core.show_reply(pressed.chat_id, who, reply, language)

    async def after_agreement(self, who: Who, reply: Reply) -> None:
        agreement = reply.outcome(Agreement)
        me = await self.conversation.person(who)
        if agreement is None or me is None:
            return
        language, chat_id = me.language, int(who.external_id)
        if not agreement.saved or agreement.person is None:
            key = "roles_agreed_draft" if agreement.draft else "roles_agreed_not_saved"
            pairs = (
                [(self.t("button_roles_drafts", language), self._data(CoordinatorAction.DRAFTS))]
                if agreement.draft
                else []
            )
            await self.core.chat.send(chat_id, text_message([self.t(key, language)], buttons(pairs) if pairs else None))
            return
        name = person_name(self.core, agreement.person, language)
        person = agreement.person
        delivered = await self.core.tell(person.channel, person.external_id, self.agreement_message(agreement, me))
        key = "roles_agreed_sent" if delivered else "roles_agreed_not_delivered"
        await self.core.chat.send(chat_id, text_message([self.t(key, language, name=name)]))

    def agreement_message(self, agreement: Agreement, coordinator: Person) -> Rendered:
        """What was agreed, to the person, in their language and their own voice (the flow's words)."""
        assert agreement.person is not None
        language = agreement.person.language
        coordinator_name = coordinator.display_name or self.t("roles_unnamed_coordinator", language)
        blocks = [escape(self.t("roles_agreed_for_person", language, name=coordinator_name))]
        blocks += self._answer_blocks(agreement.answers, language)
        if forms.WHAT_WE_AGREED.change_plan.of(agreement.answers):
            blocks.append(escape(self.t("roles_agreed_medicine_care", language)))
        return Rendered(tuple(split_html(blocks)))

    def _answer_blocks(self, answers: dict[str, object], language: str) -> list[str]:
        """Each answered step of "what we agreed", under its summary label, as the person will read it."""
        engine = self.conversation.engine
        flow = self.conversation.catalog.flows[forms.WHAT_WE_AGREED.flow]
        blocks = []
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
        return blocks

    # ------------------------------------------------------------------ drafts

    async def _drafts(self, pressed: Pressed) -> None:
        language = pressed.language
        drafts = await self.coordination.drafts(pressed.who)
        if not drafts:
            await self.core.chat.send(pressed.chat_id, text_message([self.t("roles_drafts_none", language)]))
            return
        await self.core.chat.send(pressed.chat_id, text_message([self.t("roles_drafts_intro", language)]))
        for draft in drafts:
            await self.core.chat.send(pressed.chat_id, self._draft_message(draft, language))

    def _draft_message(self, draft: Draft, language: str) -> Rendered:
        heading = escape(
            self.t("roles_draft_item", language, date=format_date(draft.closed_at.date().isoformat(), language))
        )
        blocks = [f"<b>{heading}</b>", *self._answer_blocks(draft.answers, language)]
        discard = [
            (self.t("button_roles_draft_discard", language), self._data(CoordinatorAction.DISCARD, draft.run_id))
        ]
        return Rendered(tuple(split_html(blocks)), buttons(discard))


def feature(core: Core) -> Feature:
    return Coordinator(core).feature()
