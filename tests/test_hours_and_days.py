"""The bot at awkward hours: late evening, just after midnight, both DST switches, New Year's Eve and a
reminder exactly at its lead time — with the process clock pinned (time-machine), so these tests
mean the same at whatever hour the suite runs.

What the user would notice: /termine shows the right local date and time of an event that starts
just after midnight or across a DST switch; a reminder says "Heute"/"Morgen" by the Berlin
calendar, not by UTC; quiet hours end at 08:00 local time on both sides of a switch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import time_machine

from bot.app import feature_settings
from bot.clock import system_clock
from bot.console import parse_line
from bot.conversation import ConversationService
from bot.reminders.runtime import ReminderRuntime
from bot.settings import Settings
from handlers import events as event_features
from handlers.features import FeatureRegistry
from knowledge.base import KnowledgeBase
from tests.reminders_support import RecordingSender, add_event, add_subscribers, local

MINUTE = dt.timedelta(minutes=1)
DAYS = dt.timedelta(days=3)


@pytest.fixture
def termine(engine: sa.Engine, kb: KnowledgeBase) -> Iterator[ConversationService]:
    registry = FeatureRegistry()
    event_features.register(registry)
    yield ConversationService(engine, kb, feature_settings(Settings()), registry)


def termine_text(service: ConversationService) -> str:
    """/termine typed in the console, stamped by the console's clock (the pinned process clock)."""
    return "\n".join(r.text for r in service.handle_sync(parse_line("/termine", "u1", [], system_clock())))


@pytest.mark.parametrize(
    ("now", "soon_shown_as"),
    [
        pytest.param(local(2026, 10, 25, 23, 40), "Mo., 26.10.2026, 00:10 Uhr", id="23:40-dst-end-day"),
        pytest.param(local(2026, 3, 29, 0, 10), "So., 29.03.2026, 00:40 Uhr", id="00:10-dst-start-day"),
        pytest.param(local(2026, 3, 29, 1, 40), "So., 29.03.2026, 03:10 Uhr", id="01:40-across-the-switch"),
        pytest.param(local(2026, 12, 31, 23, 40), "Fr., 01.01.2027, 00:10 Uhr", id="new-years-eve"),
    ],
)
def test_termine_at_night_shows_what_is_ahead_in_berlin_time(
    engine: sa.Engine, termine: ConversationService, now: dt.datetime, soon_shown_as: str
) -> None:
    add_event(engine, now - DAYS, id="vorhin", title="Vorhin begonnen", start=now - 10 * MINUTE)
    add_event(engine, now - DAYS, id="gleich", title="Gleich danach", start=now + 30 * MINUTE)
    with time_machine.travel(now, tick=False):
        text = termine_text(termine)
    assert "Gleich danach" in text and soon_shown_as in text
    assert "Vorhin begonnen" not in text  # already started: no longer on the list


def runtime(engine: sa.Engine, sender: RecordingSender, leads: str, quiet: str = "") -> ReminderRuntime:
    settings = Settings(reminder_lead_times=leads, quiet_hours=quiet, reminder_tick_seconds=3600)
    return ReminderRuntime(feature_settings(settings), engine, {"telegram": sender})


@pytest.mark.parametrize(
    ("now", "start_in", "head"),
    [
        pytest.param(local(2026, 10, 25, 23, 40), 50 * MINUTE, "Morgen", id="23:40-event-after-midnight"),
        pytest.param(local(2026, 10, 25, 23, 40), 15 * MINUTE, "Heute", id="23:40-event-before-midnight"),
        pytest.param(local(2026, 3, 29, 0, 10), 90 * MINUTE, "Heute", id="00:10-dst-start-day"),
        pytest.param(local(2026, 3, 29, 1, 40), 90 * MINUTE, "Heute", id="01:40-across-the-switch"),
        pytest.param(local(2026, 12, 31, 23, 40), 50 * MINUTE, "Morgen", id="new-years-eve"),
    ],
)
async def test_a_reminder_says_today_or_tomorrow_by_the_berlin_calendar(
    engine: sa.Engine, now: dt.datetime, start_in: dt.timedelta, head: str
) -> None:
    add_event(engine, now - DAYS, start=now + start_in)
    (ann,) = add_subscribers(engine, 1, now - DAYS)
    sender = RecordingSender()
    reminders = runtime(engine, sender, "2h")
    try:
        with time_machine.travel(now, tick=False):
            await reminders.tick()
    finally:
        await reminders.stop()
    assert len(sender.to(ann)) == 1 and f"Erinnerung: {head}" in sender.to(ann)[0]


async def test_a_reminder_goes_out_exactly_at_its_lead_time_not_a_second_before(engine: sa.Engine) -> None:
    start = local(2026, 12, 31, 23, 40) + dt.timedelta(days=1)  # lead 1d reached at 23:40 on New Year's Eve
    add_event(engine, start - 10 * DAYS, start=start)
    (ann,) = add_subscribers(engine, 1, start - 10 * DAYS)
    sender = RecordingSender()
    reminders = runtime(engine, sender, "1d")
    try:
        with time_machine.travel(start - dt.timedelta(days=1, seconds=1), tick=False) as clock:
            await reminders.tick()
            assert sender.to(ann) == []
            clock.move_to(start - dt.timedelta(days=1))
            await reminders.tick()
            clock.move_to(start - dt.timedelta(hours=12))
            await reminders.tick()  # nothing twice
    finally:
        await reminders.stop()
    assert len(sender.to(ann)) == 1 and "Erinnerung: Morgen" in sender.to(ann)[0]


@pytest.mark.parametrize(
    ("start", "lead", "night", "morning"),
    [
        # autumn: the reminder is reached at 21:00 on 25 October (the day the clocks went back)
        pytest.param(
            local(2026, 10, 26, 9, 0),
            "12h",
            [local(2026, 10, 25, 23, 40), local(2026, 10, 26, 0, 10), local(2026, 10, 26, 7, 59)],
            local(2026, 10, 26, 8, 0),
            id="dst-end",
        ),
        # spring: reached at 21:00 on 28 March; the night is one hour shorter, 08:00 is still 08:00
        pytest.param(
            local(2026, 3, 29, 9, 0),
            "11h",
            [local(2026, 3, 28, 23, 40), local(2026, 3, 29, 0, 10), local(2026, 3, 29, 7, 59)],
            local(2026, 3, 29, 8, 0),
            id="dst-start",
        ),
        pytest.param(
            local(2027, 1, 1, 11, 0),
            "14h",
            [local(2026, 12, 31, 23, 40), local(2027, 1, 1, 0, 10), local(2027, 1, 1, 7, 59)],
            local(2027, 1, 1, 8, 0),
            id="new-years-eve",
        ),
    ],
)
async def test_quiet_hours_hold_a_reminder_until_eight_local_time(
    engine: sa.Engine, start: dt.datetime, lead: str, night: list[dt.datetime], morning: dt.datetime
) -> None:
    add_event(engine, start - 10 * DAYS, start=start)
    (ann,) = add_subscribers(engine, 1, start - 10 * DAYS)
    sender = RecordingSender()
    reminders = runtime(engine, sender, lead, quiet="21:00-08:00")
    try:
        with time_machine.travel(night[0], tick=False) as clock:
            for moment in night:
                clock.move_to(moment)
                await reminders.tick()
                assert sender.to(ann) == [], moment
            clock.move_to(morning)
            await reminders.tick()
    finally:
        await reminders.stop()
    assert len(sender.to(ann)) == 1 and "Erinnerung: Heute" in sender.to(ann)[0]


async def test_the_console_stamps_each_turn_from_its_clock(
    engine: sa.Engine, termine: ConversationService
) -> None:
    """No wall clock in the dialog: the same /termine answers by the transport's clock, whatever the hour."""
    import functools
    import io

    from bot.console import chat

    evening = local(2026, 10, 25, 23, 40)
    add_event(engine, evening - DAYS, id="gleich", title="Gleich danach", start=evening + 30 * MINUTE)
    for clock_says, shown in ((evening, True), (evening + dt.timedelta(hours=1), False)):
        out = io.StringIO()
        await chat(
            termine,
            "u2",
            stdin=io.StringIO("/termine\n"),
            stdout=out,
            interactive=False,
            clock=functools.partial(lambda at: at, clock_says),
        )
        assert ("Gleich danach" in out.getvalue()) is shown
