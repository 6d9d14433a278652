"""The partner console in a real headless browser (Debian's Chromium driven by Playwright).

A partner signs in, creates an event after looking at its messenger preview, the bot's /termine
lists it, a subscriber (subscribed through the bot) is told when the partner cancels it (a cancel
notice in the outbox), and the statistics chart can be read. On a developer machine without
Chromium the test skips with the reason; in CI (CI=true) a missing browser is a failure.

CONSOLE_SCREENSHOTS=docs/screenshots writes the screenshots of the main pages for the README.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.app import build_features, feature_settings
from bot.clock import system_clock
from bot.conversation import ConversationService
from bot.partner_console.app import create_app
from bot.settings import load_settings
from db.console_accounts import Role, add_account
from db.deliveries import plan_due_deliveries
from db.engine import make_engine, session_scope
from db.event_models import Delivery, Event
from db.models import Profile, User
from db.offer_store import upsert_offer_base
from handlers.turn import TurnKind
from knowledge.base import KnowledgeBase
from knowledge.loader import load_offer_base
from tests.console_support import BERLIN, IHK, PASSWORD, SECRET
from tests.reminders_support import RULES
from tests.turns import make_turn

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=de-DE",  # date and time fields in German, as partners see them
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _browser_or_skip() -> Any:
    reason = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright for Python is not installed (pip install playwright)"
    if not reason and not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)"
    if reason:
        if IN_CI:
            pytest.fail(f"the browser tests must run in CI: {reason}")
        pytest.skip(reason)
    return sync_playwright


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[str, sa.Engine]]:
    import uvicorn

    engine = make_engine(sqlite_url)
    now = system_clock()
    with session_scope(engine) as session:
        upsert_offer_base(session, load_offer_base())
        add_account(session, "anna", PASSWORD, Role.ADMIN, [], now, name="Anna Admin")
        for i in range(7):  # enough people in one district for a chart bar; two in another (hidden)
            user = User(transport="telegram", external_id=f"stat{i}")
            session.add(user)
            session.flush()
            assert user.id is not None
            session.add(
                Profile(
                    user_id=user.id,
                    district="lueneburg" if i < 5 else "harburg",
                    situation="beschaeftigt",
                    updated_at=now,
                )
            )
    app = create_app(engine, SECRET, tz=BERLIN, clock=system_clock)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "console did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", engine
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def test_a_partner_creates_an_event_the_bot_lists_and_cancels_it_for_its_subscriber(
    served: tuple[str, sa.Engine], kb: KnowledgeBase, tmp_path: Path
) -> None:
    sync_playwright = _browser_or_skip()
    base, engine = served
    shots = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    service = ConversationService(
        engine, kb, feature_settings(load_settings(_env_file=None)), build_features()
    )
    start = (system_clock() + dt.timedelta(days=30)).astimezone(BERLIN).replace(hour=17, minute=30)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="de-DE")
        page.goto(f"{base}/anmelden")
        page.screenshot(path=str(shots / "anmelden.png"))
        page.keyboard.press("Tab")  # keyboard users first meet the skip link
        assert page.evaluate("document.activeElement.textContent") == "Zum Inhalt springen"
        page.get_by_label("Anmeldename").fill("anna")
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(f"{base}/termine")

        page.get_by_role("link", name="Neuen Termin anlegen").click()
        assert page.evaluate(UNLABELLED) == []  # every field has a label a screen reader reads out
        page.get_by_label("Titel").fill("Infoabend Aufstiegs-BAföG")
        page.get_by_label("Beginn").fill(start.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Ort", exact=True).fill("Lüneburg, IHK, Am Sande 1")
        page.get_by_label("Veranstalter").select_option(IHK)
        page.get_by_label("Landkreis Lüneburg").check()
        page.get_by_role("button", name="Vorschau zeigen").click()
        telegram = page.get_by_test_id("telegram-preview")
        assert "Infoabend Aufstiegs-BAföG" in telegram.inner_text()
        assert "Lüneburg, IHK, Am Sande 1" in page.get_by_test_id("matrix-preview").inner_text()
        page.screenshot(path=str(shots / "termin-vorschau.png"), full_page=True)
        page.get_by_role("button", name="Termin speichern").click()
        page.get_by_text("Gespeichert.").wait_for()

        # the bot lists it, and a person subscribes through the bot
        replies = service.handle_sync(make_turn("telegram", "4711", TurnKind.COMMAND, command="termine"))
        assert any("Infoabend Aufstiegs-BAföG" in r.text for r in replies)
        service.handle_sync(make_turn("telegram", "4711", TurnKind.OPTION, option_id="abo:start"))

        page.reload()
        assert page.get_by_test_id("subscribers").inner_text() == "1"
        page.screenshot(path=str(shots / "termin.png"), full_page=True)
        page.get_by_role("link", name="Termine", exact=True).click()
        assert page.get_by_role("link", name="Infoabend Aufstiegs-BAföG", exact=True).is_visible()
        page.screenshot(path=str(shots / "termine.png"), full_page=True)

        page.get_by_role("link", name="Infoabend Aufstiegs-BAföG", exact=True).click()
        page.get_by_role("button", name="Termin absagen …").click()
        page.get_by_role("button", name="Ja, Termin absagen").click()
        assert page.get_by_test_id("status").inner_text() == "abgesagt"

        # a partner's own calendar file: preview first, then import
        ics = tmp_path / "kalender.ics"
        ics.write_bytes(
            (
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//DE\r\nBEGIN:VEVENT\r\nUID:kal-7@ihk\r\n"
                f"SUMMARY:Sprechtag Anerkennung\r\nDTSTART;TZID=Europe/Berlin:{start:%Y%m%dT1000}00\r\n"
                "LOCATION:Lüneburg\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            ).encode()
        )
        page.goto(f"{base}/termine/import")
        page.get_by_label("Kalender-Datei (.ics, höchstens 1 MB)").set_input_files(str(ics))
        page.get_by_label("Veranstalter").select_option(IHK)
        page.get_by_role("button", name="Vorschau zeigen").click()
        assert page.get_by_test_id("import-action").inner_text() == "neu"
        page.screenshot(path=str(shots / "ics-vorschau.png"))
        page.get_by_role("button", name="1 Termin übernehmen").click()
        page.get_by_role("link", name="Sprechtag Anerkennung", exact=True).wait_for()

        assert page.evaluate(UNLABELLED) == []
        page.get_by_role("link", name="Statistik").click()
        section = page.get_by_role("region", name="Gespräche nach Landkreis", exact=True)
        chart = section.get_by_test_id("chart-landkreise")
        bars = [" ".join(text.split()) for text in chart.locator("g").all_text_contents()]
        assert bars == ["Landkreis Lüneburg 5"]  # Harburg has two people: below five, not drawn
        assert chart.locator("title").text_content() == "Balkendiagramm: Gespräche nach Landkreis"
        harburg = section.get_by_role("row", name="Landkreis Harburg")
        assert harburg.get_by_role("cell").last.inner_text() == "< 5"
        page.screenshot(path=str(shots / "statistik.png"), full_page=True)
        page.get_by_role("link", name="Angebote").click()
        page.get_by_label("nie von einer Person geprüft").check()
        page.get_by_role("button", name="Filtern").click()
        page.wait_for_url("**/angebote?*ungeprueft=1*")
        page.wait_for_load_state()
        page.screenshot(path=str(shots / "angebote.png"))
        page.get_by_role("link", name="Protokoll").click()
        page.get_by_label("Suche (wer, was, Einzelheiten)").fill("event_cancel")
        page.get_by_role("button", name="Suchen").click()
        assert page.get_by_role("cell", name="web:anna").first.is_visible()
        page.set_viewport_size({"width": 768, "height": 1024})  # a tablet
        page.goto(f"{base}/termine?ansicht=abgesagte")
        page.wait_for_load_state()
        assert page.get_by_role("link", name="Infoabend Aufstiegs-BAföG", exact=True).is_visible()
        page.screenshot(path=str(shots / "termine-tablet.png"))
        browser.close()

    # the subscriber is told: the planner writes a cancel notice into the outbox
    with session_scope(engine) as session:
        plan_due_deliveries(session, system_clock(), RULES)
        event = session.exec(select(Event).where(Event.title == "Infoabend Aufstiegs-BAföG")).one()
        notices = session.exec(select(Delivery).where(Delivery.event_id == event.id)).all()
        subscriber = session.exec(select(User).where(User.external_id == "4711")).one()
    assert event.status == "cancelled" and event.source == "web"
    assert [(d.user_id, d.kind) for d in notices] == [(subscriber.id, "cancel")]
