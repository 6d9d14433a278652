"""/rundschreiben: an admin writes to the subscribers of one district or sector.

Target (button), text, preview with the number of recipients, confirmation. The broadcast and
one outbox row per recipient are stored in the confirming turn's transaction (all or nothing)
and go out through the same rate-limited sender as reminders.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from db import audit
from db.deliveries import count_broadcast_recipients, enqueue_broadcast
from db.event_models import BROADCAST_MAX_TEXT, Broadcast, BroadcastTarget
from handlers.admin.common import ABORT, ButtonFn, Wizard, abort, finish, stale
from handlers.events import broadcast_reply
from handlers.features import FeatureContext, FeatureRegistry
from handlers.turn import Option, Reply
from knowledge.vocabulary import REGION_DISTRICTS, Sector

SECTORS = tuple(s for s in Sector if s is not Sector.UNBEKANNT)


def valid_target(kind: str, value: str) -> bool:
    if kind == BroadcastTarget.DISTRICT:
        return value in {d.value for d in REGION_DISTRICTS}
    if kind == BroadcastTarget.SECTOR:
        return value in {s.value for s in SECTORS}
    return False


def _has_target(ctx: FeatureContext) -> bool:
    return valid_target(ctx.state.draft.get("target_kind", ""), ctx.state.draft.get("target_value", ""))


def _target_label(ctx: FeatureContext) -> str:
    d = ctx.state.draft
    return ctx.t(f"{d['target_kind']}.{d['target_value']}") if _has_target(ctx) else "?"


def start(ctx: FeatureContext) -> list[Reply]:
    ctx.state.draft = {}
    return _ask_target(ctx)


def _ask_target(ctx: FeatureContext, _text: str = "") -> list[Reply]:
    """Answered by button; free text here means: ask again."""
    districts = [
        Option(f"adm:bcto:{BroadcastTarget.DISTRICT.value}:{d.value}", ctx.t(f"district.{d.value}"))
        for d in REGION_DISTRICTS
    ]
    sectors = [
        Option(f"adm:bcto:{BroadcastTarget.SECTOR.value}:{s.value}", ctx.t(f"sector.{s.value}"))
        for s in SECTORS
    ]
    return WIZARD.ask(ctx, "target", "admin.bc_target", (*districts, *sectors))


def _ask_text(ctx: FeatureContext) -> list[Reply]:
    ctx.state.pending = WIZARD.pending("text")
    question = ctx.t("admin.bc_text", target=_target_label(ctx), max=BROADCAST_MAX_TEXT)
    return [Reply(question, options=(Option(ABORT, ctx.t("admin.abort")),), question=True)]


def _text(ctx: FeatureContext, text: str) -> list[Reply]:
    """Also at the preview: a newly typed text replaces the one shown."""
    if not _has_target(ctx):
        return _ask_target(ctx)
    if not text:
        return [Reply(ctx.t("admin.bc_empty")), *_ask_text(ctx)]
    if len(text) > BROADCAST_MAX_TEXT:
        too_long = ctx.t("admin.bc_too_long", length=len(text), max=BROADCAST_MAX_TEXT)
        return [Reply(too_long), *_ask_text(ctx)]
    ctx.state.draft = {**ctx.state.draft, "text": text}
    return _preview(ctx)


def _preview(ctx: FeatureContext) -> list[Reply]:
    d = ctx.state.draft
    count = count_broadcast_recipients(ctx.session, d["target_kind"], d["target_value"])
    ctx.state.pending = WIZARD.pending("confirm")
    head = ctx.t("admin.bc_preview", count=count, target=_target_label(ctx))
    shown = broadcast_reply(ctx.lang, ctx.command_prefix, d["text"]).text
    options = (Option("adm:bcsend", ctx.t("admin.bc_send")), Option(ABORT, ctx.t("admin.abort")))
    return [Reply(f"{head}\n\n{shown}", options=options, question=True)]


WIZARD = Wizard("adm_bc", steps={"target": _ask_target, "text": _text, "confirm": _text}, fallback="target")


def choose_target(ctx: FeatureContext, value: str) -> list[Reply]:
    kind, _, code = value.partition(":")
    if not WIZARD.at(ctx, "target") or not valid_target(kind, code):
        return stale(ctx)
    ctx.state.draft = {"target_kind": kind, "target_value": code}
    if count_broadcast_recipients(ctx.session, kind, code) == 0:
        return [Reply(ctx.t("admin.bc_nobody", target=_target_label(ctx))), *_ask_target(ctx)]
    return _ask_text(ctx)


def send(ctx: FeatureContext, _value: str) -> list[Reply]:
    """Stores the broadcast and queues every delivery in this turn's transaction: all or nothing."""
    d = ctx.state.draft
    if not WIZARD.at(ctx, "confirm") or not d.get("text"):
        return stale(ctx)
    if not _has_target(ctx):
        return abort(ctx)
    item = queue_broadcast(
        ctx.session, d["text"], d["target_kind"], d["target_value"], ctx.turn.at, ctx.actor
    )
    count = item.recipients
    finish(ctx)
    return [Reply(ctx.t("admin.bc_queued", id=item.id, count=count))]


def queue_broadcast(
    session: Session, text: str, target_kind: str, target_value: str, now: dt.datetime, actor: str
) -> Broadcast:
    """Stores the broadcast, queues one delivery per recipient and writes the audit entry, in the
    caller's transaction: the chat wizard and the partner console both send through here."""
    item = Broadcast(
        text=text, target_kind=target_kind, target_value=target_value, created_by=actor[:300], created_at=now
    )
    session.add(item)
    session.flush()
    count = enqueue_broadcast(session, item, now)
    audit.record(
        session,
        actor,
        "broadcast",
        broadcast=item.id,
        target_kind=item.target_kind,
        target_value=item.target_value,
        recipients=count,
    )
    return item


BUTTONS: dict[str, ButtonFn] = {"bcto": choose_target, "bcsend": send}


def register(registry: FeatureRegistry) -> None:
    registry.command("rundschreiben", "broadcast", admin=True)(start)
    registry.on_pending(WIZARD.key, admin=True)(WIZARD.answer)
