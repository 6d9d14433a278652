"""Reminders through the real Telegram path: TelegramSender, the bot's rate limiter, python-telegram-bot,
HTTP on 127.0.0.1 to the Bot API stand-in — with 429 and 403 injected there. Time is injected
(clock and sleeps), so a retry_after of seconds costs no real waiting."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import Session, select

from bot import runner
from bot.app import build_features, feature_settings
from bot.conversation import ConversationService
from bot.reminders.dispatcher import Dispatcher
from bot.settings import Settings
from bot.telegram.limiter import TelegramRateLimiter
from bot.telegram.runtime import TelegramRuntime
from db.engine import session_scope
from db.event_models import Subscription
from db.models import User
from db.types import utcnow
from knowledge.base import KnowledgeBase
from tests.reminders_support import (
    Clock,
    Telegram,
    add_event,
    add_subscribers,
    local,
    statuses,
    telegram_dispatcher,
)
from tests.telegram_standin import BotApiStandIn

# PTB warns about its own RetryAfter attribute type whenever a 429 is parsed; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")
START = local(2027, 3, 10, 17, 0)
LONG_AGO = local(2027, 1, 1)


async def tick(d: Dispatcher) -> None:
    d.plan()
    await d.dispatch()


async def test_reminders_arrive_as_telegram_messages_with_buttons(
    engine: sa.Engine, telegram: Telegram
) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START, registration_url="https://example.org/anmeldung")
    ids = add_subscribers(engine, 5, LONG_AGO)
    await tick(telegram_dispatcher(engine, telegram, clock))
    for chat in ids:
        (message,) = telegram.api.messages(int(chat))
        assert message.text.startswith("Erinnerung: In 7 Tagen")
        labels = {b.text: b for b in message.buttons}
        assert (labels["Kalenderdatei"].callback_data or "").endswith("|ev:ics:1")
        assert (labels["Abmelden"].callback_data or "").endswith("|abo:stop")
        assert labels["Zur Anmeldung"].url == "https://example.org/anmeldung"


async def test_a_429_is_waited_out_and_the_reminder_sent_once(engine: sa.Engine, telegram: Telegram) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START)
    ids = add_subscribers(engine, 10, LONG_AGO)
    telegram.api.inject("sendMessage", status=429, retry_after=3)  # the limiter waits and resends itself
    # this chat stays refused longer than the limiter retries: the dispatcher reschedules it
    telegram.api.inject("sendMessage", status=429, retry_after=11, times=3, chat_id=int(ids[-1]))
    before = clock.now
    d = telegram_dispatcher(engine, telegram, clock)
    d.plan()
    report = await d.dispatch()
    assert 3.0 in telegram.limiter_waits  # waited exactly as long as Telegram said
    assert report.retried == 1 and report.sent == 10
    assert (clock.now - before).total_seconds() >= 11  # the dispatcher waited retry_after (injected clock)
    for chat in ids:
        assert len(telegram.texts(chat)) == 1, chat  # resent, and only once
    assert telegram.statuses_of_sends(ids[-1]) == [429, 429, 429, 200]
    assert statuses(engine) == {"sent": 10}


async def test_a_403_deactivates_the_subscriber_and_is_not_retried(
    engine: sa.Engine, telegram: Telegram
) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START)
    blocked, other = add_subscribers(engine, 2, LONG_AGO)
    telegram.api.block(int(blocked))
    d = telegram_dispatcher(engine, telegram, clock)
    d.plan()
    report = await d.dispatch()
    assert (report.blocked, report.sent, report.retried) == (1, 1, 0)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.external_id == blocked)).one()
        sub = session.exec(select(Subscription).where(Subscription.user_id == user.id)).one()
    assert not user.active and not sub.active and sub.end_reason == "blocked"
    clock.set(local(2027, 3, 9, 17, 0))  # the 1-day mark: the blocked user is left alone
    await tick(d)
    assert telegram.statuses_of_sends(blocked) == [403]
    assert len(telegram.texts(other)) == 2
    assert statuses(engine) == {"blocked": 1, "sent": 2}


def _with_button(api: BotApiStandIn, chat: int, option_id: str) -> tuple[int, str] | None:
    for message in reversed(api.messages(chat)):
        for button in message.buttons:
            if button.callback_data and button.callback_data.split("|")[-1] == option_id:
                return message.message_id, button.callback_data
    return None


def _with_text(api: BotApiStandIn, chat: int, part: str) -> str | None:
    return next((m.text for m in api.messages(chat) if part in m.text), None)


@time_machine.travel(local(2026, 6, 10, 10, 0), tick=True)  # the event at +90 min is today
async def test_subscribe_get_reminded_and_unsubscribe_in_telegram(
    engine: sa.Engine, kb: KnowledgeBase
) -> None:
    """The whole way as a Telegram user: /abo, the reminder from the running bot, its buttons."""
    now = utcnow()
    add_event(
        engine, now - dt.timedelta(days=3), start=now + dt.timedelta(minutes=90), title="Infoabend Uelzen"
    )
    async with BotApiStandIn() as api:
        settings = Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            telegram_bot_token=api.token,
            telegram_api_base_url=api.base_url,
            telegram_per_chat_rate=50.0,
            reminder_lead_times="1d,2h",
            quiet_hours="",
            reminder_tick_seconds=3600,
        )
        service = ConversationService(engine, kb, feature_settings(settings), build_features())
        limiter = TelegramRateLimiter(1000.0, 1000.0, 100.0)
        telegram = TelegramRuntime(settings, service, limiter=limiter, poll_timeout=1)
        await telegram.start()
        reminders = None
        try:
            api.user_text(42, "/abo")
            message_id, data = await api.wait_for(lambda: _with_button(api, 42, "abo:start"))
            api.press(42, message_id, data)
            await api.wait_for(lambda: _with_text(api, 42, "Ihr Termin-Abo ist aktiv"))
            with session_scope(engine) as session:  # as if the user had subscribed days ago
                session.exec(select(Subscription)).one().subscribed_at = now - dt.timedelta(days=2)
            reminders = runner._start_reminders(service.settings, engine, {"telegram": telegram.sender})
            text = await api.wait_for(lambda: _with_text(api, 42, "Erinnerung: Heute"))
            assert "Infoabend Uelzen" in text
            message_id, data = await api.wait_for(lambda: _with_button(api, 42, "ev:ics:1"))
            api.press(42, message_id, data)
            document = await api.wait_for(lambda: next((m for m in api.messages(42) if m.document), None))
            assert document.document is not None and document.document[0].endswith(".ics")
            message_id, data = await api.wait_for(lambda: _with_button(api, 42, "abo:stop"))
            api.press(42, message_id, data)
            await api.wait_for(lambda: _with_text(api, 42, "keine Terminerinnerungen mehr"))
        finally:
            if reminders is not None:
                await reminders.stop()
            await telegram.stop()
    with Session(engine) as session:
        assert not session.exec(select(Subscription)).one().active
