"""Read the content folder (YAML written by people, not programs) into a Catalog."""

from __future__ import annotations

import site
import sysconfig
from pathlib import Path

import yaml

from flows.catalog import Catalog, Documents, Problem

INSTALLED_CONTENT = Path("share") / "sdm-companion" / "content"
"""Where an installed wheel puts the content, under its install prefix (pyproject's data-files)."""


def _default_content_dir() -> Path:
    """The checkout's content/ when running from one, else the content the wheel installed."""
    checkout = Path(__file__).resolve().parent.parent / "content"
    if checkout.is_dir():
        return checkout
    for prefix in (sysconfig.get_path("data"), site.getuserbase()):
        installed = Path(prefix) / INSTALLED_CONTENT
        if installed.is_dir():
            return installed
    return checkout  # missing: the content check says so, and nothing starts


DEFAULT_CONTENT_DIR = _default_content_dir()


def read_documents(content_dir: Path) -> Documents:
    documents = Documents()
    for path in sorted(content_dir.rglob("*.yaml")):
        relative = path.relative_to(content_dir).as_posix()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            documents.problems.append(Problem(relative, None, f"cannot be read as YAML: {_first_line(error)}"))
            continue
        if relative.startswith("flows/"):
            documents.flows[relative] = data
        elif relative.startswith("ui/"):
            _merge_ui(documents, relative, path.stem.rsplit(".", 1)[-1], data)
        elif relative == "summary/sections.yaml":
            documents.summary = data
        else:
            documents.extra[relative] = data
    if not documents.flows:
        documents.problems.append(Problem("flows/", None, "there are no flow files"))
    return documents


def _merge_ui(documents: Documents, relative: str, language: str, data: object) -> None:
    """ui/en.yaml and ui/<area>.en.yaml (e.g. telegram.en.yaml) together make the English texts."""
    if not isinstance(data, dict):
        documents.problems.append(Problem(relative, None, "must be a list of 'key: text' lines"))
        return
    merged = documents.ui.setdefault(language, {})
    for key, value in data.items():
        if key in merged:
            documents.problems.append(Problem(relative, None, f"'{key}' is already defined in another ui file"))
        merged[key] = value


def load_catalog(content_dir: Path | None = None) -> Catalog:
    """Load and validate content; raises ContentError listing every problem."""
    return Catalog.build(read_documents(content_dir or DEFAULT_CONTENT_DIR))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
