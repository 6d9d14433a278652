"""/termin_neu: an admin adds an event in a guided dialog (title, start, place, districts, preview).

Each step is one function over the typed answer; the district question is answered by button,
and nothing is stored before the admin confirms the preview.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import ValidationError

from handlers.admin.common import ButtonFn, Wizard, abort, finish, future_start, preview, stale
from handlers.admin.event_actions import add_event
from handlers.features import FeatureContext, FeatureRegistry
from handlers.turn import Option, Reply
from knowledge.events import EventIn
from knowledge.vocabulary import REGION_DISTRICTS

SAVE = "adm:save"


def start(ctx: FeatureContext) -> list[Reply]:
    ctx.state.draft = {}
    return WIZARD.ask(ctx, "title", "admin.new_title")


def _title(ctx: FeatureContext, text: str) -> list[Reply]:
    if not 3 <= len(text) <= 200:
        return WIZARD.ask(ctx, "title", "admin.new_title")
    ctx.state.draft = {"title": text}
    return WIZARD.ask(ctx, "start", "admin.new_start")


def _start(ctx: FeatureContext, text: str) -> list[Reply]:
    when = future_start(ctx, text)
    if when is None:
        return [Reply(ctx.t("admin.bad_date")), *WIZARD.ask(ctx, "start", "admin.new_start")]
    ctx.state.draft = {**ctx.state.draft, "start": when.isoformat()}
    return WIZARD.ask(ctx, "place", "admin.new_place")


def _place(ctx: FeatureContext, text: str) -> list[Reply]:
    if not 2 <= len(text) <= 200:
        return WIZARD.ask(ctx, "place", "admin.new_place")
    ctx.state.draft = {**ctx.state.draft, "place": text}
    return _ask_districts(ctx)


def _ask_districts(ctx: FeatureContext, _text: str = "") -> list[Reply]:
    """Answered by button; free text here means: ask again."""
    options = [Option(f"adm:dist:{d.value}", ctx.t(f"district.{d.value}")) for d in REGION_DISTRICTS]
    all_districts = Option("adm:dist:all", ctx.t("admin.all_districts"))
    return WIZARD.ask(ctx, "districts", "admin.new_districts", (*options, all_districts))


def _show_preview(ctx: FeatureContext, _text: str = "") -> list[Reply]:
    return preview(ctx, draft_event(ctx), "admin.new_preview", SAVE)


WIZARD = Wizard(
    "adm_new",
    steps={
        "title": _title,
        "start": _start,
        "place": _place,
        "districts": _ask_districts,
        "confirm": _show_preview,
    },
    fallback="districts",
)


def draft_event(ctx: FeatureContext) -> EventIn:
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


def choose_district(ctx: FeatureContext, value: str) -> list[Reply]:
    if not WIZARD.at(ctx, "districts") or (
        value != "all" and value not in {d.value for d in REGION_DISTRICTS}
    ):
        return stale(ctx)
    ctx.state.draft = {**ctx.state.draft, "districts": value}
    try:
        draft = draft_event(ctx)
    except (KeyError, ValueError, ValidationError):
        return abort(ctx)
    ctx.state.draft = {**ctx.state.draft, "uid": draft.id}
    ctx.state.pending = WIZARD.pending("confirm")
    return preview(ctx, draft, "admin.new_preview", SAVE)


def save(ctx: FeatureContext, _value: str) -> list[Reply]:
    if not WIZARD.at(ctx, "confirm"):
        return stale(ctx)
    saved = add_event(ctx.session, draft_event(ctx), ctx.turn.at, ctx.actor)
    finish(ctx)
    return [Reply(ctx.t("admin.saved", id=saved.id))]


BUTTONS: dict[str, ButtonFn] = {"dist": choose_district, "save": save}


def register(registry: FeatureRegistry) -> None:
    registry.command("termin_neu", admin=True)(start)
    registry.on_pending(WIZARD.key, admin=True)(WIZARD.answer)
