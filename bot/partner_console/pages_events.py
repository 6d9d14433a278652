"""Event pages: list with filters, detail with messenger previews and counts, create, edit, cancel.

Every change goes through handlers/admin/event_actions.py, the code behind the chat wizards, and
is allowed only by permissions.py; a cancellation bumps the event's notice counter, from which
the reminder planner writes one notice per subscriber into the outbox.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.partner_console.event_form import (
    LIST_FIELDS,
    TEXT_FIELDS,
    EventForm,
    changed_fields,
    parse,
    read_form,
    values_of,
)
from bot.partner_console.permissions import forbid_unless, may_act_for, may_edit_event
from bot.partner_console.previews import as_event, preview
from bot.partner_console.web import checked_form, ctx, current_account, not_found, redirect, render
from db import deliveries
from db.console_accounts import ConsoleAccount
from db.event_models import Event
from db.events import find_event, matching_subscribers
from db.models import InstitutionRecord
from handlers.admin.event_actions import add_event, cancel, change_event
from knowledge.events import EventStatus
from knowledge.vocabulary import REGION_DISTRICTS, Sector

VIEWS = {"kommende": "Kommende", "vergangene": "Vergangene", "abgesagte": "Abgesagte"}


def institutions(session: Session) -> dict[str, str]:
    rows = session.exec(select(InstitutionRecord).order_by(col(InstitutionRecord.name))).all()
    return {r.id: r.name for r in rows}


def organiser_choices(session: Session, account: ConsoleAccount) -> dict[str, str]:
    names = institutions(session)
    if account.is_admin:
        return names
    return {i: names.get(i, i) for i in account.institutions}


def _event(session: Session, event_id: str) -> Event:
    event = find_event(session, event_id) if event_id.isdigit() else None
    if event is None:
        raise not_found()
    return event


def refuse_if_cancelled(event: Event) -> None:
    if event.status == EventStatus.CANCELLED.value:
        raise HTTPException(409, "Ein abgesagter Termin kann nicht mehr bearbeitet werden.")


async def list_events(request: Request) -> Response:
    c = ctx(request)
    q = request.query_params
    view = q.get("ansicht", "kommende")
    view = view if view in VIEWS else "kommende"
    district, sector, organiser = q.get("landkreis", ""), q.get("branche", ""), q.get("veranstalter", "")
    now = c.clock()
    with c.session() as session:
        account = current_account(request, session)
        stmt = select(Event)
        if view == "abgesagte":
            stmt = stmt.where(Event.status == EventStatus.CANCELLED.value)
        elif view == "vergangene":
            stmt = stmt.where(col(Event.starts_at) <= now, Event.status != EventStatus.CANCELLED.value)
        else:
            stmt = stmt.where(col(Event.starts_at) > now, Event.status != EventStatus.CANCELLED.value)
        order = col(Event.starts_at).desc() if view != "kommende" else col(Event.starts_at)
        events = list(session.exec(stmt.order_by(order, col(Event.id))).all())
        if district:
            events = [e for e in events if not e.districts or district in e.districts]
        if sector:
            events = [e for e in events if not e.sectors or sector in e.sectors]
        if organiser:
            events = [e for e in events if e.organiser == organiser]
        names = institutions(session)
        return render(
            request,
            "events.html",
            account=account,
            events=events,
            view=view,
            views=VIEWS,
            filters={"landkreis": district, "branche": sector, "veranstalter": organiser},
            districts=[d.value for d in REGION_DISTRICTS],
            sectors=[s.value for s in Sector if s is not Sector.UNBEKANNT],
            names=names,
            may_edit={e.id: may_edit_event(account, e) and e.status != "cancelled" for e in events},
        )


def _form_page(
    request: Request,
    session: Session,
    account: ConsoleAccount,
    form: EventForm,
    event: Event | None,
    **extra: Any,
) -> Response:
    return render(
        request,
        "event_form.html",
        status_code=400 if form.errors else 200,
        account=account,
        form=form,
        event=event,
        organisers=organiser_choices(session, account),
        **extra,
    )


async def new_event(request: Request) -> Response:
    c = ctx(request)
    with c.session() as session:
        account = current_account(request, session)
        choices = organiser_choices(session, account)
        start = {"organiser": next(iter(choices), "")} if not account.is_admin else {}
        values: dict[str, Any] = {name: "" for name in TEXT_FIELDS}
        values.update({name: [] for name in LIST_FIELDS}, **start)
        return _form_page(request, session, account, EventForm(values=values), None)


async def create_event(request: Request) -> Response:
    c = ctx(request)
    form = await checked_form(request)
    with c.session() as session:
        account = current_account(request, session)
        values = read_form(form)
        forbid_unless(may_act_for(account, values["organiser"] or None))
        data, parsed = parse(values, c.tz, c.clock(), None)
        if data is None:
            return _form_page(request, session, account, parsed, None)
        if form.get("schritt") != "speichern":  # first post: show the preview, then save
            names = institutions(session)
            shown = preview(as_event(data), names.get(data.organiser or "", data.organiser), c.tz)
            return _form_page(request, session, account, parsed, None, preview=shown)
        saved = add_event(session, data, c.clock(), account.actor, source="web")
        return redirect(f"/termine/{saved.id}?gespeichert=1")


async def show_event(request: Request) -> Response:
    c = ctx(request)
    with c.session() as session:
        account = current_account(request, session)
        event = _event(session, request.path_params["event_id"])
        names = institutions(session)
        organiser = names.get(event.organiser or "", event.organiser)
        assert event.id is not None
        return render(
            request,
            "event.html",
            account=account,
            event=event,
            organiser=organiser,
            preview=preview(event, organiser, c.tz),
            subscribers=len(matching_subscribers(session, event)),
            counts=deliveries.counts(session, event.id),
            may_edit=may_edit_event(account, event),
            saved=request.query_params.get("gespeichert"),
        )


async def edit_event(request: Request) -> Response:
    c = ctx(request)
    with c.session() as session:
        account = current_account(request, session)
        event = _event(session, request.path_params["event_id"])
        forbid_unless(may_edit_event(account, event))
        refuse_if_cancelled(event)
        return _form_page(request, session, account, EventForm(values=values_of(event, c.tz)), event)


async def update_event(request: Request) -> Response:
    c = ctx(request)
    form = await checked_form(request)
    with c.session() as session:
        account = current_account(request, session)
        event = _event(session, request.path_params["event_id"])
        forbid_unless(may_edit_event(account, event))
        values = read_form(form)
        forbid_unless(may_act_for(account, values["organiser"] or None))
        refuse_if_cancelled(event)
        data, parsed = parse(values, c.tz, c.clock(), event)
        if data is None:
            return _form_page(request, session, account, parsed, event)
        if form.get("schritt") == "vorschau":
            names = institutions(session)
            shown = preview(as_event(data), names.get(data.organiser or "", data.organiser), c.tz)
            return _form_page(request, session, account, parsed, event, preview=shown)
        fields = changed_fields(event, data)
        if fields:
            change_event(session, event, data, c.clock(), account.actor, fields)
        return redirect(f"/termine/{event.id}?gespeichert=1")


async def cancel_event(request: Request) -> Response:
    c = ctx(request)
    form = await checked_form(request)
    with c.session() as session:
        account = current_account(request, session)
        event = _event(session, request.path_params["event_id"])
        forbid_unless(may_edit_event(account, event))
        if form.get("bestaetigt") != "ja":
            return render(
                request,
                "event_cancel.html",
                account=account,
                event=event,
                subscribers=len(matching_subscribers(session, event)),
            )
        cancel(session, event, c.clock(), account.actor)
        return redirect(f"/termine/{event.id}?abgesagt=1")


ROUTES = [
    Route("/termine", list_events, methods=["GET"]),
    Route("/termine/neu", new_event, methods=["GET"]),
    Route("/termine/neu", create_event, methods=["POST"]),
    Route("/termine/{event_id}", show_event, methods=["GET"]),
    Route("/termine/{event_id}/bearbeiten", edit_event, methods=["GET"]),
    Route("/termine/{event_id}/bearbeiten", update_event, methods=["POST"]),
    Route("/termine/{event_id}/absagen", cancel_event, methods=["POST"]),
]
