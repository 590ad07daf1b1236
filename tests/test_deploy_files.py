"""The deployment files (compose.yaml, the systemd unit, the Dockerfile) name only commands and options
the companion has, so a renamed option fails here rather than on an operator's server."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer
import yaml

from bot.cli import build_app

ROOT = Path(__file__).parent.parent


def _options(command: list[str]) -> None:
    """Fail unless ``command`` (after ``companion``) is a command whose every --option exists."""
    group = typer.main.get_command(build_app())
    name = command[0]
    assert name in group.commands, f"no command `companion {name}`"  # type: ignore[attr-defined]
    known = {option for param in group.commands[name].params for option in param.opts}  # type: ignore[attr-defined]
    for word in command[1:]:
        if word.startswith("--"):
            assert word in known, f"`companion {name}` has no option {word}"


def test_compose_runs_real_commands_with_real_options() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "bot", "dispatcher", "caddy", "migrate"} <= set(services)
    for name in ("bot", "dispatcher", "migrate"):
        _options([str(word) for word in services[name]["command"]])
    bot = services["bot"]["command"]
    assert "--webhook-url" in bot and "--health-port" in bot
    assert "COMPANION_WEBHOOK_SECRET" in services["bot"]["environment"]


def test_the_proxy_limits_request_bodies() -> None:
    assert re.search(r"request_body\s*\{\s*max_size 1MB", (ROOT / "deploy" / "Caddyfile").read_text())
    assert "client_max_body_size 1m;" in (ROOT / "deploy" / "nginx.conf").read_text()


def test_the_systemd_unit_runs_real_commands() -> None:
    unit = (ROOT / "deploy" / "systemd" / "sdm-companion.service").read_text()
    for key in ("ExecStartPre", "ExecStart"):
        line = next(line for line in unit.splitlines() if line.startswith(f"{key}="))
        words = shlex.split(line.split("=", 1)[1])
        assert words[0].endswith("/companion")
        _options(words[1:])


def test_the_image_starts_the_bot_and_checks_its_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["companion"]' in dockerfile and 'CMD ["run"]' in dockerfile
    assert "/healthz" in dockerfile and "USER companion" in dockerfile
