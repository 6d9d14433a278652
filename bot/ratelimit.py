"""Token-bucket rate limiting for outgoing messenger traffic: one overall budget plus one per key.

Messengers limit bots twice: in total (Telegram ~30 messages/s) and per conversation
(Telegram ~1 message/s per chat, short bursts tolerated). `RateLimiter.acquire(key)` waits until
both budgets allow one more message. Waiting is by reservation: every caller books the next free
slot and sleeps until then, so callers are served first come, first served without polling.
Clock and sleep are injectable so the arithmetic is testable without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; a negative balance is a queue of bookings."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def reserve(self, now: float) -> float:
        """Books one token; returns how many seconds the caller must wait before using it."""
        self._refill(now)
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def is_idle(self, now: float) -> bool:
        """Full again: forgetting this bucket changes nothing, so it may be pruned."""
        self._refill(now)
        return self.tokens >= self.burst


class RateLimiter:
    """An overall bucket plus lazily created per-key buckets (chat, room, …).

    `acquire(key)` first waits for the key's own slot (keeps one conversation in order and at
    its pace), then for an overall slot. Per-key buckets can get their own rate, e.g. Telegram
    groups (20 messages per minute). Idle buckets are forgotten, so memory follows the active chats.
    """

    def __init__(
        self,
        rate: float,
        per_key_rate: float,
        *,
        burst: float | None = None,
        per_key_burst: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.per_key_rate = per_key_rate
        self.per_key_burst = per_key_burst
        self.overall = TokenBucket(rate, burst if burst is not None else max(1.0, rate), clock())
        self._keys: OrderedDict[Hashable, TokenBucket] = OrderedDict()

    def _bucket(self, key: Hashable, now: float, rate: float | None, burst: float | None) -> TokenBucket:
        bucket = self._keys.get(key)
        if bucket is None:
            self._prune(now)  # before the new one joins: it is full, too
            bucket = TokenBucket(rate or self.per_key_rate, burst or self.per_key_burst, now)
            self._keys[key] = bucket
        else:
            self._keys.move_to_end(key)
        return bucket

    def _prune(self, now: float) -> None:
        """Forgets full buckets from the least recently used end: a full bucket is a new one.

        So the map holds only the chats that got a message in the last few seconds (per-chat burst
        ÷ rate), not every chat since the start: after a campaign of 100,000 users it is small again.
        """
        while self._keys:
            oldest_key, oldest = next(iter(self._keys.items()))
            if not oldest.is_idle(now):
                break  # the others were used later; they go at a later call
            del self._keys[oldest_key]

    def reserve_key(self, key: Hashable, *, rate: float | None = None, burst: float | None = None) -> float:
        """Books a slot for `key` only; seconds to wait."""
        now = self.clock()
        return self._bucket(key, now, rate, burst).reserve(now)

    def reserve_overall(self) -> float:
        return self.overall.reserve(self.clock())

    async def acquire(
        self, key: Hashable | None = None, *, rate: float | None = None, burst: float | None = None
    ) -> None:
        """Waits until one message to `key` may go out (key None: only the overall limit applies)."""
        if key is not None:
            delay = self.reserve_key(key, rate=rate, burst=burst)
            if delay > 0:
                await self.sleep(delay)
        delay = self.reserve_overall()
        if delay > 0:
            await self.sleep(delay)

    def __len__(self) -> int:
        return len(self._keys)
