"""An installed wheel can run: it carries the content, the migrations and the licence.

Without the content an installed companion could not chat, check or summarise;
without the migrations it could not open a database. The wheel is built from
this checkout (pip, offline from the machine's package index as `make` uses).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if built.returncode != 0:
        pytest.fail(f"the wheel did not build:\n{built.stderr[-2000:]}")
    (path,) = out.glob("*.whl")
    return zipfile.ZipFile(path)


def _names(wheel: zipfile.ZipFile) -> set[str]:
    return set(wheel.namelist())


def test_every_content_file_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    names = _names(wheel)
    shipped = {name.split("/share/sdm-companion/content/", 1)[1] for name in names if "/share/sdm-companion/" in name}
    content = ROOT / "content"
    wanted = {path.relative_to(content).as_posix() for path in content.rglob("*") if path.is_file()}
    assert wanted - shipped == set(), "content files the wheel leaves out (add them to pyproject's data-files)"


def test_the_migrations_are_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    names = _names(wheel)
    versions = ROOT / "bot" / "storage" / "migrations" / "versions"
    wanted = {f"bot/storage/migrations/versions/{path.name}" for path in versions.glob("*.py")}
    wanted |= {"bot/storage/migrations/env.py", "bot/storage/migrations/script.py.mako"}
    assert wanted - names == set()


def test_the_wheel_carries_the_licence(wheel: zipfile.ZipFile) -> None:
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in _names(wheel))


def test_the_version_is_printed() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli import app; app()", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("companion ") and done.stdout.split()[1][0].isdigit()
