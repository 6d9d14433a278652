"""Per-user flood protection: more than N messages in a window earns one cool-down notice."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class FloodGuard:
    def __init__(self, max_messages: int, window_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.max_messages = max_messages
        self.window = window_seconds
        self.clock = clock
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self._warned: set[tuple[str, str]] = set()

    def check(self, key: tuple[str, str]) -> str:
        """'ok' to process, 'warn' to send the notice once, 'drop' to ignore silently."""
        now = self.clock()
        q = self._seen.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        q.append(now)
        if len(q) <= self.max_messages:
            self._warned.discard(key)
            if not q or len(self._seen) > 10_000:
                self._prune(now)
            return "ok"
        if key in self._warned:
            return "drop"
        self._warned.add(key)
        return "warn"

    def _prune(self, now: float) -> None:
        for key in [k for k, q in self._seen.items() if not q or now - q[-1] > self.window]:
            del self._seen[key]
            self._warned.discard(key)
