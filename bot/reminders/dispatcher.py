"""Claims due outbox rows and sends them through each transport's `Sender`, recording the outcome.

Per transport one feeder claims small batches (so a claim never outlives its lease) and a few
workers send them; the Sender applies the platform's rate limits, so the workers only keep it
busy. Outcomes: SENT → marked sent (only now); RETRY → back to pending at now + retry_after and
the transport pauses that long; BLOCKED → user and subscription deactivated, counted, never
retried; FAILED → marked failed; SKIPPED (a personal message, the chat is shared now) → marked
skipped with the sender's reason, never retried. A graceful stop lets in-flight sends finish and
releases the rest, so a restart neither loses nor repeats anything. Admin broadcasts are rows of the same
outbox and take the same way; like reminders they wait for the end of quiet hours.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from functools import partial
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import col, select

from bot.clock import Clock, system_clock
from bot.outbound import DeliveryResult, DeliveryStatus, Sender
from bot.reminders.planner import ReminderRules
from bot.transports import command_prefix
from db import deliveries
from db.deliveries import NOTICE_KINDS, Claimed, PlanReport
from db.engine import is_postgres, session_scope
from db.event_models import DeliveryKind, Event
from db.events import organiser_names
from handlers.events import broadcast_reply, delivery_reply

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]
ERROR_BACKOFF = 30.0  # seconds before retrying after an unexpected error in a Sender


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0  # reminders held back by quiet hours

    def merge(self, other: DispatchReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.blocked + self.failed + self.skipped + self.deferred


def worker_name() -> str:
    """host:pid:nonce — the nonce tells a restarted process from its predecessor with the same pid."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead_here(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:24] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # our pid, another nonce: a predecessor in this very process (or pid reuse)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class _Batch:
    items: list[Claimed]
    events: dict[int, Event]
    organisers: dict[str, str]
    broadcasts: dict[int, str] = field(default_factory=dict)  # id -> text


class Dispatcher:
    def __init__(
        self,
        engine: sa.Engine,
        senders: Mapping[str, Sender],
        rules: ReminderRules | None = None,
        *,
        worker: str | None = None,
        batch_size: int = 100,
        concurrency: int = 4,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        max_retry_wait: float = 60.0,
        clock: Clock = system_clock,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        self.rules = rules or ReminderRules()
        self.worker = worker or worker_name()
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.lease = lease
        self.max_retry_wait = max_retry_wait
        self.clock = clock
        self.sleep = sleep
        self._pause_until: dict[str, dt.datetime] = {}
        self._blocked: set[int] = set()  # users found blocked in this run: their queued rows are void
        self._stopping = False
        # one writer thread on SQLite (no lock contention between our own writes), a few on PostgreSQL
        self._executor = ThreadPoolExecutor(
            max_workers=4 if is_postgres(engine) else 1, thread_name_prefix="reminders-db"
        )

    # --- life cycle ----------------------------------------------------------------------------
    def recover(self) -> int:
        """At start-up, free the claims of earlier runs that are certainly dead.

        SQLite serves one process, so every earlier claim is stale. On PostgreSQL other live
        processes may hold claims: only claims from this host whose process is gone (or whose pid
        is ours again, after a restart) are freed; claims from other hosts expire with the lease.
        """
        with session_scope(self.engine) as session:
            if not is_postgres(self.engine):
                released = deliveries.release_claims(session)
            else:
                released = sum(
                    deliveries.release_claims(session, owner)
                    for owner in deliveries.claim_owners(session)
                    if owner != self.worker and _dead_here(owner)
                )
        if released:
            log.info("released %d reminder claims left by an earlier run", released)
        return released

    def stop(self) -> None:
        """Finish what is in flight, take nothing new."""
        self._stopping = True

    async def _db(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, partial(fn, *args))

    def close(self) -> None:
        self._executor.shutdown(wait=False)

    def release_own(self) -> int:
        with session_scope(self.engine) as session:
            return deliveries.release_claims(session, self.worker)

    # --- planning ------------------------------------------------------------------------------
    def plan(self, now: dt.datetime | None = None) -> PlanReport:
        now = now or self.clock()
        with session_scope(self.engine) as session:
            return deliveries.plan_due_deliveries(session, now, self.rules)

    # --- dispatching ---------------------------------------------------------------------------
    async def dispatch(self) -> DispatchReport:
        """Sends everything due now on every transport with a Sender; returns when nothing is left
        (retries due within `max_retry_wait` are waited for, later ones go to a later tick)."""
        report = DispatchReport()
        self._blocked.clear()  # a user may unblock and subscribe again between two runs
        parts = await asyncio.gather(*(self._drain(t, s) for t, s in self.senders.items()))
        for part in parts:
            report.merge(part)
        return report

    async def run_once(self) -> tuple[PlanReport, DispatchReport]:
        plan = await self._db(self.plan)
        return plan, await self.dispatch()

    async def _drain(self, transport: str, sender: Sender) -> DispatchReport:
        report = DispatchReport()
        queue: asyncio.Queue[tuple[Claimed, _Batch] | None] = asyncio.Queue()
        hungry = asyncio.Event()  # set by the workers when the queue runs low: claim the next batch
        hungry.set()
        workers = [
            asyncio.create_task(self._worker(transport, sender, queue, hungry, report))
            for _ in range(self.concurrency)
        ]
        try:
            while not self._stopping:
                await hungry.wait()
                hungry.clear()
                if await self._wait_for_pause(transport):
                    hungry.set()
                    continue
                now = self.clock()
                kinds = NOTICE_KINDS if self.rules.in_quiet(now) else None
                batch = await self._db(self._claim, transport, now, kinds)
                if batch.items:
                    for item in batch.items:
                        queue.put_nowait((item, batch))
                    continue
                await queue.join()  # in-flight sends may still ask for a retry
                if self._pause_until.get(transport) is not None:
                    hungry.set()
                    continue
                wait = await self._db(self._wait_for_retry, transport, self.clock())
                if wait is None:
                    break
                await self.sleep(wait)
                hungry.set()
        except BaseException:  # cancelled (the process is going down): do not wait for sends
            for w in workers:
                w.cancel()
            raise
        finally:
            for _ in workers:
                queue.put_nowait(None)
            await asyncio.gather(*workers, return_exceptions=True)
            if self._stopping:
                await self._db(self.release_own)
        return report

    async def _wait_for_pause(self, transport: str) -> bool:
        pause = self._pause_until.get(transport)
        if pause is None:
            return False
        remaining = (pause - self.clock()).total_seconds()
        if remaining <= 0:
            self._pause_until.pop(transport, None)
            return False
        await self.sleep(remaining)
        return True

    def _wait_for_retry(self, transport: str, now: dt.datetime) -> float | None:
        """Seconds until a retried row becomes due, if that is soon; None: this run is done."""
        with session_scope(self.engine) as session:
            due = deliveries.next_due_at(session, [transport])
        if due is None:
            return None
        wait = (due - now).total_seconds()
        if wait <= 0 or wait > self.max_retry_wait:
            return None
        return wait

    def _claim(self, transport: str, now: dt.datetime, kinds: tuple[str, ...] | None) -> _Batch:
        with session_scope(self.engine) as session:
            items = deliveries.claim_due(
                session,
                transport=transport,
                worker=self.worker,
                now=now,
                limit=self.batch_size,
                lease=self.lease,
                kinds=kinds,
            )
            if not items:
                return _Batch([], {}, {})
            ids = {i.event_id for i in items if i.event_id is not None}
            rows = session.exec(select(Event).where(col(Event.id).in_(ids))).all() if ids else []
            events = {e.id: e for e in rows if e.id is not None}
            texts = deliveries.broadcast_texts(
                session, {i.broadcast_id for i in items if i.broadcast_id is not None}
            )
            return _Batch(items, events, organiser_names(session, list(events.values())), texts)

    async def _worker(
        self,
        transport: str,
        sender: Sender,
        queue: asyncio.Queue[tuple[Claimed, _Batch] | None],
        hungry: asyncio.Event,
        report: DispatchReport,
    ) -> None:
        while True:
            entry = await queue.get()
            try:
                if queue.qsize() <= self.concurrency:
                    hungry.set()
                if entry is None:
                    return
                if not self._stopping:  # when stopping, leave it claimed: released as the drain ends
                    await self._deliver(transport, sender, entry[0], entry[1], report)
            finally:
                queue.task_done()

    async def _deliver(
        self, transport: str, sender: Sender, item: Claimed, batch: _Batch, report: DispatchReport
    ) -> None:
        if item.user_id in self._blocked:
            return  # mark_blocked already closed this user's rows
        now = self.clock()
        event = batch.events.get(item.event_id) if item.event_id is not None else None
        text = batch.broadcasts.get(item.broadcast_id) if item.broadcast_id is not None else None
        if item.kind == DeliveryKind.BROADCAST:
            reason = self._reason_to_skip_broadcast(item, text, now)
        else:
            reason = self._reason_to_skip(item, event, now)
        if reason == "quiet":
            due = self.rules.quiet_end(now)
            await self._db(self._record, lambda s: deliveries.release(s, item.id, due))
            report.deferred += 1
            return
        if reason is not None or (event is None and text is None):
            await self._db(self._record, lambda s: deliveries.mark_skipped(s, item.id, reason or ""))
            report.skipped += 1
            return
        pause = self._pause_until.get(transport)
        if pause is not None and pause > now:
            await self._db(self._record, lambda s: deliveries.release(s, item.id, pause))
            report.deferred += 1
            return
        prefix = command_prefix(transport)
        if event is not None:
            organiser = batch.organisers.get(event.organiser or "")
            reply = delivery_reply(item.language, prefix, event, organiser, item.kind, now, self.rules.tz)
        else:
            assert text is not None
            reply = broadcast_reply(item.language, prefix, text)
        try:
            result = await sender.send(item.external_id, [reply], personal=item.personal)
        except Exception as exc:  # a Sender must not raise; if it does, retry later instead of dying
            log.exception("sender for %s raised", transport)
            result = DeliveryResult(DeliveryStatus.RETRY, ERROR_BACKOFF, f"{type(exc).__name__}")
        await self._outcome(transport, item, result, report)

    def _reason_to_skip(self, item: Claimed, event: Event | None, now: dt.datetime) -> str | None:
        if event is None:
            return "event deleted"
        if not item.user_active:
            return "user inactive"
        if not item.subscribed:
            return "not subscribed"
        if item.kind == DeliveryKind.REMINDER:
            if event.status == "cancelled":
                return "event cancelled"
            if now >= event.starts_at:
                return "event started"
            if self.rules.in_quiet(now):
                return "quiet"
            return None
        if now >= event.starts_at:
            return "event started"
        if item.n < event.notice_seq:
            return "superseded"
        return None

    def _reason_to_skip_broadcast(self, item: Claimed, text: str | None, now: dt.datetime) -> str | None:
        if text is None:
            return "broadcast deleted"
        if not item.user_active:
            return "user inactive"
        if not item.subscribed:
            return "not subscribed"
        if self.rules.in_quiet(now):
            return "quiet"
        return None

    async def _outcome(
        self, transport: str, item: Claimed, result: DeliveryResult, report: DispatchReport
    ) -> None:
        now = self.clock()
        status = result.status
        if status is DeliveryStatus.SENT:
            await self._db(self._record, lambda s: deliveries.mark_sent(s, item.id, now))
            report.sent += 1
        elif status is DeliveryStatus.RETRY:
            wait = max(result.retry_after or ERROR_BACKOFF, 0.0)
            due = now + dt.timedelta(seconds=wait)
            if item.kind in (DeliveryKind.REMINDER, DeliveryKind.BROADCAST):
                due = self.rules.defer(due)
            if result.retry_after is not None:
                self._pause_until[transport] = max(self._pause_until.get(transport, due), due)
            retried = await self._db(
                self._record, lambda s: deliveries.mark_retry(s, item.id, item.attempts, due, result.detail)
            )
            if retried:
                report.retried += 1
            else:
                report.failed += 1
        elif status is DeliveryStatus.SKIPPED:
            await self._db(self._record, lambda s: deliveries.mark_skipped(s, item.id, result.detail))
            report.skipped += 1
        elif status is DeliveryStatus.BLOCKED:
            self._blocked.add(item.user_id)
            await self._db(self._record, lambda s: deliveries.mark_blocked(s, item.id, item.user_id, now))
            report.blocked += 1
        else:
            await self._db(self._record, lambda s: deliveries.mark_failed(s, item.id, result.detail))
            report.failed += 1

    def _record(self, action: Callable[[sa.Connection], T]) -> T:
        with self.engine.begin() as conn:
            return action(conn)
