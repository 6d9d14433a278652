"""The event form: posted fields -> the importer's `EventIn`, or German messages per field.

The rules are the importer's (EventIn) plus what the chat wizard asks for: a title of 3–200
characters and a start in the future. The form never decides who may use an organiser; the
caller checks that (permissions.py) before and after parsing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.datastructures import FormData

from db.event_models import Event
from handlers.admin.common import event_in
from knowledge.events import EventIn, Topic
from knowledge.vocabulary import REGION_DISTRICTS, Sector, Situation

TEXT_FIELDS = ("title", "description", "start", "end", "place", "online_url", "registration_url", "organiser")
LIST_FIELDS = {
    "districts": [d.value for d in REGION_DISTRICTS],
    "sectors": [s.value for s in Sector if s is not Sector.UNBEKANNT],
    "audiences": [s.value for s in Situation],
    "topics": [t.value for t in Topic],
}
_MESSAGES = {
    "online_url": "Bitte eine vollständige Adresse mit https:// angeben.",
    "registration_url": "Bitte eine vollständige Adresse mit https:// angeben.",
    "place": "Bitte einen Ort oder einen Online-Link angeben.",
}


@dataclass
class EventForm:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def values_of(event: Event, tz: ZoneInfo) -> dict[str, Any]:
    """A stored event as the form's values (local times, as the input fields show them)."""
    return {
        "title": event.title,
        "description": event.description,
        "start": event.starts_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "end": event.ends_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if event.ends_at else "",
        "place": event.place or "",
        "online_url": event.online_url or "",
        "registration_url": event.registration_url or "",
        "organiser": event.organiser or "",
        "districts": list(event.districts),
        "sectors": list(event.sectors),
        "audiences": list(event.audiences),
        "topics": list(event.topics),
    }


def read_form(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in TEXT_FIELDS}
    for name, allowed in LIST_FIELDS.items():
        values[name] = [v for v in form.getlist(name) if isinstance(v, str) and v in allowed]
    return values


def _local(text: str, tz: ZoneInfo) -> dt.datetime | None:
    try:
        naive = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return None
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def parse(
    values: dict[str, Any], tz: ZoneInfo, now: dt.datetime, existing: Event | None
) -> tuple[EventIn | None, EventForm]:
    """Valid values -> (EventIn, form); otherwise (None, form with errors). A new event needs a start
    in the future; a stored one may keep its start (already past or not)."""
    form = EventForm(values=values)
    errors = form.errors
    if not 3 <= len(values["title"]) <= 200:
        errors["title"] = "Bitte einen Titel mit 3 bis 200 Zeichen angeben."
    start = _local(values["start"], tz)
    keeps_start = existing is not None and start == existing.starts_at
    if start is None:
        errors["start"] = "Bitte Datum und Uhrzeit des Beginns angeben."
    elif start <= now and not keeps_start:
        errors["start"] = "Der Beginn muss in der Zukunft liegen."
    end = _local(values["end"], tz) if values["end"] else None
    if values["end"] and end is None:
        errors["end"] = "Bitte Datum und Uhrzeit des Endes angeben oder das Feld leer lassen."
    elif end is not None and start is not None and end <= start:
        errors["end"] = "Das Ende muss nach dem Beginn liegen."
    if not values["place"] and not values["online_url"]:
        errors["place"] = _MESSAGES["place"]
    if len(values["place"]) > 200:
        errors["place"] = "Der Ort darf höchstens 200 Zeichen haben."
    if len(values["description"]) > 4000:
        errors["description"] = "Die Beschreibung darf höchstens 4000 Zeichen haben."
    if errors or start is None:
        return None, form
    data: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "start": start,
        "end": end,
        "place": values["place"] or None,
        "online_url": values["online_url"] or None,
        "registration_url": values["registration_url"] or None,
        "organiser": values["organiser"] or None,
        **{name: values[name] or "all" for name in ("districts", "sectors", "audiences")},
        "topics": values["topics"],
    }
    try:
        if existing is not None:
            return event_in(existing, **data), form
        return EventIn.model_validate({"id": f"web-{uuid.uuid4().hex[:12]}", **data}), form
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "place"
            errors[name if name in values else "place"] = _MESSAGES.get(
                name, "Bitte prüfen Sie diese Angabe."
            )
        return None, form


def changed_fields(event: Event, data: EventIn) -> list[str]:
    before = event_in(event)
    return [
        name
        for name in (
            "title",
            "description",
            "start",
            "end",
            "place",
            "online_url",
            "districts",
            "sectors",
            "audiences",
            "topics",
            "organiser",
            "registration_url",
        )
        if getattr(before, name) != getattr(data, name)
    ]
