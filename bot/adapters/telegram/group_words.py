"""Words both sides of a group use: session times, reminder times, refusals, a member's groups."""

from __future__ import annotations

from collections.abc import Sequence

from bot.adapters.telegram import group_buttons
from bot.adapters.telegram.features import Core
from bot.reminders.messages import local_date
from bot.reminders.schedule import Lead, utc_to_local
from bot.services.groups import Membership, Refusal, SessionInfo

REFUSALS: dict[Refusal, str] = {
    Refusal.NOT_FACILITATOR: "gr_for_facilitators",
    Refusal.NOT_YOURS: "gr_not_yours",
    Refusal.NOT_MEMBER: "gr_not_member",
    Refusal.UNKNOWN_LINK: "gr_link_unknown",
    Refusal.GROUP_FULL: "gr_group_full",
}
"""What each refusal says (NOT_REGISTERED is answered with the consent question instead)."""

Pairs = list[tuple[str, str]]


class GroupWords:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.t = core.text

    def refusal(self, refusal: Refusal, language: str) -> str:
        return self.t(REFUSALS.get(refusal, "gr_not_yours"), language)

    def leads(self, language: str, leads: Sequence[str]) -> str:
        """'the day before, 2 hours before' in the person's language."""
        parts = []
        for text in leads:
            lead = Lead.parse(text)
            if lead.minutes:
                if lead.minutes % 60 == 0:
                    parts.append(self.t("gr_lead_hours", language, hours=lead.minutes // 60))
                else:
                    parts.append(self.t("gr_lead_minutes", language, minutes=lead.minutes))
            elif lead.days == 1:
                parts.append(self.t("gr_lead_day", language))
            else:
                parts.append(self.t("gr_lead_days", language, days=lead.days))
        return ", ".join(parts) if parts else self.t("gr_lead_none", language)

    def when(self, language: str, found: SessionInfo, zone: str, *, place: bool = False) -> str:
        moment = utc_to_local(found.starts_at, zone)
        text = self.t(
            "gr_session_when",
            language,
            date=local_date(self.core.ui, language, moment),
            time=moment.strftime("%H:%M"),
        )
        return text + (f" ({found.place})" if place and found.place else "")

    def memberships(self, language: str, memberships: Sequence[Membership]) -> tuple[list[str], Pairs]:
        """A service user's /groups: what it is for, and the groups they are in (to mute or leave)."""
        texts = [self.t("gr_for_facilitators", language)]
        pairs: Pairs = []
        if memberships:
            texts.append(self.t("gr_your_groups", language))
        for item in memberships:
            name = item.group.name
            if item.muted:
                pairs.append(
                    (self.t("button_gr_unmute_named", language, group=name), group_buttons.unmute(item.group.id))
                )
            else:
                pairs.append((self.t("button_gr_mute_named", language, group=name), group_buttons.mute(item.group.id)))
            pairs.append((self.t("button_gr_leave_named", language, group=name), group_buttons.leave(item.group.id)))
        return texts, pairs
