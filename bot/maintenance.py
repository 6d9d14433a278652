"""Data minimisation on a schedule: users silent for INACTIVE_PURGE_MONTHS are deleted with all their rows.

The purge is plain database work, so it runs in the scheduler's worker thread; stopping waits for a
purge in progress (`shutdown(wait=True)`), so a stop never cuts a transaction short.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from bot.clock import Clock, system_clock
from bot.scheduling import Ticking, tick_scheduler
from db.engine import session_scope
from db.privacy import purge_inactive
from handlers.feature_settings import FeatureSettings

log = logging.getLogger(__name__)
DAYS_PER_MONTH = 30.44


def purge_cutoff(now: dt.datetime, months: int) -> dt.datetime:
    return now - dt.timedelta(days=round(months * DAYS_PER_MONTH))


def purge_once(engine: sa.Engine, months: int, now: dt.datetime) -> int:
    with session_scope(engine) as session:
        return purge_inactive(session, purge_cutoff(now, months))


class MaintenanceRuntime(Ticking):
    """Runs the purge once at start-up and then daily; counts go to the log, never who."""

    def __init__(
        self,
        settings: FeatureSettings,
        engine: sa.Engine,
        interval_hours: float = 24,
        clock: Clock = system_clock,
    ) -> None:
        self.engine = engine
        self.months = settings.inactive_purge_months
        self.interval_hours = interval_hours
        self.clock = clock

    def _purge(self) -> None:
        try:
            purged = purge_once(self.engine, self.months, self.clock())
        except sa.exc.OperationalError:
            log.warning("purge of inactive users: database unavailable, trying again next run")
            return
        if purged:
            log.info("purged %d inactive users (no message for %d months)", purged, self.months)

    async def start(self) -> None:
        self.scheduler = tick_scheduler(self._purge, self.interval_hours * 3600, "purge-inactive", self.clock)
