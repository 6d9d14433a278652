"""Rate limiting and retries for every Bot API request the bot makes (replies and reminders alike).

PTB's own AIORateLimiter stops *all* traffic when one request gets a 429 and does not retry by
default. This one keeps Telegram's budgets (overall, per chat, slower for groups), and on
failure retries only the affected request: a 429 waits exactly as long as Telegram says, 5xx
and network errors are retried a bounded number of times with exponential backoff. Everything
else (400, 403 blocked, …) is passed on at once: retrying would not help.

A retried send whose first attempt timed out may reach the user twice; a lost question would
be worse than a duplicate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.ratelimit import Clock, RateLimiter, Sleep
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.web.metrics import count_bot_api_error

log = logging.getLogger(__name__)
T = TypeVar("T")

# requests that deliver nothing to a chat: never delayed (a callback answer must be quick)
UNLIMITED = frozenset(
    {
        "answerCallbackQuery",
        "getMe",
        "getUpdates",
        "setMyCommands",
        "deleteMyCommands",
        "getMyCommands",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "close",
        "logOut",
    }
)
GROUP_RATE = 20 / 60  # Telegram: at most 20 messages per minute in a group
GROUP_BURST = 5.0


def retry_after_seconds(exc: RetryAfter) -> float:
    """RetryAfter's public attribute switches type between PTB versions (and warns): normalise."""
    value: Any = getattr(exc, "_retry_after", None)
    if value is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class TelegramRateLimiter(BaseRateLimiter[None]):
    def __init__(
        self,
        send_rate: float = 30.0,
        per_chat_rate: float = 1.0,
        per_chat_burst: float = 8.0,
        *,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limiter = RateLimiter(
            send_rate,
            per_chat_rate,
            per_key_burst=per_chat_burst,
            clock=clock,
            sleep=sleep,
        )
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.clock = clock
        self.failing_since: float | None = None  # first of the network failures in a row (for /healthz)
        self.group_rate = min(per_chat_rate, GROUP_RATE)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def _acquire(self, endpoint: str, data: dict[str, Any]) -> None:
        if endpoint in UNLIMITED:
            return
        chat_id = data.get("chat_id")
        if chat_id is None:
            await self.limiter.acquire(None)
            return
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            chat = -1  # "@channelname": a public group or channel
            key: object = str(chat_id)
        else:
            key = chat
        if chat < 0:
            await self.limiter.acquire(key, rate=self.group_rate, burst=GROUP_BURST)
        else:
            await self.limiter.acquire(key)

    async def _attempt(self, request: Awaitable[T]) -> T:
        """One request. Every failure goes into the Bot API error counter (by code, never a chat id);
        whether Telegram answers at all is remembered for /healthz: any answer, even an error, means
        it is reachable; network failures and 5xx in a row since `failing_since` mean it is not."""
        try:
            result = await request
        except TelegramError as exc:
            count_bot_api_error(exc)
            if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
                self.note_failure()
            else:
                self.note_answer()
            raise
        self.note_answer()
        return result

    def note_answer(self) -> None:
        self.failing_since = None

    def note_failure(self) -> None:
        if self.failing_since is None:
            self.failing_since = self.clock()

    def unreachable_for(self) -> float:
        """Seconds since Telegram last answered, when every request since has failed on the network."""
        return 0.0 if self.failing_since is None else self.clock() - self.failing_since

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        flood_waits = 0
        failures = 0
        while True:
            await self._acquire(endpoint, data)
            try:
                return await self._attempt(callback(*args, **kwargs))
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                flood_waits += 1
                if wait > self.max_retry_after or flood_waits > self.max_retries:
                    raise
                log.warning("Telegram flood control on %s: waiting %.1f s", endpoint, wait)
                await self.sleep(wait)
            except BadRequest:
                raise
            except NetworkError as exc:  # 5xx, connection errors, timeouts
                failures += 1
                if failures > self.max_retries:
                    raise
                delay = min(self.max_backoff, self.backoff * 2 ** (failures - 1))
                log.warning(
                    "%s failed (%s), retry %d/%d in %.1f s",
                    endpoint,
                    type(exc).__name__,
                    failures,
                    self.max_retries,
                    delay,
                )
                await self.sleep(delay)


class PollRequest(AiohttpRequest):
    """getUpdates' own connection, as PTB builds it (one connection), which also tells the limiter
    whether Telegram answers: PTB sends getUpdates past the rate limiter, and in polling mode it is
    often the only request there is."""

    def __init__(self, limiter: TelegramRateLimiter) -> None:
        super().__init__(connection_pool_size=1)
        self._limiter = limiter

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            status, payload = await super().do_request(*args, **kwargs)
        except Exception:
            self._limiter.note_failure()
            raise
        if status >= 500:
            self._limiter.note_failure()
        else:
            self._limiter.note_answer()
        return status, payload
