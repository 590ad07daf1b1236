"""Settings from the environment (or a .env file), via pydantic-settings.

Nothing here is ever logged: the bot token is a SecretStr.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, model_validator
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
    callback_key: SecretStr | None = None
    """COMPANION_CALLBACK_KEY: signs the buttons' callback data (at least 32 characters; e.g.
    ``python3 -c 'import secrets; print(secrets.token_urlsafe(32))'``). Without it the key is
    derived from the bot token, so a new token breaks every button and a leaked one forges them."""
    callback_keys_previous: str = ""
    """COMPANION_CALLBACK_KEYS_PREVIOUS: earlier keys, comma-separated, still accepted while buttons
    signed with them may be pressed (a rotation: move the old key here, set a new one)."""
    keep_update_ids_hours: float = 168
    """COMPANION_KEEP_UPDATE_IDS_HOURS: how long the ids of handled updates are kept (at least 24:
    Telegram redelivers an update for that long; bot/services/retention.py)."""
    org_dir: Path | None = None
    """COMPANION_ORG_DIR (or ``companion --org DIR``): one organisation's folder laid over content/ and
    these settings (bot/organisation.py). Without it, the shipped content as it is."""
    default_language: str = "en"
    default_timezone: str = "Europe/London"
    fhir_base_url: str | None = None
    """COMPANION_FHIR_BASE_URL: where the exported Questionnaires' canonical URLs live."""

    @model_validator(mode="after")
    def _organisation_defaults(self) -> Settings:
        """The organisation's choices fill the settings the environment left unset."""
        if self.org_dir is None:
            return self
        from bot.organisation import read_organisation

        try:
            chosen = read_organisation(self.org_dir).settings
        except ValueError:
            return self  # the content check names the problem, and nothing starts
        for name in ("default_language", "default_timezone", "fhir_base_url"):
            value = getattr(chosen, name)
            if value is not None and name not in self.model_fields_set:
                setattr(self, name, value)
        return self


def callback_keys(settings: Settings, token: str) -> tuple[bytes, tuple[bytes, ...]]:
    """The key that signs new buttons and the earlier ones still accepted."""
    previous = tuple(part.strip().encode() for part in settings.callback_keys_previous.split(",") if part.strip())
    if settings.callback_key is None or not settings.callback_key.get_secret_value():
        return token.encode(), previous
    return settings.callback_key.get_secret_value().encode(), previous
