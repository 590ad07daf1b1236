"""How long it takes to build one summary PDF from the database.

    python benchmarks/summary_pdf.py                   # SQLite
    python benchmarks/summary_pdf.py --postgres URL    # PostgreSQL too
    (or set COMPANION_TEST_DATABASE_URL)

A person goes through every shipped flow as a typical person would (a
sentence or two where asked to write, a few ticks, the middle of each scale),
then the summary is built from the database and drawn as PDF again and again:
read the records, assemble the document, render the PDF with its fonts
embedded (subsets of each face used, made for every PDF). The script prints
the median, the 95th and the 99th percentile of that whole step, and of the
PDF drawing alone; then the same for a summary with Arabic and Chinese answers
(which brings in the fallback fonts).

Target on the 2-core reference machine: ≤ 50 ms at the 95th percentile for
the whole step, fonts included.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pypdf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.content import load_catalog
from bot.services.conversation import Companion, Who
from bot.storage.database import open_database
from bot.storage.repository import Storage
from bot.summary import build_summary, render_pdf
from bot.summary.document import Entry, Glance, GlanceItem, SummaryDocument
from flows.engine import Engine
from flows.machine import AGAIN
from flows.schema import StepType
from flows.turns import DONE, MORE_NO, NEXT, SKIP, Action, Pressed, Prompt, Typed

ARABIC = "أريد أن أنام أقل وأن ألعب مع أطفالي في الصباح"
CHINESE = "我是两个孩子的母亲，我想睡得更好，早上不那么累。"
SENTENCE = "I’d like to feel less tired in the mornings – and keep walking with my dog, that’s what helps."
ROUNDS = 200


def typical(prompt: Prompt, ticked: set[str]) -> Action:
    """A typical person: writes a sentence, ticks up to three, picks the middle of a scale."""
    if prompt.kind is StepType.message:
        return Pressed(NEXT)
    if prompt.step.endswith(AGAIN):
        return Pressed(MORE_NO)
    if prompt.kind is StepType.text:
        return Typed(SENTENCE[: prompt.max_length or 500])
    if prompt.kind is StepType.checklist:
        choices = [button.id for button in prompt.options if button.id != DONE][:3]
        for choice in choices:
            if (prompt.step, choice) not in ticked:
                ticked.add((prompt.step, choice))  # type: ignore[arg-type]
                return Pressed(choice)
        return Pressed(DONE)
    if prompt.kind is StepType.scale:
        return Pressed(prompt.options[len(prompt.options) // 2].id)
    if prompt.options:
        return Pressed(prompt.options[0].id)
    return Pressed(SKIP)


async def prepare(url: str) -> tuple[Storage, Engine, int]:
    database = open_database(url)
    if database.url.startswith("postgresql"):
        await database.drop_schema()
    await database.create_schema()
    storage = Storage(database)
    engine = Engine(load_catalog())
    companion = Companion(storage, engine)
    who = Who("console", "benchmark")
    person = await companion.join(who, "en")
    for flow in engine.catalog.ordered_flows():
        reply = await companion.open(who, flow.id)
        ticked: set[str] = set()
        for _ in range(400):
            if reply.status == "finished" or reply.prompt is None:
                break
            reply = await companion.act(who, typical(reply.prompt, ticked))
    return storage, engine, person.id


async def measure(url: str, label: str) -> None:
    storage, engine, person_id = await prepare(url)
    try:
        document = await build_summary(storage, engine, person_id)
        render_pdf(document)  # warm up: first use of fonts and statements
        whole, drawing = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            document = await build_summary(storage, engine, person_id)
            middle = time.perf_counter()
            pdf = render_pdf(document)
            ended = time.perf_counter()
            whole.append((ended - started) * 1000)
            drawing.append((ended - middle) * 1000)
        sections = len(document.sections)
        pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        print(f"{label}: {sections} sections, {pages} page(s), {len(pdf) // 1024} KiB PDF")
        report(whole, drawing)
        # Other scripts: the same person's answers with Arabic and Chinese words in them.
        mixed = replace(document, glance=_with_scripts(document))
        render_pdf(mixed)  # warm up: the fallback fonts load once per process
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            pdf = render_pdf(mixed)
            times.append((time.perf_counter() - started) * 1000)
        print(f"  with Arabic and Chinese answers ({len(pdf) // 1024} KiB PDF):")
        report([], times)
    finally:
        await storage.close()


def _percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))]


def report(whole: list[float], drawing: list[float]) -> None:
    for name, values in (("summary PDF from the database", whole), ("PDF drawing alone", drawing)):
        if not values:
            continue
        values.sort()
        print(
            f"    {name}: median {statistics.median(values):.2f} ms, "
            f"p95 {_percentile(values, 0.95):.2f} ms, p99 {_percentile(values, 0.99):.2f} ms"
        )


def _with_scripts(document: SummaryDocument) -> Glance | None:
    if document.glance is None:
        return None
    extra = GlanceItem("Other scripts", (Entry(None, (ARABIC, CHINESE)),))
    return replace(document.glance, items=(*document.glance.items, extra))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("COMPANION_TEST_DATABASE_URL"))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(f"sqlite:///{folder}/bench.db", "SQLite"))
    if arguments.postgres:
        asyncio.run(measure(arguments.postgres, "PostgreSQL"))


if __name__ == "__main__":
    main()
