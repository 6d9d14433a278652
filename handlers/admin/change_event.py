"""/termin_aendern and /termin_absagen: an admin moves or cancels an event, after a preview.

Both only act on the admin's confirmation; the reminder planner then tells everyone subscribed
or already reminded (the event's notice counter). Without an event number the admin gets the
list of upcoming events to choose from.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.event_models import Event
from db.events import find_event, list_events
from handlers.admin.common import KEEP, ButtonFn, Wizard, event_in, finish, future_start, preview, stale, tz
from handlers.admin.event_actions import cancel, change_event
from handlers.events import when_text
from handlers.features import FeatureContext, FeatureRegistry
from handlers.turn import Reply
from knowledge.events import EventIn, EventStatus

MAX_LISTED = 10  # upcoming events listed when an admin command lacks the event number


def _target(ctx: FeatureContext) -> Event | list[Reply]:
    """The event named in the command's arguments, or the list of upcoming events to choose from."""
    ident = ctx.turn.args.strip()
    event = find_event(ctx.session, ident) if ident else None
    if event is not None:
        return event
    upcoming = list_events(ctx.session, after=ctx.turn.at)[:MAX_LISTED]
    lines = [ctx.t("admin.which_event")]
    lines += [
        ctx.t("admin.event_line", id=e.id, title=e.title, when=when_text(ctx.lang, e, tz(ctx)))
        for e in upcoming
    ]
    return [Reply("\n".join(lines))]


def _drafted_event(ctx: FeatureContext) -> Event | None:
    return find_event(ctx.session, ctx.state.draft.get("event", ""))


# --- change ----------------------------------------------------------------------------------


def start_change(ctx: FeatureContext) -> list[Reply]:
    event = _target(ctx)
    if not isinstance(event, Event):
        return event
    ctx.state.draft = {"event": str(event.id)}
    return CHANGE.ask(ctx, "start", "admin.change_start")


def _lost(ctx: FeatureContext) -> list[Reply]:
    finish(ctx)
    return [Reply(ctx.t("admin.which_event"))]


def _new_start(ctx: FeatureContext, text: str) -> list[Reply]:
    if _drafted_event(ctx) is None:
        return _lost(ctx)
    if text != KEEP:
        when = future_start(ctx, text)
        if when is None:
            return [Reply(ctx.t("admin.bad_date")), *CHANGE.ask(ctx, "start", "admin.change_start")]
        ctx.state.draft = {**ctx.state.draft, "start": when.isoformat()}
    return CHANGE.ask(ctx, "place", "admin.change_place")


def _new_place(ctx: FeatureContext, text: str) -> list[Reply]:
    """Also at the preview: a newly typed place replaces the one shown."""
    event = _drafted_event(ctx)
    if event is None:
        return _lost(ctx)
    if text != KEEP:
        if not 2 <= len(text) <= 200:
            return CHANGE.ask(ctx, "place", "admin.change_place")
        ctx.state.draft = {**ctx.state.draft, "place": text}
    ctx.state.pending = CHANGE.pending("confirm")
    return preview(ctx, changed(event, ctx.state.draft), "admin.change_preview", f"adm:change:{event.id}")


CHANGE = Wizard(
    "adm_chg", steps={"start": _new_start, "place": _new_place, "confirm": _new_place}, fallback="place"
)


def changed(event: Event, draft: dict[str, str]) -> EventIn:
    changes: dict[str, Any] = {}
    if "start" in draft:
        changes["start"] = dt.datetime.fromisoformat(draft["start"])
    if "place" in draft:
        online = draft["place"].startswith("https://")
        changes["online_url" if online else "place"] = draft["place"]
        changes["place" if online else "online_url"] = None
    return event_in(event, **changes)


def confirm_change(ctx: FeatureContext, value: str) -> list[Reply]:
    event = find_event(ctx.session, value)
    if event is None or not CHANGE.at(ctx, "confirm") or ctx.state.draft.get("event") != str(event.id):
        return stale(ctx)
    change_event(ctx.session, event, changed(event, ctx.state.draft), ctx.turn.at, ctx.actor, ctx.state.draft)
    finish(ctx)
    return [Reply(ctx.t("admin.changed"))]


# --- cancel ----------------------------------------------------------------------------------


def start_cancel(ctx: FeatureContext) -> list[Reply]:
    event = _target(ctx)
    if not isinstance(event, Event):
        return event
    ctx.state.draft = {"event": str(event.id)}
    return _cancel_preview(ctx, event)


def _cancel_preview(ctx: FeatureContext, event: Event) -> list[Reply]:
    ctx.state.pending = CANCEL.pending("confirm")
    return preview(ctx, event, "admin.cancel_preview", f"adm:cancel:{event.id}")


def _show_cancel_again(ctx: FeatureContext, _text: str) -> list[Reply]:
    event = _drafted_event(ctx)
    return _cancel_preview(ctx, event) if event is not None else _lost(ctx)


CANCEL = Wizard("adm_cancel", steps={"confirm": _show_cancel_again}, fallback="confirm")


def confirm_cancel(ctx: FeatureContext, value: str) -> list[Reply]:
    event = find_event(ctx.session, value)
    if event is None:
        return stale(ctx)
    if event.status == EventStatus.CANCELLED.value:
        if CANCEL.at(ctx, "confirm"):
            finish(ctx)
        return [Reply(ctx.t("admin.already_cancelled"))]  # pressed twice: nothing more to do
    if not CANCEL.at(ctx, "confirm") or ctx.state.draft.get("event") != str(event.id):
        return stale(ctx)
    cancel(ctx.session, event, ctx.turn.at, ctx.actor)
    finish(ctx)
    return [Reply(ctx.t("admin.cancelled"))]


BUTTONS: dict[str, ButtonFn] = {"change": confirm_change, "cancel": confirm_cancel}


def register(registry: FeatureRegistry) -> None:
    registry.command("termin_aendern", "termin_ändern", admin=True)(start_change)
    registry.command("termin_absagen", admin=True)(start_cancel)
    registry.on_pending(CHANGE.key, admin=True)(CHANGE.answer)
    registry.on_pending(CANCEL.key, admin=True)(CANCEL.answer)
