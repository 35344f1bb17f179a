"""EDIFACT values the ORDERS capture reads: partner ids, NAD addresses and contacts, DTM dates, numbers. Pure.

Partner ids (`PartyRef.partner_id`, `Control.sender`, `Control.receiver`) are written ``<qualifier>:<id>``
with the qualifier of UNB02/UNB03 (code list 0007: ``14`` is a GS1 GLN, ``1`` a DUNS number, ``ZZ``
mutually defined), e.g. ``14:5412345000013``, and the id alone when the document gives no qualifier. A NAD
names the agency of its code list instead (C082/3055); it is translated to the same qualifier, so that a
GLN reads the same whether it came from UNB or from NAD: ``9`` (GS1) gives ``14``, ``16`` (DUNS) gives ``1``,
``ZZZ`` (mutually defined) gives ``ZZ``; any other agency code (``91`` assigned by the seller, ``92`` by the
buyer, which 0007 also uses) is kept as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from conveyor.channels.edi.edifact import EdifactError, Party, Segment, decimal
from conveyor.channels.edi.edifact import receipt as codes
from conveyor.channels.edi.edifact.receipt import Fault, describe

_AGENCY_QUALIFIERS = {"9": "14", "16": "1", "ZZZ": "ZZ"}


def partner_id(identification: str, qualifier: str) -> str:
    """``qualifier:identification`` (a UNB/UNG party), or the identification alone without a qualifier."""
    return f"{qualifier}:{identification}" if qualifier else identification


def party_id(party: Party) -> str:
    return partner_id(party.id, party.qualifier)


def nad_partner_id(nad: Segment) -> str | None:
    """The partner id of a NAD's C082 party identification (see the module doc), None when it has none."""
    identification = nad.value(2, 1)
    if not identification:
        return None
    agency = nad.value(2, 3)
    return partner_id(identification, _AGENCY_QUALIFIERS.get(agency, agency))


@dataclass
class Contact:
    """A NAD with what its CTA/COM say (segment group NAD-...-CTA-COM)."""

    nad: Segment
    person: str | None = None  # CTA02.2, the contact's name
    phone: str | None = None  # COM with channel TE
    email: str | None = None  # COM with channel EM
    references: dict[str, str] = field(default_factory=dict)  # RFF under the NAD (VA: VAT number, ...)

    def cta(self, segment: Segment) -> None:
        self.person = self.person or segment.value(2, 2) or None

    def com(self, segment: Segment) -> None:
        number, channel = segment.value(1, 1), segment.value(1, 2)
        if channel == "TE" and number:
            self.phone = self.phone or number
        elif channel == "EM" and number:
            self.email = self.email or number

    @property
    def name(self) -> str | None:
        """The party's name: NAD04 (C080, structured) or else the first line of NAD03 (C058, unstructured)."""
        structured = " ".join(v for v in self.nad.composite(4)[:5] if v)
        return structured or self.nad.value(3, 1) or None

    def address(self) -> dict[str, Any] | None:
        """The address keys of `AddressDict` this NAD has; None when it has only a party id."""
        nad = self.nad
        free = [v for v in nad.composite(3) if v]  # C058: name and address as free lines
        street = [v for v in nad.composite(5) if v]  # C059: street and number or post box, up to 4 lines
        out: dict[str, Any] = {}
        structured = " ".join(v for v in nad.composite(4)[:5] if v)
        company = structured or (free[0] if free else "")
        if self.person and company:
            out["name"], out["company"] = self.person, company
        elif company or self.person:
            out["name"] = company or self.person
        lines = street or (free if structured else free[1:])
        if lines:
            out["line1"] = lines[0]
        if len(lines) > 1:
            out["line2"] = ", ".join(lines[1:])
        for key, number in (("city", 6), ("region", 7), ("postal_code", 8)):
            if value := nad.value(number):
                out[key] = value
        country = nad.value(9)
        if len(country) == 2 and country.isalpha():
            out["country"] = country.upper()
        if not out:
            return None
        if self.phone:
            out["phone"] = self.phone
        return out


_DATE_FORMATS = {"102": ("%Y%m%d", 8), "203": ("%Y%m%d%H%M", 12), "204": ("%Y%m%d%H%M%S", 14),
                 "101": ("%y%m%d", 6), "718": ("%Y%m%d", 8), "719": ("%Y%m%d%H%M", 12)}
_BY_LENGTH = {length: code for code, (_, length) in _DATE_FORMATS.items() if code in ("101", "102", "203", "204")}
_DIGITS = re.compile(r"\d+")


def dtm_value(value: str, code: str) -> date | datetime | None:
    """A DTM value in format `code` (2379): 102 CCYYMMDD, 203 CCYYMMDDHHMM, 204 with seconds, 101 YYMMDD,
    718/719 a range (its start is taken). Without a code, the length says which. None when it is not one."""
    if code in ("718", "719"):
        value = value.split("-", 1)[0]
    if not code:
        code = _BY_LENGTH.get(len(value), "")
    known = _DATE_FORMATS.get(code)
    if known is None or len(value) != known[1] or not _DIGITS.fullmatch(value):
        return None
    try:
        parsed = datetime.strptime(value, known[0])
    except ValueError:
        return None
    return parsed if known[1] > 8 else parsed.date()


def as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def as_datetime(value: date | datetime) -> datetime:
    """A datetime; a bare date is its midnight (no time zone: EDIFACT dates carry none)."""
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


class Checker:
    """The first problem of a message (the one reported: once there is one, the message is rejected), and
    the reading of numeric values, which reports what is not a number."""

    def __init__(self) -> None:
        self.fault: Fault | None = None

    def fail(self, code: str, syntax_error: str, message: str, segment: Segment,
             at: tuple[int, int | None] | None = None, *, expected: str | None = None, found: str | None = None,
             missing: str | None = None) -> None:
        """Rejects the message, unless it is already. `at` is the data element and its component (None for a
        simple data element), both 1-based; `missing` the tag of a segment that is missing where `segment` is."""
        if self.fault is not None:
            return
        element = None
        if at is not None:
            element = f"{segment.tag}{at[0]:02d}" + (f".{at[1]}" if at[1] is not None and at[1] > 1 else "")
        position = segment.position
        self.fault = Fault(code, describe(message, position, segment.tag, element, expected=expected, found=found),
                           syntax_error, missing or segment.tag, position.segment or None, position.in_message,
                           at[0] if at else None, at[1] if at else None)

    def number(self, segment: Segment, at: tuple[int, int], what: str) -> Decimal | None:
        """Component `at` of `segment` as a number; None when it is empty or (reported) not a number."""
        raw = segment.value(*at)
        if not raw:
            return None
        try:
            return _decimal(raw)
        except EdifactError:
            self.fail("invalid_number", codes.INVALID_TYPE_OF_CHARACTERS, f"{what} is not a number", segment, at,
                      expected="digits with at most one decimal mark ('.' or ',')", found=raw)
            return None


@lru_cache(maxsize=4096)
def _decimal(raw: str) -> Decimal:
    """`decimal` (either decimal mark, as EANCOM allows), cached: quantities and prices repeat a lot, and a
    Decimal is immutable, so lines may share one."""
    return decimal(raw)
