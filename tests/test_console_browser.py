"""The partner console in a real headless browser (Debian's Chromium driven by Playwright).

A partner signs in, creates an event after looking at its messenger preview, and a Telegram user
finds it with /termine and subscribes with the button under the list; the partner cancels it and
the subscriber gets the cancellation notice; the statistics chart can be read. The Telegram side is
the real transport (TelegramRuntime, long polling) and the real reminder dispatcher against the
Bot API stand-in, on the same database as the console, so what is checked is what the user's
Telegram app would show. On a developer machine without Chromium the test skips with the reason;
in CI (CI=true) a missing browser is a failure.

The bot and the stand-in run on a thread with an event loop of their own: Playwright's sync API
runs its own loop in the test's thread, and the two loops must not meet.

CONSOLE_SCREENSHOTS=docs/screenshots writes the screenshots of the main pages for the README.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.app import build_features, feature_settings
from bot.clock import system_clock
from bot.conversation import ConversationService
from bot.partner_console.app import create_app
from bot.reminders.dispatcher import Dispatcher, DispatchReport
from bot.settings import Settings
from bot.telegram.limiter import TelegramRateLimiter
from bot.telegram.runtime import TelegramRuntime
from db.console_accounts import Role, add_account
from db.engine import make_engine, session_scope
from db.event_models import Delivery, Event
from db.models import Profile, User
from db.offer_store import upsert_offer_base
from handlers.catalogue import t
from knowledge.base import KnowledgeBase
from knowledge.loader import load_offer_base
from tests.console_support import BERLIN, IHK, PASSWORD, SECRET
from tests.reminders_support import RULES
from tests.telegram_standin import BotApiStandIn, SentMessage

# PTB itself warns about its own RetryAfter.retry_after type change when it builds the exception
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

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
SUBSCRIBER = 4711  # a Telegram user, in a private chat with the bot
TITLE = "Infoabend Aufstiegs-BAföG"
T = TypeVar("T")


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


class LoopThread:
    """An asyncio event loop on a thread of its own; `run` hands it a coroutine and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="telegram-bot", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()  # a timed-out step must not keep running behind the next one
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):  # tidy up what is left, then stop the loop in any case
            self.run(_cancel_other_tasks(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


async def _cancel_other_tasks() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


@dataclass
class TelegramBot:
    """The running bot: `api` plays the users (only touch it on `loop`), `runtime` is the transport."""

    loop: LoopThread
    api: BotApiStandIn
    runtime: TelegramRuntime


async def _standin() -> BotApiStandIn:
    api = BotApiStandIn()  # created on the bot's loop: its events and conditions belong there
    await api.start()
    return api


async def _bot(api: BotApiStandIn, engine: sa.Engine, kb: KnowledgeBase) -> TelegramRuntime:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url,
    )
    service = ConversationService(engine, kb, feature_settings(settings), build_features())
    # generous limits keep the test quick; the limits themselves are tested in the Telegram tests
    limiter = TelegramRateLimiter(1000.0, 1000.0, 100.0, max_retries=3, backoff=0.05)
    runtime = TelegramRuntime(settings, service, limiter=limiter, poll_timeout=1)
    await runtime.start()
    return runtime


@pytest.fixture
def telegram_bot(
    playwright_api: Any, served: tuple[str, sa.Engine], kb: KnowledgeBase
) -> Iterator[TelegramBot]:
    """The Telegram transport on the console's database, polling the Bot API stand-in."""
    _, engine = served
    with contextlib.ExitStack() as stack:
        loop = LoopThread()
        stack.callback(loop.close)
        api = loop.run(_standin())
        stack.callback(lambda: loop.run(api.stop()))
        runtime = loop.run(_bot(api, engine, kb))
        stack.callback(lambda: loop.run(runtime.stop()))
        yield TelegramBot(loop, api, runtime)


@pytest.fixture
def playwright_api() -> Any:
    """Playwright's sync_playwright, or a skip (a failure in CI) before anything is started."""
    return _browser_or_skip()


def _with_text(api: BotApiStandIn, chat: int, part: str) -> SentMessage | None:
    return next((m for m in api.messages(chat) if part in m.text), None)


async def _termine_then_subscribe(api: BotApiStandIn) -> str:
    """The user sends /termine, then taps the subscribe button under the list; returns the list."""
    api.user_text(SUBSCRIBER, "/termine")
    await api.wait_for(lambda: _with_text(api, SUBSCRIBER, TITLE))
    label = t("de", "option.subscribe")
    footer = await api.wait_for(
        lambda: next((m for m in api.messages(SUBSCRIBER) if label in (b.text for b in m.buttons)), None)
    )
    listing = "\n\n".join(m.text for m in api.messages(SUBSCRIBER))
    callback_data = footer.button(label).callback_data
    assert callback_data is not None
    api.press(SUBSCRIBER, footer.message_id, callback_data)
    await api.wait_for(lambda: _with_text(api, SUBSCRIBER, t("de", "abo.done")))
    return listing


def _next_pass() -> dt.datetime:
    """When the dispatcher's next pass sends a notice: now, or in quiet hours (21–8 h) when they end.
    The suite runs at any hour (and shifted into the night), so the pass runs at that moment."""
    return RULES.quiet_end(system_clock())


async def _dispatch_once(engine: sa.Engine, runtime: TelegramRuntime) -> DispatchReport:
    """One pass of the reminder dispatcher, sending through the running bot."""
    dispatcher = Dispatcher(engine, {"telegram": runtime.sender}, RULES, clock=_next_pass)
    try:
        _, report = await dispatcher.run_once()
    finally:
        dispatcher.close()
    return report


async def _texts(api: BotApiStandIn, chat: int) -> list[str]:
    return [m.text for m in api.messages(chat)]


def test_a_partner_creates_an_event_the_bot_lists_and_cancels_it_for_its_subscriber(
    playwright_api: Any, served: tuple[str, sa.Engine], telegram_bot: TelegramBot, tmp_path: Path
) -> None:
    sync_playwright = playwright_api
    base, engine = served
    bot, api = telegram_bot.loop, telegram_bot.api
    shots = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
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
        page.get_by_label("Titel").fill(TITLE)
        page.get_by_label("Beginn").fill(start.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Ort", exact=True).fill("Lüneburg, IHK, Am Sande 1")
        page.get_by_label("Veranstalter").select_option(IHK)
        page.get_by_label("Landkreis Lüneburg").check()
        page.get_by_role("button", name="Vorschau zeigen").click()
        telegram = page.get_by_test_id("telegram-preview")
        assert TITLE in telegram.inner_text()
        assert "Lüneburg, IHK, Am Sande 1" in page.get_by_test_id("matrix-preview").inner_text()
        page.screenshot(path=str(shots / "termin-vorschau.png"), full_page=True)
        page.get_by_role("button", name="Termin speichern").click()
        page.get_by_text("Gespeichert.").wait_for()

        # in Telegram the bot lists it, and the person subscribes with the button under the list
        listing = bot.run(_termine_then_subscribe(api))
        assert "Lüneburg, IHK, Am Sande 1" in listing

        page.reload()
        assert page.get_by_test_id("subscribers").inner_text() == "1"
        page.screenshot(path=str(shots / "termin.png"), full_page=True)
        page.get_by_role("link", name="Termine", exact=True).click()
        assert page.get_by_role("link", name=TITLE, exact=True).is_visible()
        page.screenshot(path=str(shots / "termine.png"), full_page=True)

        page.get_by_role("link", name=TITLE, exact=True).click()
        page.get_by_role("button", name="Termin absagen …").click()
        page.get_by_role("button", name="Ja, Termin absagen").click()
        assert page.get_by_test_id("status").inner_text() == "abgesagt"

        # the reminder dispatcher's next pass tells the subscriber in Telegram
        report = bot.run(_dispatch_once(engine, telegram_bot.runtime))
        assert report.sent == 1
        notices = [m for m in bot.run(_texts(api, SUBSCRIBER)) if t("de", "reminder.cancelled") in m]
        assert len(notices) == 1 and TITLE in notices[0]
        assert notices[0].startswith(t("de", "reminder.cancelled"))

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
        assert page.get_by_role("link", name=TITLE, exact=True).is_visible()
        page.screenshot(path=str(shots / "termine-tablet.png"))
        browser.close()

    # the outbox agrees: one cancel notice, sent, to the subscriber
    with session_scope(engine) as session:
        event = session.exec(select(Event).where(Event.title == TITLE)).one()
        deliveries = session.exec(select(Delivery).where(Delivery.event_id == event.id)).all()
        subscriber = session.exec(select(User).where(User.external_id == str(SUBSCRIBER))).one()
    assert event.status == "cancelled" and event.source == "web"
    assert [(d.user_id, d.kind, d.status) for d in deliveries] == [(subscriber.id, "cancel", "sent")]
