"""One organisation's choices, in one folder that overlays content/ and settings.

Why a folder and not code: an NHS trust or a Swedish region has to name its
own data controller, lawful basis and retention, write its own privacy
notice and put its own services first on the crisis card, and its clinical
safety officer and information governance lead must be able to read and
change all of that without a programmer. The folder (``COMPANION_ORG_DIR``,
or ``companion --org DIR``) holds:

- ``organisation.yaml``: the organisation's name, country, data controller,
  lawful basis, retention, privacy notice, local crisis services, the bot's
  description, and settings (default language and time zone, FHIR base URL);
- ``content/`` (optional): files laid over the shipped ``content/`` with the
  same paths. A ui file's keys replace the shipped keys one by one; in any
  other file the top-level keys replace the shipped ones (so an overlay's
  ``crisis/sv.yaml`` may hold only ``card`` and keep the whole lexicon).

What the organisation writes becomes ui texts (``org_*``), so
``companion content check`` reads it like every other word a person reads
(readability, both languages), and the crisis check takes the country from
it: the card must carry that country's emergency and crisis numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.content import load_yaml, read_documents
from flows.catalog import Documents, Problem

ORGANISATION_FILE = "organisation.yaml"
"""The organisation's own file, in the folder and (as read) in ``Documents.extra``."""
CONTENT_FOLDER = "content"
CRISIS_CARD_FILE = "crisis/{language}.yaml"

PerLanguage = dict[Literal["en", "sv"], str]


class OrganisationSettings(BaseModel):
    """Settings the organisation chooses; the environment still wins where it sets one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_language: Literal["en", "sv"] | None = None
    default_timezone: str | None = None
    fhir_base_url: str | None = None
    """Canonical URLs of the exported Questionnaires live under it."""


class Organisation(BaseModel):
    """``organisation.yaml``: every field a person may read is written in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: PerLanguage
    country: Literal["GB", "SE"]
    """Whose national emergency and crisis numbers the crisis cards must carry."""
    data_controller: PerLanguage
    lawful_basis: PerLanguage
    retention: PerLanguage
    privacy_notice: PerLanguage
    local_services: PerLanguage | None = None
    """Shown first on the crisis card, before the national numbers."""
    description: PerLanguage | None = None
    """The bot's description in Telegram (before a person starts; up to 512 characters)."""
    short_description: PerLanguage | None = None
    """The bot's short description in Telegram (its profile; up to 120 characters)."""
    settings: OrganisationSettings = Field(default_factory=OrganisationSettings)


UI_KEYS: tuple[tuple[str, Callable[[Organisation], PerLanguage | None]], ...] = (
    ("org_name", lambda organisation: organisation.name),
    ("org_controller", lambda organisation: organisation.data_controller),
    ("org_lawful_basis", lambda organisation: organisation.lawful_basis),
    ("org_retention", lambda organisation: organisation.retention),
    ("org_privacy_notice", lambda organisation: organisation.privacy_notice),
    ("tg_description", lambda organisation: organisation.description),
    ("tg_short_description", lambda organisation: organisation.short_description),
)
"""Which ui text each of the organisation's fields becomes (the shipped content has a default for each)."""


def read_organisation(org_dir: Path) -> Organisation:
    """The folder's ``organisation.yaml``; raises ValueError with one plain line when it is wrong."""
    path = org_dir / ORGANISATION_FILE
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
        return Organisation.model_validate(data)
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror or type(error).__name__})") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: cannot be read as YAML ({str(error).splitlines()[0]})") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise ValueError(f"{path}: {where}: {first['msg']} ({error.error_count()} problem(s))") from None


def overlay_documents(documents: Documents, org_dir: Path) -> Documents:
    """The shipped documents with the organisation's folder laid over them (see the module docstring).

    A problem with the folder is added to ``documents.problems``, so the content
    check says it and nothing starts on half an organisation's choices."""
    try:
        organisation = read_organisation(org_dir)
    except ValueError as error:
        documents.problems.append(Problem(ORGANISATION_FILE, None, str(error)))
        return documents
    content = org_dir / CONTENT_FOLDER
    if content.is_dir():
        layer = read_documents(content, require_flows=False)
        documents.problems += layer.problems
        for language, layered in layer.ui.items():
            documents.ui.setdefault(language, {}).update(layered)
        for name, flow in layer.flows.items():
            documents.flows[name] = _laid_over(documents.flows.get(name), flow)
        if layer.summary is not None:
            documents.summary = _laid_over(documents.summary, layer.summary)
        for name, data in layer.extra.items():
            documents.extra[name] = _laid_over(documents.extra.get(name), data)
    for key, field in UI_KEYS:
        for language, text in (field(organisation) or {}).items():
            documents.ui.setdefault(language, {})[key] = text
    for language, local in (organisation.local_services or {}).items():
        name = CRISIS_CARD_FILE.format(language=language)
        lexicon = documents.extra.get(name)
        if isinstance(lexicon, dict) and isinstance(lexicon.get("card"), str):
            lexicon = dict(lexicon)
            lexicon["card"] = _local_first(lexicon["card"], local)
            documents.extra[name] = lexicon
    documents.extra[ORGANISATION_FILE] = organisation.model_dump()
    return documents


def _laid_over(shipped: Any, layer: Any) -> Any:
    if isinstance(shipped, dict) and isinstance(layer, dict):
        return {**shipped, **layer}
    return layer


def _local_first(card: str, local: str) -> str:
    """The local services after the card's opening paragraph, before the national numbers."""
    opening, _, rest = card.partition("\n\n")
    return f"{opening}\n\n{local.strip()}\n\n{rest}" if rest else f"{opening}\n\n{local.strip()}"
