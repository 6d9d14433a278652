"""One flooding Telegram chat must not stall anybody else: the real PTB Application with the
production pacing (1 message/s per chat, burst 8) and flood settings against the Bot API stand-in.

Before the fix, 300 queued updates of one chat held all of PTB's 256 concurrent-update slots while
waiting for that chat's turn, so another chat's /start waited for minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from pydantic import SecretStr

from bot.app import build_service
from bot.settings import Settings
from bot.telegram.limiter import TelegramRateLimiter
from bot.telegram.runtime import TelegramRuntime
from db.engine import make_engine
from handlers.catalogue import t
from knowledge.base import KnowledgeBase
from tests.telegram_standin import BotApiStandIn, SentMessage

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FLOODER, OTHER = 2001, 2002
FLOOD = 300


@asynccontextmanager
async def production_paced_bot(
    api: BotApiStandIn, sqlite_url: str, kb: KnowledgeBase
) -> AsyncIterator[TelegramRuntime]:
    """Default flood settings (20 per 10 s) and Telegram's real pacing, as in production."""
    engine = make_engine(sqlite_url)
    settings = Settings(
        database_url=sqlite_url, telegram_bot_token=SecretStr(api.token), telegram_api_base_url=api.base_url
    )
    service = build_service(settings, engine, kb)
    limiter = TelegramRateLimiter(30.0, 1.0, 8.0)
    runtime = TelegramRuntime(settings, service, limiter=limiter, poll_timeout=5)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
        engine.dispose()


def texts(api: BotApiStandIn, chat: int, part: str) -> list[SentMessage]:
    return [m for m in api.messages(chat) if part in m.text]


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def other_chat_is_answered_at_once(api: BotApiStandIn) -> None:
    api.user_text(OTHER, "/start")
    # the other chat's reply latency stays that of an idle bot (well under 2 s), whatever the flood
    await api.wait_for(lambda: texts(api, OTHER, "Guten Tag"), timeout=2.0)


async def test_a_chat_sending_300_commands_does_not_stall_other_chats(
    api: BotApiStandIn, sqlite_url: str, kb: KnowledgeBase
) -> None:
    async with production_paced_bot(api, sqlite_url, kb) as bot:
        for _ in range(FLOOD):
            api.user_text(FLOODER, "/hilfe")
        await other_chat_is_answered_at_once(api)

        notice = t("de", "flood")
        await api.wait_for(lambda: texts(api, FLOODER, notice), timeout=10)
        await eventually(lambda: bot.updates.pending(FLOODER) == 0, timeout=30)
        assert len(texts(api, FLOODER, notice)) == 1  # told once, not once per dropped message
        answered = len(texts(api, FLOODER, "So funktioniert"))
        assert 1 <= answered <= 20  # at most the flood allowance, not 300 answers


async def test_rapid_button_presses_do_not_stall_other_chats(
    api: BotApiStandIn, sqlite_url: str, kb: KnowledgeBase
) -> None:
    async with production_paced_bot(api, sqlite_url, kb) as bot:
        api.user_text(FLOODER, "/start")
        question = await api.wait_for(
            lambda: next((m for m in api.messages(FLOODER) if m.buttons), None), timeout=5
        )
        data = question.buttons[0].callback_data
        assert data is not None
        queries = [
            str(api.press(FLOODER, question.message_id, data)["callback_query"]["id"]) for _ in range(FLOOD)
        ]
        await other_chat_is_answered_at_once(api)

        notice = t("de", "flood")
        await api.wait_for(lambda: texts(api, FLOODER, notice), timeout=10)
        await eventually(lambda: bot.updates.pending(FLOODER) == 0, timeout=30)
        assert len(texts(api, FLOODER, notice)) == 1
        answered = [q for q in queries if q in api.answers]
        # the first presses are answered (spinner stops); a flood does not cost 300 API calls
        assert queries[0] in answered and len(answered) < 60
        assert len(api.calls_to("answerCallbackQuery")) == len(answered)
