"""The pure timing rules: lead times, quiet hours, late subscriptions (no clock, no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.reminders.planner import ReminderRules, Scheduled
from bot.settings import parse_durations, parse_quiet_hours

BERLIN = ZoneInfo("Europe/Berlin")
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=BERLIN).astimezone(dt.UTC)


RULES = ReminderRules(leads=(7 * DAY, DAY), quiet=(dt.time(21), dt.time(8)), tz=BERLIN)
START = local(2027, 3, 10, 17, 0)  # Wednesday 17:00


def lead(due: Scheduled | None) -> dt.timedelta | None:
    return None if due is None else due.lead


def test_default_lead_times_remind_a_week_and_a_day_ahead() -> None:
    sched = RULES.schedule(START)
    assert [s.send_at for s in sched] == [local(2027, 3, 3, 17), local(2027, 3, 9, 17)]
    assert RULES.due(START, local(2027, 1, 1), local(2027, 3, 3, 16, 59)) is None
    assert lead(RULES.due(START, local(2027, 1, 1), local(2027, 3, 3, 17))) == 7 * DAY
    assert lead(RULES.due(START, local(2027, 1, 1), local(2027, 3, 9, 17, 0, 30))) == DAY
    assert RULES.due(START, local(2027, 1, 1), START) is None  # started: nothing any more


def test_configured_lead_times_from_the_setting() -> None:
    rules = ReminderRules(leads=parse_durations("7d,1d,2h"), quiet=None, tz=BERLIN)
    assert [s.lead_minutes for s in rules.schedule(START)] == [7 * 24 * 60, 24 * 60, 120]
    assert lead(rules.due(START, local(2027, 1, 1), local(2027, 3, 10, 15, 1))) == 2 * HOUR


def test_a_reminder_in_quiet_hours_goes_out_when_they_end() -> None:
    start = local(2027, 3, 10, 9, 0)  # 1 day ahead = 09:00 (fine); 2h ahead = 07:00 (quiet)
    rules = ReminderRules(leads=(DAY, 2 * HOUR), quiet=parse_quiet_hours("21:00-08:00"), tz=BERLIN)
    two_hours = rules.schedule(start)[-1]
    assert two_hours.lead == 2 * HOUR
    assert two_hours.send_at == local(2027, 3, 10, 8, 0)
    subscribed = local(2027, 1, 1)
    assert rules.due(start, subscribed, local(2027, 3, 10, 7, 0)) is None  # quiet: nothing
    assert lead(rules.due(start, subscribed, local(2027, 3, 10, 8, 0))) == 2 * HOUR


def test_a_reminder_whose_quiet_hours_end_after_the_start_is_not_sent() -> None:
    start = local(2027, 3, 10, 7, 30)  # 2h ahead = 05:30, quiet until 08:00 > start
    rules = ReminderRules(leads=(2 * HOUR,), quiet=(dt.time(21), dt.time(8)), tz=BERLIN)
    assert rules.schedule(start) == []
    for minute in range(0, 24 * 60, 15):
        assert rules.due(start, local(2027, 1, 1), start - DAY + minute * dt.timedelta(minutes=1)) is None


def test_quiet_hours_over_midnight_and_within_a_day() -> None:
    assert RULES.in_quiet(local(2027, 3, 9, 23, 0))
    assert RULES.in_quiet(local(2027, 3, 10, 7, 59))
    assert not RULES.in_quiet(local(2027, 3, 10, 8, 0))
    assert not RULES.in_quiet(local(2027, 3, 9, 20, 59))
    assert RULES.quiet_end(local(2027, 3, 9, 22, 0)) == local(2027, 3, 10, 8, 0)
    assert RULES.quiet_end(local(2027, 3, 10, 1, 0)) == local(2027, 3, 10, 8, 0)
    lunch = ReminderRules(quiet=(dt.time(12), dt.time(13)), tz=BERLIN)
    assert lunch.in_quiet(local(2027, 3, 10, 12, 30)) and not lunch.in_quiet(local(2027, 3, 10, 13, 0))
    assert lunch.quiet_end(local(2027, 3, 10, 12, 30)) == local(2027, 3, 10, 13, 0)
    none = ReminderRules(quiet=parse_quiet_hours(""), tz=BERLIN)
    assert not none.in_quiet(local(2027, 3, 10, 3, 0))


def test_quiet_hours_follow_local_time_across_the_dst_switch() -> None:
    # 28 March 2027: clocks go from 02:00 to 03:00; quiet hours still end at 08:00 local
    assert RULES.quiet_end(local(2027, 3, 27, 22, 0)) == local(2027, 3, 28, 8, 0)
    assert local(2027, 3, 28, 8, 0).hour == 6  # UTC+2 after the switch


def test_a_late_subscriber_is_not_flooded_with_past_due_reminders() -> None:
    subscribed = local(2027, 3, 5, 12, 0)  # after the 7-day mark, before the 1-day mark
    assert [s.lead for s in RULES.schedule(START, subscribed)] == [DAY]
    assert RULES.due(START, subscribed, local(2027, 3, 5, 12, 0, 30)) is None
    assert lead(RULES.due(START, subscribed, local(2027, 3, 9, 17, 0))) == DAY
    too_late = local(2027, 3, 10, 12, 0)  # after every mark
    assert RULES.schedule(START, too_late) == []
    assert RULES.due(START, too_late, local(2027, 3, 10, 12, 1)) is None


def test_after_downtime_only_the_latest_due_reminder_goes_out() -> None:
    # down from before the 7-day mark until after the 1-day mark: one reminder, the current one
    assert lead(RULES.due(START, local(2027, 1, 1), local(2027, 3, 9, 18, 0))) == DAY


def test_notices_wait_for_the_morning_unless_the_event_is_earlier() -> None:
    night = local(2027, 3, 9, 23, 0)
    assert RULES.notice_due_at(night, START) == local(2027, 3, 10, 8, 0)
    assert RULES.notice_due_at(night, local(2027, 3, 10, 7, 0)) == night  # urgent: send now
    day = local(2027, 3, 9, 12, 0)
    assert RULES.notice_due_at(day, START) == day


@given(
    start_offset=st.integers(min_value=0, max_value=60 * 24 * 20),
    sub_offset=st.integers(min_value=0, max_value=60 * 24 * 20),
    now_offset=st.integers(min_value=0, max_value=60 * 24 * 20),
)
def test_due_reminders_never_fall_in_quiet_hours_or_after_the_start(
    start_offset: int, sub_offset: int, now_offset: int
) -> None:
    base = local(2027, 3, 1, 0, 0)
    minute = dt.timedelta(minutes=1)
    start, subscribed, now = (
        base + start_offset * minute,
        base + sub_offset * minute,
        base + now_offset * minute,
    )
    due = RULES.due(start, subscribed, now)
    if due is not None:
        assert now < start
        assert not RULES.in_quiet(now)
        assert due.nominal >= subscribed
        assert due.send_at <= now
        # the shortest due lead: no shorter one is due yet
        assert all(s.send_at > now for s in RULES.schedule(start, subscribed) if s.lead < due.lead)
