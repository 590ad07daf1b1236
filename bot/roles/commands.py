"""Operator commands for roles: ``companion invite``, ``companion revoke-role``,
and ``companion audit`` (a person's audit trail, for their subject-access request).

These print for the person running the service (not for service users), so
their words stay here like the rest of the command line's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any

import typer

from bot.roles import grants, sharing, tokens
from bot.settings import Settings
from bot.storage.repository import PersonRecord, Storage, Transaction


async def bot_username(settings: Settings) -> str | None:
    """COMPANION_BOT_USERNAME, or Telegram's getMe when only the token is set."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if settings.telegram_bot_token is None:
        return None
    from telegram import Bot

    options: dict[str, Any] = {"base_url": settings.bot_api_url} if settings.bot_api_url else {}
    async with Bot(settings.telegram_bot_token.get_secret_value(), **options) as bot:
        return bot.username


def invite_command(
    role: Annotated[str, typer.Argument(help="coordinator or facilitator")],
) -> None:
    """Print a one-time link (valid 7 days) that gives ROLE to whoever opens it in Telegram."""
    if role not in grants.ROLES:
        typer.echo(f"Unknown role '{role}'. Use one of: {', '.join(grants.ROLES)}.", err=True)
        raise typer.Exit(2)
    settings = Settings()

    async def main() -> str | None:
        username = await bot_username(settings)
        if not username:
            return None
        storage = await Storage.open(settings.database_url)
        try:
            token = await storage.run(lambda tx: grants.create_invite(tx.connection, role, dt.datetime.now(dt.UTC)))
        finally:
            await storage.close()
        return tokens.deep_link(username, token)

    from telegram.error import InvalidToken, NetworkError

    from bot.adapters.telegram.runner import TELEGRAM_UNREACHABLE, refusal_message

    try:
        link = asyncio.run(main())
    except InvalidToken as error:  # asking Telegram for the bot's name
        typer.echo(refusal_message(error), err=True)
        raise typer.Exit(2) from None
    except NetworkError as error:
        typer.echo(TELEGRAM_UNREACHABLE.format(kind=type(error.__cause__ or error).__name__), err=True)
        raise typer.Exit(1) from None
    if link is None:
        typer.echo("Set COMPANION_BOT_USERNAME (or TELEGRAM_BOT_TOKEN) so the link can name the bot.", err=True)
        raise typer.Exit(2)
    typer.echo(f"Send this link to the new {role}. It works once, for 7 days:\n{link}")


def revoke_role_command(
    person_id: Annotated[int, typer.Argument(help="The number shown by `companion people list`.")],
    role: Annotated[str, typer.Argument(help="coordinator or facilitator")],
) -> None:
    """Take a role away at once (a coordinator then sees nobody's summary)."""
    settings = Settings()

    async def main() -> tuple[bool, PersonRecord | None, set[str]]:
        storage = await Storage.open(settings.database_url)
        try:

            def work(tx: Transaction) -> tuple[bool, PersonRecord | None, set[str]]:
                revoked = grants.revoke(tx.connection, person_id, role)
                return revoked, tx.person_by_id(person_id), grants.roles_of(tx.connection, person_id)

            return await storage.run(work)
        finally:
            await storage.close()

    revoked, person, held = asyncio.run(main())
    if not revoked:
        typer.echo(f"Person {person_id} did not hold the role '{role}'.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Person {person_id} is no longer a {role}.")
    if person is None or person.channel != "telegram" or settings.telegram_bot_token is None:
        return
    problem = asyncio.run(refresh_role_commands(settings, int(person.external_id), held))
    if problem is None:
        typer.echo("Their Telegram command menu now shows only what they can still use.")
    else:
        typer.echo(
            f"Their Telegram command menu could not be updated now ({problem}). The role is gone either way:"
            f" its commands answer that they are not for them.",
            err=True,
        )


async def refresh_role_commands(settings: Settings, chat_id: int, held: set[str]) -> str | None:
    """Show a private chat the commands for the roles still held, as ``companion run`` would.

    Returns None, or the kind of failure (never its message: that could hold the token)."""
    from telegram.error import TelegramError

    from bot.adapters.telegram.app import build_application
    from bot.adapters.telegram.menus import show_role_commands
    from bot.adapters.telegram.runner import FEATURES
    from bot.runtime import open_services

    assert settings.telegram_bot_token is not None
    services = await open_services(settings)
    companion = services.conversation
    application = build_application(
        services,
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.bot_api_url,
        features=FEATURES,
        bot_username=settings.bot_username,
    )
    try:
        await application.bot.initialize()
        await show_role_commands(application.bot_data["core"], chat_id, held, strict=True)
        return None
    except TelegramError as error:
        return type(error).__name__
    finally:
        await application.bot.shutdown()
        await companion.storage.close()


def audit_command(
    person_id: Annotated[int, typer.Option("--person", help="The person's id (as `companion people list` shows it).")],
) -> None:
    """List a person's audit trail: who looked at their data, and what they looked at (kept after erasure)."""
    settings = Settings()
    now = dt.datetime.now(dt.UTC)

    async def main() -> list[sharing.AuditEntry]:
        storage = await Storage.open(settings.database_url)
        try:

            def work(tx: Transaction) -> list[sharing.AuditEntry]:
                sharing.operator_read(tx.connection, person_id, "operator_audit", now)
                return sharing.trail_of(tx.connection, person_id)

            return await storage.run(work)
        finally:
            await storage.close()

    entries = asyncio.run(main())
    typer.echo(f"Audit trail of person {person_id} (actor, action, subject; operator = the command line):")
    for entry in entries:
        actor = "operator" if entry.actor_id is None else f"person {entry.actor_id}"
        subject = "-" if entry.subject_id is None else f"person {entry.subject_id}"
        outcome = "allowed" if entry.allowed else "refused"
        typer.echo(f"{entry.at:%Y-%m-%d %H:%M:%S} UTC  {actor:<14} {entry.action:<22} {subject:<14} {outcome}")
