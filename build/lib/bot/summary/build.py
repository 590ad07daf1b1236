"""Assemble a person's summary from their latest completed answers.

The sections, their order and titles come from content/summary/sections.yaml;
which answer goes where comes from each flow step's ``summary:``; the few
layout rules (top three first, the SURE check as a sentence, the lines to fill
in) come from content/summary/layout.yaml. Nothing here names a section or a
flow, so content authors can move answers around without a programmer.

:func:`assemble` is pure (records in, document out) so it is quick to test;
:func:`build_summary` reads the records in one transaction and calls it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.storage.repository import IN_PROGRESS, PersonRecord, RunRecord, Storage, Transaction
from bot.summary.document import Entry, FillIn, Missing, Section, SummaryDocument
from bot.summary.layout import SummaryRules, Together, rules_for
from flows.engine import Engine, format_date
from flows.schema import Flow, Step, StepType

_SENTENCE_END = re.compile(r"(?<=[.?!:])\s")


@dataclass(frozen=True, slots=True)
class Records:
    """What the summary needs from storage, read in one transaction."""

    person: PersonRecord
    latest: Mapping[str, RunRecord]
    """Flow id -> the person's latest completed run of it."""
    answers: Mapping[int, Mapping[str, tuple[Any, dt.datetime]]]
    in_progress: frozenset[str]


def read_records(tx: Transaction, person_id: int) -> Records:
    person = tx.person_by_id(person_id)
    if person is None:
        raise LookupError(f"no person with id {person_id}")
    latest = tx.latest_completed(person_id)
    in_progress = frozenset(run.flow_id for run in tx.runs(person_id) if run.status == IN_PROGRESS)
    return Records(person, latest, tx.answers(run.id for run in latest.values()), in_progress)


async def build_summary(
    storage: Storage, engine: Engine, person_id: int, *, now: dt.datetime | None = None
) -> SummaryDocument:
    """The person's summary as it stands now (raises LookupError for an unknown id)."""
    records = await storage.run(lambda tx: read_records(tx, person_id))
    return assemble(engine, records, now=now)


async def missing_flows(storage: Storage, engine: Engine, person_id: int) -> list[Missing]:
    """Flows that would add to the summary but are not done yet, in menu order."""
    records = await storage.run(lambda tx: read_records(tx, person_id))
    return _missing(engine, records)


# ---------------------------------------------------------------------- assembling


def assemble(engine: Engine, records: Records, *, now: dt.datetime | None = None) -> SummaryDocument:
    catalog = engine.catalog
    ui = catalog.ui
    person = records.person
    language = person.language
    rules = rules_for(catalog)
    today = _local_date(now or dt.datetime.now(dt.UTC), person.timezone)

    collected = _collect(engine, records, rules, language)
    sections = []
    for declared in catalog.summary.sections:
        entries, days = collected.get(declared.id, ([], set()))
        if not entries:
            continue
        dates = ", ".join(format_date(day.isoformat(), language) for day in sorted(days))
        sections.append(
            Section(
                id=declared.id,
                title=declared.title.get(language),
                intro=declared.intro.get(language) if declared.intro else None,
                answered=ui.get("summary_answers_from", language, dates=dates),
                entries=tuple(entries),
            )
        )

    details = []
    if person.display_name:
        details.append(ui.get("summary_name", language, name=person.display_name))
    details.append(ui.get("summary_prepared", language, date=format_date(today.isoformat(), language)))
    details.append(ui.get("summary_language", language, chosen_language=ui.get("summary_language_name", language)))

    missing = _missing(engine, records)
    nothing_yet = None
    if not sections:
        nothing_yet = (
            ui.get("summary_nothing_yet", language, flow=missing[0].title)
            if missing
            else ui.get("summary_nothing_yet_no_flow", language)
        )
    fill_in = None
    if rules.fill_in is not None and sections:
        fill_in = FillIn(
            title=rules.fill_in.title.get(language),
            intro=rules.fill_in.intro.get(language) if rules.fill_in.intro else None,
            lines=tuple(line.get(language) for line in rules.fill_in.lines),
        )
    return SummaryDocument(
        language=language,
        heading=ui.get("summary_heading", language),
        details=tuple(details),
        sections=tuple(sections),
        fill_in=fill_in,
        nothing_yet=nothing_yet,
        footer=ui.get("summary_footer", language),
        shortened_note=ui.get("summary_shortened", language),
        other_script=ui.get("summary_other_script", language),
        preview_more=ui.get("summary_preview_more", language),
        missing=tuple(missing),
        more_items=ui.get("summary_more_items", language),
    )


def _collect(
    engine: Engine, records: Records, rules: SummaryRules, language: str
) -> dict[str, tuple[list[Entry], set[dt.date]]]:
    """Section id -> (entries in print order, the dates their answers come from)."""
    catalog = engine.catalog
    grouped = {ref: group for group in rules.together for ref in group.refs()}
    first = rules.first_refs()
    # (section, priority, order) so "first" answers sort ahead, the rest keep menu and file order.
    pending: list[tuple[str, int, int, Entry, dt.date]] = []
    counter = 0
    done_groups: set[int] = set()
    for flow in catalog.ordered_flows():
        run = records.latest.get(flow.id)
        if run is None:
            continue
        answers = {key: value for key, (value, _when) in records.answers.get(run.id, {}).items()}
        day = _local_date(run.completed_at or run.updated_at, records.person.timezone)
        for step in flow.steps:
            if not step.summary or step.type is StepType.message:
                continue
            ref = f"{flow.id}.{step.id}"
            counter += 1
            group = grouped.get(ref)
            if group is not None:
                if id(group) not in done_groups:
                    done_groups.add(id(group))
                    entry = _together(group, records, language)
                    if entry is not None:
                        pending.append((group.section, 1, counter, entry, day))
                continue
            if answers.get(step.id) is None:
                continue
            entry = Entry(
                label=_label(step, language),
                items=tuple(_items(engine, flow, step, answers, language)),
                own_words=step.type is StepType.text or bool(step.options_from),
            )
            priority = first.index(ref) - len(first) if ref in first else 1
            pending.append((step.summary, priority, counter, entry, day))
    out: dict[str, tuple[list[Entry], set[dt.date]]] = {}
    for section_id, _priority, _order, entry, day in sorted(pending, key=lambda item: (item[1], item[2])):
        entries, days = out.setdefault(section_id, ([], set()))
        if _add(entries, entry):
            days.add(day)
    return out


def _add(entries: list[Entry], entry: Entry) -> bool:
    """Add an entry, leaving out items already printed in the section; merge equal labels."""
    seen = {_key(item) for existing in entries for item in existing.items}
    fresh = tuple(item for item in entry.items if _key(item) not in seen)
    if not fresh:
        return False
    if entries and entries[-1].label == entry.label:
        last = entries[-1]
        entries[-1] = Entry(last.label, last.items + fresh, last.own_words or entry.own_words)
    else:
        entries.append(Entry(entry.label, fresh, entry.own_words))
    return True


def _key(item: str) -> str:
    return " ".join(item.casefold().split())


def _label(step: Step, language: str) -> str | None:
    """``summary_label`` if given ("" means no label), else the first sentence of the question."""
    if step.summary_label is not None:
        return step.summary_label.get(language).strip() or None
    said = step.say.get(language).strip()
    return _SENTENCE_END.split(said, maxsplit=1)[0]


def _items(engine: Engine, flow: Flow, step: Step, answers: dict[str, Any], language: str) -> Iterable[str]:
    value = answers[step.id]
    if step.type is StepType.scale:
        yield engine.catalog.ui.get("summary_scale", language, value=value, low=step.min, high=step.max)
        return
    if isinstance(value, list):
        for item in value:
            text = engine.describe(flow, step.id, {**answers, step.id: [item]}, language).strip()
            if text:
                yield text
        return
    text = engine.describe(flow, step.id, answers, language).strip()
    if text:
        yield text


def _together(group: Together, records: Records, language: str) -> Entry | None:
    """The SURE-style check as one sentence, never a score; None if none of it was answered."""
    values = []
    for ref in group.refs():
        run = records.latest.get(ref.flow)
        if run is None:
            continue
        answer = records.answers.get(run.id, {}).get(ref.step)
        if answer is not None and answer[0] is not None:
            values.append(answer[0])
    if not values:
        return None
    ready = sum(1 for value in values if value == "yes") >= group.ready_when_yes
    words = group.ready if ready else group.not_ready
    return Entry(label=group.label.get(language), items=(words.get(language),), own_words=False)


def _missing(engine: Engine, records: Records) -> list[Missing]:
    language = records.person.language
    return [
        Missing(flow.id, flow.title.get(language), flow.id in records.in_progress)
        for flow in engine.catalog.ordered_flows()
        # Only flows a person can start from the menu: the others (what we agreed,
        # session feedback) come at their own moment.
        if flow.menu and flow.id not in records.latest and any(step.summary for step in flow.steps)
    ]


def _local_date(moment: dt.datetime, timezone: str) -> dt.date:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/London")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).date()
