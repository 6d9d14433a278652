"""Shared pieces of the reminder tests (no tests in here): a controllable clock, subscribers,
events, a recording Sender.

The recording Sender stands in for a messenger only where the platform is beside the point (timing
rules, planning, claiming); 429/403 handling is tested through the real TelegramSender and the
Bot API stand-in in test_reminders_telegram.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.outbound import DeliveryResult, DeliveryStatus
from bot.reminders.dispatcher import Dispatcher
from bot.reminders.planner import ReminderRules
from bot.telegram.limiter import TelegramRateLimiter
from bot.telegram.runtime import build_application
from bot.telegram.sender import TelegramSender
from db.engine import session_scope
from db.event_models import Delivery, Event, Subscription
from db.events import upsert_events
from db.models import User
from handlers.turn import Reply
from knowledge.events import EventIn
from tests.telegram_standin import BotApiStandIn

BERLIN = ZoneInfo("Europe/Berlin")
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
RULES = ReminderRules(leads=(7 * DAY, DAY), quiet=(dt.time(21), dt.time(8)), tz=BERLIN)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=BERLIN).astimezone(dt.UTC)


class Clock:
    """Time that moves only when the test (or an injected sleep) says so."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, now: dt.datetime) -> None:
        self.now = now

    async def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
        await asyncio.sleep(0)


Script = Callable[[str, int], DeliveryResult | None]


@dataclass
class RecordingSender:
    transport: str = "telegram"
    script: Script | None = None  # (external id, call number) -> result; None = accept
    sent: list[tuple[str, str]] = field(default_factory=list)
    calls: int = 0

    async def send(
        self, external_id: str, replies: Sequence[Reply], *, personal: bool = False
    ) -> DeliveryResult:
        self.calls += 1
        result = self.script(external_id, self.calls) if self.script else None
        if result is not None and result.status is not DeliveryStatus.SENT:
            return result
        self.sent.append((external_id, replies[0].text))
        await asyncio.sleep(0)
        return DeliveryResult(DeliveryStatus.SENT)

    def to(self, external_id: str) -> list[str]:
        return [text for ext, text in self.sent if ext == external_id]


def add_event(engine: sa.Engine, now: dt.datetime, **fields: object) -> int:
    data = {"id": "infotag", "title": "Infotag Ausbildung", "place": "Uelzen", **fields}
    with session_scope(engine) as session:
        upsert_events(session, [EventIn.model_validate(data)], now)
        event = session.exec(select(Event).where(Event.uid == data["id"])).one()
        assert event.id is not None
        return event.id


def add_subscribers(
    engine: sa.Engine,
    count: int,
    subscribed_at: dt.datetime,
    *,
    transport: str = "telegram",
    first_id: int = 1000,
    personal: bool = False,
    **profile: str | None,
) -> list[str]:
    """`count` active users with an active subscription; returns their external ids."""
    ids = [str(first_id + i) for i in range(count)]
    with session_scope(engine) as session:
        users = [User(transport=transport, external_id=ext) for ext in ids]
        session.add_all(users)
        session.flush()
        for u in users:
            assert u.id is not None  # given by the flush
            session.add(
                Subscription(
                    user_id=u.id,
                    subscribed_at=subscribed_at,
                    updated_at=subscribed_at,
                    situation=profile.get("situation"),
                    district=profile.get("district"),
                    sector=profile.get("sector"),
                    personal=personal,
                )
            )
    return ids


def dispatcher(engine: sa.Engine, sender: RecordingSender, clock: Clock, **kw: object) -> Dispatcher:
    return Dispatcher(engine, {sender.transport: sender}, RULES, clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


async def tick(d: Dispatcher) -> None:
    d.plan()
    await d.dispatch()


def statuses(engine: sa.Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(select(Delivery.status, sa.func.count()).group_by(Delivery.status)).all()
    return {status: int(n) for status, n in rows}


@dataclass
class Telegram:
    """The real TelegramSender on a Bot API stand-in; the limiter's sleeps are recorded, not slept."""

    api: BotApiStandIn
    sender: TelegramSender
    limiter_waits: list[float] = field(default_factory=list)

    def texts(self, chat: str) -> list[str]:
        return [m.text for m in self.api.messages(int(chat))]

    def statuses_of_sends(self, chat: str | None = None) -> list[int]:
        return [
            c.status
            for c in self.api.calls_to("sendMessage")
            if chat is None or c.params.get("chat_id") == int(chat)
        ]


@pytest.fixture
async def telegram(engine: sa.Engine) -> AsyncIterator[Telegram]:
    async with BotApiStandIn() as api:
        waits: list[float] = []

        async def no_wait(seconds: float) -> None:
            waits.append(seconds)
            await asyncio.sleep(0)

        limiter = TelegramRateLimiter(30.0, 1.0, 8.0, max_retries=2, backoff=0.05, sleep=no_wait)
        app = build_application(api.token, api.base_url, limiter)
        await app.initialize()
        try:
            yield Telegram(api, TelegramSender(app.bot, engine), waits)
        finally:
            await app.shutdown()


def telegram_dispatcher(engine: sa.Engine, t: Telegram, clock: Clock) -> Dispatcher:
    return Dispatcher(engine, {"telegram": t.sender}, RULES, clock=clock, sleep=clock.sleep, concurrency=4)
