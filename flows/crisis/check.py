"""``companion content check`` for the crisis lexicons: present, usable, numbers right, examples behave.

Why it is strict: without a lexicon the companion would read no message for
risk at all, so a missing ``crisis/en.yaml`` or ``crisis/sv.yaml`` (or the
whole folder) is a problem, never a silent pass. Every category's examples
are read by the same detector the companion uses (all languages at once, as
for a real message), so an author sees at once when a change stops an example
being caught, or starts catching an everyday one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from flows.catalog import Catalog, Problem
from flows.crisis.detector import CRISIS_FILE, CrisisDetector
from flows.crisis.lexicon import NOT_CRISIS, STRENGTH, Category, Lexicon, LexiconError
from flows.safety import Assessment

REQUIRED_LANGUAGES = ("en", "sv")
NATIONAL_NUMBERS: dict[str, tuple[str, ...]] = {
    "GB": ("999", "111", "116 123"),
    "SE": ("112", "1177", "90101"),
}
"""Each country's emergency, urgent mental-health and crisis-line numbers (999, NHS 111, Samaritans;
112, 1177, Mind Självmordslinjen)."""
REQUIRED_NUMBERS = tuple(number for numbers in NATIONAL_NUMBERS.values() for number in numbers)
"""Without an organisation's country every card must carry all of these: the companion cannot
tell where a person is, so both countries' help is given."""
ORGANISATION_FILE = "organisation.yaml"
"""An organisation's overlay (bot/organisation.py) puts its choices here; its ``country`` decides."""


def required_numbers(catalog: Catalog) -> tuple[str, ...]:
    """The organisation's country's numbers, so a region can put its own services first
    without listing another country's; every number of both countries without an overlay."""
    organisation = catalog.extra.get(ORGANISATION_FILE)
    country = organisation.get("country") if isinstance(organisation, dict) else None
    return NATIONAL_NUMBERS.get(country, REQUIRED_NUMBERS) if isinstance(country, str) else REQUIRED_NUMBERS


def check_crisis(catalog: Catalog) -> Iterator[Problem]:
    """Every problem with the crisis lexicons, each naming the file and what to change."""
    for language in REQUIRED_LANGUAGES:
        name = CRISIS_FILE.format(language=language)
        if name not in catalog.extra:
            yield Problem(
                name, None, "the crisis lexicon and cards are missing: without it no message is read for risk"
            )
    lexicons: dict[str, Lexicon] = {}
    for name in sorted(catalog.extra):
        match = re.fullmatch(r"crisis/([a-z]{2})\.yaml", name)
        if not match:
            continue
        try:
            lexicon = Lexicon.from_document(match.group(1), catalog.extra[name])
            CrisisDetector({lexicon.language: lexicon})
        except (LexiconError, re.error) as error:
            yield Problem(name, None, str(error))
            continue
        lexicons[lexicon.language] = lexicon
        for card, text in (("card", lexicon.card), ("supporter_card", lexicon.supporter_card)):
            for number in required_numbers(catalog):
                if number not in text:
                    yield Problem(name, None, f"the {card} must give the number {number}")
    if not lexicons:
        return
    detector = CrisisDetector(lexicons)
    for language, lexicon in lexicons.items():
        name = CRISIS_FILE.format(language=language)
        for category in lexicon.categories.values():
            for example in category.examples:
                wrong = _wrong_example(detector.assess(example), category)
                if wrong:
                    yield Problem(name, None, f"category '{category.name}': the example '{example}' {wrong}")
            for example in category.not_examples:
                wrong = _wrong_not_example(detector.assess(example), category)
                if wrong:
                    yield Problem(name, None, f"category '{category.name}': the not_example '{example}' {wrong}")


def _got(assessment: Assessment) -> str:
    tier = assessment.tier.value if assessment.tier else "nothing"
    found = ", ".join(sorted(assessment.categories)) or "no category"
    return f"gets {tier} ({found})"


def _wrong_example(assessment: Assessment, category: Category) -> str | None:
    if category.tier == "reminder":
        return None if assessment.stopping_medicine else "should bring the reminder, but does not"
    if category.name == NOT_CRISIS or category.tier == "none":
        return None if assessment.tier is None else f"should get nothing, but {_got(assessment)}"
    if assessment.tier is not None and assessment.tier.value == category.tier:
        return None
    return f"should get {category.tier}, but {_got(assessment)}"


def _wrong_not_example(assessment: Assessment, category: Category) -> str | None:
    if category.tier == "reminder":
        return "should not bring the reminder, but does" if assessment.stopping_medicine else None
    if category.name == NOT_CRISIS or category.tier == "none":
        crisis = assessment.tier is not None and assessment.tier.value in ("definite", "possible")
        return None if crisis else f"is listed as crisis language despite the saying, but {_got(assessment)}"
    got = STRENGTH[assessment.tier.value] if assessment.tier is not None else 0
    if got < STRENGTH[category.tier]:
        return None
    return f"should get less than {category.tier}, but {_got(assessment)}"
