"""Operator commands for roles: ``companion invite``, ``companion people``, ``companion revoke-role``.

These print for the person running the service (not for service users), so
their words stay here like the rest of the command line's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

import typer

from bot.roles import grants, tokens
from bot.settings import Settings
from bot.storage.repository import Storage


async def bot_username(settings: Settings) -> str | None:
    """COMPANION_BOT_USERNAME, or Telegram's getMe when only the token is set."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if settings.telegram_bot_token is None:
        return None
    from telegram import Bot

    options = {"base_url": settings.bot_api_url} if settings.bot_api_url else {}
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

    link = asyncio.run(main())
    if link is None:
        typer.echo("Set COMPANION_BOT_USERNAME (or TELEGRAM_BOT_TOKEN) so the link can name the bot.", err=True)
        raise typer.Exit(2)
    typer.echo(f"Send this link to the new {role}. It works once, for 7 days:\n{link}")


def people_command() -> None:
    """List everyone who holds a role."""
    settings = Settings()

    async def main() -> list[grants.RoleHolder]:
        storage = await Storage.open(settings.database_url)
        try:
            return await storage.run(lambda tx: grants.holders(tx.connection))
        finally:
            await storage.close()

    holders = asyncio.run(main())
    if not holders:
        typer.echo("Nobody holds a role yet. Make an invite with: companion invite coordinator")
        return
    for holder in holders:
        name = holder.display_name or "(no name)"
        typer.echo(f"{holder.person_id:>6}  {holder.role:<12} {name}  since {holder.granted_at:%Y-%m-%d}")


def revoke_role_command(
    person_id: Annotated[int, typer.Argument(help="The number shown by `companion people`.")],
    role: Annotated[str, typer.Argument(help="coordinator or facilitator")],
) -> None:
    """Take a role away at once (a coordinator then sees nobody's summary)."""
    settings = Settings()

    async def main() -> bool:
        storage = await Storage.open(settings.database_url)
        try:
            return await storage.run(lambda tx: grants.revoke(tx.connection, person_id, role))
        finally:
            await storage.close()

    if asyncio.run(main()):
        typer.echo(f"Person {person_id} is no longer a {role}.")
    else:
        typer.echo(f"Person {person_id} did not hold the role '{role}'.", err=True)
        raise typer.Exit(1)
