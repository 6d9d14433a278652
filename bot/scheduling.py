"""One periodic job on APScheduler, used the way it is meant: the bot's reminder tick and the purge.

A job runs at start-up and then every interval; never two at once (`max_instances=1`); runs missed
while one was still going, or while the machine slept, coalesce into one. The thread-pool executor
(one worker) lets `shutdown(wait=True)` wait for a running job; the asyncio executor would cancel
it. The database stays the truth: a job decides from its rows what to do, not from the schedule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.clock import Clock, system_clock


def tick_scheduler(
    job: Callable[[], object], seconds: float, job_id: str, clock: Clock = system_clock
) -> BackgroundScheduler:
    """A started scheduler running `job` now and then every `seconds`, never twice at once."""
    scheduler = BackgroundScheduler(timezone="UTC", executors={"default": ThreadPoolExecutor(1)})
    scheduler.add_job(
        job,
        "interval",
        seconds=seconds,
        id=job_id,
        next_run_time=clock(),  # once at start-up, then every interval
        max_instances=1,
        coalesce=True,  # runs missed while one was still going (or the machine slept) become one
        misfire_grace_time=max(1, int(seconds)),
    )
    scheduler.start()
    return scheduler


class Ticking:
    """The life cycle every ticking runtime shares: `scheduler` is its started `tick_scheduler`."""

    scheduler: BackgroundScheduler | None = None

    def alive(self) -> bool:
        """For /healthz: the scheduler runs (a stopped or crashed one does nothing any more)."""
        return self.scheduler is not None and self.scheduler.running

    async def stop(self) -> None:
        """Stops ticking; waits for a job in progress, so a stop never cuts a transaction short."""
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            await asyncio.to_thread(scheduler.shutdown, wait=True)
