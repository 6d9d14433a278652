"""Partner administration inside the messenger (only for ADMIN_IDS): statistics, events, broadcasts.

A guided dialog adds an event; changing or cancelling one asks for confirmation first and the
reminder planner then tells everyone subscribed or already reminded. A broadcast goes to the
subscribers of one district or sector after a preview with the number of recipients, through the
same rate-limited outbox as reminders. Every admin action is written to the audit log; non-admins
never learn these commands exist (see FeatureRegistry).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from db import audit
from db.deliveries import count_broadcast_recipients, enqueue_broadcast
from db.event_models import BROADCAST_MAX_TEXT, Broadcast, BroadcastTarget, Event
from db.events import cancel_event, find_event, list_events, upsert_events
from handlers.events import broadcast_reply, event_text, when_text
from handlers.features import FeatureContext, FeatureRegistry
from handlers.turn import Option, Reply
from knowledge.events import EventIn, EventStatus
from knowledge.vocabulary import REGION_DISTRICTS, Sector

NEW = "adm_new"  # pending keys: adm_new:<field>, adm_chg:<field>, adm_bc:<step>
CHANGE = "adm_chg"
BROADCAST = "adm_bc"
BROADCAST_SECTORS = tuple(s for s in Sector if s is not Sector.UNBEKANNT)
KEEP = "-"
MAX_LISTED = 10  # upcoming events listed when an admin command lacks the event number
_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*[, ]\s*(\d{1,2})[:.](\d{2})\s*(?:uhr)?\s*$", re.I)


# --- statistics ------------------------------------------------------------------------------


def format_statistics(ctx: FeatureContext, stats: dict[str, Any]) -> str:
    def counts(kind: str, values: dict[str, int]) -> str:
        if not values:
            return "–"
        return ", ".join(f"{ctx.t(f'{kind}.{code}')}: {n}" for code, n in values.items())

    lines = [
        ctx.t("admin.stats_header"),
        ctx.t("admin.stats_users", users=stats["users"], active=stats["active_users"]),
        ctx.t("admin.stats_by_district", values=counts("district", stats["by_district"])),
        ctx.t("admin.stats_by_situation", values=counts("situation", stats["by_situation"])),
        ctx.t("admin.stats_top_goals", values=counts("goal", stats["top_goals"])),
    ]
    if "subscriptions" in stats:
        lines.append(ctx.t("admin.stats_subscriptions", count=stats["subscriptions"]))
    if "reminders_sent" in stats:
        lines.append(ctx.t("admin.stats_reminders", count=stats["reminders_sent"]))
    return "\n".join(lines)


def statistics(ctx: FeatureContext) -> list[Reply]:
    stats = audit.statistics(ctx.session)
    audit.record(ctx.session, ctx.actor, "statistics")
    return [Reply(format_statistics(ctx, stats))]


# --- helpers ---------------------------------------------------------------------------------


def _tz(ctx: FeatureContext) -> ZoneInfo:
    return ctx.settings.tz


def parse_local_datetime(text: str, tz: ZoneInfo) -> dt.datetime | None:
    """'24.03.2027 17:30' in local time -> aware UTC datetime; None if not that shape or no real date."""
    m = _DATE.match(text)
    if not m:
        return None
    day, month, year, hour, minute = (int(g) for g in m.groups())
    try:
        return dt.datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(dt.UTC)
    except ValueError:
        return None


def _ask(ctx: FeatureContext, pending: str, key: str, options: tuple[Option, ...] = ()) -> list[Reply]:
    ctx.state.pending = pending
    return [Reply(ctx.t(key), options=(*options, Option("adm:abort", ctx.t("admin.abort"))), question=True)]


def _finish(ctx: FeatureContext) -> None:
    ctx.state.pending = None
    ctx.state.draft = {}


def _event_in(event: Event, **changes: Any) -> EventIn:
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


def _preview(ctx: FeatureContext, event: EventIn | Event, head: str, confirm_id: str) -> list[Reply]:
    if isinstance(event, EventIn):
        shown = Event(
            uid=event.id,
            title=event.title,
            starts_at=event.start,
            ends_at=event.end,
            place=event.place,
            online_url=str(event.online_url) if event.online_url else None,
            content_hash="",
        )
    else:
        shown = event
    text = ctx.t(head) + "\n\n" + event_text(ctx.lang, shown, None, _tz(ctx), show_status=False)
    options = (Option(confirm_id, ctx.t("admin.confirm")), Option("adm:abort", ctx.t("admin.abort")))
    return [Reply(text, options=options, question=True)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- new event -------------------------------------------------------------------------------


def new_event(ctx: FeatureContext) -> list[Reply]:
    ctx.state.draft = {}
    return _ask(ctx, f"{NEW}:title", "admin.new_title")


def _district_options(ctx: FeatureContext) -> tuple[Option, ...]:
    options = [Option(f"adm:dist:{d.value}", ctx.t(f"district.{d.value}")) for d in REGION_DISTRICTS]
    return (*options, Option("adm:dist:all", ctx.t("admin.all_districts")))


def new_event_answer(ctx: FeatureContext) -> list[Reply]:
    step = (ctx.state.pending or "").partition(":")[2]
    text = ctx.turn.text.strip()
    if step == "title":
        if not 3 <= len(text) <= 200:
            return _ask(ctx, f"{NEW}:title", "admin.new_title")
        ctx.state.draft = {"title": text}
        return _ask(ctx, f"{NEW}:start", "admin.new_start")
    if step == "start":
        start = parse_local_datetime(text, _tz(ctx))
        if start is None or start <= _now():
            return [Reply(ctx.t("admin.bad_date")), *_ask(ctx, f"{NEW}:start", "admin.new_start")]
        ctx.state.draft = {**ctx.state.draft, "start": start.isoformat()}
        return _ask(ctx, f"{NEW}:place", "admin.new_place")
    if step == "place":
        if not 2 <= len(text) <= 200:
            return _ask(ctx, f"{NEW}:place", "admin.new_place")
        ctx.state.draft = {**ctx.state.draft, "place": text}
        return _ask(ctx, f"{NEW}:districts", "admin.new_districts", _district_options(ctx))
    if step == "confirm":
        return _preview(ctx, _draft_event(ctx), "admin.new_preview", "adm:save")
    # the district question is answered by button; free text there means: ask again
    return _ask(ctx, f"{NEW}:districts", "admin.new_districts", _district_options(ctx))


def _draft_event(ctx: FeatureContext) -> EventIn:
    d = ctx.state.draft
    where: dict[str, str] = (
        {"online_url": d["place"]} if d["place"].startswith("https://") else {"place": d["place"]}
    )
    return EventIn(
        id=d.get("uid") or f"admin-{uuid.uuid4().hex[:12]}",
        title=d["title"],
        start=dt.datetime.fromisoformat(d["start"]),
        districts=d["districts"].split(",") if d["districts"] != "all" else "all",
        **where,
    )


# --- change / cancel -------------------------------------------------------------------------


def _target(ctx: FeatureContext, key: str) -> Event | list[Reply]:
    ident = ctx.turn.args.strip()
    event = find_event(ctx.session, ident) if ident else None
    if event is None:
        upcoming = list_events(ctx.session, after=_now())[:MAX_LISTED]
        lines = [ctx.t(key)]
        lines += [
            ctx.t("admin.event_line", id=e.id, title=e.title, when=when_text(ctx.lang, e, _tz(ctx)))
            for e in upcoming
        ]
        return [Reply("\n".join(lines))]
    return event


def change_event(ctx: FeatureContext) -> list[Reply]:
    event = _target(ctx, "admin.which_event")
    if not isinstance(event, Event):
        return event
    ctx.state.draft = {"event": str(event.id)}
    return _ask(ctx, f"{CHANGE}:start", "admin.change_start")


def change_event_answer(ctx: FeatureContext) -> list[Reply]:
    step = (ctx.state.pending or "").partition(":")[2]
    text = ctx.turn.text.strip()
    event = find_event(ctx.session, ctx.state.draft.get("event", ""))
    if event is None:
        _finish(ctx)
        return [Reply(ctx.t("admin.which_event"))]
    if step == "start":
        if text != KEEP:
            start = parse_local_datetime(text, _tz(ctx))
            if start is None or start <= _now():
                return [Reply(ctx.t("admin.bad_date")), *_ask(ctx, f"{CHANGE}:start", "admin.change_start")]
            ctx.state.draft = {**ctx.state.draft, "start": start.isoformat()}
        return _ask(ctx, f"{CHANGE}:place", "admin.change_place")
    if text != KEEP:
        if not 2 <= len(text) <= 200:
            return _ask(ctx, f"{CHANGE}:place", "admin.change_place")
        ctx.state.draft = {**ctx.state.draft, "place": text}
    return _preview(ctx, _changed(event, ctx.state.draft), "admin.change_preview", f"adm:change:{event.id}")


def _changed(event: Event, draft: dict[str, str]) -> EventIn:
    changes: dict[str, Any] = {}
    if "start" in draft:
        changes["start"] = dt.datetime.fromisoformat(draft["start"])
    if "place" in draft:
        online = draft["place"].startswith("https://")
        changes["online_url" if online else "place"] = draft["place"]
        changes["place" if online else "online_url"] = None
    return _event_in(event, **changes)


def cancel(ctx: FeatureContext) -> list[Reply]:
    event = _target(ctx, "admin.which_event")
    if not isinstance(event, Event):
        return event
    return _preview(ctx, event, "admin.cancel_preview", f"adm:cancel:{event.id}")


# --- broadcast -------------------------------------------------------------------------------


def _broadcast_targets(ctx: FeatureContext) -> tuple[Option, ...]:
    districts = [
        Option(f"adm:bcto:{BroadcastTarget.DISTRICT.value}:{d.value}", ctx.t(f"district.{d.value}"))
        for d in REGION_DISTRICTS
    ]
    sectors = [
        Option(f"adm:bcto:{BroadcastTarget.SECTOR.value}:{s.value}", ctx.t(f"sector.{s.value}"))
        for s in BROADCAST_SECTORS
    ]
    return (*districts, *sectors)


def _valid_target(kind: str, value: str) -> bool:
    if kind == BroadcastTarget.DISTRICT:
        return value in {d.value for d in REGION_DISTRICTS}
    if kind == BroadcastTarget.SECTOR:
        return value in {s.value for s in BROADCAST_SECTORS}
    return False


def _target_label(ctx: FeatureContext) -> str:
    kind, value = ctx.state.draft.get("target_kind", ""), ctx.state.draft.get("target_value", "")
    return ctx.t(f"{kind}.{value}") if _valid_target(kind, value) else "?"


def broadcast(ctx: FeatureContext) -> list[Reply]:
    ctx.state.draft = {}
    return _ask(ctx, f"{BROADCAST}:target", "admin.bc_target", _broadcast_targets(ctx))


def _broadcast_preview(ctx: FeatureContext) -> list[Reply]:
    d = ctx.state.draft
    count = count_broadcast_recipients(ctx.session, d["target_kind"], d["target_value"])
    ctx.state.pending = f"{BROADCAST}:confirm"
    head = ctx.t("admin.bc_preview", count=count, target=_target_label(ctx))
    shown = broadcast_reply(ctx.lang, ctx.command_prefix, d["text"]).text
    options = (Option("adm:bcsend", ctx.t("admin.bc_send")), Option("adm:abort", ctx.t("admin.abort")))
    return [Reply(f"{head}\n\n{shown}", options=options, question=True)]


def broadcast_answer(ctx: FeatureContext) -> list[Reply]:
    """The typed text (also at the preview: a new text replaces the old one); the target is a button."""
    step = (ctx.state.pending or "").partition(":")[2]
    if step not in ("text", "confirm") or not _valid_target(
        ctx.state.draft.get("target_kind", ""), ctx.state.draft.get("target_value", "")
    ):
        return _ask(ctx, f"{BROADCAST}:target", "admin.bc_target", _broadcast_targets(ctx))
    text = ctx.turn.text.strip()
    if not text:
        return [Reply(ctx.t("admin.bc_empty")), *_ask_text(ctx)]
    if len(text) > BROADCAST_MAX_TEXT:
        too_long = ctx.t("admin.bc_too_long", length=len(text), max=BROADCAST_MAX_TEXT)
        return [Reply(too_long), *_ask_text(ctx)]
    ctx.state.draft = {**ctx.state.draft, "text": text}
    return _broadcast_preview(ctx)


def _ask_text(ctx: FeatureContext) -> list[Reply]:
    ctx.state.pending = f"{BROADCAST}:text"
    question = ctx.t("admin.bc_text", target=_target_label(ctx), max=BROADCAST_MAX_TEXT)
    return [Reply(question, options=(Option("adm:abort", ctx.t("admin.abort")),), question=True)]


def _choose_target(ctx: FeatureContext, value: str) -> list[Reply]:
    kind, _, code = value.partition(":")
    if ctx.state.pending != f"{BROADCAST}:target" or not _valid_target(kind, code):
        return [Reply(ctx.t("stale_option"))]
    ctx.state.draft = {"target_kind": kind, "target_value": code}
    if count_broadcast_recipients(ctx.session, kind, code) == 0:
        nobody = ctx.t("admin.bc_nobody", target=_target_label(ctx))
        return [Reply(nobody), *_ask(ctx, f"{BROADCAST}:target", "admin.bc_target", _broadcast_targets(ctx))]
    return _ask_text(ctx)


def _send_broadcast(ctx: FeatureContext) -> list[Reply]:
    """Stores the broadcast and queues every delivery in this turn's transaction: all or nothing."""
    d = ctx.state.draft
    if ctx.state.pending != f"{BROADCAST}:confirm" or not d.get("text"):
        return [Reply(ctx.t("stale_option"))]
    if not _valid_target(d.get("target_kind", ""), d.get("target_value", "")):
        _finish(ctx)
        return [Reply(ctx.t("admin.aborted"))]
    now = ctx.turn.at
    item = Broadcast(
        text=d["text"],
        target_kind=d["target_kind"],
        target_value=d["target_value"],
        created_by=ctx.actor[:300],
        created_at=now,
    )
    ctx.session.add(item)
    ctx.session.flush()
    count = enqueue_broadcast(ctx.session, item, now)
    audit.record(
        ctx.session,
        ctx.actor,
        "broadcast",
        broadcast=item.id,
        target_kind=item.target_kind,
        target_value=item.target_value,
        recipients=count,
    )
    _finish(ctx)
    return [Reply(ctx.t("admin.bc_queued", id=item.id, count=count))]


# --- buttons ---------------------------------------------------------------------------------


def admin_option(ctx: FeatureContext) -> list[Reply]:
    _, action, value = [*ctx.turn.option_id.split(":", 2), "", ""][:3]
    if action == "abort":
        _finish(ctx)
        return [Reply(ctx.t("admin.aborted"))]
    if action == "dist" and ctx.state.pending == f"{NEW}:districts":
        codes = {d.value for d in REGION_DISTRICTS}
        if value != "all" and value not in codes:
            return [Reply(ctx.t("stale_option"))]
        ctx.state.draft = {**ctx.state.draft, "districts": value}
        try:
            draft = _draft_event(ctx)
        except (KeyError, ValueError, ValidationError):
            _finish(ctx)
            return [Reply(ctx.t("admin.aborted"))]
        ctx.state.draft = {**ctx.state.draft, "uid": draft.id}
        ctx.state.pending = f"{NEW}:confirm"
        return _preview(ctx, draft, "admin.new_preview", "adm:save")
    if action == "bcto":
        return _choose_target(ctx, value)
    if action == "bcsend":
        return _send_broadcast(ctx)
    if action == "save" and ctx.state.pending == f"{NEW}:confirm":
        draft = _draft_event(ctx)
        upsert_events(ctx.session, [draft], _now(), source="admin")
        saved = find_event(ctx.session, draft.id)
        audit.record(ctx.session, ctx.actor, "event_add", event=draft.id, title=draft.title)
        _finish(ctx)
        return [Reply(ctx.t("admin.saved", id=saved.id if saved else draft.id))]
    if (
        action == "change"
        and (event := find_event(ctx.session, value))
        and ctx.state.pending == f"{CHANGE}:place"
    ):
        upsert_events(ctx.session, [_changed(event, ctx.state.draft)], _now(), source=event.source)
        audit.record(ctx.session, ctx.actor, "event_change", event=event.uid, fields=sorted(ctx.state.draft))
        _finish(ctx)
        return [Reply(ctx.t("admin.changed"))]
    if action == "cancel" and (event := find_event(ctx.session, value)):
        done = cancel_event(ctx.session, event, _now())
        if done:
            audit.record(ctx.session, ctx.actor, "event_cancel", event=event.uid)
        _finish(ctx)
        return [Reply(ctx.t("admin.cancelled" if done else "admin.already_cancelled"))]
    return [Reply(ctx.t("stale_option"))]


def register(registry: FeatureRegistry) -> None:
    registry.command("statistik", "stats", admin=True)(statistics)
    registry.command("termin_neu", admin=True)(new_event)
    registry.command("termin_aendern", "termin_ändern", admin=True)(change_event)
    registry.command("termin_absagen", admin=True)(cancel)
    registry.command("rundschreiben", "broadcast", admin=True)(broadcast)
    registry.options("adm", admin=True)(admin_option)
    registry.on_pending(NEW, admin=True)(new_event_answer)
    registry.on_pending(CHANGE, admin=True)(change_event_answer)
    registry.on_pending(BROADCAST, admin=True)(broadcast_answer)
