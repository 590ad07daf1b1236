"""The HTML summary in a real browser: headless Chromium prints it to one A4 page with no text cut,
and the page passes an accessibility check (language, headings in order, contrast)."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pypdf
import pytest

from bot.services.conversation import Companion
from bot.summary import build_summary, render_html
from bot.summary.html import PAGE_CSS
from flows.engine import Engine
from tests.summary.test_page import ordinary_person

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
AXE = Path(
    os.environ.get("COMPANION_AXE_JS")
    or Path(__file__).resolve().parents[2] / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
)
"""axe-core, installed from npm by .ci/run (or point COMPANION_AXE_JS at axe.min.js)."""


def chromium_args(profile: str) -> list[str]:
    return [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]


def print_to_pdf(page: str, folder: Path) -> bytes:
    source, target = folder / "summary.html", folder / "summary.pdf"
    source.write_text(page, encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [*chromium_args(profile), "--no-pdf-header-footer", f"--print-to-pdf={target}", source.as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return target.read_bytes()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
@pytest.mark.parametrize("language", ["en", "sv"])
async def test_the_html_prints_to_one_a4_page_with_nothing_cut(
    companion: Companion, engine: Engine, clock: Any, language: str, tmp_path: Path
) -> None:
    person_id = await ordinary_person(companion, language)
    document = await build_summary(companion.storage, engine, person_id, now=clock())
    printed = pypdf.PdfReader(io.BytesIO(print_to_pdf(render_html(document), tmp_path)))
    assert len(printed.pages) == 1
    box = printed.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = " ".join(printed.pages[0].extract_text().split())
    words = [document.heading, *document.details, document.footer]
    assert document.glance is not None
    words += [item for glance in document.glance.items for entry in glance.entries for item in entry.items]
    words += [item for section in document.sections for entry in section.entries for item in entry.items]
    for said in words:
        assert " ".join(said.split()) in text, said


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.title = ""
        self.headings: list[int] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(char * 2 for char in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_the_html_has_its_language_a_title_headings_in_order_and_strong_contrast(
    companion: Companion, engine: Engine, clock: Any, language: str
) -> None:
    person_id = await ordinary_person(companion, language)
    document = await build_summary(companion.storage, engine, person_id, now=clock())
    outline = _Outline()
    outline.feed(render_html(document))
    assert outline.lang == language
    assert html.unescape(outline.title).startswith(document.heading)
    assert outline.headings[0] == 1 and outline.headings.count(1) == 1
    for before, after in zip(outline.headings, outline.headings[1:], strict=False):
        assert after <= before + 1, outline.headings  # no level skipped
    # Every text colour in the style sheet, on white and on the grey box, passes WCAG AA (4.5:1).
    colours = set(re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", PAGE_CSS))
    backgrounds = set(re.findall(r"background:\s*(#[0-9a-fA-F]{3,6})", PAGE_CSS))
    assert colours and backgrounds
    for colour in colours:
        for background in backgrounds:
            assert contrast(colour, background) >= 4.5, (colour, background)


def test_the_contrast_check_can_fail() -> None:
    assert contrast("#777", "#fff") < 4.5 < contrast("#333", "#eee")


_RUN_AXE = """<script>
axe.run(document, {runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]}).then(function (result) {
  var out = document.createElement("pre");
  out.id = "axe-result";
  out.textContent = JSON.stringify(result.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length};
  }));
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (.ci/run installs it from npm)")
@pytest.mark.parametrize("language", ["en", "sv"])
async def test_axe_core_finds_no_accessibility_violations(
    companion: Companion, engine: Engine, clock: Any, language: str, tmp_path: Path
) -> None:
    person_id = await ordinary_person(companion, language)
    document = await build_summary(companion.storage, engine, person_id, now=clock())
    page = render_html(document).replace(
        "</body>", f"<script>{AXE.read_text(encoding='utf-8')}</script>{_RUN_AXE}</body>"
    )
    source = tmp_path / "summary.html"
    source.write_text(page, encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        dumped = subprocess.run(
            [*chromium_args(profile), "--virtual-time-budget=20000", "--dump-dom", source.as_uri()],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    found = re.search(r'<pre id="axe-result">(.*?)</pre>', dumped, re.S)
    assert found, "axe-core did not finish"
    assert json.loads(html.unescape(found.group(1))) == []
