"""Update processing for PTB: one chat's updates strictly in order, different chats concurrently,
and no chat able to take more than its share.

Ordering: the conversation service serialises one user's turns, but the replies are sent after
it returns; without a per-chat lane two quick messages could have their answers interleaved.

Admission: PTB's own processor takes one of its concurrent-update slots *before* our code sees
the update, so updates queued behind a busy chat held those slots while they waited: one chat
sending 300 messages (whose replies are paced at 1/s) took all of them and every other chat
stalled. The slot PTB takes here is therefore unbounded; this processor decides per chat at
arrival, before any shared capacity is used:

- the chat's arrival rate is checked (`bot.flood.FloodGuard`, FLOOD_MAX_MESSAGES per
  FLOOD_WINDOW_SECONDS); beyond it the update is dropped;
- at most `max_backlog` updates wait behind the chat's running one; beyond that a button press
  replaces the oldest waiting press (only the newest choice counts), anything else is dropped;
- only the update whose turn it is takes one of `max_concurrent` shared slots, so a flooding
  chat occupies exactly one.

Dropped updates are reported to `on_drop` (the runtime answers the flood notice once and stops
a dropped button's spinner); this module sends nothing itself.

Back-pressure (TELEGRAM_MAX_PENDING_UPDATES): `load` counts the updates in progress here plus those
fetched by polling and still on their way through PTB's queue (`announce`); the webhook holds a
request at the door (`room`) and polling waits before its next getUpdates (`room_for`,
bot/telegram/polling.py) while it is at the limit.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.flood import FloodGuard


class Lane(Enum):
    """How an update is admitted."""

    TURN = "turn"  # a message the bot answers: ordered, counted, bounded
    PRESS = "press"  # a button press: like TURN, and a newer press may replace a waiting one
    FREE = "free"  # nothing for us (group chatter, service messages): runs at once, uncounted


@dataclass(frozen=True, slots=True)
class Drop:
    """A dropped update, for the runtime to answer."""

    update: object
    chat_id: int
    notify: bool  # first drop of this flood: tell the chat once
    answer: bool  # a button press whose spinner should still be stopped (within the budget)


@dataclass(eq=False, slots=True)
class _Ticket:
    update: object
    coroutine: Awaitable[Any]
    press: bool
    go: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass(slots=True)
class _ChatLane:
    waiting: deque[_Ticket] = field(default_factory=deque)


@dataclass(slots=True)
class _Flood:
    last_drop: float
    answers_left: int


def default_lane(update: object) -> Lane:
    if not isinstance(update, Update) or update.effective_chat is None:
        return Lane.FREE
    return Lane.PRESS if update.callback_query is not None else Lane.TURN


def _close(coroutine: Awaitable[Any]) -> None:
    """A dropped update's handler coroutine is never awaited: close it (no 'never awaited' warning)."""
    if isinstance(coroutine, Coroutine):
        coroutine.close()


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self,
        max_concurrent: int = 256,
        *,
        max_backlog: int = 8,
        flood_max_messages: int = 20,
        flood_window_seconds: float = 10.0,
        dropped_answers: int = 8,
        classify: Callable[[object], Lane] = default_lane,
        on_drop: Callable[[Drop], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # PTB's semaphore is taken before do_process_update sees the update: never let it bind
        super().__init__(sys.maxsize)
        self.max_backlog = max_backlog
        self.dropped_answers = dropped_answers
        self.classify = classify
        self.on_drop = on_drop
        self.clock = clock
        self.window = flood_window_seconds
        self._rate = FloodGuard(flood_max_messages, flood_window_seconds, clock)
        self._slots = asyncio.BoundedSemaphore(max_concurrent)
        self._lanes: dict[int, _ChatLane] = {}  # chats with a running update (and maybe a backlog)
        self.in_progress = 0  # updates handed to this processor and not finished (running or waiting)
        self.announced = 0  # fetched by polling, not yet handed to this processor (in PTB's queue)
        self._room_waiters: deque[asyncio.Future[None]] = deque()  # held webhook requests, or the poller
        self._floods: dict[int, _Flood] = {}

    def pending(self, chat_id: int) -> int:
        """Updates of this chat admitted and not finished (the running one plus its backlog)."""
        lane = self._lanes.get(chat_id)
        return 1 + len(lane.waiting) if lane is not None else 0

    @property
    def load(self) -> int:
        """Updates this process has taken from Telegram and not finished."""
        return self.in_progress + self.announced

    def announce(self, count: int) -> None:
        """`count` updates were fetched (getUpdates) and are on their way here: they count from now,
        not only once PTB's queue hands them over, so the next fetch cannot overshoot the limit."""
        self.announced += count

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.announced > 0:
            self.announced -= 1  # arrived: now counted as in progress
        self.in_progress += 1
        try:
            await self._process(update, coroutine)
        finally:
            self.in_progress -= 1
            while self._room_waiters:
                waiter = self._room_waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    break

    async def room(self, limit: int, timeout: float) -> bool:
        """Waits (at most `timeout` s) until fewer than `limit` updates are taken, then takes a place
        for one more; False if there was none.

        Back-pressure for webhook mode: an update Telegram pushes while the bot is saturated is held
        at the door instead of queuing without bound in this process (each waiting update holds its task
        and, once admitted, its requests); Telegram sends no more than its max_connections at once
        and delivers the rest, in order, when the bot answers. The place counts from admission
        (`announce`), not only once PTB's queue hands the update over: requests arriving together
        cannot all pass the door before the first of them is counted."""
        if self.load >= limit:
            try:
                async with asyncio.timeout(timeout):
                    await self.room_for(limit)
            except TimeoutError:
                return False
        self.announce(1)
        return True

    async def room_for(self, limit: int) -> int:
        """Waits until fewer than `limit` updates are taken; returns how many more fit.

        Back-pressure for polling mode: the poller asks before each getUpdates and fetches no more
        than fit, so a flood waits at Telegram (which keeps updates for 24 h), not in this process."""
        while self.load >= limit:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._room_waiters.append(waiter)
            try:
                await waiter  # woken by a finished update
            finally:
                if waiter in self._room_waiters:
                    self._room_waiters.remove(waiter)
        return limit - self.load

    async def _process(self, update: object, coroutine: Awaitable[Any]) -> None:
        kind = self.classify(update)
        chat = update.effective_chat if isinstance(update, Update) else None
        if kind is Lane.FREE or chat is None:
            async with self._slots:
                await coroutine
            return
        key = chat.id
        if self._rate.check(("telegram", str(key))) != "ok":
            self._drop(key, update, coroutine, kind is Lane.PRESS)
            return
        lane = self._lanes.get(key)
        if lane is None:  # the chat is idle: its update runs now
            lane = self._lanes[key] = _ChatLane()
        else:
            if len(lane.waiting) >= self.max_backlog:
                older = next((t for t in lane.waiting if t.press), None) if kind is Lane.PRESS else None
                if older is None:
                    self._drop(key, update, coroutine, kind is Lane.PRESS)
                    return
                lane.waiting.remove(older)  # coalesce: the newer press replaces the older one
                older.go.set_result(False)
            ticket = _Ticket(update, coroutine, kind is Lane.PRESS)
            lane.waiting.append(ticket)
            try:
                run = await ticket.go
            except asyncio.CancelledError:
                if ticket.go.done() and not ticket.go.cancelled() and ticket.go.result():
                    self._next(key, lane)  # it was our turn: hand it on
                elif ticket in lane.waiting:
                    lane.waiting.remove(ticket)
                _close(coroutine)
                raise
            if not run:  # replaced by a newer press (at most one per admitted press: always answered)
                _close(coroutine)
                self._report(Drop(update, key, notify=False, answer=True))
                return
        try:
            async with self._slots:
                await coroutine
        finally:
            self._next(key, lane)

    def _next(self, key: int, lane: _ChatLane) -> None:
        while lane.waiting:
            ticket = lane.waiting.popleft()
            if not ticket.go.done():
                ticket.go.set_result(True)
                return
        del self._lanes[key]  # nobody waiting: forget the chat, memory stays bounded

    def _drop(self, key: int, update: object, coroutine: Awaitable[Any], press: bool) -> None:
        _close(coroutine)
        now = self.clock()
        flood = self._floods.get(key)
        notify = flood is None or now - flood.last_drop > self.window
        if flood is None or notify:
            flood = self._floods[key] = _Flood(now, self.dropped_answers)
            if len(self._floods) > 1000:
                self._prune(now)
        flood.last_drop = now
        # a dropped press is answered while this flood's budget lasts; later ones just expire
        answer = press and flood.answers_left > 0
        flood.answers_left -= answer
        self._report(Drop(update, key, notify, answer))

    def _report(self, drop: Drop) -> None:
        if self.on_drop is not None:
            self.on_drop(drop)

    def _prune(self, now: float) -> None:
        for key in [k for k, f in self._floods.items() if now - f.last_drop > self.window]:
            del self._floods[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
