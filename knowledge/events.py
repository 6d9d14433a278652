"""Event files (YAML and iCalendar): validated shapes, parsing, and who an event is for.

Partners keep the event list current by handing in files; a file is parsed and validated whole
before anything is written, so a malformed file imports nothing. Errors name file, entry and field
(the `KnowledgeError` style of the offer base). Times without a zone are read as Europe/Berlin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import icalendar
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from knowledge.loader import KnowledgeError
from knowledge.vocabulary import District, Sector, Situation

LOCAL_TZ = ZoneInfo("Europe/Berlin")
EXAMPLES_FILE = "events_examples.yaml"
ALL: Literal["all"] = "all"
# iCalendar properties that carry what plain calendars have no field for (round trip of our own export)
X_DISTRICTS = "X-BILDUNGSLOTSE-DISTRICTS"
X_SECTORS = "X-BILDUNGSLOTSE-SECTORS"
X_AUDIENCES = "X-BILDUNGSLOTSE-AUDIENCES"
X_TOPICS = "X-BILDUNGSLOTSE-TOPICS"
X_ORGANISER = "X-BILDUNGSLOTSE-ORGANISER"
X_ONLINE = "X-BILDUNGSLOTSE-ONLINE-URL"
X_EXAMPLE = "X-BILDUNGSLOTSE-EXAMPLE"

Uid = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]

# Events of a regional network lie in a human time frame; the bounds keep every later sum
# (reminder lead times, "ends at", local time conversions) far away from datetime's limits.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
MAX_DURATION = dt.timedelta(days=400)


class Topic(StrEnum):
    """What an event is about; subscribers may narrow their reminders to some topics."""

    AUSBILDUNG = "ausbildung"
    STUDIUM = "studium"
    WEITERBILDUNG = "weiterbildung"  # incl. Aufstieg and Umschulung
    FOERDERUNG = "foerderung"
    ANERKENNUNG = "anerkennung"
    BETRIEBE = "betriebe"  # for employers: Fachkräfte gewinnen, Belegschaft qualifizieren


class EventStatus(StrEnum):
    PLANNED = "planned"
    CHANGED = "changed"
    CANCELLED = "cancelled"


class EventIn(BaseModel):
    """One event as a partner delivers it; `id` is the stable key (the UID in iCalendar)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Uid
    title: ShortText
    description: LongText = ""
    start: dt.datetime
    end: dt.datetime | None = None
    place: ShortText | None = None
    online_url: HttpUrl | None = None
    districts: list[District] | Literal["all"] = ALL
    sectors: list[Sector] | Literal["all"] = ALL
    audiences: list[Situation] | Literal["all"] = ALL
    topics: list[Topic] = []
    organiser: ShortText | None = None
    registration_url: HttpUrl | None = None
    status: EventStatus = EventStatus.PLANNED
    example: bool = False

    @field_validator("start", "end", mode="after")
    @classmethod
    def _aware(cls, v: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        if v is None:
            return None
        if v.tzinfo is None:
            tz = (info.context or {}).get("tz", LOCAL_TZ)
            v = v.replace(tzinfo=tz)
        return _in_range(v)

    @field_validator("end", mode="after")
    @classmethod
    def _bounded(cls, v: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        start = info.data.get("start")
        if v is not None and start is not None and v - start > MAX_DURATION:
            raise ValueError(f"Termin dauert länger als {MAX_DURATION.days} Tage")
        return v

    @field_validator("districts", "sectors", "audiences")
    @classmethod
    def _not_empty(cls, v: list[Any] | str) -> list[Any] | str:
        if isinstance(v, list) and not v:
            raise ValueError("needs at least one entry, or 'all'")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> EventIn:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        if self.place is None and self.online_url is None:
            raise ValueError("needs a place or an online_url")
        return self

    def content_hash(self) -> str:
        data = self.model_dump(mode="json")
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class EventsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[dict[str, Any]] = Field(min_length=1)


# --- who an event is for ---------------------------------------------------------------------


def fits(
    values: Sequence[str],
    wanted: str | None,
    *,
    unknown: Iterable[str] = (),
) -> bool:
    """An empty list means 'everyone'; an unknown profile value matches anything."""
    return not values or wanted is None or wanted in unknown or wanted in values


def event_fits(
    *,
    districts: Sequence[str],
    sectors: Sequence[str],
    audiences: Sequence[str],
    topics: Sequence[str],
    district: str | None,
    sector: str | None,
    situation: str | None,
    wanted_topics: Sequence[str] = (),
) -> bool:
    """Does an event (lists as stored: empty = all) suit a profile and a topic choice (empty = all)?

    People outside the region only get events open to every district: regional events are for
    the four Landkreise.
    """
    if district == District.AUSSERHALB and districts:
        return False
    if not fits(districts, district):
        return False
    if not fits(sectors, sector, unknown=(Sector.UNBEKANNT.value,)):
        return False
    if not fits(audiences, situation):
        return False
    return not wanted_topics or not topics or bool(set(wanted_topics) & set(topics))


def as_list(value: list[Any] | str) -> list[str]:
    """'all' -> [] (the stored form of 'everyone'); a list of codes -> their string values."""
    return [] if value == ALL else [str(v) for v in value]


# --- reading files ---------------------------------------------------------------------------


def bundled_examples_path() -> Path:
    return Path(str(resources.files("knowledge") / "data" / EXAMPLES_FILE))


def load_events_file(path: Path, tz: ZoneInfo = LOCAL_TZ) -> list[EventIn]:
    """YAML (.yaml/.yml) or iCalendar (.ics); everything validated, or a KnowledgeError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KnowledgeError(str(path), None, None, "Datei nicht gefunden") from None
    except OSError as exc:
        raise KnowledgeError(str(path), None, None, f"nicht lesbar ({exc.strerror})") from None
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return parse_events_yaml(data, str(path), tz)
    if suffix in (".ics", ".ical", ".ifb", ".icalendar"):
        return parse_ics(data, str(path), tz)
    raise KnowledgeError(str(path), None, None, "unbekanntes Format (erwartet .yaml, .yml oder .ics)")


def parse_events_yaml(data: bytes, source: str, tz: ZoneInfo = LOCAL_TZ) -> list[EventIn]:
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise KnowledgeError(source, None, None, "nicht lesbar (kein UTF-8)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (Zeile {mark.line + 1})" if mark else ""
        raise KnowledgeError(source, None, None, f"kein gültiges YAML{where}") from None
    try:
        file = EventsFile.model_validate(raw)
    except ValidationError:
        raise KnowledgeError(
            source, None, "events", "erwartet eine Zuordnung mit einer nicht leeren Liste 'events'"
        ) from None
    events = []
    for index, item in enumerate(file.events):
        label = str(item.get("id") or f"Nr. {index + 1}")
        events.append(_validate(item, source, label, tz))
    _check_unique(source, events)
    return events


def parse_ics(data: bytes, source: str, tz: ZoneInfo = LOCAL_TZ) -> list[EventIn]:
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise KnowledgeError(source, None, None, f"keine gültige iCalendar-Datei ({exc})") from None
    if not isinstance(calendar, icalendar.Calendar):
        raise KnowledgeError(source, None, None, "keine gültige iCalendar-Datei (VCALENDAR fehlt)")
    components = calendar.walk("VEVENT")
    if not components:
        raise KnowledgeError(source, None, None, "enthält keine Termine (VEVENT)")
    events = []
    for index, component in enumerate(components):
        raw_uid = component.get("UID")
        uid = str(raw_uid).strip() if raw_uid is not None and not isinstance(raw_uid, list) else ""
        label = uid[:80] or f"Nr. {index + 1}"
        if component.errors:
            prop, message = component.errors[0]
            raise KnowledgeError(source, label, prop or None, f"nicht lesbar ({message})")
        if isinstance(raw_uid, list):
            raise KnowledgeError(source, label, "UID", "kommt mehrfach vor")
        if not uid:
            raise KnowledgeError(source, label, "UID", "fehlt (jeder Termin braucht eine eindeutige UID)")
        events.append(_validate(_ics_fields(component, source, label, tz), source, label, tz))
    _check_unique(source, events)
    return events


_ICS_FIELD = {
    "id": "UID",
    "title": "SUMMARY",
    "description": "DESCRIPTION",
    "start": "DTSTART",
    "end": "DTEND",
    "place": "LOCATION",
    "online_url": X_ONLINE,
    "registration_url": "URL",
    "status": "STATUS",
    "districts": X_DISTRICTS,
    "sectors": X_SECTORS,
    "audiences": X_AUDIENCES,
    "topics": X_TOPICS,
    "organiser": X_ORGANISER,
    "example": X_EXAMPLE,
}


# Properties an event has at most once (RFC 5545 3.6.1); icalendar returns a list when a file
# repeats one, and its text would be "[vText(b'…'), …]".
_SINGLE = (
    "UID", "SUMMARY", "DESCRIPTION", "DTSTART", "DTEND", "DURATION", "LOCATION", "URL", "STATUS",
    "ORGANIZER", X_ONLINE, X_DISTRICTS, X_SECTORS, X_AUDIENCES, X_TOPICS, X_ORGANISER, X_EXAMPLE,
)  # fmt: skip
# What reading a property's value can raise on hostile input (dates out of range, odd types).
_READ_ERRORS = (ValueError, TypeError, AttributeError, OverflowError, KeyError, IndexError)


def _ics_fields(component: icalendar.cal.Component, source: str, label: str, tz: ZoneInfo) -> dict[str, Any]:
    for name in _SINGLE:
        if isinstance(component.get(name), list):
            raise KnowledgeError(source, label, name, "kommt mehrfach vor")

    def fail(name: str, message: str) -> KnowledgeError:
        return KnowledgeError(source, label, name, message)

    def text(name: str) -> str | None:
        value = component.get(name)
        if value is None:
            return None
        out = str(value).strip()
        return out or None

    def codes(name: str) -> list[str] | str:
        value = text(name)
        if value is None or value.lower() == ALL:
            return ALL
        return [part.strip() for part in value.split(",") if part.strip()]

    def when(name: str) -> dt.datetime:
        try:
            return _ics_time(getattr(component[name], "dt", None), tz)
        except _READ_ERRORS:
            raise fail(name, "kein lesbarer Zeitpunkt zwischen 1970 und 2199") from None

    fields: dict[str, Any] = {"id": text("UID"), "title": text("SUMMARY")}
    if fields["title"] is None:
        raise fail("SUMMARY", "fehlt (Titel des Termins)")
    fields["description"] = text("DESCRIPTION") or ""
    if component.get("DTSTART") is None:
        raise fail("DTSTART", "fehlt (Beginn des Termins)")
    start = when("DTSTART")
    fields["start"] = start
    if component.get("DTEND") is not None:
        fields["end"] = when("DTEND")
    elif component.get("DURATION") is not None:
        try:
            duration = getattr(component["DURATION"], "dt", None)
            if not isinstance(duration, dt.timedelta) or abs(duration) > MAX_DURATION:
                raise ValueError(duration)
            fields["end"] = start + duration
        except _READ_ERRORS:
            raise fail("DURATION", f"keine Dauer bis {MAX_DURATION.days} Tage") from None
    fields["online_url"] = text(X_ONLINE)
    place = text("LOCATION")
    fields["place"] = None if place == fields["online_url"] else place  # online-only: LOCATION is the link
    fields["registration_url"] = text("URL")
    status = (text("STATUS") or "").upper()
    fields["status"] = EventStatus.CANCELLED if status == "CANCELLED" else EventStatus.PLANNED
    fields["districts"] = codes(X_DISTRICTS)
    fields["sectors"] = codes(X_SECTORS)
    fields["audiences"] = codes(X_AUDIENCES)
    topics = codes(X_TOPICS)
    fields["topics"] = [] if topics == ALL else topics
    organiser = text(X_ORGANISER)
    if organiser is None and component.get("ORGANIZER") is not None:
        try:
            organiser = str(getattr(component["ORGANIZER"], "params", {}).get("CN", "")).strip() or None
        except _READ_ERRORS:
            raise fail("ORGANIZER", "nicht lesbar") from None
    fields["organiser"] = organiser
    fields["example"] = (text(X_EXAMPLE) or "").lower() in ("1", "true", "yes", "ja")
    return fields


def _ics_time(value: object, tz: ZoneInfo) -> dt.datetime:
    """Floating times are local; a date-only (all-day) event starts at local midnight."""
    if not isinstance(value, dt.date):
        raise TypeError(f"no date: {type(value).__name__}")  # a period, a bare time, …
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return _in_range(value)


def _in_range(value: dt.datetime) -> dt.datetime:
    """`value` in UTC, or ValueError when it lies outside EARLIEST..LATEST (or cannot be converted)."""
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"Zeitpunkt außerhalb von {EARLIEST.year}–{LATEST.year - 1}")
    return utc


def _validate(item: dict[str, Any], source: str, label: str, tz: ZoneInfo) -> EventIn:
    try:
        return EventIn.model_validate(item, context={"tz": tz})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"] if not isinstance(p, int) and "[" not in str(p)]
        field = loc[0] if loc else None
        if source.lower().endswith(".ics") and field in _ICS_FIELD:
            field = _ICS_FIELD[field]
        more = f" (und {exc.error_count() - 1} weitere Fehler)" if exc.error_count() > 1 else ""
        message = str(err["msg"]).removeprefix("Value error, ")
        raise KnowledgeError(source, label, field, f"{message}{more}") from None


def _check_unique(source: str, events: list[EventIn]) -> None:
    seen: set[str] = set()
    for event in events:
        if event.id in seen:
            raise KnowledgeError(source, event.id, "id", "id kommt doppelt vor")
        seen.add(event.id)
