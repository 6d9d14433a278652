"""Reminders end to end against a real database (SQLite and PostgreSQL), with time under test control:
what a subscriber receives, when, and exactly once — also across a crash and restart."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.outbound import DeliveryResult, DeliveryStatus
from bot.reminders.planner import ReminderRules
from db import deliveries
from db.engine import session_scope
from db.event_models import Delivery, Event, Subscription
from db.events import cancel_event, end_subscription, upsert_events
from db.models import User
from knowledge.events import EventIn
from tests.reminders_support import (
    BERLIN,
    DAY,
    HOUR,
    Clock,
    RecordingSender,
    add_event,
    add_subscribers,
    dispatcher,
    local,
    statuses,
    tick,
)

START = local(2027, 3, 10, 17, 0)  # Wednesday 17:00
LONG_AGO = local(2027, 1, 1)


async def test_reminders_come_a_week_and_a_day_ahead_once_each(engine: sa.Engine) -> None:
    clock = Clock(LONG_AGO)
    add_event(engine, LONG_AGO, start=START)
    (ann,) = add_subscribers(engine, 1, LONG_AGO)
    sender = RecordingSender()
    d = dispatcher(engine, sender, clock)
    for now in (local(2027, 3, 3, 16, 59), local(2027, 3, 3, 17, 0), local(2027, 3, 3, 17, 0, 30)):
        clock.set(now)
        await tick(d)
    assert len(sender.to(ann)) == 1 and "In 7 Tagen" in sender.to(ann)[0]
    assert "Infotag Ausbildung" in sender.to(ann)[0] and "Mi., 10.03.2027, 17:00 Uhr" in sender.to(ann)[0]
    for now in (local(2027, 3, 9, 17, 0), local(2027, 3, 9, 17, 1), START, START + HOUR):
        clock.set(now)
        await tick(d)
    assert len(sender.to(ann)) == 2 and "Morgen" in sender.to(ann)[1]
    assert statuses(engine) == {"sent": 2}


async def test_no_reminder_in_quiet_hours_it_goes_out_when_they_end(engine: sa.Engine) -> None:
    rules = ReminderRules(leads=(2 * HOUR,), quiet=(dt.time(21), dt.time(8)), tz=BERLIN)
    clock = Clock(LONG_AGO)
    add_event(engine, LONG_AGO, start=local(2027, 3, 10, 9, 0))  # 2 h ahead = 07:00: quiet
    add_event(engine, LONG_AGO, id="frueh", start=local(2027, 3, 10, 7, 30))  # starts before quiet ends
    (ann,) = add_subscribers(engine, 1, LONG_AGO)
    sender = RecordingSender()
    d = dispatcher(engine, sender, clock)
    d.rules = rules
    for minutes in range(0, 13 * 60, 15):  # 20:00 .. 08:45, every quarter hour
        clock.set(local(2027, 3, 9, 20, 0) + dt.timedelta(minutes=minutes))
        await tick(d)
        if clock.now < local(2027, 3, 10, 8, 0):
            assert sender.sent == [], clock.now
    assert len(sender.to(ann)) == 1 and "Infotag" in sender.to(ann)[0]


async def test_a_reminder_held_up_until_quiet_hours_waits_for_the_morning(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 9, 17, 0))  # 1-day mark: planned …
    add_event(engine, LONG_AGO, start=START)
    add_subscribers(engine, 1, LONG_AGO)
    sender = RecordingSender()
    d = dispatcher(engine, sender, clock)
    d.plan()
    clock.set(local(2027, 3, 9, 23, 0))  # … but the bot was down until 23:00
    await d.dispatch()
    assert sender.sent == [] and statuses(engine) == {"pending": 1}
    clock.set(local(2027, 3, 10, 8, 0))
    await tick(d)
    assert len(sender.sent) == 1 and "Heute" in sender.sent[0][1]


async def test_a_late_subscriber_only_gets_reminders_still_ahead(engine: sa.Engine) -> None:
    clock = Clock(LONG_AGO)
    add_event(engine, LONG_AGO, start=START)
    (early,) = add_subscribers(engine, 1, LONG_AGO)
    (late,) = add_subscribers(engine, 1, local(2027, 3, 5, 12, 0), first_id=2000)
    (too_late,) = add_subscribers(engine, 1, local(2027, 3, 10, 9, 0), first_id=3000)
    sender = RecordingSender()
    d = dispatcher(engine, sender, clock)
    for now in (
        local(2027, 3, 3, 17),
        local(2027, 3, 5, 12, 1),
        local(2027, 3, 9, 17),
        local(2027, 3, 10, 9, 1),
    ):
        clock.set(now)
        await tick(d)
    assert len(sender.to(early)) == 2
    assert len(sender.to(late)) == 1 and "Morgen" in sender.to(late)[0]
    assert sender.to(too_late) == []


async def test_reminders_follow_the_profile_and_topic_choice(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(
        engine, LONG_AGO, start=START, districts=["uelzen"], audiences=["schule"], topics=["ausbildung"]
    )
    (fits,) = add_subscribers(engine, 1, LONG_AGO, district="uelzen", situation="schule")
    (elsewhere,) = add_subscribers(engine, 1, LONG_AGO, first_id=2000, district="harburg")
    (employer,) = add_subscribers(engine, 1, LONG_AGO, first_id=3000, situation="betrieb")
    (unknown,) = add_subscribers(engine, 1, LONG_AGO, first_id=4000)  # no profile: everything
    (other_topic,) = add_subscribers(engine, 1, LONG_AGO, first_id=5000, district="uelzen")
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.external_id == other_topic)).one()
        sub = session.exec(select(Subscription).where(Subscription.user_id == user.id)).one()
        sub.topics = ["foerderung"]
        session.add(sub)
    sender = RecordingSender()
    await tick(dispatcher(engine, sender, clock))
    assert {ext for ext, _ in sender.sent} == {fits, unknown}
    assert elsewhere and employer and other_topic  # named for the reader: they got nothing


async def test_changes_and_cancellation_reach_the_reminded_and_the_subscribed(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START, districts=["uelzen"])
    (reminded,) = add_subscribers(engine, 1, LONG_AGO, district="uelzen")
    sender = RecordingSender()
    d = dispatcher(engine, sender, clock)
    await tick(d)  # the 7-day reminder
    (subscribed,) = add_subscribers(engine, 1, local(2027, 3, 4, 9, 0), first_id=2000, district="uelzen")
    # the reminded user moved away: the event no longer suits them, but they were told about it
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.external_id == reminded)).one()
        session.exec(select(Subscription).where(Subscription.user_id == user.id)).one().district = "harburg"

    def change(now: dt.datetime, **fields: object) -> None:
        clock.set(now)
        data = {"id": "infotag", "title": "Infotag Ausbildung", "place": "Uelzen", "districts": ["uelzen"]}
        with session_scope(engine) as session:
            upsert_events(session, [EventIn.model_validate({**data, "start": START, **fields})], now)

    change(local(2027, 3, 4, 12, 0), start=START + HOUR)
    await tick(d)
    await tick(d)
    assert [len(sender.to(u)) for u in (reminded, subscribed)] == [2, 1]
    assert "geändert" in sender.to(subscribed)[0] and "18:00 Uhr" in sender.to(subscribed)[0]
    # a second change is told again; (the first change is in the event now: 18:00)
    change(local(2027, 3, 5, 12, 0), start=START + HOUR, place="Uelzen, Stadthalle")
    await tick(d)
    assert "Uelzen, Stadthalle" in sender.to(subscribed)[-1] and len(sender.to(subscribed)) == 2
    # someone who subscribes after the change is not told about it
    (newcomer,) = add_subscribers(engine, 1, local(2027, 3, 6, 9, 0), first_id=3000, district="uelzen")
    change(local(2027, 3, 7, 12, 0), start=START + HOUR, place="Uelzen, Stadthalle", status="cancelled")
    await tick(d)
    assert "abgesagt" in sender.to(reminded)[-1] and "abgesagt" in sender.to(subscribed)[-1]
    assert "abgesagt" in sender.to(newcomer)[-1]  # subscribed before the cancellation: told
    count = len(sender.sent)
    clock.set(local(2027, 3, 9, 18, 0))  # the 1-day mark of a cancelled event: silence
    await tick(d)
    assert len(sender.sent) == count


async def test_a_change_at_night_is_told_in_the_morning(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 4, 23, 0))
    event_id = add_event(engine, LONG_AGO, start=START)
    (ann,) = add_subscribers(engine, 1, LONG_AGO)
    with session_scope(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None and cancel_event(session, event, clock.now)
    sender = RecordingSender()
    d = dispatcher(engine, sender, clock)
    await tick(d)
    assert sender.sent == [] and statuses(engine) == {"pending": 1}
    clock.set(local(2027, 3, 5, 8, 0))
    await tick(d)
    assert len(sender.to(ann)) == 1 and "abgesagt" in sender.to(ann)[0]


async def test_stop_ends_reminders_and_drops_what_is_queued(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START)
    (ann,) = add_subscribers(engine, 1, LONG_AGO)
    sender = RecordingSender()
    d = dispatcher(engine, sender, clock)
    d.plan()
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.external_id == ann)).one()
        assert user.id is not None
        assert end_subscription(session, user.id, clock.now)
    await tick(d)
    clock.set(local(2027, 3, 9, 17, 0))
    await tick(d)
    assert sender.sent == [] and statuses(engine) == {"skipped": 1}


async def test_a_crash_between_messages_loses_nothing_and_repeats_nothing(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START)
    ids = add_subscribers(engine, 40, LONG_AGO)
    crashed = asyncio.Event()

    async def hang() -> None:
        crashed.set()
        await asyncio.Event().wait()  # the process is gone: this send never happens

    platform = RecordingSender()
    first = RecordingSender()

    async def send_then_die(external_id: str, replies: object, personal: bool = False) -> DeliveryResult:
        if len(first.sent) == 15:
            await hang()
        result = await RecordingSender.send(first, external_id, replies)  # type: ignore[arg-type]
        platform.sent.append(first.sent[-1])
        return result

    first.send = send_then_die  # type: ignore[method-assign]
    d1 = dispatcher(engine, first, clock, concurrency=1, batch_size=10)
    d1.plan()
    run = asyncio.create_task(d1.dispatch())
    await asyncio.wait_for(crashed.wait(), 10)
    run.cancel()  # killed mid fan-out: 15 sent, 10 more claimed but not sent
    await asyncio.gather(run, return_exceptions=True)

    second = RecordingSender()
    d2 = dispatcher(engine, second, clock, concurrency=4, batch_size=10)
    d2.recover()  # start-up after the crash
    await tick(d2)
    received = Counter(ext for ext, _ in platform.sent + second.sent)
    assert set(received) == set(ids)
    assert set(received.values()) == {1}
    assert statuses(engine) == {"sent": 40}


async def test_the_message_in_flight_at_a_crash_is_sent_again_not_lost(engine: sa.Engine) -> None:
    """The one gap no messenger API closes: accepted by the platform, not yet recorded as sent."""
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START)
    ids = add_subscribers(engine, 5, LONG_AGO)
    crashed = asyncio.Event()
    first = RecordingSender()

    async def accepted_then_die(external_id: str, replies: object, personal: bool = False) -> DeliveryResult:
        await RecordingSender.send(first, external_id, replies)  # type: ignore[arg-type]
        if len(first.sent) == 3:
            crashed.set()
            await asyncio.Event().wait()
        return DeliveryResult(DeliveryStatus.SENT)

    first.send = accepted_then_die  # type: ignore[method-assign]
    d1 = dispatcher(engine, first, clock, concurrency=1)
    d1.plan()
    run = asyncio.create_task(d1.dispatch())
    await asyncio.wait_for(crashed.wait(), 10)
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
    second = RecordingSender()
    d2 = dispatcher(engine, second, clock)
    d2.recover()
    await tick(d2)
    received = Counter(ext for ext, _ in first.sent + second.sent)
    assert set(received) == set(ids)
    assert [ext for ext, n in received.items() if n > 1] == [ids[2]]


async def test_retry_after_is_honoured_and_the_message_sent_once(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START)
    ids = add_subscribers(engine, 3, LONG_AGO)
    start = clock.now
    sender = RecordingSender(
        script=lambda ext, call: DeliveryResult(DeliveryStatus.RETRY, 7.0, "429") if call == 1 else None
    )
    d = dispatcher(engine, sender, clock, concurrency=1)
    d.plan()
    report = await d.dispatch()
    assert (report.sent, report.retried) == (3, 1)
    assert sorted(ext for ext, _ in sender.sent) == ids
    assert clock.now >= start + dt.timedelta(seconds=7)  # waited as told, on the injected clock
    assert statuses(engine) == {"sent": 3}


async def test_a_user_who_blocked_the_bot_is_deactivated_and_not_retried(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 3, 18, 0))
    add_event(engine, LONG_AGO, start=START)
    add_event(engine, LONG_AGO, id="zweiter", start=START + HOUR)
    blocker, other = add_subscribers(engine, 2, LONG_AGO)
    sender = RecordingSender(
        script=lambda ext, call: (
            DeliveryResult(DeliveryStatus.BLOCKED, detail="403") if ext == blocker else None
        )
    )
    d = dispatcher(engine, sender, clock, concurrency=1)
    d.plan()
    report = await d.dispatch()
    assert report.blocked == 1 and sender.to(other) and not sender.to(blocker)
    assert sender.calls == 3  # the blocker's second reminder was not even tried
    with Session(engine) as session:
        user = session.exec(select(User).where(User.external_id == blocker)).one()
        sub = session.exec(select(Subscription).where(Subscription.user_id == user.id)).one()
        assert not user.active and not sub.active and sub.end_reason == "blocked"
    clock.set(local(2027, 3, 9, 18, 0))
    await tick(d)
    assert sender.calls == 5 and not sender.to(blocker)
    assert statuses(engine) == {"blocked": 2, "sent": 4}


async def test_a_permanent_failure_is_recorded_not_retried(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START)
    add_subscribers(engine, 1, LONG_AGO)
    sender = RecordingSender(script=lambda ext, call: DeliveryResult(DeliveryStatus.FAILED, detail="400"))
    d = dispatcher(engine, sender, clock)
    await tick(d)
    await tick(d)
    assert sender.calls == 1 and statuses(engine) == {"failed": 1}


async def test_users_of_a_transport_without_sender_wait_for_it(engine: sa.Engine) -> None:
    clock = Clock(local(2027, 3, 3, 17, 0))
    add_event(engine, LONG_AGO, start=START)
    add_subscribers(engine, 1, LONG_AGO, transport="matrix", first_id=1)
    (tg,) = add_subscribers(engine, 1, LONG_AGO, first_id=2)
    sender = RecordingSender()
    await tick(dispatcher(engine, sender, clock))
    assert [ext for ext, _ in sender.sent] == [tg]
    assert statuses(engine) == {"pending": 1, "sent": 1}


def test_an_abandoned_claim_is_taken_over_after_the_lease(engine: sa.Engine) -> None:
    now = local(2027, 3, 3, 17, 0)
    add_event(engine, LONG_AGO, start=START)
    add_subscribers(engine, 3, LONG_AGO)
    rules = ReminderRules(leads=(7 * DAY, DAY), quiet=None, tz=BERLIN)
    lease = dt.timedelta(minutes=5)
    with session_scope(engine) as session:
        deliveries.plan_due_deliveries(session, now, rules)
    with session_scope(engine) as session:
        taken = deliveries.claim_due(
            session, transport="telegram", worker="a", now=now, limit=10, lease=lease
        )
    assert len(taken) == 3
    with session_scope(engine) as session:
        again = deliveries.claim_due(
            session, transport="telegram", worker="b", now=now + lease / 2, limit=10, lease=lease
        )
    assert again == []
    with session_scope(engine) as session:
        later = deliveries.claim_due(
            session, transport="telegram", worker="b", now=now + lease * 2, limit=10, lease=lease
        )
    assert sorted(c.id for c in later) == sorted(c.id for c in taken)
    assert all(c.attempts == 2 for c in later)
    with Session(engine) as session:
        assert set(session.exec(select(Delivery.claimed_by)).all()) == {"b"}


async def test_no_reminder_of_an_example_once_real_events_exist(engine: sa.Engine) -> None:
    clock = Clock(LONG_AGO)
    add_event(engine, LONG_AGO, id="beispiel", title="Beispieltag", start=START, example=True)
    (ann,) = add_subscribers(engine, 1, LONG_AGO)
    sender = RecordingSender()
    d = dispatcher(engine, sender, clock)
    clock.set(local(2027, 3, 3, 17, 0))
    await tick(d)
    assert len(sender.to(ann)) == 1 and "Beispieltag" in sender.to(ann)[0]  # a demo database reminds
    add_event(engine, LONG_AGO, start=START + DAY)  # a partner's real event arrives
    clock.set(local(2027, 3, 9, 17, 0))
    await tick(d)
    assert all("Beispieltag" not in text for text in sender.to(ann)[1:])
    clock.set(local(2027, 3, 10, 17, 0, 30))
    await tick(d)
    assert "Infotag Ausbildung" in sender.to(ann)[-1]
    assert sum("Beispieltag" in text for text in sender.to(ann)) == 1


async def test_a_personal_reminder_into_a_chat_that_is_shared_now_is_skipped_and_marked(
    engine: sa.Engine,
) -> None:
    """The sender's send-time check: a room that is no longer 1:1 gets no personal reminder; the row
    is marked skipped with the reason, counted, and never retried. A group's own subscription and a
    person's private chat are served as before."""
    clock = Clock(local(2027, 3, 3, 18, 0))
    add_event(engine, LONG_AGO, start=START)
    [shared] = add_subscribers(engine, 1, LONG_AGO, personal=True)
    [private] = add_subscribers(engine, 1, LONG_AGO, first_id=2000, personal=True)
    [group] = add_subscribers(engine, 1, LONG_AGO, first_id=3000)
    rooms_of_several = {shared, group}
    asked_personal: dict[str, bool] = {}
    sender = RecordingSender()
    record = sender.send

    async def send(external_id: str, replies: object, personal: bool = False) -> DeliveryResult:
        asked_personal[external_id] = personal
        if personal and external_id in rooms_of_several:
            sender.calls += 1
            return DeliveryResult(DeliveryStatus.SKIPPED, detail="shared room")
        return await record(external_id, replies)  # type: ignore[arg-type]

    sender.send = send  # type: ignore[method-assign]
    d = dispatcher(engine, sender, clock)
    d.plan()
    report = await d.dispatch()
    assert asked_personal == {shared: True, private: True, group: False}
    assert (report.sent, report.skipped, report.retried, report.failed) == (2, 1, 0, 0)
    assert sender.to(private) and sender.to(group) and not sender.to(shared)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.external_id == shared)).one()
        row = session.exec(select(Delivery).where(Delivery.user_id == user.id)).one()
        sub = session.exec(select(Subscription).where(Subscription.user_id == user.id)).one()
    assert (row.status, row.detail) == ("skipped", "shared room")
    assert user.active and sub.active  # not "blocked": the person may still subscribe in a direct chat
    calls = sender.calls
    clock.set(clock.now + dt.timedelta(minutes=30))
    await tick(d)
    assert sender.calls == calls  # done with, not retried
    assert statuses(engine) == {"sent": 2, "skipped": 1}
