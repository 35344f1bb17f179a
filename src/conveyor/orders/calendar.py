"""Business-hours arithmetic for SLAs.

The calendar works day by day in its own time zone: every working, non-holiday local date has one
opening window from `opens` to `closes` (local wall times), converted to UTC with zoneinfo so that
daylight-saving changes are respected. Only real elapsed time inside windows counts, to the
microsecond. All results are aware datetimes in UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)
# How many consecutive calendar days without any working time we accept before giving up.
_MAX_CLOSED_DAYS = 2 * 366
_MICROSECONDS_PER_HOUR = 3_600_000_000
_LATEST = datetime.max.replace(tzinfo=UTC)


def _aware_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def _shift(day: date, days: int) -> date:
    """`day` moved by whole days, stopping at the first and last representable dates."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def _as_duration(hours: Decimal | float | int | timedelta) -> timedelta:
    if isinstance(hours, timedelta):
        duration = hours
    elif isinstance(hours, Decimal):
        if not hours.is_finite():
            raise ValueError(f"hours must be a finite number, not {hours}")
        try:
            micros = (hours * _MICROSECONDS_PER_HOUR).to_integral_value(rounding=ROUND_HALF_EVEN)
            duration = timedelta(microseconds=int(micros))
        except (OverflowError, InvalidOperation) as exc:
            raise ValueError(f"hours out of range: {hours}") from exc
    elif isinstance(hours, int | float):
        if isinstance(hours, float) and not math.isfinite(hours):
            raise ValueError(f"hours must be a finite number, not {hours}")
        try:
            duration = timedelta(hours=hours)
        except OverflowError as exc:
            raise ValueError(f"hours out of range: {hours}") from exc
    else:
        raise TypeError(f"hours must be a number or a timedelta, not {type(hours).__name__}")
    if duration < timedelta(0):
        raise ValueError("hours must not be negative")
    return duration


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "UTC"
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # 0 = Monday
    opens: time = time(9, 0)
    closes: time = time(17, 0)  # time(0, 0) means the end of the day (24:00)
    holidays: frozenset[date] = frozenset()  # local dates that are closed

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, str) or not self.timezone:
            raise ValueError("timezone must be an IANA time zone name")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        days = frozenset(self.working_days)
        if any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days):
            raise ValueError("working_days must be numbers from 0 (Monday) to 6 (Sunday)")
        if not days:
            raise ValueError("calendar has no working time: no working days")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes are local wall times and must not carry a time zone")
        if self.closes != _MIDNIGHT and self.closes <= self.opens:
            raise ValueError("closes must be after opens (use time(0, 0) for the end of the day)")
        object.__setattr__(self, "working_days", days)
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    # -- windows ---------------------------------------------------------------------------------

    @property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # zoneinfo caches instances by key

    def _local_date(self, at: datetime) -> date:
        try:
            return at.astimezone(self._zone).date()
        except OverflowError:  # within a day of the edge of what datetime can represent
            return at.date()

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC opening window of a local date, or None when closed all day (or empty through DST)."""
        if day.weekday() not in self.working_days or day in self.holidays:
            return None
        zone = self._zone
        try:
            start = datetime.combine(day, self.opens, tzinfo=zone).astimezone(UTC)
            if self.closes == _MIDNIGHT:
                end = datetime.combine(day + _ONE_DAY, _MIDNIGHT, tzinfo=zone).astimezone(UTC)
            else:
                end = datetime.combine(day, self.closes, tzinfo=zone).astimezone(UTC)
        except OverflowError:  # the first or last representable days
            return None
        if end <= start:  # both ends inside a skipped DST hour, or the gap swallowed the window
            return None
        return start, end

    def _windows_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Windows that end after `at`, in order; fails if the calendar stays closed too long."""
        day = _shift(self._local_date(at), -1)
        closed_days = 0
        while True:
            window = self._window(day)
            if window is None:
                closed_days += 1
                if closed_days > _MAX_CLOSED_DAYS:
                    raise ValueError(
                        f"calendar has no working time within {_MAX_CLOSED_DAYS} days after {day}"
                    )
            else:
                closed_days = 0
                if window[1] > at:
                    yield window
            if day == date.max:
                raise ValueError("the result lies beyond the supported date range")
            day += _ONE_DAY

    # -- queries ---------------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        moment = _aware_utc(at, "at")
        day = self._local_date(moment)
        for candidate in (_shift(day, -1), day, _shift(day, 1)):
            window = self._window(candidate)
            if window is not None and window[0] <= moment < window[1]:
                return True
        return False

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, otherwise the next moment the calendar opens (UTC)."""
        moment = _aware_utc(at, "at")
        start, _ = next(self._windows_from(moment))
        return max(start, moment)

    def add_business_hours(self, start: datetime, hours: Decimal | float | int | timedelta) -> datetime:
        """The moment by which `hours` of business time have elapsed after `start` (UTC).

        Zero hours returns `start` unchanged (in UTC). A deadline that uses up a window exactly is
        that window's closing time, not the next opening.
        """
        moment = _aware_utc(start, "start")
        remaining = _as_duration(hours)
        if not remaining:
            return moment
        if remaining > _LATEST - moment:  # business time never runs faster than real time
            raise ValueError("the result lies beyond the supported date range")
        for opening, closing in self._windows_from(moment):
            begin = max(opening, moment)
            available = closing - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            moment = closing
        raise AssertionError("unreachable: _windows_from never ends")  # pragma: no cover

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in [start, end); negative when end is before start."""
        begin = _aware_utc(start, "start")
        finish = _aware_utc(end, "end")
        if finish < begin:
            return -self.business_time_between(finish, begin)
        total = timedelta(0)
        day = _shift(self._local_date(begin), -1)
        last = _shift(self._local_date(finish), 1)
        while True:
            window = self._window(day)
            if window is not None:
                overlap = min(window[1], finish) - max(window[0], begin)
                if overlap > timedelta(0):
                    total += overlap
            if day >= last:
                return total
            day += _ONE_DAY
