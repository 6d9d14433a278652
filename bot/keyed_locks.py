"""One asyncio lock per key (a user's turns one after another), kept only while it is held or awaited.

A lock per user for ever would be one more object per user since the start; an LRU with a size
cap may only forget an unlocked lock, and cannot tell whether a waiter has just been woken for it.
Counting holders and waiters is exact: the last one out removes the entry, so the map holds the
users with a turn in progress, and two turns of one user always meet at the same lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class _Entry:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class KeyedLocks:
    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
