"""``companion summary`` and ``companion export``: the summary and the data, from the command line.

Registered on the main Typer app in bot/cli.py. Without ``--person`` they use
the console chat's own profile ("default", or ``--profile``), so someone who
uses the companion in a terminal can print their summary straight away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.fhir import Filing


class Format(StrEnum):
    pdf = "pdf"
    html = "html"
    text = "text"


PersonOption = Annotated[
    int | None, typer.Option("--person", help="The person's id in the database (default: the console profile).")
]
ProfileOption = Annotated[str, typer.Option(help="The console chat profile to use when no --person is given.")]


def summary_command(
    person: PersonOption = None,
    format: Annotated[Format, typer.Option("--format", help="pdf, html or text.")] = Format.pdf,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="File to write (default: summary.pdf; html and text go to the screen)."),
    ] = None,
    profile: ProfileOption = "default",
    large: Annotated[bool, typer.Option("--large", help="Large print (14 pt), whatever the person chose.")] = False,
) -> None:
    """Make the printable summary of a person's answers (PDF, HTML or plain text with every answer)."""
    from bot.summary import build_summary, render_html, render_pdf, render_text

    async def make(companion: object) -> bytes:
        person_id = await _person_id(companion, person, profile)
        await _audit(companion, person_id, "operator_summary")
        document = await build_summary(companion.storage, companion.engine, person_id)  # type: ignore[attr-defined]
        print_large = True if large else None  # None: the person's own choice
        if format is Format.pdf:
            return render_pdf(document, large=print_large)
        if format is Format.html:
            return render_html(document, large=print_large).encode("utf-8")
        return render_text(document).encode("utf-8")

    data = _run(make)
    target = out or (Path("summary.pdf") if format is Format.pdf else None)
    if target is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    target.write_bytes(data)
    typer.echo(f"Wrote {target}")


def export_command(
    fhir: Annotated[
        bool, typer.Option("--fhir", help="FHIR R4B resources (Questionnaire + QuestionnaireResponse).")
    ] = False,
    person: PersonOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: the screen).")] = None,
    profile: ProfileOption = "default",
    nhs_number: Annotated[
        str | None, typer.Option("--nhs-number", help="With --fhir: the person's NHS number (not stored).")
    ] = None,
    personnummer: Annotated[
        str | None, typer.Option("--personnummer", help="With --fhir: the person's personnummer (not stored).")
    ] = None,
) -> None:
    """Export everything stored about a person as JSON (or as FHIR with --fhir).

    The NHS number or personnummer links the responses to the record's Patient; it is used for
    this file only and never saved."""
    from bot import fhir as fhir_export

    filing = None
    if fhir:
        try:
            patient = (
                (fhir_export.NHS_NUMBER, fhir_export.nhs_number(nhs_number))
                if nhs_number is not None
                else (fhir_export.PERSONNUMMER, fhir_export.personnummer(personnummer))
                if personnummer is not None
                else None
            )
        except ValueError as error:
            typer.echo(f"{error}. Nothing was exported.", err=True)
            raise typer.Exit(2) from None
        filing = _filing(patient)
    elif nhs_number is not None or personnummer is not None:
        typer.echo("--nhs-number and --personnummer go with --fhir.", err=True)
        raise typer.Exit(2)

    async def make(companion: object) -> bytes:
        from bot.fhir import export_fhir
        from bot.services.conversation import Who
        from bot.services.privacy import Privacy

        person_id = await _person_id(companion, person, profile)
        await _audit(companion, person_id, "operator_export_fhir" if fhir else "operator_export")
        if fhir:
            bundle = await export_fhir(companion.storage, companion.engine, person_id, filing)  # type: ignore[attr-defined]
            return bundle.model_dump_json(indent=2).encode("utf-8")
        record = await companion.storage.run(lambda tx: tx.person_by_id(person_id))  # type: ignore[attr-defined]
        data = await Privacy(companion.storage).export(Who(record.channel, record.external_id))  # type: ignore[attr-defined]
        return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")

    data = _run(make)
    if out is None:
        sys.stdout.write(data.decode("utf-8") + "\n")
        return
    out.write_bytes(data)
    typer.echo(f"Wrote {out}")


def _filing(patient: tuple[str, str] | None) -> Filing:
    """The organisation's FHIR base and name, from its folder or settings (bot/organisation.py)."""
    from bot.fhir import Filing
    from bot.organisation import read_organisation

    settings = Settings()
    author = "SDM Companion"
    if settings.org_dir is not None:
        # A wrong folder: the content check names the problem; the export still says who made it.
        with contextlib.suppress(ValueError, KeyError):
            author = f"SDM Companion, {read_organisation(settings.org_dir).name['en']}"
    return Filing(base_url=settings.fhir_base_url, patient=patient, author=author)


async def _person_id(companion: object, person: int | None, profile: str) -> int:
    if person is not None:
        record = await companion.storage.run(lambda tx: tx.person_by_id(person))  # type: ignore[attr-defined]
    else:
        record = await companion.storage.run(lambda tx: tx.person("console", profile))  # type: ignore[attr-defined]
    if record is None:
        raise LookupError(f"person {person}" if person is not None else f"console profile '{profile}'")
    return record.id


async def _audit(companion: object, person_id: int, action: str) -> None:
    """The read goes on the person's audit trail (actor: the operator) before anything is read."""
    import datetime as dt

    from bot.roles import sharing

    now = dt.datetime.now(dt.UTC)
    await companion.storage.run(lambda tx: sharing.operator_read(tx.connection, person_id, action, now))  # type: ignore[attr-defined]


def _run(make: object) -> bytes:
    from bot.runtime import open_companion
    from flows.catalog import ContentError

    async def main() -> bytes:
        companion = await open_companion(Settings())
        try:
            return await make(companion)  # type: ignore[operator]
        finally:
            await companion.storage.close()

    try:
        return asyncio.run(main())
    except LookupError as error:
        typer.echo(f"Nobody found ({error}). Use `companion chat` first, or check the id.", err=True)
        raise typer.Exit(2) from None
    except ContentError as error:
        typer.echo(f"Fix the content first (companion content check):\n{error}", err=True)
        raise typer.Exit(1) from None


def worksheets_command(
    language: Annotated[str, typer.Option(help="en or sv.")] = "en",
    out: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("worksheets.pdf"),
    large: Annotated[bool, typer.Option("--large", help="Large print (14 pt).")] = False,
) -> None:
    """Print every part of the menu as a blank worksheet to fill in with a pen (PDF).

    For people who would rather use paper, or go through it with a peer or a
    care coordinator. Made from the content alone: no database, nobody's answers."""
    from bot.checks import checked_catalog
    from bot.summary.worksheets import build_worksheets, render_worksheets
    from flows.catalog import ContentError
    from flows.schema import LANGUAGES

    if language not in LANGUAGES:
        typer.echo(f"The worksheets come in {' and '.join(LANGUAGES)}. Try: --language sv", err=True)
        raise typer.Exit(2)
    try:
        catalog = checked_catalog(Settings().content_dir)
    except ContentError as error:
        typer.echo(f"Fix the content first (companion content check):\n{error}", err=True)
        raise typer.Exit(1) from None
    out.write_bytes(render_worksheets(build_worksheets(catalog, language, large=large)))
    typer.echo(f"Wrote {out}")
