"""Upload an .ics file from a partner's own calendar: preview what will be created or changed,
then import it – through the importer behind `bildungslotse events import` (parse_ics, upsert_events).

Every event of the upload is given the organiser chosen in the form (for an editor: one of their
institutions), and an upload that would change an event of another institution is refused as a
whole. The file travels to the confirming step inside the form (base64), so nothing is stored
before the partner confirms, and permissions are checked again on that second post.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from sqlmodel import Session, select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.partner_console.pages_events import institutions, organiser_choices
from bot.partner_console.permissions import forbid_unless, may_act_for, may_edit_event
from bot.partner_console.web import checked_form, ctx, current_account, redirect, render
from db import audit
from db.console_accounts import ConsoleAccount
from db.event_models import Event
from db.events import upsert_events
from knowledge.events import EventIn, parse_ics
from knowledge.loader import KnowledgeError

MAX_UPLOAD = 1_000_000  # bytes; a partner's calendar export of a few hundred events is far smaller


@dataclass(frozen=True)
class Planned:
    event: EventIn
    action: str  # "neu", "geändert", "unverändert"


def _plan(
    session: Session, account: ConsoleAccount, events: list[EventIn]
) -> tuple[list[Planned], list[str]]:
    planned, foreign = [], []
    for data in events:
        stored = session.exec(select(Event).where(Event.uid == data.id)).first()  # by UID only
        if stored is None:
            planned.append(Planned(data, "neu"))
        elif not may_edit_event(account, stored):
            foreign.append(data.title)
        else:
            planned.append(
                Planned(data, "unverändert" if stored.content_hash == data.content_hash() else "geändert")
            )
    return planned, foreign


async def import_page(request: Request) -> Response:
    c = ctx(request)
    with c.session() as session:
        account = current_account(request, session)
        return render(request, "import.html", account=account, organisers=organiser_choices(session, account))


async def import_post(request: Request) -> Response:
    c = ctx(request)
    form = await checked_form(request)
    organiser = str(form.get("organiser") or "")
    with c.session() as session:
        account = current_account(request, session)
        forbid_unless(bool(organiser) and may_act_for(account, organiser))
        upload = form.get("datei")
        if isinstance(upload, UploadFile):
            data = await upload.read(MAX_UPLOAD + 1)
            name = upload.filename or "upload.ics"
        else:
            try:
                data = base64.b64decode(str(form.get("inhalt") or ""), validate=True)
            except (binascii.Error, ValueError):
                data = b""
            name = str(form.get("name") or "upload.ics")[:100]

        def page(error: str | None = None, **values: object) -> Response:
            return render(
                request,
                "import.html",
                status_code=400 if error else 200,
                account=account,
                error=error,
                organisers=organiser_choices(session, account),
                organiser=organiser,
                **values,
            )

        if not data:
            return page("Bitte wählen Sie eine .ics-Datei aus.")
        if len(data) > MAX_UPLOAD:
            return page("Die Datei ist größer als 1 MB.")
        try:
            events = [e.model_copy(update={"organiser": organiser}) for e in parse_ics(data, name, c.tz)]
        except KnowledgeError as exc:
            return page(f"Die Datei lässt sich nicht übernehmen: {exc}")
        planned, foreign = _plan(session, account, events)
        if foreign:
            return page(
                "Diese Termine gehören einer anderen Einrichtung; die Datei wird nicht übernommen: "
                + ", ".join(foreign)
            )
        if form.get("schritt") != "importieren":
            return page(
                planned=planned,
                name=name,
                content=base64.b64encode(data).decode(),
                organiser_name=institutions(session).get(organiser, organiser),
            )
        report = upsert_events(session, [p.event for p in planned], c.clock(), source="ics")
        audit.record(
            session,
            account.actor,
            "events_import",
            at=c.clock(),
            file=name,
            organiser=organiser,
            added=report.added,
            updated=report.updated,
            notices=report.notices,
        )
    return redirect(f"/termine?importiert={report.added + report.updated}")


ROUTES = [
    Route("/termine/import", import_page, methods=["GET"]),
    Route("/termine/import", import_post, methods=["POST"]),
]
