"""Back-pressure in polling mode (bot/telegram/polling.py), end to end: the real PTB Application
long-polls the Bot API stand-in while the dialog is held, so the updates it took stay in progress.

What an operator would notice: with TELEGRAM_MAX_PENDING_UPDATES reached the bot stops calling
getUpdates (a flood waits at Telegram, not in the bot's memory), and once turns finish every update is
answered, in order, once; stopping a saturated bot does not hang, and what it had not fetched is
answered by the next start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from bot.app import build_features, feature_settings
from bot.conversation import ConversationService
from bot.settings import Settings
from bot.telegram.limiter import TelegramRateLimiter
from bot.telegram.runtime import TelegramRuntime
from handlers.catalogue import t
from handlers.turn import Reply, Turn
from knowledge.base import KnowledgeBase
from tests.telegram_standin import BotApiStandIn

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

CAP = 2
CHATS = (5001, 5002, 5003)
# one employer's first three messages; answered out of order, the questions would not follow each other
DIALOG = ("/start", "Ich bin Arbeitgeber", "Uelzen")
QUESTIONS = (t("de", "ask.situation"), t("de", "ask.district.betrieb"), t("de", "ask.sector.betrieb"))
QUIET = 0.6  # PTB polls again within milliseconds; this long without a getUpdates is no accident


class HeldService(ConversationService):
    """The dialog, answering only while `open` is set: until then every turn stays in progress."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open = asyncio.Event()

    async def handle(self, turn: Turn) -> list[Reply]:
        await self.open.wait()
        return await super().handle(turn)


def make_service(api: BotApiStandIn, engine: sa.Engine, kb: KnowledgeBase) -> tuple[Settings, HeldService]:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url,
        telegram_max_pending_updates=CAP,
        flood_max_messages=1000,
    )
    return settings, HeldService(engine, kb, feature_settings(settings), build_features())


@asynccontextmanager
async def polling_bot(settings: Settings, service: HeldService) -> AsyncIterator[TelegramRuntime]:
    limiter = TelegramRateLimiter(1000.0, 1000.0, 100.0, backoff=0.05)
    runtime = TelegramRuntime(settings, service, limiter=limiter, poll_timeout=1)
    await runtime.start()
    try:
        yield runtime
    finally:
        service.open.set()  # PTB's stop waits for the turns in progress: a failed test must not hang
        await asyncio.wait_for(runtime.stop(), 15)


def flood(api: BotApiStandIn) -> None:
    """Three people write at once, their messages interleaved as Telegram would queue them."""
    for text in DIALOG:
        for chat in CHATS:
            api.user_text(chat, text)


def polls(api: BotApiStandIn) -> int:
    return len(api.calls_to("getUpdates"))


def transcript(api: BotApiStandIn, chat: int) -> list[int]:
    """Which of the dialog's questions each of the bot's messages in `chat` asks, in order."""
    return [i for m in api.messages(chat) for i, q in enumerate(QUESTIONS) if q in m.text]


def all_questions_in(api: BotApiStandIn, chat: int) -> bool | None:
    return len(transcript(api, chat)) == len(QUESTIONS) or None


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def held_at_the_cap(api: BotApiStandIn, runtime: TelegramRuntime) -> None:
    """Waits until the bot took CAP updates, then watches it leave the rest at Telegram."""
    await eventually(lambda: runtime.updates.in_progress >= CAP)
    before = polls(api)
    await asyncio.sleep(QUIET)
    assert polls(api) == before, "getUpdates was called while the bot was at its limit"
    assert runtime.updates.in_progress == CAP and not api.calls_to("sendMessage")


@asynccontextmanager
async def saturated_bot(
    api: BotApiStandIn, engine: sa.Engine, kb: KnowledgeBase
) -> AsyncIterator[tuple[TelegramRuntime, HeldService]]:
    """A polling bot at its limit: three people flooded it, CAP updates are held in progress."""
    settings, service = make_service(api, engine, kb)
    async with polling_bot(settings, service) as runtime:
        flood(api)
        await held_at_the_cap(api, runtime)
        yield runtime, service


async def test_at_the_limit_polling_leaves_updates_at_telegram_and_then_answers_all_in_order(
    api: BotApiStandIn, sqlite_engine: sa.Engine, kb: KnowledgeBase
) -> None:
    async with saturated_bot(api, sqlite_engine, kb) as (_, service):
        service.open.set()
        for chat in CHATS:
            await api.wait_for(partial(all_questions_in, api, chat))
        await api.wait_for(lambda: api.pending_updates == 0 or None)  # all confirmed to Telegram
        await asyncio.sleep(0.3)  # room for an answer that should not come
    assert {chat: transcript(api, chat) for chat in CHATS} == {chat: [0, 1, 2] for chat in CHATS}
    assert all(c.params.get("limit", 0) <= CAP for c in api.calls_to("getUpdates"))  # never fetched more


async def test_a_saturated_bot_stops_at_once_and_the_next_start_answers_what_it_left(
    api: BotApiStandIn, sqlite_engine: sa.Engine, kb: KnowledgeBase
) -> None:
    async with saturated_bot(api, sqlite_engine, kb) as (runtime, service):
        stopping = asyncio.create_task(runtime.stop())
        # the Updater's last getUpdates (confirming what it took) goes out without waiting for room
        await api.wait_for(lambda: api.pending_updates == len(CHATS) * len(DIALOG) - CAP or None, timeout=5)
        service.open.set()  # the two turns in progress finish; stop() waits for them, as PTB does
        await asyncio.wait_for(stopping, 10)

    settings, service = make_service(api, sqlite_engine, kb)
    service.open.set()
    async with polling_bot(settings, service):
        for chat in CHATS:
            await api.wait_for(partial(all_questions_in, api, chat))
        await asyncio.sleep(0.3)
    assert {chat: transcript(api, chat) for chat in CHATS} == {chat: [0, 1, 2] for chat in CHATS}
