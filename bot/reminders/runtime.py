"""The APScheduler side of reminders: it only ticks. The database decides what is due.

One tick at start-up (reminders missed while the bot was down go out now, if the event is still
ahead) and then every REMINDER_TICK_SECONDS. A tick plans due rows and drains the outbox; a tick
that comes while the previous one still drains is skipped (a long fan-out is one drain).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Mapping

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.outbound import Sender
from bot.reminders.dispatcher import Dispatcher, DispatchReport
from bot.reminders.planner import ReminderRules
from db.deliveries import PlanReport
from db.types import utcnow
from handlers.feature_settings import FeatureSettings

log = logging.getLogger(__name__)
JOB_ID = "reminder-tick"


class ReminderRuntime:
    def __init__(
        self,
        settings: FeatureSettings,
        engine: sa.Engine,
        senders: Mapping[str, Sender],
        *,
        dispatcher: Dispatcher | None = None,
        tick_seconds: float | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        self.dispatcher = dispatcher or Dispatcher(engine, senders, ReminderRules.from_settings(settings))
        self.tick_seconds = tick_seconds or settings.reminder_tick_seconds
        self.stop_timeout = stop_timeout
        self.scheduler: AsyncIOScheduler | None = None
        self.ticks = 0
        self.last: tuple[PlanReport, DispatchReport] | None = None
        self.tick_done = asyncio.Event()  # set whenever a tick ends (ok or not)
        self._lock = asyncio.Lock()
        self._current: asyncio.Task[None] | None = None

    def start_now(self) -> None:
        """Synchronous start inside a running loop (bot.runner calls it between awaits)."""
        self.dispatcher.recover()
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        scheduler.add_job(
            self._tick_job,
            "interval",
            seconds=self.tick_seconds,
            id=JOB_ID,
            next_run_time=utcnow(),  # once at start-up, then every interval
            max_instances=2,  # a tick during a long drain starts, sees the lock and returns quietly
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        self.scheduler = scheduler

    async def start(self) -> None:
        self.start_now()

    async def _tick_job(self) -> None:
        if self._lock.locked():
            return  # the previous tick is still draining the outbox
        self._current = asyncio.current_task()
        try:
            await self.tick()
        finally:
            self._current = None

    async def tick(self) -> tuple[PlanReport, DispatchReport] | None:
        async with self._lock:
            try:
                plan, sent = await self.dispatcher.run_once()
            except sa.exc.OperationalError:
                log.warning("reminder tick: database unavailable, trying again next tick")
                return None
            except Exception:
                log.exception("reminder tick failed")
                return None
            finally:
                self.tick_done.set()
            self.ticks += 1
            self.last = (plan, sent)
            if plan.reminders or plan.notices or sent.total:
                log.info(
                    "reminders: planned %d + %d notices; sent %d, retry %d, blocked %d, failed %d, "
                    "skipped %d",
                    plan.reminders,
                    plan.notices,
                    sent.sent,
                    sent.retried,
                    sent.blocked,
                    sent.failed,
                    sent.skipped,
                )
            return plan, sent

    async def stop(self) -> None:
        """Stop ticking, let in-flight sends finish (bounded), give back unsent claims.

        The scheduler is shut down only after the running tick ended: APScheduler's asyncio
        executor cancels running jobs on shutdown, which would cut sends off mid-flight."""
        if self.scheduler is not None:
            self.scheduler.pause()
        self.dispatcher.stop()
        current = self._current
        if current is not None and not current.done():
            try:
                await asyncio.wait_for(asyncio.shield(current), self.stop_timeout)
            except TimeoutError:
                current.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await current
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        await asyncio.to_thread(self.dispatcher.release_own)
        self.dispatcher.close()
