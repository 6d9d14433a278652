"""What the features need to know of the operator's configuration, typed and with the defaults in one place.

The dialog core must not import `bot.settings` (that is the transport and environment layer), yet
the events, privacy and admin features, the reminder planner and the purge need the time zone,
lead times, quiet hours, admins and contact texts. `bot.app.feature_settings` builds this view
from `bot.settings.Settings`; `Settings` takes its defaults from `DEFAULTS` below, so a default
is written once and a test that needs no configuration can simply use `FeatureSettings()`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class FeatureSettings:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    default_language: str = "de"  # for a brand-new conversation without a client language hint
    # reminders: lead times (largest first) and quiet hours (local start, end) or None for none
    lead_times: tuple[dt.timedelta, ...] = (dt.timedelta(days=7), dt.timedelta(days=1))
    quiet: tuple[dt.time, dt.time] | None = (dt.time(21, 0), dt.time(8, 0))
    reminder_tick_seconds: int = 30
    # trust: who may use the admin commands, (transport, external id)
    admins: frozenset[tuple[str, str]] = frozenset()
    operator_name: str = "Netzwerk „Vernetzte Bildungsräume“ (Betreiber bitte eintragen)"
    privacy_contact: str = "datenschutz@example.org (Betreiber bitte eintragen)"
    inactive_purge_months: int = 12
    flood_max_messages: int = 20
    flood_window_seconds: int = 10


DEFAULTS = FeatureSettings()
