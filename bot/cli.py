"""The ``companion`` command.

companion chat                 talk to the companion in this terminal
companion content check [DIR]  check flow files before anyone sees them
companion content graph FLOW   print a flow as a Mermaid state diagram
companion summary [--person ID] [--format pdf|html|text] [--out FILE]
companion export [--fhir] [--person ID] [--out FILE]
companion worksheets [--language en|sv] [--out FILE]   every menu part as a blank form to print
companion invite coordinator|facilitator   print a one-time link that grants the role
companion people list|show ID|delete ID   find a person's id (never what they wrote) / erase them
companion revoke-role ID ROLE  take a role away
companion status               database, schema version, reminders waiting, last error
companion backup --out FILE / restore FILE   SQLite's online backup, and putting one back
companion audit --person ID    a person's audit trail (who looked at their data, and when)
companion dispatch [--once] [--now TIME]   send due reminders
companion reminders list [--now TIME] [--all]  what reminders are queued
companion report collaborate --since DATE  CollaboRATE for the whole service (never per person)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from bot import operations
from bot.content import load_catalog
from bot.reminders.commands import dispatch_command, reminders_list_command
from bot.roles.commands import audit_command, invite_command, revoke_role_command
from bot.settings import Settings
from bot.summary.commands import export_command, summary_command, worksheets_command
from flows.catalog import Catalog, ContentError


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"companion {version('sdm-companion')}")
        raise typer.Exit()


def _guard_output(
    _version: Annotated[
        bool, typer.Option("--version", help="Print the version and stop.", callback=_print_version, is_eager=True)
    ] = False,
    org: Annotated[
        Path | None,
        typer.Option(
            "--org", help="An organisation's folder laid over the content and settings (or COMPANION_ORG_DIR)."
        ),
    ] = None,
) -> None:
    """Before any command: the bot token never reaches the terminal or a log (bot/logs.py).

    ``--org`` is passed on as COMPANION_ORG_DIR, so every command's settings read the same folder."""
    from bot import logs

    if org is not None:
        if not org.is_dir():
            typer.echo(f"{org} is not a folder, so no organisation's choices could be read from it.", err=True)
            raise typer.Exit(2)
        os.environ["COMPANION_ORG_DIR"] = str(org.resolve())

    token = Settings().telegram_bot_token
    logs.install()
    logs.keep_secret(token.get_secret_value() if token is not None else None)
    # Kept until the process ends: the traceback of an uncaught exception is
    # printed after the command has returned.
    logs.guard_streams()


def plain_database_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """A database that cannot be used (locked, read-only, full, newer, unreachable) gets one clear
    line and exit status 1, not a traceback (bot/storage/errors.py)."""
    from bot.storage.errors import DatabaseUnavailable

    @functools.wraps(command)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DatabaseUnavailable as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None

    return guarded


def _language_from_environment() -> str:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return "sv" if value.lower().startswith("sv") else "en"
    return "en"


@plain_database_errors
def chat(
    profile: Annotated[
        str, typer.Option(help="Keep separate answers for different people on this computer.")
    ] = "default",
    language: Annotated[
        str | None, typer.Option(help="en or sv (default: from your system). Switches an existing profile too.")
    ] = None,
    files: Annotated[
        Path | None, typer.Option(help="The folder your summary and your data file are saved in (default: this one).")
    ] = None,
) -> None:
    """Talk to the companion in this terminal. No Telegram account needed."""
    from bot.adapters.console import ConsoleChat, console_catalog
    from bot.checks import checked_catalog
    from bot.runtime import open_services
    from flows.schema import LANGUAGES

    if language is not None and language not in LANGUAGES:
        typer.echo(f"The companion speaks {' and '.join(LANGUAGES)}. Try: companion chat --language sv", err=True)
        raise typer.Exit(2)
    folder = files or Path.cwd()
    if not folder.is_dir():
        typer.echo(f"{folder} is not a folder, so your files could not be saved there.", err=True)
        raise typer.Exit(2)
    settings = Settings()
    try:
        catalog = checked_catalog(settings.content_dir, settings.org_dir)
    except ContentError as error:
        _refuse_to_start(error)

    async def main() -> int:
        services = await open_services(settings, console_catalog(catalog))
        try:
            console = ConsoleChat(
                services,
                profile=profile,
                stdin=sys.stdin,
                stdout=sys.stdout,
                language=language or _language_from_environment(),
                interactive=sys.stdin.isatty(),
                switch_to=language,
                folder=folder,
            )
            return await console.run()
        finally:
            await services.conversation.storage.close()

    try:
        raise typer.Exit(asyncio.run(main()))
    except KeyboardInterrupt:
        typer.echo("")
        raise typer.Exit(0) from None


def _refuse_to_start(error: ContentError) -> NoReturn:
    """The check's own lines, so the editor sees what `companion content check` would say."""
    typer.echo(
        f"The content has problems, so the companion cannot start:\n{error}\n\n"
        "Fix them, then check again with: companion content check",
        err=True,
    )
    raise typer.Exit(1)


def _checked_catalog(directory: Path | None) -> Catalog:
    """The content, or a pointer to `content check` and exit status 1."""
    try:
        settings = Settings()
        return load_catalog(directory or settings.content_dir, settings.org_dir)
    except ContentError as error:
        typer.echo(f"Fix these first (companion content check):\n{error}", err=True)
        raise typer.Exit(1) from None


@plain_database_errors
def run(
    webhook_url: Annotated[
        str | None, typer.Option(help="Public HTTPS address Telegram sends updates to. Without it: polling.")
    ] = None,
    listen: Annotated[str, typer.Option(help="Webhook mode: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Webhook mode: port to listen on (1-65535).")] = 8443,
    path: Annotated[str, typer.Option(help="Webhook mode: URL path to listen on.")] = "telegram",
    webhook_secret: Annotated[
        str | None,
        typer.Option(envvar="COMPANION_WEBHOOK_SECRET", help="Webhook mode: secret Telegram must send (required)."),
    ] = None,
    log_format: Annotated[
        str,
        typer.Option(envvar="COMPANION_LOG_FORMAT", help="text, or json: one JSON object a line, for a log collector."),
    ] = "text",
    start_retries: Annotated[
        int,
        typer.Option(
            min=0,
            envvar="COMPANION_START_RETRIES",
            help="How often to try Telegram again at start, waiting 1, 2, 4 ... up to 60 s in between.",
        ),
    ] = 8,
    health_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            envvar="COMPANION_HEALTH_PORT",
            help="Serve /healthz and /metrics on this port (1-65535). Without it: not served.",
        ),
    ] = None,
    health_listen: Annotated[
        str, typer.Option(envvar="COMPANION_HEALTH_LISTEN", help="Address for /healthz and /metrics.")
    ] = "127.0.0.1",
) -> None:
    """Put the companion on Telegram (needs TELEGRAM_BOT_TOKEN). Polls by default."""
    from telegram.error import InvalidToken, NetworkError

    from bot import logs
    from bot.adapters.telegram.app import WebhookOptions
    from bot.adapters.telegram.runner import NO_TOKEN, TELEGRAM_UNREACHABLE, refusal_message
    from bot.adapters.telegram.runner import run as run_telegram
    from bot.services.retention import UPDATE_IDS_MINIMUM

    if log_format not in logs.LOG_FORMATS:
        typer.echo(f"--log-format is text or json, not {log_format!r}.", err=True)
        raise typer.Exit(2)
    settings = Settings()
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        typer.echo(NO_TOKEN, err=True)
        raise typer.Exit(2)
    logs.keep_secret(webhook_secret, "[webhook secret]")
    keep = dt.timedelta(hours=settings.keep_update_ids_hours)
    if keep < UPDATE_IDS_MINIMUM:
        typer.echo(
            f"COMPANION_KEEP_UPDATE_IDS_HOURS is {settings.keep_update_ids_hours:g}; it must be at least 24,"
            " because Telegram sends an update again for up to 24 hours.",
            err=True,
        )
        raise typer.Exit(2)
    if health_port is not None and webhook_url and health_port == port:
        typer.echo(f"--health-port must differ from the webhook's --port ({port}).", err=True)
        raise typer.Exit(2)
    webhook = None
    if webhook_url:
        try:
            webhook = WebhookOptions(
                url=webhook_url, secret_token=webhook_secret or "", listen=listen, port=port, path=path
            )
        except ValueError as error:
            typer.echo(f"Cannot start in webhook mode: {error}", err=True)
            raise typer.Exit(2) from None
    try:
        run_telegram(
            settings,
            webhook,
            log_format=log_format,
            start_retries=start_retries,
            health=None if health_port is None else (health_listen, health_port),
            retention=keep,
        )
    except ContentError as error:
        _refuse_to_start(error)
    except InvalidToken as error:
        typer.echo(refusal_message(error), err=True)
        raise typer.Exit(2) from None
    except NetworkError as error:
        # Only the kind of failure: messages from the network layer can hold the URL, and it holds the token.
        typer.echo(TELEGRAM_UNREACHABLE.format(kind=type(error.__cause__ or error).__name__), err=True)
        raise typer.Exit(1) from None
    except OSError as error:  # the webhook's or the health port is taken, or not ours to listen on
        typer.echo(f"Could not listen for connections: {error.strerror or type(error).__name__}.", err=True)
        raise typer.Exit(1) from None


def content_check(
    directory: Annotated[Path | None, typer.Argument(help="A content folder (default: the shipped content/).")] = None,
) -> None:
    """Check every flow and text; exit status 1 if anything needs fixing."""
    from bot.checks import check_folder

    settings = Settings()
    folder = directory or settings.content_dir
    if not folder.is_dir():
        typer.echo(f"{folder} is not a folder.", err=True)
        raise typer.Exit(2)
    problems = check_folder(folder, settings.org_dir)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"\n{len(problems)} problem{'s' if len(problems) != 1 else ''} found in {folder}.")
        raise typer.Exit(1)
    typer.echo(f"All content in {folder} looks good.")


def content_readability(
    directory: Annotated[Path | None, typer.Argument(help="A content folder (default: the shipped content/).")] = None,
    count: Annotated[int, typer.Option(help="How many messages to list per language.")] = 10,
) -> None:
    """List the hardest messages per language (Flesch for English, LIX for Swedish), to revise first."""
    from flows.readability import worst

    catalog = _checked_catalog(directory)
    for language, measure in (("en", "Flesch"), ("sv", "LIX")):
        typer.echo(f"Hardest {language} messages ({measure}):")
        for item in worst(catalog, language, count):
            where = item.message.file + (f", step '{item.message.step}'" if item.message.step else "")
            text = " ".join(item.message.text.split())
            typer.echo(f"  {item.score:5.1f}  {where}, {item.message.field}: {text[:70]}")


def content_graph(
    flow: Annotated[str, typer.Argument(help="The flow id, e.g. questions.")],
    directory: Annotated[Path | None, typer.Option("--content", help="A content folder.")] = None,
    language: Annotated[str, typer.Option(help="Language of the title.")] = "en",
) -> None:
    """Print a flow as a Mermaid state diagram."""
    from flows.graph import mermaid

    catalog = _checked_catalog(directory)
    if flow not in catalog.flows:
        typer.echo(f"No flow '{flow}'. Flows: {', '.join(sorted(catalog.flows))}", err=True)
        raise typer.Exit(2)
    typer.echo(mermaid(catalog.flows[flow], language))


def migrate() -> None:
    """Bring the database up to date (every start does this too; safe to run from many processes at once)."""
    from bot.storage import migrate as migrations
    from bot.storage.repository import Storage

    async def main() -> str | None:
        storage = await Storage.open(Settings().database_url)
        try:
            return await storage.database.run_alone(migrations.current)
        finally:
            await storage.close()

    typer.echo(f"The database is up to date (schema {asyncio.run(main())}).")


COLLABORATE_ITEMS = (
    "help you understand your health issues",
    "listen to what matters most to you",
    "include what matters most in choosing what to do next",
)
"""How the report names the CollaboRATE items, in their published order (the operator's words; the
person's are in the flow)."""


def report_collaborate(
    since: Annotated[str, typer.Option("--since", help="Count answers given on or after this day (YYYY-MM-DD).")],
) -> None:
    """CollaboRATE after appointments, for the whole service (never per person).

    How many answered, each item's mean and share giving the top score; nothing under 5 people."""
    from bot.services.collaborate import MINIMUM_PEOPLE, Collaboration
    from bot.storage.repository import Storage

    try:
        day = dt.date.fromisoformat(since)
    except ValueError:
        typer.echo(f"'{since}' is not a date. Write it as YYYY-MM-DD, for example 2026-11-01.", err=True)
        raise typer.Exit(2) from None
    settings = Settings()
    catalog = _checked_catalog(None)
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)

    async def main() -> Any:
        storage = await Storage.open(settings.database_url)
        try:
            return await Collaboration(storage, catalog, lambda: dt.datetime.now(dt.UTC)).report(start)
        finally:
            await storage.close()

    report = asyncio.run(main())
    typer.echo(f"CollaboRATE since {day.isoformat()}, for the whole service (never per person).")
    typer.echo(
        "Collected in the chat: offered once, the morning after an appointment the person noted; "
        "optional, answered alone, each item 0-9."
    )
    if report.suppressed:
        typer.echo(
            f"Fewer than {MINIMUM_PEOPLE} people answered, so nothing is shown: "
            "so few answers could point to who gave them."
        )
        return
    typer.echo(f"Answered: {report.responses} (by {report.people} people).")
    for number, item in enumerate(report.items, start=1):
        name = COLLABORATE_ITEMS[number - 1] if number <= len(COLLABORATE_ITEMS) else item.id
        if item.mean is None or item.top_share is None:
            typer.echo(f"{number}. {name}: fewer than {MINIMUM_PEOPLE} people answered this one, not shown.")
            continue
        typer.echo(
            f"{number}. {name}: {item.answered} answered, mean {item.mean:.1f}, "
            f"top score ({item.top}) {item.top_share:.0%}"
        )


# --------------------------------------------------------------------------- composition


COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("chat", chat),
    ("run", run),
    ("migrate", plain_database_errors(migrate)),
    ("summary", plain_database_errors(summary_command)),
    ("export", plain_database_errors(export_command)),
    ("worksheets", worksheets_command),
    ("invite", plain_database_errors(invite_command)),
    ("revoke-role", plain_database_errors(revoke_role_command)),
    ("audit", plain_database_errors(audit_command)),
    ("dispatch", plain_database_errors(dispatch_command)),
    ("status", plain_database_errors(operations.status)),
    ("backup", plain_database_errors(operations.backup)),
    ("restore", plain_database_errors(operations.restore)),
)
"""Every top-level command, in the order ``companion --help`` lists them."""

PEOPLE_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("list", plain_database_errors(operations.people_list)),
    ("show", plain_database_errors(operations.people_show)),
    ("delete", plain_database_errors(operations.people_delete)),
)
"""``companion people ...``: find a person's id, see their record without its content, erase it."""

CONTENT_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("check", content_check),
    ("readability", content_readability),
    ("graph", content_graph),
)
"""``companion content ...``"""

REMINDER_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("list", plain_database_errors(reminders_list_command)),
)
"""``companion reminders ...``"""
REPORT_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("collaborate", plain_database_errors(report_collaborate)),
)
"""``companion report ...``: figures for the whole service, never per person."""


def build_app() -> typer.Typer:
    """The ``companion`` command, composed here and only here.

    Modules define their commands as plain functions and register nothing
    themselves, so the command set is the same whatever was imported first,
    and every call builds a fresh, independent app."""
    app = typer.Typer(
        help="SDM Companion: get ready for appointments about your medicine.",
        no_args_is_help=True,
        add_completion=False,
        # A traceback's local variables can hold the bot token or what a person wrote.
        pretty_exceptions_show_locals=False,
    )
    app.callback()(_guard_output)
    for name, function in COMMANDS:
        app.command(name)(function)
    content_app = typer.Typer(help="Check and draw the content (flows, texts).", no_args_is_help=True)
    for name, function in CONTENT_COMMANDS:
        content_app.command(name)(function)
    app.add_typer(content_app, name="content")
    people_app = typer.Typer(
        help="Find people by id and account (never what they wrote), or erase one.", no_args_is_help=True
    )
    for name, function in PEOPLE_COMMANDS:
        people_app.command(name)(function)
    app.add_typer(people_app, name="people")
    reminders_app = typer.Typer(help="See what reminders are queued.", no_args_is_help=True)
    for name, function in REMINDER_COMMANDS:
        reminders_app.command(name)(function)
    app.add_typer(reminders_app, name="reminders")
    report_app = typer.Typer(help="Figures for the whole service (never per person).", no_args_is_help=True)
    for name, function in REPORT_COMMANDS:
        report_app.command(name)(function)
    app.add_typer(report_app, name="report")
    return app


app = build_app()
"""The entry point (``companion = "bot.cli:app"`` in pyproject.toml)."""


if __name__ == "__main__":  # pragma: no cover
    app()
