"""Broadcast: an admin writes to the subscribers of one district or sector – with a preview in both
messengers, the audience count, an explicit confirmation, and the delivery progress afterwards.

Sending is `queue_broadcast`, the code behind the chat's /rundschreiben: one outbox row per
recipient in one transaction, delivered by the bot's rate-limited sender. Only admins may send
(as in the chat, where only ADMIN_IDS may): a broadcast speaks for the whole network.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.matrix import SPEC as MATRIX_SPEC
from bot.matrix.render import render as matrix_render
from bot.partner_console.permissions import require_admin
from bot.partner_console.web import checked_form, ctx, current_account, label, not_found, redirect, render
from bot.telegram.render import messages_for
from db.deliveries import count_broadcast_recipients
from db.event_models import BROADCAST_MAX_TEXT, Broadcast, BroadcastTarget, Delivery
from handlers.admin.broadcast import SECTORS, queue_broadcast, valid_target
from handlers.events import broadcast_reply
from knowledge.vocabulary import REGION_DISTRICTS


def targets() -> dict[str, str]:
    """'district:uelzen' -> 'Landkreis Uelzen', then the sectors."""
    out = {
        f"{BroadcastTarget.DISTRICT.value}:{d.value}": label("district", d.value) for d in REGION_DISTRICTS
    }
    out.update(
        {f"{BroadcastTarget.SECTOR.value}:{s.value}": f"Branche: {label('sector', s.value)}" for s in SECTORS}
    )
    return out


def progress(session: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    rows = session.execute(
        sa.select(col(Delivery.broadcast_id), col(Delivery.status), sa.func.count())
        .where(col(Delivery.broadcast_id).in_(ids))
        .group_by(col(Delivery.broadcast_id), col(Delivery.status))
    ).all()
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    for broadcast_id, status, n in rows:
        out[int(broadcast_id)][str(status)] = int(n)
    return out


def _page(request: Request, session: Session, account: Any, **values: Any) -> Response:
    recent = list(session.exec(select(Broadcast).order_by(col(Broadcast.created_at).desc()).limit(20)).all())
    values.setdefault("target", "")
    values.setdefault("text", "")
    return render(
        request,
        "broadcast.html",
        status_code=400 if values.get("error") else 200,
        account=account,
        targets=targets(),
        recent=recent,
        progress=progress(session, [b.id for b in recent if b.id is not None]),
        max_text=BROADCAST_MAX_TEXT,
        **values,
    )


async def broadcast_page(request: Request) -> Response:
    c = ctx(request)
    with c.session() as session:
        account = current_account(request, session)
        require_admin(account)
        return _page(request, session, account)


async def broadcast_post(request: Request) -> Response:
    c = ctx(request)
    form = await checked_form(request)
    with c.session() as session:
        account = current_account(request, session)
        require_admin(account)
        target = str(form.get("target") or "")
        text = str(form.get("text") or "").strip()
        kind, _, value = target.partition(":")
        error = None
        if not valid_target(kind, value):
            error = "Bitte wählen Sie, an wen die Nachricht geht."
        elif not text:
            error = "Bitte schreiben Sie eine Nachricht."
        elif len(text) > BROADCAST_MAX_TEXT:
            error = f"Die Nachricht hat {len(text)} Zeichen; höchstens {BROADCAST_MAX_TEXT} sind möglich."
        if error:
            return _page(request, session, account, target=target, text=text, error=error)
        audience = count_broadcast_recipients(session, kind, value)
        confirmed = form.get("schritt") == "senden" and form.get("bestaetigt") == "ja"
        if not confirmed or audience == 0:
            telegram = broadcast_reply("de", "/", text)
            matrix = matrix_render([broadcast_reply("de", MATRIX_SPEC.command_prefix, text)], "de")
            return _page(
                request,
                session,
                account,
                target=target,
                text=text,
                audience=audience,
                preview_telegram="\n".join(m.text for m in messages_for(telegram)),
                preview_buttons=[o.label for o in telegram.options],
                preview_matrix=Markup("".join(str(x.get("formatted_body", "")) for x in matrix.contents)),
            )
        item = queue_broadcast(session, text, kind, value, c.clock(), account.actor)
    return redirect(f"/rundschreiben/{item.id}")


async def broadcast_status(request: Request) -> Response:
    c = ctx(request)
    ident = request.path_params["broadcast_id"]
    with c.session() as session:
        account = current_account(request, session)
        require_admin(account)
        item = session.get(Broadcast, int(ident)) if ident.isdigit() else None
        if item is None or item.id is None:
            raise not_found()
        counts = progress(session, [item.id])[item.id]
        return render(
            request,
            "broadcast_status.html",
            account=account,
            item=item,
            counts=counts,
            target=targets().get(f"{item.target_kind}:{item.target_value}", item.target_value),
            done=sum(counts.get(s, 0) for s in ("sent", "failed", "blocked", "skipped")),
        )


ROUTES = [
    Route("/rundschreiben", broadcast_page, methods=["GET"]),
    Route("/rundschreiben", broadcast_post, methods=["POST"]),
    Route("/rundschreiben/{broadcast_id}", broadcast_status, methods=["GET"]),
]
