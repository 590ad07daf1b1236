"""CollaboRATE after appointments: offered once, optional, counted only for the whole service.

The figures are worked out from answers given through the real Companion
service on a real database (SQLite, and PostgreSQL where a server is given),
and printed by `companion report collaborate`, which never names a person
and shows nothing while fewer than 5 people answered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.content import load_catalog
from bot.reminders import appointments
from bot.services import forms
from bot.services.app import Services
from bot.services.collaborate import MINIMUM_PEOPLE, Offer, aggregate
from bot.services.conversation import Companion, Who
from bot.storage.repository import Storage
from bot.summary import build_summary, render_text
from flows.engine import Engine
from tests.conftest import Clock, fresh_storage
from tests.summary.conftest import play

ITEMS = tuple(field.id for field in forms.COLLABORATE.items())
TOP = dict.fromkeys(ITEMS, 9)
SINCE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
ANSWERS = [  # one row per person: the three items (None: skipped)
    (9, 9, 9),
    (7, 9, 5),
    (8, 6, None),
    (9, 3, 4),
    (2, 9, 9),
    (5, 5, 5),
]


def _rows(answers: list[tuple[int | None, ...]]) -> list[tuple[int, int, str, object]]:
    return [
        (number, 100 + number, item, value)
        for number, given in enumerate(answers)
        for item, value in zip(ITEMS, given, strict=True)
        if value is not None
    ]


def test_the_figures_are_the_count_the_mean_and_the_share_giving_the_top_score() -> None:
    report = aggregate(_rows(ANSWERS), ITEMS, TOP, SINCE)
    assert not report.suppressed
    assert (report.responses, report.people) == (6, 6)
    understand, listen, include = report.items
    assert understand.answered == 6 and understand.mean == pytest.approx(40 / 6)
    assert understand.top_share == pytest.approx(2 / 6)
    assert listen.mean == pytest.approx(41 / 6) and listen.top_share == pytest.approx(3 / 6)
    assert include.answered == 5 and include.mean == pytest.approx(32 / 5) and include.top_share == pytest.approx(2 / 5)


def test_fewer_than_five_people_show_nothing_even_with_many_answers() -> None:
    assert aggregate(_rows(ANSWERS[:4]), ITEMS, TOP, SINCE).suppressed
    # Five questionnaires from one person are still one person.
    same = [(number, 7, item, 9) for number in range(5) for item in ITEMS]
    report = aggregate(same, ITEMS, TOP, SINCE)
    assert report.suppressed and report.responses == 0
    assert all(item.mean is None and item.top_share is None for item in report.items)
    # An item answered by fewer than five is held back on its own.
    partly = aggregate(_rows([(9, 9, None)] * 3 + [(8, 8, 8)] * 2), ITEMS, TOP, SINCE)
    assert not partly.suppressed
    assert partly.items[0].mean is not None and partly.items[2].mean is None
    assert MINIMUM_PEOPLE == 5


def test_the_flow_uses_the_published_items_each_0_to_9(engine: Engine) -> None:
    flow = engine.catalog.flows[forms.COLLABORATE.flow]
    steps = [flow.step(item) for item in ITEMS]
    assert [(step.min, step.max) for step in steps] == [(0, 9)] * 3
    assert [step.say.en for step in steps] == [
        "How much effort was made to help you understand your health issues?",
        "How much effort was made to listen to the things that matter most to you about your health issues?",
        "How much effort was made to include what matters most to you in choosing what to do next?",
    ]
    assert {(step.min_label.en, step.max_label.en) for step in steps if step.min_label and step.max_label} == {
        ("No effort was made", "Every effort was made")
    }
    assert all(step.say.sv for step in steps) and not any(step.required for step in steps)
    assert not flow.menu


async def _answer(companion: Companion, answers: list[tuple[int | None, ...]], prefix: str) -> list[int]:
    ids = []
    for number, given in enumerate(answers):
        who = Who("console", f"{prefix}-{number}")
        person = await companion.join(who, "en")
        plan = {item: value for item, value in zip(ITEMS, given, strict=True) if value is not None}
        await play(companion, who, forms.COLLABORATE.flow, plan)
        ids.append(person.id)
    return ids


async def _report_through_storage(storage: Storage, engine: Engine, clock: Clock) -> None:
    companion = Companion(storage, engine, clock=clock)
    services = Services.around(companion)
    await _answer(companion, ANSWERS, "report")
    skipper = Who("console", "skipper")
    await companion.join(skipper, "en")
    await play(companion, skipper, forms.COLLABORATE.flow, {})
    report = await services.collaboration.report(SINCE)
    assert (report.responses, report.people) == (6, 6)  # the one who skipped everything is not counted
    assert report.items[1].top_share == pytest.approx(0.5)
    later = await services.collaboration.report(clock() + dt.timedelta(days=1))
    assert later.suppressed


async def test_the_report_reads_answers_from_sqlite(storage: Storage, engine: Engine, clock: Clock) -> None:
    await _report_through_storage(storage, engine, clock)


async def test_the_report_reads_answers_from_postgres(pg_storage: Storage, engine: Engine, clock: Clock) -> None:
    await _report_through_storage(pg_storage, engine, clock)


def test_companion_report_collaborate_prints_only_the_service_figures(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def prepare() -> None:
        storage = await fresh_storage(database_url)
        try:
            companion = Companion(
                storage, Engine(load_catalog()), clock=lambda: dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
            )
            await _answer(companion, ANSWERS, "cli")
        finally:
            await storage.close()

    asyncio.run(prepare())
    monkeypatch.setenv("COMPANION_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["report", "collaborate", "--since", "2026-11-01"])
    assert result.exit_code == 0, result.output
    assert "Answered: 6 (by 6 people)." in result.output
    assert "1. help you understand your health issues: 6 answered, mean 6.7, top score (9) 33%" in result.output
    assert "3. include what matters most in choosing what to do next: 5 answered, mean 6.4, top score (9) 40%" in (
        result.output
    )
    assert "Collected in the chat" in result.output
    assert not re.search(r"person \d|\bid\b", result.output)  # no one is named, not even by id

    quiet = CliRunner().invoke(app, ["report", "collaborate", "--since", "2026-11-23"])
    assert quiet.exit_code == 0 and "Fewer than 5 people answered, so nothing is shown" in quiet.output
    assert "mean" not in quiet.output

    wrong = CliRunner().invoke(app, ["report", "collaborate", "--since", "last week"])
    assert wrong.exit_code == 2 and "YYYY-MM-DD" in wrong.output


async def test_it_may_be_answered_once_after_an_appointment_began_sqlite(
    storage: Storage, engine: Engine, clock: Clock
) -> None:
    await _once_after_an_appointment(storage, engine, clock)


async def test_it_may_be_answered_once_after_an_appointment_began_postgres(
    pg_storage: Storage, engine: Engine, clock: Clock
) -> None:
    await _once_after_an_appointment(pg_storage, engine, clock)


async def _once_after_an_appointment(storage: Storage, engine: Engine, clock: Clock) -> None:
    companion = Companion(storage, engine, clock=clock)
    services = Services.around(companion)
    who = Who("telegram", "7001")
    person = await companion.join(who, "en")
    collaboration = services.collaboration
    assert await collaboration.offer(who) is Offer.CLOSED  # no appointment noted
    start = dt.datetime(2026, 11, 25, 14, 0)
    await companion.storage.run(
        lambda tx: appointments.set_appointment(tx.connection, person.id, start, "Europe/London", None, clock())
    )
    assert await collaboration.offer(who) is Offer.CLOSED  # not yet begun
    clock.now = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    assert await collaboration.offer(who) is Offer.OPEN
    await companion.open(who, forms.COLLABORATE.flow)
    assert await collaboration.offer(who) is Offer.OPEN  # begun but not finished: they may carry on
    await play(companion, who, forms.COLLABORATE.flow, {ITEMS[0]: 7})
    assert await collaboration.offer(who) is Offer.ANSWERED  # answered for this appointment
    assert await collaboration.offer(Who("telegram", "no-such-person")) is Offer.CLOSED

    # The next appointment may be answered for again; more than a week after it, no longer.
    await companion.storage.run(
        lambda tx: appointments.set_appointment(
            tx.connection, person.id, dt.datetime(2026, 12, 3, 9, 0), "Europe/London", None, clock()
        )
    )
    clock.now = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
    assert await collaboration.offer(who) is Offer.OPEN
    clock.now = dt.datetime(2026, 12, 11, 10, 0, tzinfo=dt.UTC)
    assert await collaboration.offer(who) is Offer.CLOSED


async def test_the_answers_are_never_on_the_summary_or_in_a_coordinators_review(
    companion: Companion, engine: Engine, clock: Clock
) -> None:
    services = Services.around(companion)
    who = Who("console", "private-scores")
    person = await companion.join(who, "en")
    await play(companion, who, "goals", {"important": "Seeing my children every weekend."})
    await play(companion, who, forms.COLLABORATE.flow, dict.fromkeys(ITEMS, 3))
    document = await build_summary(companion.storage, engine, person.id, now=clock())
    text = render_text(document)
    assert "Seeing my children" in text
    assert "effort" not in text.lower()
    flow = engine.catalog.flows[forms.COLLABORATE.flow]
    assert all(flow.step(item).summary is None for item in ITEMS)

    from bot.roles import grants, sharing

    coordinator = await companion.join(Who("console", "coordinator"), "en")

    def share(tx) -> None:  # type: ignore[no-untyped-def]
        grants.grant(tx.connection, coordinator.id, grants.COORDINATOR, clock())
        code = sharing.create_code(tx.connection, person.id, clock())
        assert sharing.link(tx.connection, coordinator.id, code, clock()).status == "linked"

    await companion.storage.run(share)
    shared = await services.coordination.shared(coordinator, person.id, "review")
    assert shared is not None
    assert "effort" not in render_text(shared.document).lower()


async def test_the_fhir_export_for_a_record_leaves_the_answers_out(companion: Companion, engine: Engine) -> None:
    from bot.fhir import export_fhir

    who = Who("console", "fhir-scores")
    person = await companion.join(who, "en")
    await play(companion, who, "goals", {"important": "Seeing my children every weekend."})
    await play(companion, who, forms.COLLABORATE.flow, dict.fromkeys(ITEMS, 4))
    exported = await export_fhir(companion.storage, engine, person.id)
    responses = [
        entry.resource for entry in exported.entry or [] if entry.resource.__resource_type__ == "QuestionnaireResponse"
    ]
    assert [response.questionnaire.rsplit(":", 1)[-1] for response in responses] == ["goals"]
