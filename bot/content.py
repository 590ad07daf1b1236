"""Read the content folder (YAML written by people, not programs) into a Catalog.

Content is read with :class:`ContentLoader`, a safe YAML loader with two traps
taken out for people who are not programmers:

- ``yes``, ``no``, ``on``, ``off``, ``y`` and ``n`` stay words. Plain YAML 1.1
  reads an option written ``no:`` or a label ``No`` as false, which then fails
  in a way nobody can see the reason for. Only ``true`` and ``false`` are
  booleans (fields such as ``required:`` still accept yes and no as words).
- A key written twice in the same mapping is an error naming the line, where
  plain YAML silently keeps the last one and loses the first.
"""

from __future__ import annotations

import re
import site
import sysconfig
from pathlib import Path
from typing import Any

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

BOOL_TAG = "tag:yaml.org,2002:bool"
MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKey(yaml.constructor.ConstructorError):
    """The same key twice in one mapping."""

    def __init__(self, key: Any, first: yaml.Mark, again: yaml.Mark) -> None:
        self.key = key
        self.line = again.line + 1
        self.first_line = first.line + 1
        super().__init__(None, None, f"'{key}' is written twice", again)


class ContentLoader(yaml.SafeLoader):
    """yaml.SafeLoader where only true/false are booleans and a repeated key is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _value_node in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the constructor below says so
            if first is not None:
                raise DuplicateKey(key, first, key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


ContentLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ContentLoader.add_implicit_resolver(BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml(text: str) -> Any:
    """One content file's YAML, read the way content is read (see the module docstring)."""
    return yaml.load(text, Loader=ContentLoader)


def read_documents(content_dir: Path, org_dir: Path | None = None, *, require_flows: bool = True) -> Documents:
    """Every file of ``content_dir``, with an organisation's folder laid over it (bot/organisation.py)."""
    documents = Documents()
    for path in sorted(content_dir.rglob("*.yaml")):
        relative = path.relative_to(content_dir).as_posix()
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except DuplicateKey as error:
            documents.problems.append(
                Problem(
                    relative,
                    None,
                    f"line {error.line}: '{error.key}' is written twice here (also on line {error.first_line}); "
                    "keep one of them",
                )
            )
            continue
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            documents.problems.append(Problem(relative, None, f"cannot be read as YAML: {_yaml_problem(error)}"))
            continue
        if relative.startswith("flows/"):
            documents.flows[relative] = data
        elif relative.startswith("ui/"):
            _merge_ui(documents, relative, path.stem.rsplit(".", 1)[-1], data)
        elif relative == "summary/sections.yaml":
            documents.summary = data
        else:
            documents.extra[relative] = data
    if require_flows and not documents.flows:
        documents.problems.append(Problem("flows/", None, "there are no flow files"))
    if org_dir is not None:
        from bot.organisation import overlay_documents  # it reads its own layer with this function

        documents = overlay_documents(documents, org_dir)
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


def load_catalog(content_dir: Path | None = None, org_dir: Path | None = None) -> Catalog:
    """Load and validate content; raises ContentError listing every problem."""
    return Catalog.build(read_documents(content_dir or DEFAULT_CONTENT_DIR, org_dir))


QUOTE_HINT = "words holding a colon, a comma, a question mark, # or brackets need quotes around them"


def _yaml_problem(error: Exception) -> str:
    """Where the YAML stops making sense and why, with the usual cause."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None and error.problem:
        return f"line {error.problem_mark.line + 1}: {error.problem} ({QUOTE_HINT})"
    return _first_line(error)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
