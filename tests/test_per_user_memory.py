"""What a process keeps per user (flood counts, turn locks) follows the users active now, not all so far.

A campaign brings 100,000 users in a day; each of them must not leave an object behind in every
process for ever, and the protections must still work for the ones writing now.
"""

from __future__ import annotations

import asyncio

from bot.flood import FloodGuard
from bot.keyed_locks import KeyedLocks


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_flood_guard_forgets_users_quiet_for_a_window_and_still_stops_a_flood() -> None:
    clock = Clock()
    guard = FloodGuard(max_messages=3, window_seconds=10, clock=clock)
    for user in range(10_000):  # one message each, a second apart: a campaign
        assert guard.check(("telegram", str(user))) == "ok"
        clock.now += 1.0
    assert len(guard) <= 11  # the last window's users, not 10,000
    flooder = ("telegram", "flooder")
    assert [guard.check(flooder) for _ in range(6)] == ["ok", "ok", "ok", "warn", "drop", "drop"]
    clock.now += 5.0
    assert guard.check(("telegram", "someone")) == "ok"
    assert guard.check(flooder) == "drop"  # still inside the window: the others' checks forgot nothing of it
    clock.now += 11.0
    assert guard.check(flooder) == "ok"  # quiet for a window: a fresh start


async def test_turn_locks_exist_only_while_a_turn_holds_or_waits_and_keep_one_users_turns_in_order() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    release = asyncio.Event()

    async def turn(user: str, name: str) -> None:
        async with locks.hold(user):
            order.append(f"{name} in")
            if name == "a1":
                await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(turn("anna", "a1"))
    await asyncio.sleep(0)
    second = asyncio.create_task(turn("anna", "a2"))
    other = asyncio.create_task(turn("ben", "b1"))
    await asyncio.sleep(0.01)
    assert order == ["a1 in", "b1 in", "b1 out"]  # Ben is not held up by Anna's slow turn
    assert len(locks) == 1  # Anna's lock (held, one waiting); Ben's went with his turn
    release.set()
    await asyncio.gather(first, second, other)
    assert order[3:] == ["a1 out", "a2 in", "a2 out"]
    assert len(locks) == 0

    waiting = asyncio.create_task(turn("anna", "a3"))  # a waiter cancelled while another turn holds the lock
    async with locks.hold("anna"):
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        assert len(locks) == 1
    assert len(locks) == 0
