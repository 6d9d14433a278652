"""Outbound delivery to Telegram for reminders and broadcasts (`bot.outbound.Sender`).

Rate limits, flood waits and bounded retries happen in the bot's rate limiter
(`bot.telegram.limiter`), so this only maps the outcome: a user who blocked the bot is marked
inactive and never messaged again until they write to us; what a retry may fix becomes RETRY.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.outbound import DeliveryResult, DeliveryStatus
from bot.telegram import render
from bot.telegram.limiter import retry_after_seconds
from bot.telegram.updates import TRANSPORT
from db import users
from db.engine import session_scope
from handlers.turn import Reply

log = logging.getLogger(__name__)
NETWORK_RETRY_AFTER = 30.0


def _detail(exc: TelegramError) -> str:
    """Telegram's error descriptions are fixed phrases (no message text, no token)."""
    return f"{type(exc).__name__}: {exc.message}"[:200]


class TelegramSender:
    transport = TRANSPORT

    def __init__(self, bot: Bot, engine: sa.Engine) -> None:
        self.bot = bot
        self.engine = engine

    def _is_active(self, external_id: str) -> bool:
        with session_scope(self.engine) as session:
            user = users.find_user(session, TRANSPORT, external_id)
            return user is None or user.active

    def _mark_inactive(self, external_id: str) -> None:
        with session_scope(self.engine) as session:
            users.mark_inactive(session, TRANSPORT, external_id)

    async def mark_blocked(self, external_id: str) -> None:
        """The user blocked the bot: nothing more goes to them until they write again."""
        await asyncio.to_thread(self._mark_inactive, external_id)
        log.info("telegram chat blocked the bot; user marked inactive")

    async def send(
        self, external_id: str, replies: Sequence[Reply], *, personal: bool = False
    ) -> DeliveryResult:
        try:
            chat_id = int(external_id)
        except ValueError:
            return DeliveryResult(DeliveryStatus.FAILED, detail="not a Telegram chat id")
        if personal and chat_id < 0:
            # a private chat's id is the person's (positive); groups are negative and never turn private
            return DeliveryResult(DeliveryStatus.SKIPPED, detail="personal message, group chat")
        if not await asyncio.to_thread(self._is_active, external_id):
            return DeliveryResult(DeliveryStatus.BLOCKED, detail="user is inactive")
        try:
            await render.deliver(self.bot, chat_id, replies)
        except Forbidden as exc:
            await self.mark_blocked(external_id)
            return DeliveryResult(DeliveryStatus.BLOCKED, detail=_detail(exc))
        except RetryAfter as exc:
            return DeliveryResult(
                DeliveryStatus.RETRY, retry_after=retry_after_seconds(exc), detail=_detail(exc)
            )
        except BadRequest as exc:
            return DeliveryResult(DeliveryStatus.FAILED, detail=_detail(exc))
        except NetworkError as exc:  # retries in the limiter are used up
            return DeliveryResult(DeliveryStatus.RETRY, retry_after=NETWORK_RETRY_AFTER, detail=_detail(exc))
        except ChatMigrated as exc:  # a group became a supergroup: the old id is gone
            return DeliveryResult(DeliveryStatus.FAILED, detail=_detail(exc))
        except TelegramError as exc:
            return DeliveryResult(DeliveryStatus.FAILED, detail=_detail(exc))
        return DeliveryResult(DeliveryStatus.SENT)
