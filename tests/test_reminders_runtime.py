"""The APScheduler runtime only ticks: once at start-up (missed reminders go out then), then on its
interval; stopping it leaves nothing claimed."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
import time_machine
from sqlmodel import Session, select

from bot import runner
from bot.app import feature_settings
from bot.outbound import DeliveryResult
from bot.reminders.runtime import ReminderRuntime
from bot.settings import Settings
from db.event_models import Delivery
from db.types import utcnow
from handlers.turn import Reply
from tests.reminders_support import RecordingSender, add_event, add_subscribers, local

# 10:00 Berlin: "now + 90 minutes" is still today (at 23:00 it would be tomorrow). Ticking, because the
# scheduler really waits; pinned, because the reminder's "Heute" depends on the hour.
MORNING = time_machine.travel(local(2026, 6, 10, 10, 0), tick=True)


@MORNING
async def test_start_up_tick_sends_what_was_missed_while_the_bot_was_down(engine: sa.Engine) -> None:
    now = utcnow()
    # the 2-hour mark passed 30 minutes ago, while "the bot was down"; the event is still ahead
    add_event(engine, now - dt.timedelta(days=3), start=now + dt.timedelta(minutes=90))
    (ann,) = add_subscribers(engine, 1, now - dt.timedelta(days=3))
    settings = feature_settings(
        Settings(reminder_lead_times="1d,2h", quiet_hours="", reminder_tick_seconds=3600)
    )
    sender = RecordingSender()
    runtime = runner._start_reminders(settings, engine, {"telegram": sender})
    assert isinstance(runtime, ReminderRuntime)
    try:
        await asyncio.wait_for(runtime.tick_done.wait(), 20)
        assert len(sender.to(ann)) == 1 and "Heute" in sender.to(ann)[0]
        runtime.tick_done.clear()
        await runtime.tick()  # a later tick: nothing new, nothing twice
        assert len(sender.sent) == 1
    finally:
        await runtime.stop()
    assert runtime.scheduler is None and runtime.ticks == 2
    with Session(engine) as session:
        assert session.exec(select(Delivery.claimed_by)).all() == [None]


@MORNING
async def test_stop_while_draining_finishes_in_flight_and_releases_the_rest(engine: sa.Engine) -> None:
    now = utcnow()
    add_event(engine, now - dt.timedelta(days=3), start=now + dt.timedelta(minutes=90))
    add_subscribers(engine, 30, now - dt.timedelta(days=3))
    settings = feature_settings(
        Settings(reminder_lead_times="2h", quiet_hours="", reminder_tick_seconds=3600)
    )
    gate = asyncio.Event()
    started = asyncio.Event()
    sender = RecordingSender()
    original = sender.send

    async def slow_send(
        external_id: str, replies: Sequence[Reply], *, personal: bool = False
    ) -> DeliveryResult:
        started.set()
        await gate.wait()
        return await original(external_id, replies, personal=personal)

    sender.send = slow_send  # type: ignore[method-assign]
    runtime = ReminderRuntime(settings, engine, {"telegram": sender})
    runtime.dispatcher.concurrency = 2
    await runtime.start()
    await asyncio.wait_for(started.wait(), 20)
    stopping = asyncio.create_task(runtime.stop())
    await asyncio.sleep(0.05)
    gate.set()  # the two sends in flight complete
    await asyncio.wait_for(stopping, 20)
    assert len(sender.sent) == 2
    with Session(engine) as session:
        rows = session.exec(select(Delivery.status, Delivery.claimed_by)).all()
    assert sorted(status for status, _ in rows).count("sent") == 2
    assert all(owner is None for _, owner in rows)  # the other 28 are free for the next start

    second = RecordingSender()
    again = ReminderRuntime(settings, engine, {"telegram": second})
    await again.start()
    await asyncio.wait_for(again.tick_done.wait(), 20)
    await again.stop()
    assert len(second.sent) == 28
    assert not {ext for ext, _ in sender.sent} & {ext for ext, _ in second.sent}
