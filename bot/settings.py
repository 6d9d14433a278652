"""All configuration, from the environment and `.env` (pydantic-settings).

A bad value stops start-up with one line that names the setting (see `load_settings`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from handlers.feature_settings import DEFAULTS
from knowledge.courses.client import DEFAULT_API_KEY as DEFAULT_COURSE_API_KEY
from knowledge.courses.client import DEFAULT_BASE_URL as DEFAULT_COURSE_API_BASE_URL
from knowledge.courses.client import DEFAULT_CACHE_TTL as DEFAULT_COURSE_CACHE_TTL

DEFAULT_DB_PATH = Path("data") / "bildungslotse.sqlite3"
_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and is fit for one log line."""


def parse_durations(value: str) -> tuple[dt.timedelta, ...]:
    """'7d,1d,2h' -> (7 days, 1 day, 2 hours), largest first."""
    out: list[dt.timedelta] = []
    for part in value.split(","):
        if not part.strip():
            continue
        m = _DURATION.match(part)
        if not m or int(m.group(1)) == 0:
            raise ValueError(f"'{part.strip()}' is not a lead time like 7d, 1d or 2h")
        out.append(dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))}))
    if not out:
        raise ValueError("at least one lead time is needed, e.g. 7d,1d")
    return tuple(sorted(set(out), reverse=True))


def format_durations(leads: tuple[dt.timedelta, ...]) -> str:
    """(7 days, 1 day, 2 hours) -> '7d,1d,2h': the inverse of `parse_durations`, for defaults."""
    out = []
    for lead in leads:
        minutes = int(lead.total_seconds() // 60)
        if minutes % 1440 == 0:
            out.append(f"{minutes // 1440}d")
        elif minutes % 60 == 0:
            out.append(f"{minutes // 60}h")
        else:
            out.append(f"{minutes}m")
    return ",".join(out)


def format_quiet_hours(quiet: tuple[dt.time, dt.time] | None) -> str:
    return f"{quiet[0]:%H:%M}-{quiet[1]:%H:%M}" if quiet else ""


def parse_quiet_hours(value: str) -> tuple[dt.time, dt.time] | None:
    """'21:00-08:00' -> (21:00, 08:00); empty -> None (no quiet hours)."""
    if not value.strip():
        return None
    m = re.match(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$", value)
    if not m:
        raise ValueError("expected HH:MM-HH:MM, e.g. 21:00-08:00, or empty for none")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    try:
        start, end = dt.time(h1, m1), dt.time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"not a time of day: {exc}") from None
    if start == end:
        raise ValueError("start and end of the quiet hours are equal")
    return start, end


def parse_admin_ids(value: str) -> frozenset[tuple[str, str]]:
    """'telegram:123,matrix:@ann:example.org' -> {('telegram','123'), ('matrix','@ann:example.org')}.

    Admins are people: each transport's spec says which ids name one person, so a group chat or
    a room (whose every member would become an admin) is refused at start-up."""
    from bot.transports import TRANSPORTS  # imported late: the registry imports the transport packages

    specs = {spec.name: spec for spec in TRANSPORTS}
    out: set[tuple[str, str]] = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        transport, sep, ident = part.partition(":")
        spec = specs.get(transport)
        if not sep or spec is None or not ident:
            raise ValueError(f"'{part}' is not transport:id (telegram:123, matrix:@ann:example.org)")
        if not spec.is_person_id(ident):
            examples = ", ".join(s.person_id_example for s in TRANSPORTS if s.person_id_example != "<id>")
            raise ValueError(
                f"'{part}' is not a person; ADMIN_IDS lists people ({examples}), never groups or rooms"
            )
        out.add((transport, ident))
    return frozenset(out)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- core ---
    database_url: str = Field(default=f"sqlite:///{DEFAULT_DB_PATH}")
    timezone: str = DEFAULTS.tz.key
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    default_language: Literal["de", "en"] = "de"
    # how often each bot process asks whether the offer base changed (bot/offer_refresh.py)
    offer_refresh_seconds: int = Field(default=30, ge=1, le=3600)
    # how often `bildungslotse run` hands memory a burst freed back to the system (bot/heap_trim.py); 0 = off
    heap_trim_seconds: int = Field(default=60, ge=0, le=86_400)

    # --- operations: /healthz and /metrics (bot.web); 0 = no HTTP server ---
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)

    # --- Telegram ---
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = None
    # back-pressure: updates taken and not finished per process; beyond it polling stops fetching
    # (bot/telegram/polling.py) and the webhook holds new ones at the door (bot/telegram/webhook.py)
    telegram_max_pending_updates: int = Field(default=256, ge=1)
    telegram_send_rate: float = Field(default=30.0, gt=0)  # messages per second overall
    telegram_per_chat_rate: float = Field(default=1.0, gt=0)  # messages per second per chat
    telegram_per_chat_burst: int = Field(default=8, ge=1)  # messages one chat may get at once (one answer)

    # --- Matrix ---
    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_password: SecretStr | None = None
    matrix_access_token: SecretStr | None = None
    matrix_device_name: str = "Bildungslotse"
    matrix_store_path: Path = Path("data") / "matrix-store"
    matrix_trust: Literal["tofu", "all", "none"] = "tofu"
    matrix_send_rate: float = Field(default=5.0, gt=0)
    matrix_allow_rooms: str = ""  # besides direct chats: room ids, #aliases, :servers (bot/matrix/invites.py)

    # --- reminders ---
    reminder_lead_times: str = format_durations(DEFAULTS.lead_times)
    reminder_tick_seconds: int = Field(default=DEFAULTS.reminder_tick_seconds, ge=1, le=3600)
    quiet_hours: str = format_quiet_hours(DEFAULTS.quiet)

    # --- trust ---
    operator_name: str = DEFAULTS.operator_name
    privacy_contact: str = DEFAULTS.privacy_contact
    admin_ids: str = ""
    inactive_purge_months: int = Field(default=DEFAULTS.inactive_purge_months, ge=1, le=120)
    flood_max_messages: int = Field(default=DEFAULTS.flood_max_messages, ge=1)
    flood_window_seconds: int = Field(default=DEFAULTS.flood_window_seconds, ge=1)

    # --- live courses (Weiterbildungssuche der Bundesagentur für Arbeit, knowledge/courses) ---
    # (not part of FeatureSettings: the features only defer searches; bot/app.py wires the lookup)
    course_search: Literal["on", "off"] = "on"
    course_api_base_url: str = DEFAULT_COURSE_API_BASE_URL
    course_api_key: SecretStr = SecretStr(DEFAULT_COURSE_API_KEY)
    course_cache_ttl: str = format_durations((DEFAULT_COURSE_CACHE_TTL,))

    # --- partner console (`bildungslotse web`, bot/partner_console) ---
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8090, ge=1, le=65535)
    web_secret_key: SecretStr | None = None  # signs session cookies; required by `bildungslotse web`
    web_base_url: str = "http://127.0.0.1:8090"  # public address; https:// makes cookies Secure

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{v}'") from None
        return v

    @field_validator("database_url")
    @classmethod
    def _db(cls, v: str) -> str:
        if not re.match(r"^(sqlite|postgresql|postgres)(\+\w+)?://", v):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return v

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base(cls, v: str) -> str:
        if not re.match(r"^https?://[^/]+", v):
            raise ValueError("must be a server root like http://127.0.0.1:8081")
        return v.rstrip("/")

    @field_validator("course_api_base_url")
    @classmethod
    def _course_base(cls, v: str) -> str:
        if not re.match(r"^https?://[^/]+", v):
            raise ValueError(
                "must be an http(s) address like https://rest.arbeitsagentur.de/infosysbub/wbsuche"
            )
        return v.rstrip("/")

    @field_validator("course_cache_ttl")
    @classmethod
    def _course_ttl(cls, v: str) -> str:
        if len(parse_durations(v)) != 1:
            raise ValueError("expected one duration like 6h or 30m")
        return v

    @field_validator("reminder_lead_times")
    @classmethod
    def _leads(cls, v: str) -> str:
        parse_durations(v)
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        parse_quiet_hours(v)
        return v

    @field_validator("admin_ids")
    @classmethod
    def _admins(cls, v: str) -> str:
        parse_admin_ids(v)
        return v

    # Derived values are plain properties, not cached: `model_copy(update=...)` copies a cache and
    # would keep the old value (tests and operators' tools copy settings with changes).
    @field_validator("web_base_url")
    @classmethod
    def _web_base(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v.strip()):
            raise ValueError("must start with http:// or https://")
        return v.strip().rstrip("/")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def lead_times(self) -> tuple[dt.timedelta, ...]:
        return parse_durations(self.reminder_lead_times)

    @property
    def quiet(self) -> tuple[dt.time, dt.time] | None:
        return parse_quiet_hours(self.quiet_hours)

    @property
    def course_ttl(self) -> dt.timedelta:
        return parse_durations(self.course_cache_ttl)[0]

    @property
    def admins(self) -> frozenset[tuple[str, str]]:
        return parse_admin_ids(self.admin_ids)

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None and bool(self.telegram_bot_token.get_secret_value())

    @property
    def matrix_enabled(self) -> bool:
        return bool(self.matrix_homeserver and self.matrix_user_id)


def load_settings(**overrides: Any) -> Settings:
    """Build settings or raise SettingsError with one line per bad setting, named as in the environment."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "SETTINGS"
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"Ungültige Einstellung {name}: {msg}")
        raise SettingsError("; ".join(lines)) from None
