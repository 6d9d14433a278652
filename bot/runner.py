"""Starts every configured messenger transport and the reminder scheduler in one asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bot.app import build_service
from bot.maintenance import MaintenanceRuntime
from bot.outbound import Runtime, Sender
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.reminders.runtime import ReminderRuntime

log = logging.getLogger(__name__)


class NothingConfigured(Exception):
    pass


def run_transports(settings: Settings, engine: sa.Engine) -> None:
    if not (settings.telegram_enabled or settings.matrix_enabled):
        raise NothingConfigured(
            "Kein Messenger konfiguriert: TELEGRAM_BOT_TOKEN oder MATRIX_HOMESERVER/MATRIX_USER_ID setzen."
        )
    asyncio.run(serve(settings, engine))


async def serve(settings: Settings, engine: sa.Engine, stop: asyncio.Event | None = None) -> None:
    """Runs until SIGINT/SIGTERM (or `stop` is set); stops everything in reverse order."""
    service = build_service(settings, engine)
    runtimes: list[Runtime] = []
    if settings.telegram_enabled:
        from bot.telegram.runtime import TelegramRuntime

        runtimes.append(TelegramRuntime(settings, service))
    if settings.matrix_enabled:
        from bot.matrix.runtime import MatrixRuntime

        runtimes.append(MatrixRuntime(settings, service))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started: list[Runtime] = []
    try:
        for runtime in runtimes:
            await runtime.start()
            started.append(runtime)
        senders: dict[str, Sender] = {r.sender.transport: r.sender for r in started}
        scheduler = _start_reminders(settings, engine, senders)
        maintenance = MaintenanceRuntime(settings, engine)
        await maintenance.start()
        log.info("Bildungslotse läuft: %s", ", ".join(senders) or "-")
        await stop.wait()
        await maintenance.stop()
        if scheduler is not None:
            await scheduler.stop()
    finally:
        for runtime in reversed(started):
            with contextlib.suppress(Exception):
                await runtime.stop()


def _start_reminders(
    settings: Settings, engine: sa.Engine, senders: dict[str, Sender]
) -> ReminderRuntime | None:
    """The reminder scheduler: ticks now and every REMINDER_TICK_SECONDS, sends through `senders`."""
    from bot.reminders.runtime import ReminderRuntime

    runtime = ReminderRuntime(settings, engine, senders)
    runtime.start_now()
    return runtime
