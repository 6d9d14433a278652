"""What every console page shares: the wiring (engine, clock, settings), the signed-in account,
rendering a template, and the form check (CSRF) that precedes every change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.partner_console.security import AttemptLimiter, csrf_token, require_csrf, session_account
from db.console_accounts import ConsoleAccount
from db.engine import session_scope
from handlers.catalogue import t

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as pages outside a database session (error pages) show it."""

    login: str
    name: str
    is_admin: bool


@dataclass
class ConsoleContext:
    engine: sa.Engine
    tz: ZoneInfo
    clock: Callable[[], dt.datetime]
    secure_cookies: bool = False
    # the bots' OFFER_REFRESH_SECONDS (same .env): how soon an offer edit reaches users, for the form's hint
    offer_refresh_seconds: int = 30
    limiter: AttemptLimiter = field(default_factory=AttemptLimiter)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session


def ctx(request: Request) -> ConsoleContext:
    context: ConsoleContext = request.app.state.console
    return context


def local(value: dt.datetime | None, tz: ZoneInfo, fmt: str = "%d.%m.%Y %H:%M") -> str:
    return value.astimezone(tz).strftime(fmt) if value is not None else ""


def label(kind: str, code: str) -> str:
    """A code's German label from the bot's message catalogue (the same words users see)."""
    return t("de", f"{kind}.{code}")


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    context = ctx(request)
    values.setdefault("account", request.scope.get("console_viewer"))
    values.update(
        request=request,
        csrf=csrf_token(request),
        local=lambda v, fmt="%d.%m.%Y %H:%M": local(v, context.tz, fmt),
        label=label,
    )
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)


def current_account(request: Request, session: Session) -> ConsoleAccount:
    """The signed-in, active account of an unchanged session version; otherwise back to sign-in."""
    ids = session_account(request)
    account = session.get(ConsoleAccount, ids[0]) if ids else None
    if account is None or not account.active or ids is None or account.session_version != ids[1]:
        request.session.clear()
        raise HTTPException(303, headers={"Location": "/anmelden"})
    request.scope["console_viewer"] = Viewer(account.login, account.name, account.is_admin)
    return account


async def checked_form(request: Request) -> FormData:
    """The posted form, after its CSRF token was checked (every POST route starts here)."""
    form = await request.form()
    require_csrf(request, form)
    return form


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def not_found() -> HTTPException:
    return HTTPException(404, "Nicht gefunden.")
