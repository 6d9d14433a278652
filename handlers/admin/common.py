"""What every admin wizard shares: the step table, questions with an abort button, previews.

A wizard is a pending key ("adm_new") plus a table from step name to one small function that
takes the typed answer. The step in progress is stored as "<key>:<step>" in the conversation
state, so a wizard survives restarts and runs in any process; buttons are routed by their
action through one table as well (see `handlers.admin`). "Now" is always the turn's time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from db.event_models import Event
from db.events import unsaved_event
from handlers.events import event_text
from handlers.features import FeatureContext
from handlers.turn import Option, Reply
from knowledge.events import EventIn, EventStatus

ABORT = "adm:abort"
KEEP = "-"  # typed at a change question: keep the current value
_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*[, ]\s*(\d{1,2})[:.](\d{2})\s*(?:uhr)?\s*$", re.I)

StepFn = Callable[[FeatureContext, str], list[Reply]]  # (context, the typed answer, stripped)
ButtonFn = Callable[[FeatureContext, str], list[Reply]]  # (context, the value after "adm:<action>:")


@dataclass(frozen=True)
class Wizard:
    key: str  # pending prefix, e.g. "adm_new"
    steps: Mapping[str, StepFn]
    fallback: str  # the step that answers a pending step this version does not know

    def pending(self, step: str) -> str:
        return f"{self.key}:{step}"

    def at(self, ctx: FeatureContext, step: str) -> bool:
        return ctx.state.pending == self.pending(step)

    def answer(self, ctx: FeatureContext) -> list[Reply]:
        """The pending handler: the typed text goes to the function of the current step."""
        step = (ctx.state.pending or "").partition(":")[2]
        run = self.steps.get(step) or self.steps[self.fallback]
        return run(ctx, ctx.turn.text.strip())

    def ask(
        self, ctx: FeatureContext, step: str, key: str, options: tuple[Option, ...] = (), **params: object
    ) -> list[Reply]:
        ctx.state.pending = self.pending(step)
        buttons = (*options, Option(ABORT, ctx.t("admin.abort")))
        return [Reply(ctx.t(key, **params), options=buttons, question=True)]


def finish(ctx: FeatureContext) -> None:
    ctx.state.pending = None
    ctx.state.draft = {}


def abort(ctx: FeatureContext, _value: str = "") -> list[Reply]:
    finish(ctx)
    return [Reply(ctx.t("admin.aborted"))]


def stale(ctx: FeatureContext, _value: str = "") -> list[Reply]:
    return [Reply(ctx.t("stale_option"))]


def tz(ctx: FeatureContext) -> ZoneInfo:
    return ctx.settings.tz


def parse_local_datetime(text: str, zone: ZoneInfo) -> dt.datetime | None:
    """'24.03.2027 17:30' in local time -> aware UTC datetime; None if not that shape or no real date."""
    m = _DATE.match(text)
    if not m:
        return None
    day, month, year, hour, minute = (int(g) for g in m.groups())
    try:
        return dt.datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(dt.UTC)
    except ValueError:
        return None


def future_start(ctx: FeatureContext, text: str) -> dt.datetime | None:
    """A typed start time that lies after this turn; None otherwise."""
    start = parse_local_datetime(text, tz(ctx))
    return start if start is not None and start > ctx.turn.at else None


def event_in(event: Event, **changes: Any) -> EventIn:
    """The stored event as import data, with changes: re-uses the importer's validation and notices."""
    data: dict[str, Any] = {
        "id": event.uid,
        "title": event.title,
        "description": event.description,
        "start": event.starts_at,
        "end": event.ends_at,
        "place": event.place,
        "online_url": event.online_url,
        "districts": event.districts or "all",
        "sectors": event.sectors or "all",
        "audiences": event.audiences or "all",
        "topics": event.topics,
        "organiser": event.organiser,
        "registration_url": event.registration_url,
        "status": EventStatus.CHANGED if event.status != EventStatus.PLANNED.value else EventStatus.PLANNED,
        "example": event.example,
    }
    data.update(changes)
    if data["end"] is not None and data["end"] <= data["start"]:
        data["end"] = None  # a moved event keeps no stale end time
    return EventIn.model_validate(data)


def preview(ctx: FeatureContext, event: EventIn | Event, head: str, confirm_id: str) -> list[Reply]:
    shown = unsaved_event(event) if isinstance(event, EventIn) else event
    text = ctx.t(head) + "\n\n" + event_text(ctx.lang, shown, None, tz(ctx), show_status=False)
    options = (Option(confirm_id, ctx.t("admin.confirm")), Option(ABORT, ctx.t("admin.abort")))
    return [Reply(text, options=options, question=True)]
