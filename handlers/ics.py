"""One event as an iCalendar file (sent as a document), readable again by our own importer.

Times are written in UTC, which every calendar converts to local time; what plain calendars have
no field for (districts, audiences, topics, organiser id) travels in X- properties, so exporting
and importing an event gives the same event.
"""

from __future__ import annotations

import datetime as dt

import icalendar

from db.event_models import Event
from handlers.turn import Attachment
from knowledge import events as ev

PRODID = "-//Vernetzte Bildungsräume//Bildungslotse//DE"
MIME_TYPE = "text/calendar"


def _codes(values: list[str]) -> str:
    return ",".join(values) if values else ev.ALL


def event_calendar(event: Event, now: dt.datetime) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    item = icalendar.Event()
    item.add("uid", event.uid)
    item.add("dtstamp", now.astimezone(dt.UTC))
    item.add("dtstart", event.starts_at.astimezone(dt.UTC))
    if event.ends_at is not None:
        item.add("dtend", event.ends_at.astimezone(dt.UTC))
    item.add("summary", event.title)
    if event.description:
        item.add("description", event.description)
    if event.place:
        item.add("location", event.place)
    elif event.online_url:
        item.add("location", event.online_url)
    if event.registration_url:
        item.add("url", event.registration_url)
    item.add("status", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
    item.add("sequence", event.notice_seq)
    if event.online_url:
        item.add(ev.X_ONLINE, event.online_url)
    item.add(ev.X_DISTRICTS, _codes(event.districts))
    item.add(ev.X_SECTORS, _codes(event.sectors))
    item.add(ev.X_AUDIENCES, _codes(event.audiences))
    if event.topics:
        item.add(ev.X_TOPICS, ",".join(event.topics))
    if event.organiser:
        item.add(ev.X_ORGANISER, event.organiser)
    if event.example:
        item.add(ev.X_EXAMPLE, "true")
    cal.add_component(item)
    return cal.to_ical()


def ics_attachment(event: Event, now: dt.datetime) -> Attachment:
    return Attachment(
        filename=f"termin-{event.id}.ics",
        mime_type=MIME_TYPE,
        data=event_calendar(event, now),
    )
