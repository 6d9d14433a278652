"""The audit log (searchable) and the anonymous statistics with their CSV downloads."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.partner_console import stats
from bot.partner_console.web import ctx, current_account, not_found, render
from db.audit import AuditEntry

AUDIT_PAGE = 200


async def audit_log(request: Request) -> Response:
    """Search in who, what and the details; an editor sees the entries of everyone (it is the
    network's shared log of changes), but no personal data of users is ever written to it."""
    c = ctx(request)
    query = request.query_params.get("q", "").strip()[:100]
    with c.session() as session:
        account = current_account(request, session)
        stmt = select(AuditEntry).order_by(sa.desc(col(AuditEntry.at)), sa.desc(col(AuditEntry.id)))
        entries = list(session.exec(stmt.limit(5000)).all())
        if query:
            needle = query.lower()
            entries = [
                e
                for e in entries
                if needle in e.actor.lower()
                or needle in e.action.lower()
                or needle in json.dumps(e.detail, ensure_ascii=False).lower()
            ]
        return render(
            request,
            "audit.html",
            account=account,
            entries=entries[:AUDIT_PAGE],
            query=query,
            details=lambda e: ", ".join(f"{k}: {v}" for k, v in sorted(e.detail.items())),
        )


async def statistics(request: Request) -> Response:
    c = ctx(request)
    with c.session() as session:
        account = current_account(request, session)
        tables = stats.all_tables(session, c.clock(), c.tz)
        return render(request, "stats.html", account=account, tables=tables, hidden=stats.HIDDEN)


async def statistics_csv(request: Request) -> Response:
    c = ctx(request)
    with c.session() as session:
        current_account(request, session)
        tables = {t.key: t for t in stats.all_tables(session, c.clock(), c.tz)}
    table = tables.get(request.path_params["table"])
    if table is None:
        raise not_found()
    return Response(
        stats.as_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bildungslotse-{table.key}.csv"'},
    )


ROUTES = [
    Route("/protokoll", audit_log, methods=["GET"]),
    Route("/statistik", statistics, methods=["GET"]),
    Route("/statistik/{table}.csv", statistics_csv, methods=["GET"]),
]
