"""Shared pieces of the partner-console tests (no tests in here): a console on the test database
with the bundled offer base, three accounts, two events of different institutions, and a client
that signs in the way a browser does (sign-in page, CSRF token from the form)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.partner_console.app import create_app
from db.console_accounts import Role, add_account
from db.engine import session_scope
from db.events import find_event, upsert_events
from db.offer_store import upsert_offer_base
from knowledge.events import EventIn
from knowledge.loader import load_offer_base

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)
SECRET = "test-secret-key-for-the-partner-console-0123456789"
PASSWORD = "richtig-langes-passwort"
IHK, HWK = "ihk_lueneburg_wolfsburg", "hwk_bls"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no form with a CSRF token"
    return match.group(1)


@dataclass
class Console:
    app: Starlette
    engine: sa.Engine
    ihk_event: int
    hwk_event: int

    def client(self, login: str | None = None, password: str = PASSWORD) -> TestClient:
        client = TestClient(self.app, base_url="http://testserver", follow_redirects=False)
        if login is not None:
            response = sign_in(client, login, password)
            assert response.status_code == 303, response.text
        return client


def sign_in(client: TestClient, login: str, password: str) -> httpx.Response:
    token = csrf_of(client.get("/anmelden").text)
    return client.post("/anmelden", data={"login": login, "password": password, "csrf": token})


def token(client: TestClient, path: str = "/termine") -> str:
    return csrf_of(client.get(path).text)


def seed(engine: sa.Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        upsert_offer_base(session, load_offer_base())
        add_account(session, "anna", PASSWORD, Role.ADMIN, [], NOW, name="Anna Admin")
        add_account(session, "ida", PASSWORD, Role.EDITOR, [IHK], NOW, name="Ida IHK")
        add_account(session, "hans", PASSWORD, Role.EDITOR, [HWK], NOW, name="Hans HWK")
        upsert_events(
            session,
            [
                EventIn(
                    id="ihk-tag",
                    title="IHK-Ausbildungstag",
                    start=NOW + dt.timedelta(days=10),
                    place="Lüneburg, IHK",
                    organiser=IHK,
                ),
                EventIn(
                    id="hwk-tag",
                    title="Meistertag der HWK",
                    start=NOW + dt.timedelta(days=12),
                    place="Uelzen",
                    organiser=HWK,
                ),
            ],
            NOW,
        )
        ihk, hwk = find_event(session, "ihk-tag"), find_event(session, "hwk-tag")
        assert ihk is not None and hwk is not None and ihk.id and hwk.id
        return ihk.id, hwk.id


@pytest.fixture
def console(engine: sa.Engine) -> Iterator[Console]:
    ihk, hwk = seed(engine)
    yield Console(create_app(engine, SECRET, tz=BERLIN, clock=lambda: NOW), engine, ihk, hwk)
