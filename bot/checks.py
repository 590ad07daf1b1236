"""Every content check, named in one place, and the content only if it passes them.

``companion content check``, ``companion chat`` and ``companion run`` all use
:func:`every_check`, so what the check reports is exactly what stops the
companion from starting. The checks are passed in explicitly; none adds itself
on import, so a command that imported less never checks less, or starts on
content that people would meet as "something went wrong".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from bot.content import read_documents
from bot.services.forms import FORMS, Form
from bot.services.texts import TEXTS, Texts
from bot.summary.layout import check_layout
from flows.catalog import Catalog, ContentError, Problem
from flows.check import Checker, check_documents
from flows.crisis import REQUIRED_NUMBERS, check_crisis
from flows.readability import check_readability
from flows.schema import LANGUAGES, StepType
from flows.texts import placeholders
from flows.wording import check_wording

CRISIS_FOLDER = "crisis/"


def check_crisis_present(catalog: Catalog) -> Iterator[Problem]:
    """The crisis lexicon check, and the lexicon must be there at all.

    Without ``content/crisis/`` no typed message would be checked for crisis
    language, so content without it is never ready to talk to people.
    """
    problems = list(check_crisis(catalog))
    yield from problems
    if not problems and not any(name.startswith(CRISIS_FOLDER) for name in catalog.extra):
        yield Problem(
            CRISIS_FOLDER,
            None,
            "the crisis lexicon and crisis cards are missing (crisis/en.yaml and crisis/sv.yaml); "
            "without them the companion cannot recognise crisis language",
        )


def check_forms(catalog: Catalog, forms: tuple[Form, ...] = FORMS) -> Iterator[Problem]:
    """Every flow, step and option the code reads (bot/services/forms.py) is in the content, as declared."""
    for form in forms:
        flow = catalog.flows.get(form.flow)
        if flow is None:
            yield Problem(f"flows/{form.flow}.yaml", None, f"the flow '{form.flow}' is missing; {form.why}")
            continue
        file = catalog.files.get(form.flow, f"flows/{form.flow}.yaml")
        steps = {step.id: step for step in flow.steps}
        for field in form.fields():
            step = steps.get(field.id)
            if step is None:
                yield Problem(
                    file,
                    None,
                    f"the step '{field.id}' is missing; the companion reads it: {field.why} "
                    f"(a {field.type.value} question). Keep its id as it is",
                )
                continue
            if step.type is not field.type:
                yield Problem(
                    file,
                    field.id,
                    f"this must stay a {field.type.value} question, not {step.type.value}: the companion reads it "
                    f"({field.why})",
                )
                continue
            if field.type is StepType.yes_no:
                continue  # yes and no are the engine's own answers
            present = {option.id for option in step.options}
            for option in field.options:
                if option not in present:
                    yield Problem(
                        file,
                        field.id,
                        f"the option '{option}' is missing; the companion reads it ({field.why}). Keep its id as it is",
                    )


def check_texts(catalog: Catalog, declarations: tuple[Texts, ...] = TEXTS) -> Iterator[Problem]:
    """Every interface text the code asks for (bot/services/texts.py) is there, in every language.

    A language with no interface texts at all is reported once by the structural check instead.
    """
    for language in LANGUAGES:
        present = catalog.ui.keys(language)
        if not present:
            continue
        for texts in declarations:
            for key in sorted(texts.keys - present):
                yield Problem(texts.file(language), None, f"the text `{key}` is missing ({texts.why_of(key)})")


CHANNELS_WITHOUT_BUTTONS = ("console",)
"""Channels whose own words replace the texts that speak of buttons (ui/<channel>.<language>.yaml)."""


def check_channel_words(catalog: Catalog) -> Iterator[Problem]:
    """A channel's own wording (``console_hint_date`` for ``hint_date``) fills in no placeholder the
    companion does not give the text it replaces; otherwise the person would read "{limit}"."""
    ui = catalog.ui
    for channel in CHANNELS_WITHOUT_BUTTONS:
        prefix = f"{channel}_"
        for language in ui.languages():
            keys = ui.keys(language)
            for key in sorted(keys):
                base = key[len(prefix) :]
                if not key.startswith(prefix) or base not in keys:
                    continue
                extra = placeholders(ui.get(key, language)) - placeholders(ui.get(base, language))
                if extra:
                    names = ", ".join(f"{{{name}}}" for name in sorted(extra))
                    yield Problem(
                        f"ui/{channel}.{language}.yaml",
                        None,
                        f"'{key}' is said instead of '{base}', which has no {names}: "
                        f"use only the placeholders '{base}' has",
                    )


WORKSHEET_HELP = "worksheet_help_now"


def check_worksheet_help(catalog: Catalog) -> Iterator[Problem]:
    """Paper cannot notice a crisis, so the foot of every worksheet page gives every crisis number
    the crisis cards must give (flows/crisis/check.py), in every language."""
    for language in LANGUAGES:
        if WORKSHEET_HELP not in catalog.ui.keys(language):
            continue  # a missing text is reported by check_texts
        text = catalog.ui.get(WORKSHEET_HELP, language)
        for number in REQUIRED_NUMBERS:
            if number not in text:
                yield Problem(
                    f"ui/worksheets.{language}.yaml",
                    None,
                    f"`{WORKSHEET_HELP}` must give the crisis number {number}: it is printed on every worksheet "
                    "page, and paper cannot notice when someone is in crisis",
                )


def every_check() -> tuple[Checker, ...]:
    """The checks run after the structural ones: readability, summary layout, crisis lexicon, forms,
    texts, words to avoid, the console's own words, the crisis numbers on paper."""
    return (
        check_readability,
        check_layout,
        check_crisis_present,
        check_forms,
        check_texts,
        check_wording,
        check_channel_words,
        check_worksheet_help,
    )


def check_folder(folder: Path, org_dir: Path | None = None) -> list[Problem]:
    """Every problem in a content folder (with an organisation's overlay); none means ready to use."""
    return check_documents(read_documents(folder, org_dir), every_check())


def checked_catalog(folder: Path, org_dir: Path | None = None) -> Catalog:
    """The content of ``folder``, or ContentError listing what ``content check`` would say.

    The files are read once; checking them adds a few tens of milliseconds
    to a start (benchmarks/content_check.py).
    """
    documents = read_documents(folder, org_dir)
    problems = check_documents(documents, every_check())
    if problems:
        raise ContentError(problems)
    return Catalog.build(documents)
