"""Admission of updates per chat (bot.telegram.ordering), driven directly: which updates run, in
which order, which are dropped or replaced, and what the runtime is told to answer."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from telegram import Update

from bot.telegram.ordering import Drop, PerChatUpdateProcessor

_ids = itertools.count(1)


def message(chat: int, text: str) -> Update:
    data = {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": 0,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "N"},
            "text": text,
        },
    }
    return Update.de_json(data, None)


def press(chat: int, data: str) -> Update:
    update = {
        "update_id": next(_ids),
        "callback_query": {
            "id": f"q{next(_ids)}",
            "from": {"id": chat, "is_bot": False, "first_name": "N"},
            "chat_instance": "c",
            "data": data,
            "message": {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}},
        },
    }
    return Update.de_json(update, None)


def label(update: Update) -> str:
    if update.callback_query is not None:
        return str(update.callback_query.data)
    assert update.message is not None
    return str(update.message.text)


class Harness:
    def __init__(self, **kw: Any) -> None:
        self.drops: list[Drop] = []
        self.ran: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.processor = PerChatUpdateProcessor(on_drop=self.drops.append, **kw)
        self.tasks: list[asyncio.Task[None]] = []

    async def _handle(self, update: Update) -> None:
        name = label(update)
        gate = self.gates.get(name)
        if gate is not None:
            await gate.wait()
        self.ran.append(name)

    def feed(self, update: Update) -> None:
        """Like PTB's update fetcher: one task per update, in arrival order."""
        coroutine = self._handle(update)
        self.tasks.append(asyncio.create_task(self.processor.process_update(update, coroutine)))

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    def dropped(self) -> list[tuple[str, bool, bool]]:
        return [(label(d.update), d.notify, d.answer) for d in self.drops]  # type: ignore[arg-type]


async def test_a_full_backlog_drops_and_notifies_once_while_other_chats_run() -> None:
    h = Harness(max_concurrent=2, max_backlog=3)
    h.gates["a0"] = asyncio.Event()  # chat 1's first turn hangs (e.g. paced replies)
    for i in range(7):
        h.feed(message(1, f"a{i}"))
    h.feed(message(2, "b"))
    await h.settle()
    assert h.ran == ["b"]  # one slot is chat 1's, the other chat runs at once
    assert h.processor.pending(1) == 4
    assert h.dropped() == [("a4", True, False), ("a5", False, False), ("a6", False, False)]
    h.gates["a0"].set()
    await asyncio.gather(*h.tasks)
    assert h.ran == ["b", "a0", "a1", "a2", "a3"]  # order kept
    assert h.processor.pending(1) == 0


async def test_a_newer_press_replaces_a_waiting_one_and_the_old_spinner_is_stopped() -> None:
    h = Harness(max_backlog=2)
    h.gates["first"] = asyncio.Event()
    h.feed(message(1, "first"))
    h.feed(message(1, "text"))
    h.feed(press(1, "p1"))
    h.feed(press(1, "p2"))  # backlog full: replaces p1
    h.feed(press(1, "p3"))  # replaces p2
    h.feed(message(1, "more"))  # no press to replace: dropped
    await h.settle()
    assert sorted(h.dropped()) == [("more", True, False), ("p1", False, True), ("p2", False, True)]
    h.gates["first"].set()
    await asyncio.gather(*h.tasks)
    assert h.ran == ["first", "text", "p3"]


async def test_the_arrival_rate_is_limited_and_only_some_dropped_presses_are_answered() -> None:
    now = [0.0]
    h = Harness(flood_max_messages=3, flood_window_seconds=10, dropped_answers=2, clock=lambda: now[0])
    for i in range(8):
        h.feed(press(1, f"p{i}"))
    await asyncio.gather(*h.tasks)
    assert h.ran == ["p0", "p1", "p2"]
    answered = [("p3", True, True), ("p4", False, True)]
    assert h.dropped() == [*answered, ("p5", False, False), ("p6", False, False), ("p7", False, False)]
    now[0] = 30.0  # the window has passed: the chat is served again, and told again if it floods
    h.feed(press(1, "later"))
    await asyncio.gather(*h.tasks)
    assert h.ran[-1] == "later"


async def test_fetched_updates_count_against_the_limit_before_they_arrive_and_until_they_finish() -> None:
    """Polling's back-pressure does not depend on when PTB's queue hands updates over: two updates
    fetched (announced) fill a limit of 2 at once; the poller may fetch again only when one finished,
    and then only as many as fit."""
    h = Harness()
    h.gates["a"] = asyncio.Event()
    h.processor.announce(2)  # getUpdates returned two; PTB has not handed them over yet
    poller = asyncio.create_task(h.processor.room_for(2))
    await h.settle()
    assert not poller.done()
    h.feed(message(1, "a"))
    h.feed(message(2, "b"))  # finishes at once
    assert await asyncio.wait_for(poller, 1) == 1  # room for one: the other is still in progress
    assert h.processor.load == 1 and h.processor.announced == 0
    h.gates["a"].set()
    await asyncio.gather(*h.tasks)
    assert await h.processor.room_for(2) == 2


async def test_webhook_requests_arriving_together_take_their_places_at_the_door_at_once() -> None:
    """Telegram opens up to 40 webhook connections at once: with a limit of 2, two pass the door
    and the third is held (and refused after its timeout), even though PTB's queue has handed none of
    them to the processor yet; once they arrive and one finishes, the next may enter."""
    h = Harness()
    h.gates["a"] = asyncio.Event()
    assert [await h.processor.room(2, 0.05) for _ in range(3)] == [True, True, False]
    assert h.processor.load == 2
    h.feed(message(1, "a"))
    h.feed(message(2, "b"))  # finishes at once
    await h.settle()
    assert h.processor.load == 1
    assert await h.processor.room(2, 0.05)
    h.gates["a"].set()
    await asyncio.gather(*h.tasks)
