"""`/kurse Pflegefachkraft` on Telegram: the real PTB Application against the Bot API stand-in,
the course search against the Weiterbildungssuche stand-in – both on 127.0.0.1.

What a Telegram user sees: one message with the courses, a URL button per course and the filter
buttons; a filter tap edits that message in place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import build_features
from bot.conversation import ConversationService
from bot.courses import CourseLookup
from bot.settings import Settings
from bot.telegram.limiter import TelegramRateLimiter
from bot.telegram.runtime import TelegramRuntime
from db.engine import make_engine
from handlers.courses import CourseRequest
from handlers.feature_settings import FeatureSettings
from knowledge.base import KnowledgeBase
from knowledge.courses.client import CourseClient
from tests.course_api_stub import KEY, CourseApiStub
from tests.telegram_standin import BotApiStandIn, SentMessage
from tests.test_courses import NOW, TTL

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
ALICE = 1001


@pytest.fixture
async def telegram_bot(
    sqlite_url: str, kb: KnowledgeBase
) -> AsyncIterator[tuple[BotApiStandIn, CourseApiStub]]:
    engine = make_engine(sqlite_url)
    async with BotApiStandIn() as api, CourseApiStub() as courses:
        lookup = CourseLookup(engine, CourseClient(courses.base_url, KEY, timeout=0.5, deadline=2.0), TTL)
        service = ConversationService(
            engine,
            kb,
            FeatureSettings(),
            build_features(courses=True),
            resolvers={CourseRequest: lookup.resolve},
        )
        settings = Settings(
            database_url=sqlite_url,
            telegram_bot_token=api.token,
            telegram_api_base_url=api.base_url,
            telegram_per_chat_rate=50.0,
        )
        limiter = TelegramRateLimiter(1000.0, 1000.0, 100.0, max_retries=3, backoff=0.05)
        runtime = TelegramRuntime(settings, service, limiter=limiter, poll_timeout=5, clock=lambda: NOW)
        await runtime.start()
        try:
            yield api, courses
        finally:
            await runtime.stop()
    engine.dispose()


def course_message(api: BotApiStandIn) -> SentMessage | None:
    return next((m for m in api.messages(ALICE) if m.text.startswith("Passende Kurse")), None)


async def test_kurse_pflegefachkraft_on_telegram_and_a_filter_tap_edits_the_list(
    telegram_bot: tuple[BotApiStandIn, CourseApiStub],
) -> None:
    api, courses = telegram_bot
    api.user_text(ALICE, "/kurse Pflegefachkraft")
    message = await api.wait_for(lambda: course_message(api))
    assert "Umschulung Pflegefachkraft (m/w/d)" in message.text and "Beginn 01.04.2027" in message.text
    assert "Pflegefachkraft – Anpassungsqualifizierung" not in message.text  # Uelzen: 33 km from Lüneburg
    assert "https://kurse.example.org/pflegefachkraft-lueneburg" in [b.url for b in message.buttons]
    widen = next(b for b in message.buttons if b.callback_data and b.callback_data.endswith("|kurs:r:50"))
    assert widen.text == "Umkreis 50 km"

    api.press(ALICE, message.message_id, widen.callback_data or "")
    await api.wait_for(lambda: "Umkreis von 50 km" in message.text or None)
    assert "Pflegefachkraft – Anpassungsqualifizierung" in message.text  # the same message, edited
    assert message.edits == 1
    assert [r["uk"] for r in courses.requests] == ["25", "50"]
