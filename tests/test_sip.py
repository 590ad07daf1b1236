"""My SIP meeting (the care-plan review): before, during and after, in English and Swedish.

Played through the real Companion service and a real database: the answers go
to the summary's own section, consent is recorded per named service, every
question can be skipped, the follow-up on the agreed date is planned with the
answers (SQLite and PostgreSQL), and a coordinator reviewing together sees it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import forms, sip
from bot.services.app import Services
from bot.services.conversation import Companion, Who
from bot.storage.models import Reminder
from bot.storage.repository import Storage
from bot.summary import build_summary, render_pdf, render_text
from flows.engine import Engine
from flows.schema import StepType
from tests.conftest import Clock
from tests.summary.conftest import play

BEFORE = {
    "en": {
        "important": "Keeping my flat.",
        "lead_to": "Help with my bills, so I can sleep.",
        "services": ["psychiatry", "social", "other"],
        "other_service": "The debt advice service",
        "want_there": ["family", "social"],
        "not_there": "My old landlord",
        "share_psychiatry": "yes",
        "share_social": "no",
        "share_other": "yes",
        "not_shared": "Anything about my time in hospital",
    },
    "sv": {
        "important": "Att få bo kvar i min lägenhet.",
        "lead_to": "Hjälp med räkningarna, så att jag kan sova.",
        "services": ["psychiatry", "social", "other"],
        "other_service": "Budget- och skuldrådgivningen",
        "want_there": ["family", "social"],
        "not_there": "Min gamla hyresvärd",
        "share_psychiatry": "yes",
        "share_social": "no",
        "share_other": "yes",
        "not_shared": "Inget om tiden på sjukhuset",
    },
}
DURING = {
    "en": {
        "we_agreed": ["I will get help to pay my rent."],
        "who_does": ["Social care will ring the landlord."],
        "by_when": "+14",
        "lead_service": "social",
        "lead_name": "Anna",
        "remind": "yes",
    },
    "sv": {
        "we_agreed": ["Jag ska få hjälp att betala hyran."],
        "who_does": ["Socialtjänsten ringer hyresvärden."],
        "by_when": "+14",
        "lead_service": "social",
        "lead_name": "Anna",
        "remind": "yes",
    },
}


async def _sip_reminders(storage: Storage) -> list[tuple[int, str, str, dt.datetime]]:
    table = Reminder.__table__
    rows = await storage.run(
        lambda tx: tx.connection.execute(
            select(table.c.person_id, table.c.kind, table.c.source, table.c.due_at).where(
                table.c.kind == sip.FOLLOW_UP_KIND, table.c.status == "pending"
            )
        ).all()
    )
    return [(row[0], row[1], row[2], row[3] if row[3].tzinfo else row[3].replace(tzinfo=dt.UTC)) for row in rows]


def test_every_sip_question_can_be_skipped_and_uses_buttons_where_it_can(engine: Engine) -> None:
    for flow_id in ("sip_meeting", "sip_agreed", "sip_follow_up"):
        flow = engine.catalog.flows[flow_id]
        assert not any(step.required for step in flow.steps), flow_id
        assert flow.sources, flow_id
        for step in flow.steps:
            for language in ("en", "sv"):
                assert step.say.translations()[language], (flow_id, step.id, language)
    # Consent is asked per named service, each as a yes/no with buttons.
    before = engine.catalog.flows["sip_meeting"]
    services = before.step("services")
    consents = [step for step in before.steps if step.id.startswith("share_") and step.id != "share_intro"]
    assert {step.id.removeprefix("share_") for step in consents} == {option.id for option in services.options}
    assert all(step.type is StepType.yes_no for step in consents)
    # The Swedish speaks of SIP and of a samordnare, never of a kontaktperson.
    words = " ".join(
        text or ""
        for flow_id in ("sip_meeting", "sip_agreed", "sip_follow_up")
        for step in engine.catalog.flows[flow_id].steps
        for text in [step.say.sv, *(option.sv for option in step.options)]
    )
    assert "SIP" in words and "samordnare" in words and "kontaktperson" not in words.lower()


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_before_during_and_after_go_to_the_summary_in_their_own_section(
    companion: Companion, engine: Engine, clock: Clock, language: str
) -> None:
    Services.around(companion)
    who = Who("console", f"sip-{language}")
    person = await companion.join(who, language)
    await play(companion, who, "sip_meeting", BEFORE[language])
    await play(companion, who, "sip_agreed", DURING[language])
    await play(
        companion,
        who,
        "sip_follow_up",
        {"happened": "partly", "still_to_do": "The rent help", "next_step": "talk_lead"},
    )

    document = await build_summary(companion.storage, engine, person.id, now=clock())
    (section,) = [section for section in document.sections if section.id == "sip"]
    assert section.title == {"en": "My care-plan review meeting", "sv": "Mitt SIP-möte"}[language]
    text = " ".join(render_text(document).split())
    for value in (*BEFORE[language].values(), *DURING[language].values()):
        if isinstance(value, str) and " " in value:
            assert value in text, value
    assert "The rent help" in text
    labels = {
        "en": (
            "The mental health team may share: Yes",
            "Social care may share: No",
            "The other service may share: Yes",
        ),
        "sv": (
            "Psykiatrin får berätta: Ja",
            "Socialtjänsten får berätta: Nej",
            "Den andra verksamheten får berätta: Ja",
        ),
    }
    for consent in labels[language]:
        assert consent in text, consent
    assert render_pdf(document).startswith(b"%PDF")


async def test_skipping_everything_saves_nothing_and_prints_no_section(
    companion: Companion, engine: Engine, clock: Clock
) -> None:
    Services.around(companion)
    who = Who("console", "sip-skips")
    person = await companion.join(who, "en")
    await play(companion, who, "sip_meeting", {})
    await play(companion, who, "sip_agreed", {})
    document = await build_summary(companion.storage, engine, person.id, now=clock())
    assert all(section.id != "sip" for section in document.sections)
    assert await _sip_reminders(companion.storage) == []


async def _follow_up_is_planned_on_the_agreed_morning(storage: Storage, engine: Engine, clock: Clock) -> None:
    companion = Companion(storage, engine, clock=clock)
    Services.around(companion)
    who = Who("console", "sip-follow-up")
    person = await companion.join(who, "sv")  # Europe/Stockholm
    reply = await play(companion, who, "sip_agreed", DURING["sv"])
    follow_up = reply.outcome(sip.FollowUp)
    day = clock().date() + dt.timedelta(days=14)
    assert follow_up == sip.FollowUp(sip.FollowUpStatus.SET, day)
    due = dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC)  # 10:00 in Stockholm in December
    assert await _sip_reminders(storage) == [(person.id, sip.FOLLOW_UP_KIND, sip.source_of(person.id), due)]

    # Written again with a later date: one follow-up, moved; then "no": none.
    later = {"by_when": "+28", "remind": "yes"}  # the rest skipped (doing the part again)
    await play(companion, who, "sip_agreed", later)
    moved = dt.datetime.combine(clock().date() + dt.timedelta(days=28), dt.time(9, 0), tzinfo=dt.UTC)
    assert [row[3] for row in await _sip_reminders(storage)] == [moved]
    reply = await play(companion, who, "sip_agreed", {**later, "remind": "no"})
    assert reply.outcome(sip.FollowUp) == sip.FollowUp(sip.FollowUpStatus.NOT_WANTED)
    assert await _sip_reminders(storage) == []

    # Wanted, but no date: nothing can be planned, and the person is told.
    no_date = {"remind": "yes"}
    reply = await play(companion, who, "sip_agreed", no_date)
    assert reply.outcome(sip.FollowUp) == sip.FollowUp(sip.FollowUpStatus.NEED_DATE)
    assert await _sip_reminders(storage) == []


async def test_the_follow_up_is_planned_on_the_agreed_morning_sqlite(
    storage: Storage, engine: Engine, clock: Clock
) -> None:
    await _follow_up_is_planned_on_the_agreed_morning(storage, engine, clock)


async def test_the_follow_up_is_planned_on_the_agreed_morning_postgres(
    pg_storage: Storage, engine: Engine, clock: Clock
) -> None:
    await _follow_up_is_planned_on_the_agreed_morning(pg_storage, engine, clock)


async def test_a_coordinator_reviewing_together_sees_the_sip_section(
    companion: Companion, engine: Engine, clock: Clock
) -> None:
    services = Services.around(companion)
    who = Who("console", "sip-shared")
    person = await companion.join(who, "en")
    await play(companion, who, "sip_meeting", BEFORE["en"])
    coordinator_who = Who("console", "sip-coordinator")
    coordinator = await companion.join(coordinator_who, "en")
    await companion.storage.run(lambda tx: _share(tx, person.id, coordinator.id, clock()))
    shared = await services.coordination.shared(coordinator, person.id, "review")
    assert shared is not None
    (section,) = [section for section in shared.document.sections if section.id == "sip"]
    assert any("Keeping my flat." in str(entry) for entry in section.entries)


def _share(tx: Any, person_id: int, coordinator_id: int, now: dt.datetime) -> None:
    from bot.roles import grants, sharing

    grants.grant(tx.connection, coordinator_id, grants.COORDINATOR, now)
    code = sharing.create_code(tx.connection, person_id, now)
    assert sharing.link(tx.connection, coordinator_id, code, now).status == "linked"


def test_the_forms_the_code_reads_are_declared() -> None:
    assert forms.SIP_AGREED in forms.FORMS and forms.SIP_FOLLOW_UP in forms.FORMS and forms.COLLABORATE in forms.FORMS


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_with_a_sip_meeting_page_one_still_stands_alone_and_the_plan_runs_on(
    companion: Companion, engine: Engine, clock: Clock, language: str
) -> None:
    import io

    import pypdf

    from bot.summary.pdf import PAGE_HEIGHT
    from tests.summary.ordinary import ORDINARY, POWER
    from tests.summary.test_page import ordinary_person, positions, top_of

    person_id = await ordinary_person(companion, language)
    who = Who("console", f"ordinary-{language}")
    await play(companion, who, "sip_meeting", BEFORE[language])
    await play(companion, who, "sip_agreed", DURING[language])
    document = await build_summary(companion.storage, engine, person_id, now=clock())
    assert [section.id for section in document.sections][-1] == "sip"  # after the medicine and the questions
    pdf = render_pdf(document)
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 2
    first = positions(pdf)
    for words in (POWER[language], ORDINARY[language]["assertiveness"]["one_thing"]):
        assert top_of(first, words) < PAGE_HEIGHT / 3
    everything = " ".join(" ".join(page.extract_text().split()) for page in pages)
    for value in (BEFORE[language]["not_shared"], DURING[language]["lead_name"], DURING[language]["who_does"][0]):
        assert value in everything, value
    continued = {"en": "Continued on page 2", "sv": "Fortsätter på sidan 2"}[language]
    assert continued in pages[0].extract_text()


async def test_whats_missing_does_not_suggest_a_sip_meeting_to_everyone(companion: Companion, engine: Engine) -> None:
    from bot.summary.build import missing_flows

    who = Who("console", "no-sip")
    person = await companion.join(who, "en")
    missing = {item.flow_id for item in await missing_flows(companion.storage, engine, person.id)}
    assert "goals" in missing
    assert not missing & {"sip_meeting", "sip_agreed", "sip_follow_up"}
    assert not engine.catalog.flows["sip_meeting"].for_everyone and engine.catalog.flows["sip_meeting"].menu
