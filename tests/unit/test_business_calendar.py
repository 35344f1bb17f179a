"""Business-hours SLA arithmetic: windows per local day, time zones, DST and holidays."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conveyor.orders.calendar import BusinessCalendar

OFFICE = BusinessCalendar()  # UTC, Monday to Friday, 09:00-17:00
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")

# 2024-06-03 is a Monday, 2024-06-07 a Friday.
MONDAY = date(2024, 6, 3)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
        micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# -- the plain office calendar ------------------------------------------------------------------------


def test_hours_within_one_working_day() -> None:
    assert OFFICE.add_business_hours(utc(2024, 6, 3, 10), 2) == utc(2024, 6, 3, 12)


def test_time_left_at_closing_carries_over_to_the_next_morning() -> None:
    assert OFFICE.add_business_hours(utc(2024, 6, 3, 16), 3) == utc(2024, 6, 4, 11)


def test_friday_afternoon_carries_over_to_monday() -> None:
    assert OFFICE.add_business_hours(utc(2024, 6, 7, 15), 4) == utc(2024, 6, 10, 11)


def test_a_holiday_is_skipped() -> None:
    calendar = BusinessCalendar(holidays=frozenset({date(2024, 6, 4)}))
    assert calendar.add_business_hours(utc(2024, 6, 3, 16), 3) == utc(2024, 6, 5, 11)


def test_a_holiday_on_a_friday_makes_a_long_weekend() -> None:
    calendar = BusinessCalendar(holidays=frozenset({date(2024, 6, 7)}))
    assert calendar.add_business_hours(utc(2024, 6, 6, 16), 2) == utc(2024, 6, 10, 10)


def test_a_start_before_opening_counts_from_opening() -> None:
    assert OFFICE.add_business_hours(utc(2024, 6, 3, 7), 1) == utc(2024, 6, 3, 10)


def test_a_start_after_closing_counts_from_the_next_opening() -> None:
    assert OFFICE.add_business_hours(utc(2024, 6, 3, 18), 1) == utc(2024, 6, 4, 10)


def test_a_start_exactly_at_closing_counts_from_the_next_opening() -> None:
    assert OFFICE.add_business_hours(utc(2024, 6, 3, 17), 1) == utc(2024, 6, 4, 10)


def test_a_start_on_a_weekend_counts_from_monday_morning() -> None:
    assert OFFICE.add_business_hours(utc(2024, 6, 8, 12), 1) == utc(2024, 6, 10, 10)


def test_a_deadline_that_uses_up_a_day_exactly_is_that_days_closing_time() -> None:
    assert OFFICE.add_business_hours(utc(2024, 6, 3, 9), 8) == utc(2024, 6, 3, 17)


def test_zero_hours_is_the_start_itself_even_when_closed() -> None:
    saturday = utc(2024, 6, 8, 12)
    assert OFFICE.add_business_hours(saturday, 0) == saturday
    assert OFFICE.add_business_hours(saturday, timedelta(0)) == saturday


def test_a_full_working_week_is_forty_hours() -> None:
    assert OFFICE.add_business_hours(utc(2024, 6, 3, 9), 40) == utc(2024, 6, 7, 17)
    assert OFFICE.add_business_hours(utc(2024, 6, 3, 9), 41) == utc(2024, 6, 10, 10)


def test_hours_may_be_decimal_float_int_or_timedelta() -> None:
    start = utc(2024, 6, 3, 9)
    expected = utc(2024, 6, 3, 10, 30)
    assert OFFICE.add_business_hours(start, Decimal("1.5")) == expected
    assert OFFICE.add_business_hours(start, 1.5) == expected
    assert OFFICE.add_business_hours(start, timedelta(minutes=90)) == expected
    assert OFFICE.add_business_hours(start, 1) == utc(2024, 6, 3, 10)


def test_arithmetic_is_exact_to_the_microsecond() -> None:
    start = utc(2024, 6, 3, 16, 59, 59, 999_999)
    assert OFFICE.add_business_hours(start, timedelta(microseconds=2)) == utc(2024, 6, 4, 9, 0, 0, 1)
    one_millionth_hour = Decimal("0.000001")  # 3.6 milliseconds
    assert OFFICE.add_business_hours(utc(2024, 6, 3, 9), one_millionth_hour) == utc(2024, 6, 3, 9, 0, 0, 3600)


def test_results_are_in_utc_whatever_zone_the_start_was_given_in() -> None:
    start = local(AMSTERDAM, 2024, 6, 3, 12)  # 10:00 UTC
    result = OFFICE.add_business_hours(start, 1)
    assert result == utc(2024, 6, 3, 11)
    assert result.tzinfo is UTC


def test_business_time_between_counts_only_open_hours() -> None:
    assert OFFICE.business_time_between(utc(2024, 6, 7, 16), utc(2024, 6, 10, 10)) == hours(2)
    assert OFFICE.business_time_between(utc(2024, 6, 3, 10), utc(2024, 6, 3, 10)) == timedelta(0)
    assert OFFICE.business_time_between(utc(2024, 6, 8), utc(2024, 6, 9, 23)) == timedelta(0)


def test_business_time_between_is_negative_when_the_end_comes_first() -> None:
    assert OFFICE.business_time_between(utc(2024, 6, 10, 10), utc(2024, 6, 7, 16)) == -hours(2)


def test_is_open_inside_the_window_including_opening_but_not_closing() -> None:
    assert OFFICE.is_open(utc(2024, 6, 3, 9))
    assert OFFICE.is_open(utc(2024, 6, 3, 16, 59, 59, 999_999))
    assert not OFFICE.is_open(utc(2024, 6, 3, 17))
    assert not OFFICE.is_open(utc(2024, 6, 3, 8, 59))
    assert not OFFICE.is_open(utc(2024, 6, 8, 12))


def test_next_open_is_now_when_open_and_the_next_opening_otherwise() -> None:
    assert OFFICE.next_open(utc(2024, 6, 3, 11)) == utc(2024, 6, 3, 11)
    assert OFFICE.next_open(utc(2024, 6, 3, 17)) == utc(2024, 6, 4, 9)
    assert OFFICE.next_open(utc(2024, 6, 7, 18)) == utc(2024, 6, 10, 9)
    assert OFFICE.next_open(local(SHANGHAI, 2024, 6, 3, 8)) == utc(2024, 6, 3, 9)


def test_large_amounts_of_hours_are_fast() -> None:
    began = clock.perf_counter()
    deadline = OFFICE.add_business_hours(utc(2024, 6, 3, 9), 8 * 5 * 52 * 3)  # three years of work
    assert clock.perf_counter() - began < 1.0
    assert OFFICE.business_time_between(utc(2024, 6, 3, 9), deadline) == hours(8 * 5 * 52 * 3)


# -- time zones ---------------------------------------------------------------------------------------


def test_an_amsterdam_calendar_opens_at_nine_local_time() -> None:
    calendar = BusinessCalendar(timezone="Europe/Amsterdam")
    # 06:00 UTC is 08:00 in Amsterdam (summer time): the hour starts at 09:00 local = 07:00 UTC.
    assert calendar.add_business_hours(utc(2024, 6, 3, 6), 1) == utc(2024, 6, 3, 8)
    assert calendar.is_open(utc(2024, 6, 3, 7))
    assert not calendar.is_open(utc(2024, 6, 3, 15))  # 17:00 local


def test_a_new_york_calendar_carries_over_to_the_next_local_morning() -> None:
    calendar = BusinessCalendar(timezone="America/New_York")
    # 20:00 UTC is 16:00 in New York: one hour today, one tomorrow from 09:00 local (13:00 UTC).
    assert calendar.add_business_hours(utc(2024, 6, 3, 20), 2) == utc(2024, 6, 4, 14)


def test_a_shanghai_calendar_counts_weekends_in_local_time() -> None:
    calendar = BusinessCalendar(timezone="Asia/Shanghai")
    # Friday 08:00 UTC is 16:00 in Shanghai: one hour Friday, one from Monday 09:00 local (01:00 UTC).
    assert calendar.add_business_hours(utc(2024, 6, 7, 8), 2) == utc(2024, 6, 10, 2)
    # Sunday 23:00 UTC is already Monday 07:00 in Shanghai.
    assert calendar.add_business_hours(utc(2024, 6, 2, 23), 1) == utc(2024, 6, 3, 2)


def test_holidays_are_local_dates() -> None:
    calendar = BusinessCalendar(timezone="Asia/Shanghai", holidays=frozenset({date(2024, 6, 3)}))
    # Sunday 23:00 UTC is Monday in Shanghai, which is a holiday: the hour is Tuesday 09:00-10:00 local.
    assert calendar.add_business_hours(utc(2024, 6, 2, 23), 1) == utc(2024, 6, 4, 2)


# -- daylight saving time -----------------------------------------------------------------------------

NIGHT_SHIFT = BusinessCalendar(
    timezone="Europe/Amsterdam", working_days=frozenset(range(7)), opens=time(0, 0), closes=time(6, 0)
)


def test_a_window_containing_the_spring_forward_is_one_hour_shorter() -> None:
    # 2024-03-31: clocks go from 02:00 to 03:00 in Amsterdam, so 00:00-06:00 local lasts five hours.
    opening = local(AMSTERDAM, 2024, 3, 31, 0)
    closing = local(AMSTERDAM, 2024, 3, 31, 6)
    assert NIGHT_SHIFT.business_time_between(opening, closing) == hours(5)
    assert NIGHT_SHIFT.add_business_hours(opening, 5) == closing.astimezone(UTC) == utc(2024, 3, 31, 4)
    assert NIGHT_SHIFT.add_business_hours(opening, 6) == local(AMSTERDAM, 2024, 4, 1, 1)


def test_a_window_containing_the_fall_back_is_one_hour_longer() -> None:
    # 2024-10-27: clocks go from 03:00 back to 02:00 in Amsterdam, so 00:00-06:00 local lasts seven hours.
    opening = local(AMSTERDAM, 2024, 10, 27, 0)
    closing = local(AMSTERDAM, 2024, 10, 27, 6)
    assert NIGHT_SHIFT.business_time_between(opening, closing) == hours(7)
    assert NIGHT_SHIFT.add_business_hours(opening, 7) == utc(2024, 10, 27, 5)
    assert NIGHT_SHIFT.add_business_hours(opening, 3) == utc(2024, 10, 27, 1)  # 02:00 CET, the second time


def test_a_window_opening_inside_the_skipped_hour_counts_real_elapsed_time() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Amsterdam", working_days=frozenset(range(7)), opens=time(2, 0), closes=time(4, 0)
    )
    day = (utc(2024, 3, 30, 12), utc(2024, 3, 31, 12))
    assert calendar.business_time_between(*day) == hours(1)


def test_a_new_york_office_across_the_spring_forward_weekend() -> None:
    calendar = BusinessCalendar(timezone="America/New_York")
    friday = local(NEW_YORK, 2024, 3, 8, 16)  # EST, 21:00 UTC
    monday = local(NEW_YORK, 2024, 3, 11, 10)  # EDT, 14:00 UTC
    assert calendar.add_business_hours(friday, 2) == monday == utc(2024, 3, 11, 14)
    assert calendar.business_time_between(friday, monday) == hours(2)


def test_a_new_york_office_across_the_fall_back_weekend() -> None:
    calendar = BusinessCalendar(timezone="America/New_York")
    friday = local(NEW_YORK, 2024, 11, 1, 16)  # EDT, 20:00 UTC
    monday = local(NEW_YORK, 2024, 11, 4, 10)  # EST, 15:00 UTC
    assert calendar.add_business_hours(friday, 2) == monday == utc(2024, 11, 4, 15)
    assert calendar.business_time_between(friday, monday) == hours(2)


def test_an_amsterdam_office_across_the_spring_forward_weekend() -> None:
    calendar = BusinessCalendar(timezone="Europe/Amsterdam")
    friday = local(AMSTERDAM, 2024, 3, 29, 16)  # CET, 15:00 UTC
    assert calendar.add_business_hours(friday, 3) == utc(2024, 4, 1, 9)  # Monday 11:00 CEST


# -- round the clock ----------------------------------------------------------------------------------

ALWAYS_UTC = BusinessCalendar(working_days=frozenset(range(7)), opens=time(0, 0), closes=time(0, 0))
ALWAYS_AMSTERDAM = BusinessCalendar(
    timezone="Europe/Amsterdam", working_days=frozenset(range(7)), opens=time(0, 0), closes=time(0, 0)
)

starts = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from([UTC, AMSTERDAM, NEW_YORK, SHANGHAI]),
    allow_imaginary=False,
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))


@settings(max_examples=200, deadline=None)
@given(start=starts, duration=durations)
def test_a_round_the_clock_calendar_is_plain_addition(start: datetime, duration: timedelta) -> None:
    expected = start.astimezone(UTC) + duration  # elapsed time, not wall-clock arithmetic
    assert ALWAYS_UTC.add_business_hours(start, duration) == expected
    assert ALWAYS_AMSTERDAM.add_business_hours(start, duration) == expected
    assert ALWAYS_AMSTERDAM.business_time_between(start, expected) == duration
    assert ALWAYS_UTC.is_open(start)


# -- properties over several calendars ----------------------------------------------------------------

CALENDARS = [
    OFFICE,
    BusinessCalendar(timezone="Europe/Amsterdam",
                     holidays=frozenset({date(2024, 12, 25), date(2024, 12, 26), date(2025, 1, 1)})),
    BusinessCalendar(timezone="America/New_York", working_days=frozenset({0, 2, 4}), opens=time(7, 30),
                     closes=time(19, 15)),
    BusinessCalendar(timezone="Asia/Shanghai", working_days=frozenset({5, 6}), opens=time(22, 0),
                     closes=time(0, 0)),
    NIGHT_SHIFT,
    BusinessCalendar(timezone="Europe/Amsterdam", working_days=frozenset(range(7)), opens=time(2, 30),
                     closes=time(3, 0)),
    ALWAYS_AMSTERDAM,
]
calendars = st.sampled_from(CALENDARS)
business_durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=25))


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=starts, duration=business_durations)
def test_business_time_until_the_deadline_is_the_hours_asked_for(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    deadline = calendar.add_business_hours(start, duration)
    assert calendar.business_time_between(start, deadline) == duration
    assert calendar.business_time_between(deadline, start) == -duration


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts, first=business_durations, second=business_durations)
def test_more_hours_never_give_an_earlier_deadline(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted((first, second))
    assert calendar.add_business_hours(start, shorter) <= calendar.add_business_hours(start, longer)


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts, amount=st.decimals(min_value=0, max_value=300, places=6))
def test_the_deadline_is_always_aware_utc_and_not_before_the_start(
    calendar: BusinessCalendar, start: datetime, amount: Decimal
) -> None:
    deadline = calendar.add_business_hours(start, amount)
    assert deadline.tzinfo is UTC
    assert deadline >= start.astimezone(UTC)
    expected = timedelta(microseconds=int(amount * 3_600_000_000))
    assert calendar.business_time_between(start, deadline) == expected


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts)
def test_next_open_is_open_and_nothing_is_open_before_it(calendar: BusinessCalendar, start: datetime) -> None:
    opening = calendar.next_open(start)
    assert opening.tzinfo is UTC
    assert opening >= start
    assert calendar.is_open(opening)
    assert calendar.business_time_between(start, opening) == timedelta(0)
    # Compare in UTC: Python never finds an ambiguous (fold) local time equal to a time in another zone.
    assert calendar.is_open(start) == (opening == start.astimezone(UTC))


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts, first=business_durations, second=business_durations)
def test_business_time_adds_up_over_consecutive_spans(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    middle = start + first
    end = middle + second
    assert calendar.business_time_between(start, end) == (
        calendar.business_time_between(start, middle) + calendar.business_time_between(middle, end)
    )


# -- invalid input ------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2024, 6, 3, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.add_business_hours(naive, 1)
    with pytest.raises(ValueError):
        OFFICE.business_time_between(naive, utc(2024, 6, 4))
    with pytest.raises(ValueError):
        OFFICE.business_time_between(utc(2024, 6, 4), naive)
    with pytest.raises(ValueError):
        OFFICE.is_open(naive)
    with pytest.raises(ValueError):
        OFFICE.next_open(naive)


@pytest.mark.parametrize("amount", [-1, -0.5, Decimal("-0.000001"), timedelta(microseconds=-1)])
def test_negative_hours_are_refused(amount: Decimal | float | int | timedelta) -> None:
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add_business_hours(utc(2024, 6, 3, 10), amount)


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), Decimal("NaN"), Decimal("Infinity")])
def test_hours_must_be_finite(amount: Decimal | float) -> None:
    with pytest.raises(ValueError):
        OFFICE.add_business_hours(utc(2024, 6, 3, 10), amount)


@pytest.mark.parametrize(("opens", "closes"), [(time(17, 0), time(9, 0)), (time(9, 0), time(9, 0))])
def test_closing_must_come_after_opening(opens: time, closes: time) -> None:
    with pytest.raises(ValueError, match="after opens"):
        BusinessCalendar(opens=opens, closes=closes)


def test_closing_at_midnight_means_the_end_of_the_day() -> None:
    evening = BusinessCalendar(opens=time(18, 0), closes=time(0, 0))
    assert evening.add_business_hours(utc(2024, 6, 3, 12), 7) == utc(2024, 6, 4, 19)
    assert evening.is_open(utc(2024, 6, 3, 23, 59))
    assert not evening.is_open(utc(2024, 6, 4, 0, 0))  # Tuesday 00:00 is not in Monday's window


def test_a_calendar_without_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="no working time"):
        BusinessCalendar(working_days=frozenset())


@pytest.mark.parametrize("days", [frozenset({7}), frozenset({-1}), frozenset({0, 9})])
def test_working_days_are_monday_zero_to_sunday_six(days: frozenset[int]) -> None:
    with pytest.raises(ValueError, match="working_days"):
        BusinessCalendar(working_days=days)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "Not A Zone"])
def test_an_unknown_time_zone_is_refused(zone: str) -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(timezone=zone)


def test_a_calendar_that_never_opens_again_is_refused_instead_of_looping_forever() -> None:
    first = date(2024, 1, 1)
    every_day = frozenset(first + timedelta(days=n) for n in range(3 * 366))
    calendar = BusinessCalendar(holidays=every_day)
    with pytest.raises(ValueError, match="no working time"):
        calendar.add_business_hours(utc(2024, 1, 1), 1)
    with pytest.raises(ValueError, match="no working time"):
        calendar.next_open(utc(2024, 1, 1))
    assert calendar.business_time_between(utc(2024, 1, 1), utc(2025, 1, 1)) == timedelta(0)
    assert not calendar.is_open(utc(2024, 3, 4, 10))
