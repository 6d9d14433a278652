"""Starts every configured messenger transport and the schedulers (reminders, purge, offer refresh,
heap trim) in one asyncio loop.

Which transports exist and how each starts is the registry's business (`bot.transports`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bot.app import build_service
from bot.heap_trim import HeapTrim, glibc_malloc_trim
from bot.maintenance import MaintenanceRuntime
from bot.offer_refresh import OfferRefresh
from bot.outbound import Runtime, Sender
from bot.settings import Settings
from bot.transports import startable
from bot.web.app import create_app
from bot.web.health import Health
from bot.web.metrics import count_heap_trim, observe_turn, set_offer_revision
from bot.web.server import HttpServer
from handlers.feature_settings import FeatureSettings

if TYPE_CHECKING:
    from bot.reminders.runtime import ReminderRuntime

log = logging.getLogger(__name__)


class NothingConfigured(Exception):
    pass


def run_transports(settings: Settings, engine: sa.Engine) -> None:
    if not any(spec.is_configured(settings) for spec in startable()):
        hints = " oder ".join(spec.setup_hint for spec in startable())
        raise NothingConfigured(f"Kein Messenger konfiguriert: {hints} setzen.")
    asyncio.run(serve(settings, engine))


async def serve(settings: Settings, engine: sa.Engine, stop: asyncio.Event | None = None) -> None:
    """Runs until SIGINT/SIGTERM (or `stop` is set); stops everything in reverse order."""
    service = build_service(settings, engine)
    service.observe = observe_turn
    runtimes: list[Runtime] = [
        spec.create_runtime(settings, service)
        for spec in startable()
        if spec.create_runtime is not None and spec.is_configured(settings)
    ]
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started: list[Runtime] = []
    # health and metrics first: a busy port fails before anything connects, and until everything
    # below has started /healthz says 503 "starting" (an orchestrator waits instead of routing)
    health = Health(engine, ready=False)
    http = None
    if settings.http_port:
        http = HttpServer(create_app(health), settings.http_host, settings.http_port)
    scheduler: ReminderRuntime | None = None
    maintenance: MaintenanceRuntime | None = None
    refresh = OfferRefresh(service, engine, settings.offer_refresh_seconds, on_loaded=set_offer_revision)
    health.info["offer_base"] = refresh.status
    heap_trim = HeapTrim(settings.heap_trim_seconds, glibc_malloc_trim(), on_trim=count_heap_trim)
    try:
        if http is not None:
            await http.start()
        for runtime in runtimes:
            await runtime.start()
            started.append(runtime)
            health.transports[runtime.sender.transport] = runtime.connected
        senders: dict[str, Sender] = {r.sender.transport: r.sender for r in started}
        scheduler = _start_reminders(service.settings, engine, senders)
        health.schedulers["reminders"] = scheduler.alive
        maintenance = MaintenanceRuntime(service.settings, engine)
        await maintenance.start()
        health.schedulers["purge"] = maintenance.alive
        await refresh.start()
        health.schedulers["offer-refresh"] = refresh.alive
        await heap_trim.start()
        health.ready = True
        log.info("Bildungslotse läuft: %s", ", ".join(senders) or "-")
        await stop.wait()
    finally:
        if http is not None:
            await http.stop()
        await heap_trim.stop()
        await refresh.stop()
        if maintenance is not None:
            await maintenance.stop()
        if scheduler is not None:
            await scheduler.stop()
        for runtime in reversed(started):
            with contextlib.suppress(Exception):
                await runtime.stop()


def _start_reminders(
    settings: FeatureSettings, engine: sa.Engine, senders: dict[str, Sender]
) -> ReminderRuntime:
    """The reminder scheduler: ticks now and every REMINDER_TICK_SECONDS, sends through `senders`."""
    from bot.reminders.runtime import ReminderRuntime

    runtime = ReminderRuntime(settings, engine, senders)
    runtime.start_now()
    return runtime
