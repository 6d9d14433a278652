"""Offer pages: the offer base with sources and age, "checked by a person", and text edits.

Marking an offer as checked is `verify_offer`, the function behind `bildungslotse knowledge verify`
(offer row plus audit entry). Editors change only the offers of their institutions (the offer's
`provider`) and that institution's contact details. Both raise the offer base's revision, so every
running bot process reloads it at its next check (bot/offer_refresh.py), as after `knowledge load`.
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.partner_console.permissions import forbid_unless, may_edit_offer
from bot.partner_console.web import checked_form, ctx, current_account, not_found, redirect, render
from db.console_accounts import ConsoleAccount
from db.models import InstitutionRecord, OfferRecord
from db.offer_store import CONTACT_FIELDS, OFFER_TEXTS, edit_institution, edit_offer, verify_offer

STALE_AFTER_DAYS = 365
EDIT_ERROR = "Bitte füllen Sie die Texte aus (höchstens 2000 Zeichen, Kontaktangaben höchstens 200)."


def stand(row: OfferRecord) -> dt.date | None:
    """The offer's „Stand“: the last check by a person, otherwise the day its data was compiled."""
    if row.verified_on is not None:
        return row.verified_on
    compiled = row.data.get("compiled_on")
    try:
        return dt.date.fromisoformat(str(compiled)) if compiled else None
    except ValueError:
        return None


def is_stale(row: OfferRecord, today: dt.date) -> bool:
    day = stand(row)
    return day is None or (today - day).days > STALE_AFTER_DAYS


def _offer(session: Session, offer_id: str) -> OfferRecord:
    row = session.get(OfferRecord, offer_id)
    if row is None:
        raise not_found()
    return row


def _checker(account: ConsoleAccount) -> str:
    return account.name or account.login


async def list_offers(request: Request) -> Response:
    c = ctx(request)
    q = request.query_params
    only_stale, only_unchecked, mine = q.get("alt") == "1", q.get("ungeprueft") == "1", q.get("meine") == "1"
    today = c.clock().astimezone(c.tz).date()
    with c.session() as session:
        account = current_account(request, session)
        rows = list(session.exec(select(OfferRecord).order_by(col(OfferRecord.title))).all())
        if only_stale:
            rows = [r for r in rows if is_stale(r, today)]
        if only_unchecked:
            rows = [r for r in rows if r.verified_on is None]
        if mine:
            rows = [r for r in rows if may_edit_offer(account, r)]
        names = {i.id: i.name for i in session.exec(select(InstitutionRecord)).all()}
        return render(
            request,
            "offers.html",
            account=account,
            offers=rows,
            names=names,
            stand=stand,
            stale={r.id: is_stale(r, today) for r in rows},
            may_edit={r.id: may_edit_offer(account, r) for r in rows},
            filters={"alt": only_stale, "ungeprueft": only_unchecked, "meine": mine},
            done=q.get("geprueft") or q.get("gespeichert"),
        )


async def mark_checked(request: Request) -> Response:
    c = ctx(request)
    await checked_form(request)
    with c.session() as session:
        account = current_account(request, session)
        row = _offer(session, request.path_params["offer_id"])
        forbid_unless(may_edit_offer(account, row))
        verify_offer(session, row.id, _checker(account), c.clock(), c.tz, actor=account.actor)
    return redirect(f"/angebote?geprueft={row.id}#angebot-{row.id}")


def _edit_page(
    request: Request,
    session: Session,
    account: ConsoleAccount,
    row: OfferRecord,
    values: dict[str, str],
    error: str | None = None,
) -> Response:
    institution = session.get(InstitutionRecord, str(row.data.get("provider")))
    return render(
        request,
        "offer_form.html",
        status_code=400 if error else 200,
        account=account,
        offer=row,
        institution=institution,
        values=values,
        error=error,
        refresh_seconds=ctx(request).offer_refresh_seconds,
    )


async def edit_page(request: Request) -> Response:
    c = ctx(request)
    with c.session() as session:
        account = current_account(request, session)
        row = _offer(session, request.path_params["offer_id"])
        forbid_unless(may_edit_offer(account, row))
        institution = session.get(InstitutionRecord, str(row.data.get("provider")))
        values = {k: str(row.data.get(k) or "") for k in OFFER_TEXTS}
        if institution is not None:
            values.update({k: str(institution.data.get(k) or "") for k in CONTACT_FIELDS})
        return _edit_page(request, session, account, row, values)


async def save_offer(request: Request) -> Response:
    c = ctx(request)
    form = await checked_form(request)
    with c.session() as session:
        account = current_account(request, session)
        row = _offer(session, request.path_params["offer_id"])
        forbid_unless(may_edit_offer(account, row))
        values = {k: str(form.get(k) or "").strip() for k in (*OFFER_TEXTS, *CONTACT_FIELDS)}
        institution = session.get(InstitutionRecord, str(row.data.get("provider")))
        try:
            edit_offer(session, row, {k: values[k] for k in OFFER_TEXTS}, c.clock(), account.actor)
            if institution is not None:
                edit_institution(
                    session, institution, {k: values[k] for k in CONTACT_FIELDS}, c.clock(), account.actor
                )
        except ValidationError:
            session.rollback()
            return _edit_page(
                request,
                session,
                account,
                row,
                values,
                error=EDIT_ERROR,
            )
    return redirect(f"/angebote?gespeichert={row.id}#angebot-{row.id}")


ROUTES = [
    Route("/angebote", list_offers, methods=["GET"]),
    Route("/angebote/{offer_id}/geprueft", mark_checked, methods=["POST"]),
    Route("/angebote/{offer_id}/bearbeiten", edit_page, methods=["GET"]),
    Route("/angebote/{offer_id}/bearbeiten", save_offer, methods=["POST"]),
]
