"""Per-user flood protection: more than N messages in a window earns one cool-down notice.

Users are kept in the order of their last message, so the ones silent for longer than the window
are forgotten from the front at every check: memory follows the users of the last window, not
everybody since the start (a campaign brings 100,000), at a constant cost per message.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FloodGuard:
    def __init__(self, max_messages: int, window_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.max_messages = max_messages
        self.window = window_seconds
        self.clock = clock
        self._seen: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._warned: set[tuple[str, str]] = set()

    def check(self, key: tuple[str, str]) -> str:
        """'ok' to process, 'warn' to send the notice once, 'drop' to ignore silently."""
        now = self.clock()
        self._forget_quiet(now)
        q = self._seen.get(key)
        if q is None:
            q = self._seen[key] = deque()
        else:
            self._seen.move_to_end(key)
            while q and now - q[0] > self.window:
                q.popleft()
        q.append(now)
        if len(q) <= self.max_messages:
            self._warned.discard(key)
            return "ok"
        if key in self._warned:
            return "drop"
        self._warned.add(key)
        return "warn"

    def _forget_quiet(self, now: float) -> None:
        while self._seen:
            key, q = next(iter(self._seen.items()))
            if now - q[-1] <= self.window:
                return  # everybody behind wrote later
            del self._seen[key]
            self._warned.discard(key)

    def __len__(self) -> int:
        return len(self._seen)
