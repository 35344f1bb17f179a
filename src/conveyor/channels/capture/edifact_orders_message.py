"""One ORDERS message, fed segment by segment, into a `CapturedOrder`, or the `Fault` that rejects it. Pure.

The message has three sections: the header (BGM up to the first LIN), the detail (each LIN and what
follows it, edifact_order_lines.py) and the summary (from UNS). In the header as in a line, a segment
belongs to the segment group opened last when that group may hold it (CTA after NAD is that party's
contact, DTM after RFF the reference's date), and to the section itself otherwise. docs/edifact.md has
the mapping table.

A line is made into a `CapturedLine` as soon as the next LIN starts, so a message of any size costs its
captured lines and little more. The first problem found rejects the message: later segments are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from conveyor.channels.capture.edifact_order_lines import COMMON_GROUPS, ZERO, LineReader, free_text, group_of
from conveyor.channels.capture.edifact_values import Checker, Contact, as_date, as_datetime, dtm_value, nad_partner_id
from conveyor.channels.capture.model import CapturedLine, CapturedOrder, Control, PartyRef
from conveyor.channels.edi.edifact import Position, Segment
from conveyor.channels.edi.edifact import receipt as codes
from conveyor.channels.edi.edifact.receipt import Fault

HEADER_GROUPS = {**COMMON_GROUPS, "CUX": frozenset({"PCD", "DTM"}), "PAT": frozenset({"DTM", "PCD", "MOA"})}
DELIVERY = ("2", "64", "69")  # DTM 2005: delivery requested, else earliest delivery, else promised for
ORDER_DATE = ("137", "4")  # document date, else order date
DATES = (*DELIVERY, *ORDER_DATE, "63")  # the header dates read (63: latest delivery, kept in extra)
ORIGINALS = {"": None, "9": None, "43": "additional-transmission", "7": "duplicate", "31": "copy"}  # BGM03 1225
FREIGHT = "FC"  # ALC05 7161: freight charge, the order's shipping


class OrdersMessage:
    """Feed the body segments (between UNH and UNT) with `feed`, then call `finish`."""

    def __init__(self) -> None:
        self.check = Checker()
        self.bgm: Segment | None = None
        self.external_id: str | None = None
        self.section = "start"  # start (before BGM), header, detail, summary
        self.group: str | None = None
        self.dates: dict[str, date | datetime] = {}
        self.references: dict[str, str] = {}
        self.parties: dict[str, Contact] = {}
        self.party: Contact | None = None  # the NAD whose group is open
        self.currency: str | None = None
        self.notes: list[str] = []
        self.shipping = ZERO
        self.charge: str | None = None  # the special service (ALC05) of an open header ALC+C group
        self.line: LineReader | None = None
        self.lines: list[CapturedLine] = []
        self.line_extra: dict[str, dict[str, Any]] = {}
        self.totals: dict[str, str] = {}
        self.counts: dict[str, Segment] = {}

    @property
    def fault(self) -> Fault | None:
        return self.check.fault

    def feed(self, segment: Segment) -> None:
        if self.check.fault is not None:
            return
        tag = segment.tag
        if self.section == "start":
            if tag == "BGM":
                self._bgm(segment)
            else:
                self.check.fail("missing_segment", codes.MISSING, "the message must start with BGM", segment,
                                expected="BGM", found=tag, missing="BGM")
        elif tag == "BGM":
            self.check.fail("repeated_segment", codes.TOO_MANY_REPETITIONS, "BGM may appear only once, right "
                            "after UNH", segment, found="a second BGM")
        elif tag == "LIN":
            if self.section == "summary":
                self.check.fail("unexpected_segment", codes.NOT_SUPPORTED_IN_POSITION, "LIN after UNS: the "
                                "summary section holds no lines", segment, expected="MOA, CNT or UNT", found="LIN")
            else:
                self._end_line()
                self.section, self.line = "detail", LineReader(segment, self.check)
        elif tag == "UNS":
            self._end_line()
            self.section = "summary"
        elif self.line is not None and self.section == "detail":
            self.line.feed(segment)
        elif self.section == "header":
            self._header(segment)
        elif tag == "MOA" and segment.value(1, 1):
            amount = self.check.number(segment, (1, 2), "the amount")
            if amount is not None:
                self.totals.setdefault(segment.value(1, 1), str(amount))
        elif tag == "CNT":
            self.counts.setdefault(segment.value(1, 1), segment)

    def _bgm(self, segment: Segment) -> None:
        self.bgm, self.section = segment, "header"
        self.external_id = segment.value(2) or None
        if self.external_id is None:
            self.check.fail("missing_element", codes.MISSING, "the document number (the buyer's order number) is "
                            "mandatory and empty", segment, (2, None))
        elif segment.value(3) not in ORIGINALS:
            self.check.fail("unsupported_message_function", codes.VALUE_NOT_SUPPORTED, "only original orders are "
                            "captured: a cancellation, replacement or change must be applied by hand", segment,
                            (3, None), expected=" or ".join(repr(k) for k in ORIGINALS if k), found=segment.value(3))

    def _header(self, segment: Segment) -> None:
        tag = segment.tag
        self.group = group_of(self.group, tag, HEADER_GROUPS)
        if tag == "NAD":
            qualifier = segment.value(1)
            self.party = None if qualifier in self.parties else self.parties.setdefault(qualifier, Contact(segment))
        elif self.group == "NAD" and self.party is not None and tag in ("CTA", "COM", "RFF"):
            if tag == "CTA":
                self.party.cta(segment)
            elif tag == "COM":
                self.party.com(segment)
            elif segment.value(1, 1):
                self.party.references.setdefault(segment.value(1, 1), segment.value(1, 2))
        elif tag == "DTM" and self.group is None:
            self._date(segment)
        elif tag == "FTX" and (text := free_text(segment)):
            self.notes.append(text)
        elif tag == "RFF" and self.group == "RFF" and segment.value(1, 1):
            self.references.setdefault(segment.value(1, 1), segment.value(1, 2))
        elif tag == "CUX" and self.currency is None:
            self.currency = segment.value(1, 2) or None
        elif tag == "ALC":
            self.charge = segment.value(5, 1) if segment.value(1) == "C" else None
        elif tag == "MOA" and self.group == "ALC" and self.charge == FREIGHT and segment.value(1, 1) in ("23", "8"):
            self.shipping += self.check.number(segment, (1, 2), "the freight charge") or ZERO

    def _date(self, segment: Segment) -> None:
        qualifier, value, code = segment.value(1, 1), segment.value(1, 2), segment.value(1, 3)
        if qualifier in self.dates or qualifier not in DATES:
            return
        parsed = dtm_value(value, code)
        if parsed is None:
            self.check.fail("invalid_date", codes.INVALID_VALUE, "not a date in the format its code names", segment,
                            (1, 2), expected=f"a date in format {code or '102 (CCYYMMDD)'}", found=value)
        else:
            self.dates[qualifier] = parsed

    def _end_line(self) -> None:
        line, self.line = self.line, None
        if line is None or (captured := line.finish()) is None:
            return
        self.lines.append(captured)
        if extra := line.extra():
            self.line_extra[captured.line_ref or str(len(self.lines))] = extra

    def finish(self, *, customer: PartyRef, where: str, control: Control, interchange: Mapping[str, Any],
               unt: Position) -> CapturedOrder | Fault:
        """The order, or the first fault. `customer` is the fallback (from UNB02) when there is no NAD+BY id;
        `interchange` (the UNB parties and syntax, for the acknowledgements) goes into `extra`; `unt` is where
        the message ended, where a missing segment is reported."""
        check = self.check
        if self.section == "start":
            check.fail("missing_segment", codes.MISSING, "the message has no BGM: it ends right after UNH",
                       Segment("UNT", (), unt), expected="BGM", found="UNT", missing="BGM")
        self._end_line()
        if not self.lines:
            check.fail("missing_segment", codes.MISSING, "the message has no line: an order needs at least one LIN",
                       Segment("UNT", (), unt), expected="LIN", found="none before UNT", missing="LIN")
        if (cnt := self.counts.get("2")) is not None:
            counted = check.number(cnt, (1, 2), "the control value")
            if counted is not None and counted != len(self.lines):
                check.fail("count_mismatch", codes.CONTROL_COUNT_DOES_NOT_MATCH, "the number of lines (CNT+2) is "
                           "wrong", cnt, (1, 2), expected=str(len(self.lines)), found=cnt.value(1, 2))
        if check.fault is not None:
            return check.fault
        return self._order(customer, where, control, interchange)

    def _order(self, fallback: PartyRef, where: str, control: Control,
               interchange: Mapping[str, Any]) -> CapturedOrder:
        bgm, external_id = self.bgm, self.external_id
        assert bgm is not None and external_id is not None
        buyer, ship_to, bill_to = (self.parties.get("BY"), self.parties.get("DP") or self.parties.get("ST"),
                                   self.parties.get("IV"))
        customer = PartyRef(partner_id=(nad_partner_id(buyer.nad) if buyer else None) or fallback.partner_id,
                            name=buyer.name if buyer else None, email=buyer.email if buyer else None,
                            phone=buyer.phone if buyer else None)
        delivery = next((self.dates[q] for q in DELIVERY if q in self.dates), None)
        ordered = next((self.dates[q] for q in ORDER_DATE if q in self.dates), None)
        extra: dict[str, Any] = {
            "document_name": bgm.value(1, 1), "message_function": bgm.value(3), "response_type": bgm.value(4),
            "parties": {q: {"id": c.nad.value(2, 1), "code_list": c.nad.value(2, 2), "agency": c.nad.value(2, 3),
                            "partner_id": nad_partner_id(c.nad), **({"references": c.references} if c.references
                                                                   else {})}
                        for q, c in self.parties.items()},
            "dates": {q: v.isoformat() for q, v in self.dates.items()},
            "references": self.references, "totals": self.totals, "lines": self.line_extra,
        }
        function = ORIGINALS.get(bgm.value(3))
        return CapturedOrder(
            external_id=external_id, customer=customer, lines=tuple(self.lines), currency=self.currency,
            ship_to=ship_to.address() if ship_to else None, bill_to=bill_to.address() if bill_to else None,
            shipping=self.shipping, notes="\n".join(self.notes) or None,
            requested_delivery_date=as_date(delivery) if delivery else None,
            ordered_at=as_datetime(ordered) if ordered else None, tags=(f"edifact:{function}",) if function else (),
            where=where, control=control, extra={**{k: v for k, v in extra.items() if v}, "interchange": interchange})
