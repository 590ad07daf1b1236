"""Installs are reproducible: `make` pins every dependency to the versions tested together.

Without the pins a fresh clone would take whatever the registry holds that day,
and a new reportlab or typer could change the printed summary or the commands
an operator types. The pins must also stay inside pyproject's ranges, or pip
refuses to install at all.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parent.parent


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        assert version, f"constraints.txt: {line!r} is not pinned with =="
        pins[canonicalize_name(name)] = Version(version)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(text) for text in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        wanted += [Requirement(text) for text in extra]
    return wanted


def test_every_dependency_is_pinned_inside_its_range() -> None:
    pins = _pins()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {requirement.name} {pins[name]}, outside pyproject's {requirement.specifier}"
        )


def test_reportlab_and_typer_have_upper_bounds() -> None:
    for requirement in _requirements():
        if canonicalize_name(requirement.name) in {"reportlab", "typer"}:
            assert any(spec.operator == "<" for spec in requirement.specifier), f"{requirement.name} has no upper bound"


def test_make_installs_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e " in line]
    assert installs, "the Makefile installs nothing"
    assert all("-c constraints.txt" in line for line in installs), installs
