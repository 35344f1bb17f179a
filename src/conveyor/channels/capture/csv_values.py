"""Cell values of the order file layout: numbers, dates, priorities, and how a bad one is shown. Pure."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

# Plain decimals only: no exponent, no thousands separator, no underscores, no NaN or infinity.
NUMBER = re.compile(r"[+-]?(?:\d{1,18}(?:\.\d{0,10})?|\.\d{1,10})", re.ASCII)
_WHOLE = re.compile(r"[+-]?\d{1,3}", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
PRIORITIES = range(-10, 11)
_SHOWN = 40


class BadValue(ValueError):
    """A cell that does not hold what its column needs; `expected` completes 'expected ..., found ...'."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def found(text: str) -> str:
    """How a bad cell is shown: 'nothing', or its text quoted (and cut when long)."""
    if not text:
        return "nothing"
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def number(text: str, decimal_comma: bool) -> Decimal:
    if decimal_comma:
        text = text.replace(",", ".")
    if NUMBER.fullmatch(text) is None:
        raise BadValue("a number such as 4 or 12,50" if decimal_comma else "a number such as 4 or 12.50")
    return Decimal(text)


def day(text: str, fmt: str | None) -> date:
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    elif fmt is not None:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise BadValue(f"a date as YYYY-MM-DD{f' or {fmt}' if fmt else ''}")


def moment(text: str, fmt: str | None) -> datetime:
    """A date and time; one without an offset is taken as UTC."""
    value: datetime | None = None
    if fmt is not None:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            value = None
    if value is None and text[:4].isdigit():
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            value = None
    if value is None:
        raise BadValue(f"a date and time as YYYY-MM-DDTHH:MM:SS+01:00{f' or {fmt}' if fmt else ''}")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def priority(text: str) -> int:
    if _WHOLE.fullmatch(text) is None or int(text) not in PRIORITIES:
        raise BadValue("a whole number from -10 (low) to 10 (urgent)")
    return int(text)
