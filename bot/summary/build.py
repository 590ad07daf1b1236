"""Assemble a person's summary from their latest completed answers.

The sections, their order and titles come from content/summary/sections.yaml;
which answer goes where comes from each flow step's ``summary:``; the layout
rules (what goes in the top third of page 1, the SURE check as a sentence,
the appointment, large print, lines to fill in, answers kept elsewhere) come
from content/summary/layout.yaml. Nothing here names a section or a flow, so
content authors can move answers around without a programmer.

Every answer is printed once and as written: nothing is left out because its
words were already printed elsewhere, and an option such as "Something else"
is replaced by what the person typed for it. An answer shown in the top third
moves there; if it is too long for it, the top third shows its start and says
where the whole answer is, and the section keeps it in full.

:func:`assemble` is pure (records in, document out) so it is quick to test;
:func:`build_summary` reads the records in one transaction and calls it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.storage.repository import IN_PROGRESS, PersonRecord, RunRecord, Storage, Transaction
from bot.summary.clean import clean, shorten
from bot.summary.document import Entry, FillIn, Glance, GlanceItem, Missing, Section, SummaryDocument
from bot.summary.layout import GlanceItem as GlanceRule
from bot.summary.layout import StepRef, SummaryRules, Together, rules_for
from flows.engine import Engine
from flows.formatting import format_date
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
    marks: Mapping[int, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    """Run id -> step id -> marks given to that answer, for example ``stopping_medicine`` for an answer
    in which the person says they have stopped or are stopping a medicine. layout.yaml says which marks
    put an answer in the urgent part of the top third (printed as written)."""


def read_records(tx: Transaction, person_id: int) -> Records:
    person = tx.person_by_id(person_id)
    if person is None:
        raise LookupError(f"no person with id {person_id}")
    latest = tx.latest_completed(person_id)
    in_progress = frozenset(run.flow_id for run in tx.runs(person_id) if run.status == IN_PROGRESS)
    run_ids = [run.id for run in latest.values()]
    return Records(person, latest, tx.answers(run_ids), in_progress, marks=tx.marks(run_ids))


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


@dataclass(slots=True)
class _Answer:
    """One printed answer, before it is placed."""

    ref: StepRef
    section: str
    entry: Entry
    day: dt.date
    order: tuple[int, int]


def assemble(engine: Engine, records: Records, *, now: dt.datetime | None = None) -> SummaryDocument:
    catalog = engine.catalog
    ui = catalog.ui
    person = records.person
    language = person.language
    rules = rules_for(catalog)
    today = _local_date(now or dt.datetime.now(dt.UTC), person.timezone)
    titles = {section.id: section.title.get(language) for section in catalog.summary.sections}

    answers = _collect(engine, records, rules, language)
    glance, moved = _glance(engine, records, rules, answers, titles, language)
    by_section: dict[str, tuple[list[Entry], set[dt.date]]] = {}
    for answer in sorted(answers, key=lambda item: item.order):
        if answer.ref in moved:
            continue
        entries, days = by_section.setdefault(answer.section, ([], set()))
        _add(entries, answer.entry)
        days.add(answer.day)
    for group in rules.together:
        if any(group is used for used in moved.values()):
            continue
        entry = _together(group, records, language)
        if entry is not None:
            days = _days(records, group.refs())
            entries, known = by_section.setdefault(group.section, ([], set()))
            entries.append(entry)
            known.update(days)

    after = {rule.section: tuple(line.get(language) for line in rule.lines) for rule in rules.after_section}
    sections = []
    for declared in catalog.summary.sections:
        entries, days = by_section.get(declared.id, ([], set()))
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
                after=after.get(declared.id, ()),
            )
        )

    details = []
    if person.display_name:
        details.append(ui.get("summary_name", language, name=person.display_name))
    details += _appointment(engine, records, rules, language, today)
    details.append(ui.get("summary_prepared", language, date=format_date(today.isoformat(), language)))

    missing = _missing(engine, records)
    has_content = bool(sections) or glance is not None
    nothing_yet = None
    if not has_content:
        nothing_yet = (
            ui.get("summary_nothing_yet", language, flow=missing[0].title)
            if missing
            else ui.get("summary_nothing_yet_no_flow", language)
        )
    fill_in = None
    if rules.fill_in is not None and has_content:
        fill_in = FillIn(
            title=rules.fill_in.title.get(language),
            intro=rules.fill_in.intro.get(language) if rules.fill_in.intro else None,
            lines=tuple(line.get(language) for line in rules.fill_in.lines),
        )
    heading = ui.get("summary_heading", language)
    return SummaryDocument(
        language=language,
        heading=heading,
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
        glance=glance,
        elsewhere=rules.elsewhere.note.get(language) if rules.elsewhere is not None and has_content else None,
        large_print=_large_print(records, rules),
        continued=ui.get("summary_continued", language, page="{page}"),
        page_of=ui.get("summary_page_of", language, page="{page}", pages="{pages}"),
        title=" · ".join([heading, *([person.display_name] if person.display_name else [])]),
    )


def _collect(engine: Engine, records: Records, rules: SummaryRules, language: str) -> list[_Answer]:
    """Every printed answer with its section and print order ("first" answers ahead of the rest)."""
    catalog = engine.catalog
    grouped = {ref for group in rules.together for ref in group.refs()}
    first = rules.first_refs()
    out: list[_Answer] = []
    counter = 0
    for flow in catalog.ordered_flows():
        run = records.latest.get(flow.id)
        if run is None:
            continue
        answers = {key: value for key, (value, _when) in records.answers.get(run.id, {}).items()}
        day = _local_date(run.completed_at or run.updated_at, records.person.timezone)
        typed_for = _typed_for_options(flow)
        merged = {text_step for (step_id, _), text_step in typed_for.items() if answers.get(step_id) is not None}
        for step in flow.steps:
            counter += 1
            ref = StepRef(f"{flow.id}.{step.id}")
            if not step.summary or step.type is StepType.message or ref in grouped:
                continue
            if step.id in merged and _option_typed_into(typed_for, step.id, answers):
                continue  # printed in place of the option it explains ("Something else")
            if answers.get(step.id) in (None, [], ""):
                continue
            entry = Entry(
                label=_label(step, language),
                items=tuple(_items(engine, flow, step, answers, language, typed_for)),
                own_words=step.type is StepType.text or bool(step.options_from),
            )
            if not entry.items:
                continue
            priority = first.index(ref) - len(first) if ref in first else 1
            out.append(_Answer(ref, step.summary, entry, day, (priority, counter)))
        _not_again(flow, out, first)
    return out


def _not_again(flow: Flow, answers: list[_Answer], first: list[StepRef]) -> None:
    """A "first" answer picked from earlier ones (the top three questions) is printed once:
    the picked items leave the lists they were picked from, and a list left empty goes."""
    by_step = {answer.ref.step: answer for answer in answers if answer.ref.flow == flow.id}
    for ref in first:
        picked = by_step.get(ref.step) if ref.flow == flow.id else None
        if picked is None:
            continue
        chosen = set(picked.entry.items)
        for source in flow.step(ref.step).options_from:
            answer = by_step.get(source)
            if answer is None:
                continue
            kept = tuple(item for item in answer.entry.items if item not in chosen)
            answer.entry = Entry(answer.entry.label, kept, answer.entry.own_words)
    answers[:] = [answer for answer in answers if answer.entry.items]


def _typed_for_options(flow: Flow) -> dict[tuple[str, str], str]:
    """(choice step, option id) -> the text step the flow goes to when that option is picked.

    This is how a flow asks "Something else: what?": the typed words are what
    the person meant by the option, so they are printed in its place.
    """
    out: dict[tuple[str, str], str] = {}
    for step in flow.steps:
        if step.type not in (StepType.choice, StepType.checklist) or not isinstance(step.next, list):
            continue
        for rule in step.next:
            if len(rule.when) != 1 or not flow.has_step(rule.go):
                continue
            condition = rule.when[0]
            option = condition.has if step.type is StepType.checklist else condition.is_
            if condition.step == step.id and option and flow.step(rule.go).type is StepType.text:
                out[(step.id, option)] = rule.go
    return out


def _option_typed_into(typed_for: dict[tuple[str, str], str], text_step: str, answers: dict[str, Any]) -> bool:
    """True if the option that led to ``text_step`` was picked, so its words replace the option."""
    for (step_id, option), target in typed_for.items():
        if target != text_step:
            continue
        value = answers.get(step_id)
        if value == option or (isinstance(value, list) and option in value):
            return True
    return False


def _add(entries: list[Entry], entry: Entry) -> None:
    """Add an entry; one that shares the label of the entry before it joins it (nothing is dropped)."""
    if entries and entry.label and entries[-1].label == entry.label:
        last = entries[-1]
        entries[-1] = Entry(last.label, last.items + entry.items, last.own_words or entry.own_words)
    else:
        entries.append(entry)


def _label(step: Step, language: str) -> str | None:
    """``summary_label`` if given ("" means no label), else the first sentence of the question."""
    if step.summary_label is not None:
        return step.summary_label.get(language).strip() or None
    said = step.say.get(language).strip()
    return _SENTENCE_END.split(said, maxsplit=1)[0]


def _items(
    engine: Engine,
    flow: Flow,
    step: Step,
    answers: dict[str, Any],
    language: str,
    typed_for: dict[tuple[str, str], str],
) -> Iterable[str]:
    value = answers[step.id]
    if step.type is StepType.scale:
        yield engine.catalog.ui.get("summary_scale", language, value=value, low=step.min, high=step.max)
        return
    values = value if isinstance(value, list) else [value]
    for item in values:
        typed_step = typed_for.get((step.id, str(item)))
        typed = answers.get(typed_step) if typed_step else None
        if isinstance(typed, str) and typed.strip():
            text = typed
        elif isinstance(value, list):
            text = engine.describe(flow, step.id, {**answers, step.id: [item]}, language)
        else:
            text = engine.describe(flow, step.id, answers, language)
        text = clean(text)
        if text:
            yield text


def _glance(
    engine: Engine,
    records: Records,
    rules: SummaryRules,
    answers: list[_Answer],
    titles: Mapping[str, str],
    language: str,
) -> tuple[Glance | None, dict[StepRef, Any]]:
    """The top third of page 1, and the answers (or SURE groups) it took from their sections."""
    glance_rules = rules.at_a_glance
    if glance_rules is None:
        return None, {}
    by_ref = {answer.ref: answer for answer in answers}
    groups = {tuple(group.refs()): group for group in rules.together}
    moved: dict[StepRef, Any] = {}
    items: list[GlanceItem] = []
    for rule in glance_rules.items:
        group = groups.get(tuple(rule.refs()))
        if group is not None:
            entry = _together(group, records, language)
            if entry is not None:
                items.append(GlanceItem(rule.label.get(language), (Entry(None, entry.items, False),)))
                for ref in group.refs():
                    moved[ref] = group
            continue
        entries, where = _glance_entries(rule, by_ref, records, titles, glance_rules.in_full.get(language), moved)
        if entries:
            items.append(GlanceItem(rule.label.get(language), tuple(entries), where, urgent=bool(rule.marks)))
    if not items:
        return None, moved
    return Glance(glance_rules.title.get(language), tuple(items)), moved


def _glance_entries(
    rule: GlanceRule,
    by_ref: Mapping[StepRef, _Answer],
    records: Records,
    titles: Mapping[str, str],
    in_full: str,
    moved: dict[StepRef, Any],
) -> tuple[list[Entry], str | None]:
    entries: list[Entry] = []
    shortened_in: list[str] = []
    # Marked answers first: a medicine the person says they stopped is the most urgent thing on the page.
    if rule.marks:
        wanted = set(rule.marks)
        for answer in sorted(by_ref.values(), key=lambda item: item.order):
            run = records.latest.get(answer.ref.flow)
            marks = records.marks.get(run.id, {}).get(answer.ref.step, frozenset()) if run else frozenset()
            if wanted & marks and answer.ref not in moved:
                entries.append(answer.entry)
                moved[answer.ref] = answer
    for ref in rule.refs():
        found = by_ref.get(ref)
        if found is None or ref in moved:
            continue
        answer = found
        entry = answer.entry
        items = tuple(shorten(item, rule.length) for item in entry.items)
        if items != entry.items:
            title = titles.get(answer.section, answer.section)
            if title not in shortened_in:
                shortened_in.append(title)
        else:
            moved[ref] = answer
        entries.append(Entry(entry.label if rule.marks else None, items, entry.own_words))
    where = in_full.replace("{section}", ", ".join(shortened_in)) if shortened_in else None
    return entries, where


def _together(group: Together, records: Records, language: str) -> Entry | None:
    """The SURE-style check as one sentence, never a score; None if none of it was answered.

    Only a "no" means "not ready yet": a skipped question is not a "no".
    """
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
    if any(value == "no" for value in values):
        words = group.not_ready
    elif sum(1 for value in values if value == "yes") >= group.ready_when_yes:
        words = group.ready
    elif group.not_all_answered is not None:
        words = group.not_all_answered
    else:
        return None
    return Entry(label=group.label.get(language), items=(words.get(language),), own_words=False)


def _days(records: Records, refs: Iterable[StepRef]) -> set[dt.date]:
    days = set()
    for ref in refs:
        run = records.latest.get(ref.flow)
        if run is not None and ref.step in records.answers.get(run.id, {}):
            days.add(_local_date(run.completed_at or run.updated_at, records.person.timezone))
    return days


def _appointment(engine: Engine, records: Records, rules: SummaryRules, language: str, today: dt.date) -> list[str]:
    """The appointment's date and time, who it is with, and the person's note about it."""
    rule = rules.appointment
    if rule is None:
        return []
    date_ref = StepRef(rule.date)
    flow = engine.catalog.flows.get(date_ref.flow)
    run = records.latest.get(date_ref.flow)
    if flow is None or run is None:
        return []
    answers = {key: value for key, (value, _when) in records.answers.get(run.id, {}).items()}

    def answer(ref: str | None) -> Any:
        return answers.get(StepRef(ref).step) if ref else None

    lines = []
    day, clock = answer(rule.date), answer(rule.time)
    if day or clock:
        date_words = format_date(day, language) if day else ""
        when = rule.at_time.get(language).format(date=date_words, time=clock).strip() if clock else date_words
        line = rule.label.get(language).format(when=when)
        if day and str(day) < today.isoformat():
            line += " " + rule.passed.get(language)
        lines.append(line)
    if answer(rule.with_whom) is not None and rule.with_whom:
        who = engine.describe(flow, StepRef(rule.with_whom).step, answers, language)
        lines.append(rule.with_label.get(language).format(who=who))
    note = answer(rule.note)
    if isinstance(note, str) and clean(note):
        lines.append(rule.note_label.get(language).format(note=clean(note)))
    return lines


def _large_print(records: Records, rules: SummaryRules) -> bool:
    if not rules.large_print:
        return False
    ref = StepRef(rules.large_print)
    run = records.latest.get(ref.flow)
    if run is None:
        return False
    answer = records.answers.get(run.id, {}).get(ref.step)
    return answer is not None and answer[0] == "yes"


def _missing(engine: Engine, records: Records) -> list[Missing]:
    language = records.person.language
    return [
        Missing(flow.id, flow.title.get(language), flow.id in records.in_progress)
        for flow in engine.catalog.ordered_flows()
        # Only flows a person can start from the menu: the others (what we agreed,
        # session feedback) come at their own moment.
        # Parts only some people need (a SIP meeting) are not suggested to everyone.
        if flow.menu
        and flow.for_everyone
        and flow.id not in records.latest
        and any(step.summary for step in flow.steps)
    ]


def _local_date(moment: dt.datetime, timezone: str) -> dt.date:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/London")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).date()
