"""Reading X12 element values for the 850 mapping: text, numbers, dates, and the problems found with them.

A `Problem` says what is wrong in words (segment, element, expected, found) and, when it is a syntax error
the 997 reports, as an AK3/AK4 `SegmentNote`. Business rules (a quantity of zero) have no note: the 997
accepts the set, the capture rejects it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from conveyor.channels.edi.x12 import Segment
from conveyor.channels.edi.x12.acks import ElementNote, SegmentNote

_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")  # X12 R and N types as written (no exponent, no sign +)
_AMOUNT_N2 = re.compile(r"-?\d+")  # N2: two implied decimals


@dataclass(frozen=True)
class Problem:
    reason: str
    code: str  # Rejected.code: missing_segment, missing_element, invalid_element, invalid_quantity, ...
    note: SegmentNote | None = None  # what the 997 reports; None for a business rule


def text(segment: Segment, reference: int, component: str = ">") -> str:
    """An element as text, stripped; components joined with `component`, repetitions with '^'."""
    value = segment.element(reference)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, tuple):
        return component.join(value).strip()
    return "^".join(part if isinstance(part, str) else component.join(part) for part in value.values).strip()


def at(segment: Segment, reference: int | None = None, label: str = "") -> str:
    """'PO102 (quantity ordered) in segment 41 (number 12 in its transaction)', for reasons."""
    name = segment.tag if reference is None else f"{segment.tag}{reference:02d}"
    if label:
        name += f" ({label})"
    where = f"segment {segment.number}"
    if segment.number_in_transaction is not None:
        where += f" (number {segment.number_in_transaction} in its transaction)"
    return f"{name} in {where}"


def element_problem(segment: Segment, reference: int, data_element: str, label: str, expected: str, found: str,
                    *, code: str, ak4: str | None) -> Problem:
    """A problem with one element; `ak4` is the AK403 code when the 997 should report it."""
    reason = f"{at(segment, reference, label)} must be {expected}, found {found!r}"
    note = None
    if ak4 is not None:
        place = segment.number_in_transaction or 0
        note = SegmentNote(segment.tag, place, "8", (ElementNote(reference, ak4, data_element, found),))
    return Problem(reason, code, note)


def number(value: str) -> Decimal | None:
    """The value as a Decimal when it is an X12 number, else None."""
    return Decimal(value) if _NUMBER.fullmatch(value) else None


def amount_n2(value: str) -> Decimal | None:
    """An N2 amount (SAC05): digits with two implied decimals, '2000' is 20.00. A value written with a
    decimal point, as some partners do, is read as written."""
    if _AMOUNT_N2.fullmatch(value):
        return Decimal(value).scaleb(-2)
    return number(value)


def calendar_date(value: str) -> date | None:
    """CCYYMMDD (or YYMMDD, as before version 4010) as a date; None when it is not a valid date."""
    if not (value.isascii() and value.isdigit() and len(value) in (6, 8)):
        return None
    if len(value) == 6:
        value = ("20" if int(value[:2]) < 50 else "19") + value
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None
