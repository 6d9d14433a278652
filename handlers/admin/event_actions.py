"""Adding, changing and cancelling an event: the one implementation behind every partner tool.

The chat wizards (/termin_neu, /termin_aendern, /termin_absagen) and the partner console call
these functions, so an event created in the console and one created in a chat go through the same
validation (EventIn), the same import (`upsert_events`, which bumps the notice counter the
reminder planner turns into notices to subscribers) and the same audit entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlmodel import Session

from db import audit
from db.event_models import Event
from db.events import cancel_event, find_event, upsert_events
from knowledge.events import EventIn


def add_event(session: Session, data: EventIn, now: dt.datetime, actor: str, source: str = "admin") -> Event:
    upsert_events(session, [data], now, source=source)
    audit.record(session, actor, "event_add", event=data.id, title=data.title)
    saved = find_event(session, data.id)
    assert saved is not None
    return saved


def change_event(
    session: Session, event: Event, data: EventIn, now: dt.datetime, actor: str, fields: Iterable[str]
) -> None:
    """Stores the changed event; moving it (time, place) tells everyone concerned."""
    upsert_events(session, [data], now, source=event.source)
    audit.record(session, actor, "event_change", event=event.uid, fields=sorted(fields))


def cancel(session: Session, event: Event, now: dt.datetime, actor: str) -> bool:
    """False if it was cancelled already (nothing is written then)."""
    if not cancel_event(session, event, now):
        return False
    audit.record(session, actor, "event_cancel", event=event.uid)
    return True
