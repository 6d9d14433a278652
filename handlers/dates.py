"""Dates and times as the user's language writes them (Babel), one place for every reply.

German: "Mo., 26.10.2026", "00:10"; English: "Mon, 26 Oct 2026", "00:10". English uses the British
conventions (day before month, 24-hour clock): the readers live in Germany, where timetables and
invitations use the 24-hour clock, and a month name cannot be misread as 10/26 or 26/10.
Callers convert to the local time zone first; nothing here reads a clock.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_time

LOCALES = {"de": "de_DE", "en": "en_GB"}


def _locale(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["de"])


def date_text(lang: str, value: dt.date) -> str:
    """26.10.2026 / 26 Oct 2026 (a datetime shows its own date, in its own time zone)."""
    return format_date(value, "medium", locale=_locale(lang))


def weekday_text(lang: str, value: dt.date) -> str:
    """Mo. / Mon"""
    return format_date(value, "EEE", locale=_locale(lang))


def time_text(lang: str, value: dt.time | dt.datetime) -> str:
    """00:10 / 00:10 — the wall-clock time the value carries, never converted."""
    clock_time = value.time() if isinstance(value, dt.datetime) else value
    return format_time(clock_time, "short", locale=_locale(lang))
