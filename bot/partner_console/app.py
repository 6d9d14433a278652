"""The console's ASGI app: routes, signed session cookie, security headers, static files.

`create_app` takes the engine, the time zone and a clock, so tests run it in-process (Starlette's
TestClient) or in a real browser against uvicorn, both on the test's database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.partner_console import (
    pages_accounts,
    pages_auth,
    pages_broadcast,
    pages_events,
    pages_import,
    pages_misc,
    pages_offers,
)
from bot.partner_console.web import HERE, ConsoleContext, render

SESSION_COOKIE = "bl_console"
SESSION_MAX_AGE = 12 * 3600  # a working day; afterwards sign in again
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


async def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (301, 302, 303, 307):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return render(request, "error.html", status_code=exc.status_code, message=exc.detail)


def create_app(
    engine: sa.Engine,
    secret_key: str,
    *,
    tz: ZoneInfo,
    clock: Callable[[], dt.datetime],
    secure_cookies: bool = False,
    offer_refresh_seconds: int = 30,
) -> Starlette:
    routes = [
        *pages_auth.ROUTES,
        *pages_import.ROUTES,  # before /termine/{event_id}
        *pages_events.ROUTES,
        *pages_offers.ROUTES,
        *pages_misc.ROUTES,
        *pages_broadcast.ROUTES,
        *pages_accounts.ROUTES,
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=secure_cookies,
        )
    ]
    middleware.insert(0, Middleware(SecurityHeaders))
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: _error})
    app.state.console = ConsoleContext(
        engine=engine,
        tz=tz,
        clock=clock,
        secure_cookies=secure_cookies,
        offer_refresh_seconds=offer_refresh_seconds,
    )
    return app


class SecurityHeaders:
    """No foreign scripts, styles or frames; pages (with personal data) are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
