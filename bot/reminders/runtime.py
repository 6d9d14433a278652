"""The APScheduler side of reminders: it only ticks. The database decides what is due.

One job, ticking once at start-up (reminders missed while the bot was down go out now, if the event
is still ahead) and then every REMINDER_TICK_SECONDS. APScheduler keeps the rhythm: one instance at
a time (a tick that comes while the previous one still drains is skipped, a long fan-out is one
drain), missed runs coalesce into one, and stopping is `shutdown(wait=True)`, which waits for the
running tick. That needs the thread-pool executor (the asyncio one cancels running jobs on
shutdown); its one worker thread hands each tick to the bot's event loop, where the senders live.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from bot.clock import Clock, system_clock
from bot.outbound import Sender
from bot.reminders.dispatcher import Dispatcher, DispatchReport
from bot.reminders.planner import ReminderRules
from bot.scheduling import Ticking, tick_scheduler
from bot.web.metrics import count_reminders
from db.deliveries import PlanReport
from handlers.feature_settings import FeatureSettings

log = logging.getLogger(__name__)
JOB_ID = "reminder-tick"


class ReminderRuntime(Ticking):
    def __init__(
        self,
        settings: FeatureSettings,
        engine: sa.Engine,
        senders: Mapping[str, Sender],
        *,
        dispatcher: Dispatcher | None = None,
        tick_seconds: float | None = None,
        stop_timeout: float = 10.0,
        clock: Clock = system_clock,
    ) -> None:
        self.clock = clock
        self.dispatcher = dispatcher or Dispatcher(
            engine, senders, ReminderRules.from_settings(settings), clock=clock
        )
        self.tick_seconds = tick_seconds or settings.reminder_tick_seconds
        self.stop_timeout = stop_timeout
        self.ticks = 0
        self.last: tuple[PlanReport, DispatchReport] | None = None
        self.tick_done = asyncio.Event()  # set whenever a tick ends (ok or not)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: concurrent.futures.Future[Any] | None = None

    def start_now(self) -> None:
        """Synchronous start inside a running loop (bot.runner calls it between awaits)."""
        self.dispatcher.recover()
        self._loop = asyncio.get_running_loop()
        self.scheduler = tick_scheduler(self._tick_job, self.tick_seconds, JOB_ID, self.clock)

    async def start(self) -> None:
        self.start_now()

    def _tick_job(self) -> None:
        """In the scheduler's worker thread: run one tick on the bot's loop and wait for it."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        running = self._running = asyncio.run_coroutine_threadsafe(self.tick(), loop)
        try:
            while True:  # waits out a long drain, but not a loop that went away without stop()
                try:
                    running.result(timeout=1.0)
                    return
                except concurrent.futures.TimeoutError:
                    if loop.is_closed():
                        return
        except concurrent.futures.CancelledError:
            return  # stop() ran out of patience
        finally:
            self._running = None

    async def tick(self) -> tuple[PlanReport, DispatchReport] | None:
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
        count_reminders(sent.sent, sent.retried, sent.blocked, sent.failed, sent.skipped)
        if plan.reminders or plan.notices or sent.total:
            log.info(
                "reminders: planned %d + %d notices; sent %d, retry %d, blocked %d, failed %d, skipped %d",
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
        """Stop ticking, let in-flight sends finish (bounded), give back unsent claims."""
        self.dispatcher.stop()  # the running drain finishes what is in flight and claims nothing new
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            shutdown = asyncio.ensure_future(asyncio.to_thread(scheduler.shutdown, wait=True))
            try:
                await asyncio.wait_for(asyncio.shield(shutdown), self.stop_timeout)
            except TimeoutError:
                running = self._running
                if running is not None:
                    running.cancel()  # cancels the tick on this loop; the worker thread then returns
                await shutdown
        try:
            await asyncio.to_thread(self.dispatcher.release_own)
        except sa.exc.OperationalError:  # the next start's recover() gives the claims back
            log.warning("reminders: database unavailable at stop, claims are released at the next start")
        self.dispatcher.close()
