"""Check content the way an editor would want it checked, before anyone sees it.

``companion content check`` runs :func:`check_documents` on the shipped
content or on a copy being edited. Every problem names the file and the step
id, and says what to change. Checks:

- the file is YAML and fits the flow format (via the pydantic schema);
- every step, option and summary section that is referred to exists;
- every step can be reached from the start, and the end can be reached from
  every step (no dead ends);
- every text a person reads has a Swedish translation, and the interface
  texts have the same keys and {placeholders} in every language;
- Telegram's limits: a message of at most 4096 characters, button labels
  short enough for one line;
- every flow on the menu names its ``sources:`` (what a clinical reviewer checks it against).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import ValidationError

from flows.catalog import Catalog, ContentError, Documents, Problem, SummaryLayout
from flows.machine import FlowMachine
from flows.schema import END, LANGUAGES, QUOTE, Flow, Step, StepType, Text
from flows.texts import PLACEHOLDER, PLURAL_BY, is_plural

TELEGRAM_MESSAGE_LIMIT = 4096
BUTTON_LABEL_LIMIT = 64
"""Longest option label. Longer labels do not fit one line of a phone screen even
as a full-width button (adapters show long options as a numbered list)."""
NAVIGATION_LABEL_LIMIT = 24
"""Interface buttons (Back, Skip, ...) share a row, so they must be shorter."""

SECTIONS_FILE = "summary/sections.yaml"
SOURCES_MISSING = (
    "this part is on the menu, so it must say what its words draw on: add sources: with one line "
    "for each tool, paper or project it uses (see docs/content-review.md)"
)
"""A menu flow is reviewed against what it draws on, so it must name it."""

Checker = Callable[[Catalog], Iterator[Problem]]
"""A check on content that loaded: readability, the crisis lexicon, the summary layout."""


def check_documents(documents: Documents, checks: Sequence[Checker]) -> list[Problem]:
    """Every problem in the content; an empty list means it is ready to use.

    ``checks`` run after the structural ones, on the catalog, when it loads.
    The caller names them (``bot.checks.every_check`` names every one), so
    what is checked never depends on which modules happen to be imported."""
    try:
        catalog = Catalog.build(documents)
    except ContentError as error:
        return _check_what_loaded(documents, list(error.problems), checks)
    problems = []
    sections = {section.id for section in catalog.summary.sections}
    for flow_id, flow in catalog.flows.items():
        problems.extend(check_flow(catalog.files[flow_id], flow, sections))
    problems.extend(check_ui(documents.ui))
    problems.extend(check_cross_flow_quotes(catalog))
    for checker in checks:
        problems.extend(checker(catalog))
    return problems


def _check_what_loaded(documents: Documents, problems: list[Problem], checkers: Sequence[Checker]) -> list[Problem]:
    """Content that cannot be loaded whole: check every part that can, so an author sees everything at once.

    The broken files are left out and every other check runs on the rest.
    What those checks then say about the broken files (a flow "missing"
    because it could not be read, a quote of it, a section of an unreadable
    sections file) is left out too: the first problem already names the file.
    """
    broken = {problem.file for problem in problems}
    sections = None if SECTIONS_FILE in broken else _section_ids(documents)
    flows: dict[str, Any] = {}
    for name, data in sorted(documents.flows.items()):
        try:
            flow = Flow.model_validate(data)
        except ValidationError:
            continue
        problems.extend(check_flow(name, flow, sections))
        if name not in broken:
            flows[name] = data
    broken_flows = {_flow_id(name, documents.flows.get(name)) for name in broken if name.startswith("flows/")}
    broken_flows -= {_flow_id(name, data) for name, data in flows.items()}  # a duplicate id: the first one loaded
    ui = {
        language: {
            key: value
            for key, value in texts.items()
            if isinstance(key, str) and (isinstance(value, str) or is_plural(value))
        }
        for language, texts in documents.ui.items()
        if isinstance(texts, dict)
    }
    loaded = Documents(
        flows=flows,
        ui=ui,
        summary=documents.summary if sections is not None else None,
        extra={name: data for name, data in documents.extra.items() if name not in broken},
    )
    try:
        catalog = Catalog.build(loaded)
    except ContentError:
        return problems  # nothing more can be checked (for example, no English interface texts)
    later: list[Problem] = []
    if not any(name.startswith("ui/") for name in broken):
        later.extend(check_ui(documents.ui))
    later.extend(check_cross_flow_quotes(catalog))
    for checker in checkers:
        later.extend(checker(catalog))
    seen = {str(problem) for problem in problems}
    for problem in later:
        if str(problem) not in seen and not _about_broken(problem, broken, broken_flows, sections is None):
            problems.append(problem)
            seen.add(str(problem))
    return problems


def _flow_id(name: str, data: Any) -> str:
    written = data.get("id") if isinstance(data, dict) else None
    return written if isinstance(written, str) else name.removeprefix("flows/").removesuffix(".yaml")


def _about_broken(problem: Problem, files: set[str], flows: set[str], sections_broken: bool) -> bool:
    """A problem that only follows from a file that could not be loaded."""
    if problem.file in files or any(file in problem.message for file in files):
        return True
    if sections_broken and "section" in problem.message:
        return True
    return any(f"'{flow}'" in problem.message or f"{flow}." in problem.message for flow in flows)


def _section_ids(documents: Documents) -> set[str] | None:
    try:
        return {section.id for section in SummaryLayout.model_validate(documents.summary or {}).sections}
    except ValidationError:
        return None


# --------------------------------------------------------------------- one flow


def check_flow(file: str, flow: Flow, sections: set[str] | None) -> list[Problem]:
    problems: list[Problem] = []

    def problem(step: Step | None, message: str) -> None:
        problems.append(Problem(file, step.id if step else None, message))

    ids = [step.id for step in flow.steps]
    position = {step_id: index for index, step_id in enumerate(ids)}
    for step in flow.steps:
        _check_references(flow, step, position, sections, problem)
        _check_texts(flow, step, problem)
    for message in _check_translations_of_flow(flow):
        problem(None, message)
    if flow.menu and not any(source.strip() for source in flow.sources):
        problem(None, SOURCES_MISSING)
    for number, source in enumerate(flow.sources, start=1):
        if not source.strip():
            problem(None, f"line {number} of sources: is empty: write what the words draw on, or take the line out")
    _check_graph(flow, problem)
    return problems


def _check_references(
    flow: Flow,
    step: Step,
    position: dict[str, int],
    sections: set[str] | None,
    problem: Callable[[Step | None, str], None],
) -> None:
    targets = [step.next] if isinstance(step.next, str) else [rule.go for rule in step.next or []]
    for target in targets:
        if target != END and target not in position:
            problem(step, f"next goes to '{target}', but there is no step with that id")
    for rule in step.next if isinstance(step.next, list) else []:
        for condition in rule.when:
            if condition.step not in position:
                problem(step, f"a condition looks at step '{condition.step}', which does not exist")
                continue
            _check_condition_value(flow.step(condition.step), condition, step, problem)
    for source in step.options_from:
        if source not in position:
            problem(step, f"options_from names step '{source}', which does not exist")
        elif position[source] >= position[step.id]:
            problem(step, f"options_from names step '{source}', which comes later in the flow")
        elif not flow.step(source).is_question:
            problem(step, f"options_from names step '{source}', which is a message, not a question")
    for field_name, text in _texts_of(step):
        for language, value in text.translations().items():
            for other, quoted in QUOTE.findall(value or ""):
                if other and other != flow.id:
                    continue  # another flow's answer: checked against the whole catalog
                if quoted not in position:
                    problem(step, f"{field_name} ({language}) quotes {{{quoted}}}, but there is no step with that id")
                elif position[quoted] >= position[step.id] and not (quoted == step.id and field_name == "repeat.ask"):
                    problem(step, f"{field_name} ({language}) quotes {{{quoted}}}, which is asked later")
    if step.summary is not None:
        if not step.is_question:
            problem(step, "a message has no answer to put in the summary")
        elif sections is not None and step.summary not in sections:
            known = ", ".join(sorted(sections)) or "none"
            problem(step, f"summary section '{step.summary}' is not in summary/sections.yaml (known: {known})")


def _check_condition_value(
    target: Step, condition: Any, step: Step, problem: Callable[[Step | None, str], None]
) -> None:
    expected = condition.is_ or condition.is_not or condition.has
    if expected is None:
        if (condition.at_least is not None or condition.at_most is not None) and target.type is not StepType.scale:
            problem(step, f"at_least/at_most only work on a scale, and '{target.id}' is a {target.type.value}")
        return
    if target.type is StepType.yes_no:
        valid = {"yes", "no"}
    elif target.type in (StepType.choice, StepType.checklist) and not target.options_from:
        valid = {option.id for option in target.options}
    else:
        return
    if expected not in valid:
        problem(
            step, f"a condition expects '{expected}' from '{target.id}', whose options are: {', '.join(sorted(valid))}"
        )


def _texts_of(step: Step) -> Iterator[tuple[str, Text]]:
    for name in ("say", "why", "suggest", "reminded", "summary_label", "min_label", "max_label"):
        value = getattr(step, name)
        if value is not None:
            yield name, value
    if step.repeat is not None:
        yield "repeat.ask", step.repeat.ask


def _check_texts(flow: Flow, step: Step, problem: Callable[[Step | None, str], None]) -> None:
    """Every text has Swedish and fits Telegram: messages ≤ 4096, option buttons ≤ 64."""
    named: list[tuple[str, Text | Any, int, str]] = [
        (field_name, text, TELEGRAM_MESSAGE_LIMIT, "Telegram allows") for field_name, text in _texts_of(step)
    ]
    named += [(f"option '{option.id}'", option, BUTTON_LABEL_LIMIT, "keep buttons to") for option in step.options]
    named += [
        (f"option '{option.id}' in_full", option.in_full, TELEGRAM_MESSAGE_LIMIT, "Telegram allows")
        for option in step.options
        if option.in_full is not None
    ]
    for name, text, limit, advice in named:
        for language, value in text.translations().items():
            if value is not None and len(value) > limit:
                problem(step, f"{name} ({language}) is {len(value)} characters; {advice} {limit}")
        if text.sv is None:
            problem(step, f"{name} has no Swedish (sv) text")


def _check_translations_of_flow(flow: Flow) -> Iterator[str]:
    for name in ("title", "description", "done"):
        text = getattr(flow, name)
        if text is not None and text.sv is None:
            yield f"the flow's {name} has no Swedish (sv) text"


def _check_graph(flow: Flow, problem: Callable[[Step | None, str], None]) -> None:
    """Unreachable steps and dead ends, on the same transitions the engine uses."""
    try:
        machine = FlowMachine(flow)
    except (ValueError, KeyError) as error:  # transitions refuses unknown states
        problem(None, f"the steps cannot be linked: {error}")
        return
    forward: dict[str, set[str]] = {}
    backward: dict[str, set[str]] = {}
    for _trigger, source, dest, _conditional in machine.transitions():
        forward.setdefault(source, set()).add(dest)
        backward.setdefault(dest, set()).add(source)
    start = flow.steps[0].id
    reachable = _walk(start, forward)
    finishing = _walk(END, backward)
    for step in flow.steps:
        if step.id not in reachable:
            problem(step, "no path leads to this step (check the next: rules before it)")
        elif step.id not in finishing:
            problem(step, "dead end: the flow can never finish from this step (check its next: rules)")


def _walk(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for neighbour in edges.get(queue.popleft(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    return seen


def check_cross_flow_quotes(catalog: Catalog) -> Iterator[Problem]:
    """``{flow.step}`` must name a flow and a question step that exist."""
    for flow_id, flow in catalog.flows.items():
        for step in flow.steps:
            for field_name, text in _texts_of(step):
                for language, value in text.translations().items():
                    for other, quoted in QUOTE.findall(value or ""):
                        if not other or other == flow_id:
                            continue
                        source = catalog.flows.get(other)
                        if source is None:
                            yield Problem(
                                catalog.files[flow_id],
                                step.id,
                                f"{field_name} ({language}) quotes {{{other}.{quoted}}}, but there is no flow '{other}'",
                            )
                        elif not source.has_step(quoted) or not source.step(quoted).is_question:
                            yield Problem(
                                catalog.files[flow_id],
                                step.id,
                                f"{field_name} ({language}) quotes {{{other}.{quoted}}}, but flow '{other}' has no question '{quoted}'",
                            )


# --------------------------------------------------------------------- interface texts


NUMBER_PLACEHOLDERS = frozenset(
    {"count", "members", "hours", "days", "minutes", "weeks", "limit", "length", "number", "total", "page", "pages"}
)
"""Placeholders that stand for a number. A word right after one is counted ("{count} members"),
so the text needs plural forms, unless the word is in ``words_not_counted`` ("{count} of")."""
NOT_COUNTED_KEY = "words_not_counted"
_COUNTED = re.compile(r"\{([a-z_]+)\}[ \t]+([^\W\d_]+)")


def _forms(value: Any) -> list[str]:
    """A ui text's forms: the text itself, or each plural form."""
    if isinstance(value, str):
        return [value]
    if is_plural(value):
        return [form for name, form in value.items() if name != PLURAL_BY]
    return []


def _placeholders(value: Any) -> set[str]:
    return {name for form in _forms(value) for name in PLACEHOLDER.findall(form)}


def _shown(value: Any) -> str:
    return repr(value if isinstance(value, str) else dict(value))


def check_plurals(language: str, texts: dict[str, Any]) -> list[Problem]:
    """Counted phrases use plural forms ("1 member", never "1 members"), and plural forms name their number."""
    file = f"ui/{language}.yaml"
    problems = []
    free = texts.get(NOT_COUNTED_KEY)
    not_counted = {word.strip().lower() for word in free.split(",")} if isinstance(free, str) else set()
    for key, value in sorted(texts.items()):
        if isinstance(value, str):
            for name, word in _COUNTED.findall(value):
                if name in NUMBER_PLACEHOLDERS and word.lower() not in not_counted:
                    problems.append(
                        Problem(
                            file,
                            None,
                            f"'{key}' counts with {{{name}}} (\"{{{name}}} {word}\"), so the word must change "
                            f"with the number: write it with plural forms, for example "
                            f'{key}: {{by: {name}, one: "… 1 …", other: "…"}} '
                            f'(or add "{word}" to {NOT_COUNTED_KEY} if it never changes after a number)',
                        )
                    )
        elif is_plural(value):
            by = value.get(PLURAL_BY, "count")
            if by not in PLACEHOLDER.findall(value["other"]):
                problems.append(
                    Problem(file, None, f"'{key}' has plural forms, but its 'other' form has no {{{by}}} to count by")
                )
            if "one" not in value:
                problems.append(Problem(file, None, f"'{key}' has plural forms, but no 'one' form (for 1)"))
    return problems


def check_ui(ui: dict[str, Any]) -> list[Problem]:
    problems = []
    english = ui.get("en") or {}
    for language in LANGUAGES:
        if language == "en":
            continue
        other = ui.get(language)
        file = f"ui/{language}.yaml"
        if not isinstance(other, dict):
            problems.append(Problem(file, None, "is missing"))
            continue
        for key in sorted(set(english) - set(other)):
            problems.append(Problem(file, None, f"'{key}' has no translation (English: {_shown(english[key])})"))
        for key in sorted(set(other) - set(english)):
            problems.append(Problem(file, None, f"'{key}' is not in ui/en.yaml, so it is never used"))
        for key in sorted(set(english) & set(other)):
            if _placeholders(english[key]) != _placeholders(other[key]):
                problems.append(
                    Problem(file, None, f"'{key}' must use the same {{names}} as English: {_shown(english[key])}")
                )
    for language, texts in ui.items():
        if not isinstance(texts, dict):
            continue
        problems.extend(check_plurals(language, texts))
        for key, value in texts.items():
            if key.startswith("button_") and isinstance(value, str) and len(value) > NAVIGATION_LABEL_LIMIT:
                problems.append(
                    Problem(
                        f"ui/{language}.yaml",
                        None,
                        f"'{key}' is {len(value)} characters; keep buttons to {NAVIGATION_LABEL_LIMIT}",
                    )
                )
    return problems
