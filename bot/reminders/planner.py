"""Which reminder is due at time T: lead times, quiet hours and late subscriptions, as pure functions.

Rules (every function takes `now`; nothing here reads a clock):
- a lead time L is *reached* at start − L; it is sent then, or at the end of the quiet hours if it
  falls into them — but never at or after the start of the event;
- a subscriber is only reminded of lead times reached at or after the moment they subscribed,
  so a new subscriber is not flooded with past-due reminders;
- when several lead times are due at once (quiet hours, the bot was down), only the shortest one
  goes out: one reminder with the current news instead of a burst of stale ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from handlers.feature_settings import DEFAULTS, FeatureSettings

BERLIN = DEFAULTS.tz


@dataclass(frozen=True, slots=True)
class Scheduled:
    lead: dt.timedelta
    nominal: dt.datetime  # start − lead
    send_at: dt.datetime  # nominal, or the end of the quiet hours it falls into

    @property
    def lead_minutes(self) -> int:
        return lead_minutes(self.lead)


def lead_minutes(lead: dt.timedelta) -> int:
    return int(lead.total_seconds() // 60)


@dataclass(frozen=True)
class ReminderRules:
    leads: tuple[dt.timedelta, ...] = DEFAULTS.lead_times
    quiet: tuple[dt.time, dt.time] | None = DEFAULTS.quiet
    tz: ZoneInfo = DEFAULTS.tz

    def __post_init__(self) -> None:
        if not self.leads:
            raise ValueError("at least one lead time is needed")
        object.__setattr__(self, "leads", tuple(sorted(set(self.leads), reverse=True)))

    @classmethod
    def from_settings(cls, settings: FeatureSettings) -> ReminderRules:
        return cls(leads=settings.lead_times, quiet=settings.quiet, tz=settings.tz)

    # --- quiet hours ---------------------------------------------------------------------------
    def in_quiet(self, t: dt.datetime) -> bool:
        if self.quiet is None:
            return False
        start, end = self.quiet
        local = t.astimezone(self.tz).time()
        if start < end:
            return start <= local < end
        return local >= start or local < end

    def quiet_end(self, t: dt.datetime) -> dt.datetime:
        """End of the quiet period that contains `t` (UTC); `t` itself when it is not quiet."""
        if self.quiet is None or not self.in_quiet(t):
            return t
        start, end = self.quiet
        local = t.astimezone(self.tz)
        day = local.date()
        if start > end and local.time() >= start:  # over midnight: ends tomorrow morning
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, end, tzinfo=self.tz).astimezone(dt.UTC)

    def defer(self, t: dt.datetime) -> dt.datetime:
        return self.quiet_end(t)

    # --- reminders -----------------------------------------------------------------------------
    def schedule(self, starts_at: dt.datetime, subscribed_at: dt.datetime | None = None) -> list[Scheduled]:
        """Every reminder a subscriber gets for an event starting at `starts_at`, longest lead first."""
        out: list[Scheduled] = []
        for lead in self.leads:
            nominal = starts_at - lead
            if subscribed_at is not None and nominal < subscribed_at:
                continue
            send_at = self.defer(nominal)
            if send_at >= starts_at:
                continue
            out.append(Scheduled(lead, nominal, send_at))
        return out

    def current(self, starts_at: dt.datetime, now: dt.datetime) -> Scheduled | None:
        """The reminder to send at `now` to everyone who subscribed at or before its `nominal` time.

        Subscribers who came later get nothing now (their next lead time is still ahead, or none is).
        """
        if now >= starts_at or self.in_quiet(now):
            return None
        due = [s for s in self.schedule(starts_at) if s.send_at <= now]
        return min(due, key=lambda s: s.lead) if due else None

    def due(self, starts_at: dt.datetime, subscribed_at: dt.datetime, now: dt.datetime) -> Scheduled | None:
        """The reminder one subscriber should get at `now`, if any (already sent ones are the caller's)."""
        current = self.current(starts_at, now)
        if current is None or subscribed_at > current.nominal:
            return None
        return current

    # --- change and cancellation notices -------------------------------------------------------
    def notice_due_at(self, now: dt.datetime, starts_at: dt.datetime) -> dt.datetime:
        """Notices also wait for the morning — unless the event would begin before then."""
        end = self.quiet_end(now)
        return now if end == now or starts_at <= end else end
