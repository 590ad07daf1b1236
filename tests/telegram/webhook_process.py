"""A companion bot process in webhook mode, for tests that need several of them on one database.

    python -m tests.telegram.webhook_process DATABASE_URL PORT SECRET

The real PTB Application and webhook server, built by ``build_application``
as ``companion run --webhook-url`` builds it (``in_order``), with the
recording Bot API (harness.py) standing in for Telegram's servers. It prints
``ready`` once it listens, and stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from bot.adapters.telegram.app import WebhookOptions, build_application
from bot.content import load_catalog
from bot.services.app import Services
from bot.services.conversation import Companion
from bot.storage.repository import Storage
from flows.engine import Engine
from tests.telegram.harness import RecordingRequest

TOKEN = "123456:WEBHOOK-PROCESS"


async def serve(url: str, port: int, secret: str) -> None:
    storage = await Storage.open(url, migrate=False)
    companion = Companion(storage, Engine(load_catalog()))
    application = build_application(
        Services.around(companion), TOKEN, request=RecordingRequest(), rate_limit=False, in_order=True
    )
    options = WebhookOptions(url=f"https://example.org/{port}", secret_token=secret, port=port)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    async with application:
        await application.updater.start_webhook(**options.arguments())  # type: ignore[union-attr]
        await application.start()
        print("ready", flush=True)
        await stopped.wait()
        await application.updater.stop()  # type: ignore[union-attr]
        await application.stop()
    await storage.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
