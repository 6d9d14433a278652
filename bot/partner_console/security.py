"""Sign-in, session and CSRF rules of the console, kept apart from the pages that use them.

The session is a signed cookie (Starlette's SessionMiddleware, itsdangerous): it holds only the
account id, the account's session version and the CSRF token, never a password or a role. Every
request re-reads the account, so disabling it or "sign out everywhere" (a new session version)
takes effect on the next click. Every POST carries the session's CSRF token in a hidden field
(`require_csrf`); a form posted from elsewhere lacks it and is refused with 403.

Sign-in attempts are limited twice: per account in the database (locked after five failures,
db/console_accounts.py) and per client address here, in memory (ATTEMPTS per WINDOW), which slows
guessing across many names. The price of the in-memory half: each console process counts alone.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import deque
from dataclasses import dataclass, field

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

CSRF_FIELD = "csrf"
ATTEMPTS = 10
WINDOW = dt.timedelta(minutes=5)


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def require_csrf(request: Request, form: FormData) -> None:
    expected = request.session.get(CSRF_FIELD)
    sent = form.get(CSRF_FIELD)
    if (
        not isinstance(expected, str)
        or not isinstance(sent, str)
        or not secrets.compare_digest(expected.encode(), sent.encode())
    ):
        raise HTTPException(403, "Das Formular ist abgelaufen oder kam nicht von dieser Seite.")


def start_session(request: Request, account_id: int, version: int) -> None:
    """A fresh session (and CSRF token) at every sign-in: nothing from before carries over."""
    request.session.clear()
    request.session.update({"uid": account_id, "ver": version, CSRF_FIELD: secrets.token_urlsafe(32)})


def session_account(request: Request) -> tuple[int, int] | None:
    uid, ver = request.session.get("uid"), request.session.get("ver")
    return (uid, ver) if isinstance(uid, int) and isinstance(ver, int) else None


@dataclass
class AttemptLimiter:
    """At most `limit` sign-in attempts per client address within `window` (sliding)."""

    limit: int = ATTEMPTS
    window: dt.timedelta = WINDOW
    _seen: dict[str, deque[dt.datetime]] = field(default_factory=dict)

    def allow(self, client: str, now: dt.datetime) -> bool:
        for key in [k for k, seen in self._seen.items() if now - seen[-1] >= self.window]:
            del self._seen[key]  # forget quiet addresses: the table never grows without bound
        times = self._seen.setdefault(client, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True
