"""`companion summary` and `companion export --fhir` against a real database file."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pypdf
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.content import load_catalog
from bot.services.conversation import Companion, Who
from flows.engine import Engine
from tests.conftest import fresh_storage
from tests.summary.conftest import play


def _prepare(url: str) -> int:
    """A console-profile person who answered the shipped questions flow (if it exists)."""

    async def main() -> int:
        storage = await fresh_storage(url)
        try:
            engine = Engine(load_catalog())
            companion = Companion(storage, engine)
            who = Who("console", "default")
            person = await companion.join(who, "sv")
            flow = engine.catalog.ordered_flows()[-1]
            await play(companion, who, flow.id, {})
            return person.id
        finally:
            await storage.close()

    return asyncio.run(main())


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("COMPANION_DATABASE_URL", database_url)
    return _prepare(database_url)


def test_summary_pdf_for_the_console_profile(cli_env: int, tmp_path: Path) -> None:
    out = tmp_path / "mine.pdf"
    result = CliRunner().invoke(app, ["summary", "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    reader = pypdf.PdfReader(io.BytesIO(out.read_bytes()))
    assert "Inför mitt besök" in reader.pages[0].extract_text()


def test_summary_text_and_html_by_person_id(cli_env: int, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["summary", "--person", str(cli_env), "--format", "text"])
    assert result.exit_code == 0 and "Inför mitt besök" in result.output
    out = tmp_path / "mine.html"
    result = CliRunner().invoke(app, ["summary", "--person", str(cli_env), "--format", "html", "--out", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_export_fhir_writes_a_valid_bundle(cli_env: int) -> None:
    from fhir.resources.R4B.bundle import Bundle

    result = CliRunner().invoke(app, ["export", "--fhir", "--person", str(cli_env)])
    assert result.exit_code == 0, result.output
    bundle = Bundle.model_validate_json(result.output)
    kinds = [entry.resource.__resource_type__ for entry in bundle.entry]
    assert kinds.count("QuestionnaireResponse") == 1 and "Questionnaire" in kinds
    plain = CliRunner().invoke(app, ["export", "--person", str(cli_env)])
    assert json.loads(plain.output)["person"]["language"] == "sv"


def test_unknown_person_is_told_kindly(cli_env: int) -> None:
    result = CliRunner().invoke(app, ["summary", "--person", "987654", "--format", "text"])
    assert result.exit_code == 2
    assert "Nobody found" in result.output


def test_summary_text_is_the_whole_summary_and_large_print_is_14_pt(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COMPANION_DATABASE_URL", database_url)

    async def main() -> None:
        storage = await fresh_storage(database_url)
        try:
            companion = Companion(storage, Engine(load_catalog()))
            who = Who("console", "default")
            await companion.join(who, "en")
            own = [f"My own question number {n}?" for n in range(1, 7)]
            plan = {"about_medicine": ["what_for", "how_long", "side_effects", "missed_dose", "alcohol"], "own": own}
            await play(companion, who, "questions", plan)
        finally:
            await storage.close()

    asyncio.run(main())
    result = CliRunner().invoke(app, ["summary", "--format", "text"])
    assert result.exit_code == 0, result.output
    assert "About my medicine:\n- What is it for?\n- How long will I take it?\n" in result.output
    assert "My own questions:" in result.output
    for number in range(1, 7):
        assert f"- My own question number {number}?" in result.output  # every item, none "on the page"
    assert "more on the page" not in result.output

    out = tmp_path / "large.pdf"
    assert CliRunner().invoke(app, ["summary", "--large", "--out", str(out)]).exit_code == 0
    sizes: set[float] = set()

    def visit(text: str, cm: object, tm: list[float], font: object, size: float) -> None:
        if text.strip():
            sizes.add(round(size * tm[3], 1))

    for page in pypdf.PdfReader(io.BytesIO(out.read_bytes())).pages:
        page.extract_text(visitor_text=visit)
    assert 14.0 in sizes and 11.0 not in sizes


def test_operator_reads_are_audited_and_companion_audit_lists_them(cli_env: int) -> None:
    runner = CliRunner()
    for command in (
        ["summary", "--person", str(cli_env), "--format", "text"],
        ["export", "--person", str(cli_env)],
        ["export", "--fhir", "--person", str(cli_env)],
    ):
        assert runner.invoke(app, command).exit_code == 0
    result = runner.invoke(app, ["audit", "--person", str(cli_env)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if " UTC " in line]
    subject = ["person", str(cli_env)]
    assert [line.split()[3:7] for line in lines] == [
        ["operator", "operator_summary", *subject],
        ["operator", "operator_export", *subject],
        ["operator", "operator_export_fhir", *subject],
        ["operator", "operator_audit", *subject],  # reading the trail is itself a read
    ]
    assert all(line.endswith("allowed") for line in lines)
    # The person's own export shows what the operator read.
    exported = json.loads(runner.invoke(app, ["export", "--person", str(cli_env)]).output)
    actions = [row["action"] for row in exported["other_records"]["access_log"]]
    assert actions[:4] == ["operator_summary", "operator_export", "operator_export_fhir", "operator_audit"]


def test_the_export_command_links_the_patient_and_stores_no_identifier(
    cli_env: int, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    from bot.fhir import PERSONNUMMER

    monkeypatch.setenv("COMPANION_FHIR_BASE_URL", "https://fhir.example.nhs.uk")
    out = tmp_path / "fhir.json"
    done = CliRunner().invoke(
        app, ["export", "--fhir", "--person", str(cli_env), "--personnummer", "19121212-1212", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    bundle = Bundle.model_validate_json(out.read_text(encoding="utf-8"))
    responses = [e.resource for e in bundle.entry if isinstance(e.resource, QuestionnaireResponse)]
    assert responses and all(r.subject.identifier.system == PERSONNUMMER for r in responses)
    assert all(r.questionnaire.startswith("https://fhir.example.nhs.uk/Questionnaire/") for r in responses)
    assert "1212121212" not in asyncio.run(_everything_stored(database_url))
    refused = CliRunner().invoke(app, ["export", "--fhir", "--person", str(cli_env), "--nhs-number", "9434765918"])
    assert refused.exit_code == 2 and "check digit" in refused.output


async def _everything_stored(url: str) -> str:
    """Every row of every table, as text (to look for what must not be kept)."""
    from sqlalchemy import Connection, MetaData, create_engine, select
    from sqlalchemy.ext.asyncio import create_async_engine

    def read(connection: Connection) -> list[str]:
        metadata = MetaData()
        metadata.reflect(connection)
        return [str(row) for table in metadata.sorted_tables for row in connection.execute(select(table))]

    if url.startswith("sqlite"):
        with create_engine(url).connect() as connection:
            return "\n".join(read(connection))
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return "\n".join(await connection.run_sync(read))
    finally:
        await engine.dispose()
