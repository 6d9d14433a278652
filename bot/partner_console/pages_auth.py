"""Sign-in and sign-out pages (the only pages reachable without an account)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.partner_console.security import start_session
from bot.partner_console.web import checked_form, ctx, current_account, redirect, render
from db import audit
from db.console_accounts import authenticate, end_sessions, get_by_login


async def login_page(request: Request) -> Response:
    return render(request, "login.html", account=None, error=None, login="")


async def login(request: Request) -> Response:
    c = ctx(request)
    form = await checked_form(request)
    login_name = str(form.get("login") or "").strip()
    password = str(form.get("password") or "")
    now = c.clock()
    client = request.client.host if request.client else "unknown"
    if not c.limiter.allow(client, now):
        return render(
            request,
            "login.html",
            status_code=429,
            account=None,
            login=login_name,
            error="Zu viele Anmeldeversuche. Bitte warten Sie einige Minuten.",
        )
    with c.session() as session:
        account = authenticate(session, login_name, password, now)
        if account is None:
            # a mistyped name may be a password typed into the wrong field: only known names are logged
            known = get_by_login(session, login_name) is not None
            audit.record(session, f"web:{login_name[:100]}" if known else "web:?", "web_login_failed", at=now)
        else:
            audit.record(session, account.actor, "web_login", at=now)
    if account is None or account.id is None:
        return render(
            request,
            "login.html",
            status_code=401,
            account=None,
            login=login_name,
            error="Anmeldename oder Passwort stimmt nicht (oder das Konto ist gesperrt).",
        )
    start_session(request, account.id, account.session_version)
    return redirect("/termine")


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return redirect("/anmelden")


async def logout_everywhere(request: Request) -> Response:
    c = ctx(request)
    await checked_form(request)
    with c.session() as session:
        account = current_account(request, session)
        end_sessions(session, account, c.clock())
        audit.record(session, account.actor, "web_logout_everywhere", at=c.clock())
    request.session.clear()
    return redirect("/anmelden")


async def home(request: Request) -> Response:
    return redirect("/termine")


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/anmelden", login_page, methods=["GET"]),
    Route("/anmelden", login, methods=["POST"]),
    Route("/abmelden", logout, methods=["POST"]),
    Route("/ueberall-abmelden", logout_everywhere, methods=["POST"]),
]
