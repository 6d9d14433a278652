"""Data minimisation on a schedule: users silent for INACTIVE_PURGE_MONTHS are deleted with all their rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from db.engine import session_scope
from db.privacy import purge_inactive
from db.types import utcnow
from handlers.feature_settings import FeatureSettings

log = logging.getLogger(__name__)
DAYS_PER_MONTH = 30.44


def purge_cutoff(now: dt.datetime, months: int) -> dt.datetime:
    return now - dt.timedelta(days=round(months * DAYS_PER_MONTH))


def purge_once(engine: sa.Engine, months: int, now: dt.datetime | None = None) -> int:
    with session_scope(engine) as session:
        return purge_inactive(session, purge_cutoff(now or utcnow(), months))


class MaintenanceRuntime:
    """Runs the purge once at start-up and then daily; counts go to the log, never who."""

    def __init__(self, settings: FeatureSettings, engine: sa.Engine, interval_hours: float = 24) -> None:
        self.engine = engine
        self.months = settings.inactive_purge_months
        self.interval_hours = interval_hours
        self.scheduler: AsyncIOScheduler | None = None

    async def _purge(self) -> None:
        try:
            purged = await asyncio.to_thread(purge_once, self.engine, self.months)
        except sa.exc.OperationalError:
            log.warning("purge of inactive users: database unavailable, trying again next run")
            return
        if purged:
            log.info("purged %d inactive users (no message for %d months)", purged, self.months)

    async def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        scheduler.add_job(
            self._purge, "interval", hours=self.interval_hours, id="purge-inactive", next_run_time=utcnow()
        )
        scheduler.start()
        self.scheduler = scheduler

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
