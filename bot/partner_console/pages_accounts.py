"""Account management for admins: add personal accounts, lock and unlock them, end their sessions.

The same functions as `bildungslotse web user …` (db/console_accounts.py) and the same audit
entries; an admin cannot lock their own account here (that would lock the last admin out too).
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.partner_console.pages_events import institutions
from bot.partner_console.permissions import require_admin
from bot.partner_console.web import checked_form, ctx, current_account, not_found, redirect, render
from db import audit
from db.console_accounts import AccountError, ConsoleAccount, Role, add_account, end_sessions, list_accounts


def _page(
    request: Request,
    session: Session,
    account: ConsoleAccount,
    error: str | None = None,
    values: dict[str, object] | None = None,
) -> Response:
    return render(
        request,
        "accounts.html",
        status_code=400 if error else 200,
        account=account,
        accounts=list_accounts(session),
        names=institutions(session),
        error=error,
        values=values or {"login": "", "name": "", "role": "editor", "institutions": []},
        done=request.query_params.get("ok"),
    )


async def accounts_page(request: Request) -> Response:
    c = ctx(request)
    with c.session() as session:
        account = current_account(request, session)
        require_admin(account)
        return _page(request, session, account)


async def add(request: Request) -> Response:
    c = ctx(request)
    form = await checked_form(request)
    with c.session() as session:
        account = current_account(request, session)
        require_admin(account)
        known = institutions(session)
        chosen = [str(i) for i in form.getlist("institutions") if str(i) in known]
        role = str(form.get("role") or "")
        login, name = str(form.get("login") or ""), str(form.get("name") or "")
        values: dict[str, object] = {"login": login, "name": name, "role": role, "institutions": chosen}
        if role not in {r.value for r in Role}:
            return _page(request, session, account, "Bitte eine Rolle wählen.", values)
        try:
            added = add_account(
                session,
                login,
                str(form.get("password") or ""),
                Role(role),
                chosen,
                c.clock(),
                name=name,
            )
        except AccountError as exc:
            return _page(request, session, account, str(exc), values)
        audit.record(session, account.actor, "web_user_add", at=c.clock(), login=added.login, role=role)
        return redirect(f"/konten?ok={added.login}")


async def change(request: Request) -> Response:
    c = ctx(request)
    await checked_form(request)
    action = request.path_params["action"]
    with c.session() as session:
        account = current_account(request, session)
        require_admin(account)
        ident = request.path_params["account_id"]
        target = session.get(ConsoleAccount, int(ident)) if ident.isdigit() else None
        if target is None or action not in ("sperren", "entsperren", "abmelden"):
            raise not_found()
        if target.id == account.id and action == "sperren":
            raise HTTPException(409, "Sie können Ihr eigenes Konto nicht sperren.")
        if action == "sperren":
            target.active = False
        elif action == "entsperren":
            target.active, target.failed_logins, target.locked_until = True, 0, None
        end_sessions(session, target, c.clock())
        names = {
            "sperren": "web_user_disable",
            "entsperren": "web_user_enable",
            "abmelden": "web_user_signout",
        }
        audit.record(session, account.actor, names[action], at=c.clock(), login=target.login)
        login = target.login
    return redirect(f"/konten?ok={login}")


ROUTES = [
    Route("/konten", accounts_page, methods=["GET"]),
    Route("/konten", add, methods=["POST"]),
    Route("/konten/{account_id}/{action}", change, methods=["POST"]),
]
