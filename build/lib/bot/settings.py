"""Settings from the environment (or a .env file), via pydantic-settings.

Nothing here is ever logged: the bot token is a SecretStr.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.content import DEFAULT_CONTENT_DIR


def default_database_url() -> str:
    """An SQLite file in the person's own data folder (e.g. ~/.local/share/sdm-companion)."""
    return f"sqlite:///{Path(user_data_dir('sdm-companion', appauthor=False)) / 'companion.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPANION_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    content_dir: Path = DEFAULT_CONTENT_DIR
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "COMPANION_TELEGRAM_BOT_TOKEN")
    )
    bot_api_url: str | None = None
    """Base URL of a self-hosted Bot API server, e.g. http://localhost:8081/bot"""
    bot_username: str | None = None
    default_language: str = "en"
    default_timezone: str = "Europe/London"
