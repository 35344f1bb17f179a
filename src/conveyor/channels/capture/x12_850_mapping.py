"""One X12 850 transaction (ST to SE, envelope already checked) into a `CapturedOrder`. Pure.

The mapping (docs/edi.md has the full table):

- BEG03 is the external id; BEG05 the PO date (kept as written in extra["po_date"], echoed in the 855);
  BEG01 the purpose: 00 original is captured, 05 replace, 06 confirmation and 07 duplicate too, tagged
  "x12:replace" and so on; 01 cancellation and other purposes are `Ignored` with the reason.
- Header (before the first PO1): CUR02 currency; N1 loops (parties.py) for ship_to (ST, else BS), bill_to
  (BT, else BS) and the buyer's name (BY); MSG01 and NTE02 into notes; REF and DTM kept in extra.
- requested_delivery_date: DTM*002 (delivery requested); when absent, DTM*010 (requested ship) and then
  DTM*037 (ship not before), which date shipping, not delivery, but are what such partners send; then the
  earliest DTM*002 of the lines. extra["requested_delivery_date_source"] says which was used.
- Lines, one per PO1: PO101 line_ref, PO102 quantity, PO103 unit, PO104 unit price (when empty, CTP03 of a
  CTP*<class>*UCP in the line), PO106/07 to PO124/25 product ids (see `_PRIMARY`, `_FALLBACK`; every pair
  is kept in extra["line_ids"] for the 855 and for item mapping), PID*F descriptions, line MSG/NTE into notes.
- SAC, the simple cases only: a charge (SAC01 C) for freight or shipping and handling (SAC02 D240, G830)
  in the header adds SAC05 to shipping; an allowance (SAC01 A) with an amount in a PO1 loop adds SAC05 to
  that line's discount; both only when SAC12 is empty, 02 (off invoice) or 06 (paid by the customer).
  Every other allowance or charge (percentages, header allowances, bill-backs) is kept in
  extra["allowances_charges"] and not applied. SAC05 is N2: '2000' is 20.00.
- Rejected, with the segment, element, expected and found value: no BEG, an empty BEG01/02/03/05, a BEG05
  or DTM02 that is not a date, no PO1, a PO102 that is empty or not a number or not above zero, a PO104 that
  is not a number or below zero, a product id qualifier without its id or the other way round, an SAC05
  or CTP03 in use that is not a number. Not checked: CTT01 (partners count differently), SDQ, PO4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from conveyor.channels.capture.model import (
    Captured,
    CapturedLine,
    CapturedOrder,
    Control,
    Ignored,
    ItemRef,
    PartyRef,
    Rejected,
)
from conveyor.channels.capture.x12_850_parties import Party
from conveyor.channels.capture.x12_850_values import (
    Problem,
    amount_n2,
    at,
    calendar_date,
    element_problem,
    number,
    text,
)
from conveyor.channels.edi.x12 import Segment
from conveyor.channels.edi.x12.acks import SegmentNote

_PRIMARY = {"VP": "vendor_item", "VN": "vendor_item", "BP": "buyer_item", "IN": "buyer_item", "SK": "sku",
            "UP": "gtin", "UK": "gtin", "EN": "gtin", "EA": "gtin", "UA": "gtin"}
# Used only when no primary qualifier gave the field: seller's catalog and style numbers, buyer's catalog and
# style numbers, a part description.
_FALLBACK = {"VC": "vendor_item", "VA": "vendor_item", "CB": "buyer_item", "IT": "buyer_item", "PD": "description"}
_PURPOSE_TAGS = {"00": None, "05": "x12:replace", "06": "x12:confirmation", "07": "x12:duplicate"}
_PURPOSES = {"01": "cancellation", "22": "information copy", "18": "reissue", "53": "completion"}
_FREIGHT = frozenset({"D240", "G830"})  # SAC02: freight; shipping and handling
_APPLIED_HANDLING = frozenset({"", "02", "06"})  # SAC12: unspecified, off invoice, paid by the customer
_DELIVERY_DATES = ("002", "010", "037")
_BEG = ((1, "353", "transaction set purpose"), (2, "92", "purchase order type"),
        (3, "324", "purchase order number"), (5, "373", "purchase order date"))


@dataclass(frozen=True)
class Context:
    """What the envelope tells the mapping."""

    where: str
    control: Control
    partner_id: str  # "<ISA05>:<ISA06>"
    component: str  # the component separator, to write composite values back as text
    reply: Mapping[str, str]  # ReplyTo.as_dict(), kept in extra["x12_reply"]


def map_purchase_order(segments: Sequence[Segment], context: Context) -> tuple[Captured, tuple[SegmentNote, ...]]:
    """The order, an `Ignored` (not an order to place) or a `Rejected`, and the AK3/AK4 notes for the 997."""
    walk = _Walk(context)
    for segment in segments[1:-1]:
        walk.read(segment)
    return walk.result(segments)


@dataclass
class _Line:
    po1: Segment
    quantity: Decimal
    unit_price: Decimal | None
    ids: list[tuple[str, str]]
    descriptions: list[tuple[str, str]] = field(default_factory=list)  # (PID02, PID05)
    discount: Decimal = Decimal(0)
    delivery: date | None = None


class _Walk:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.component = context.component
        self.problems: list[Problem] = []
        self.beg: Segment | None = None
        self.currency: str | None = None
        self.references: list[list[str]] = []
        self.dates: dict[str, date] = {}
        self.notes: list[str] = []
        self.parties: dict[str, Party] = {}
        self.party: Party | None = None  # the N1 loop being read
        self.lines: list[_Line] = []
        self.line: _Line | None = None  # the PO1 loop being read
        self.shipping = Decimal(0)
        self.kept: list[dict[str, str]] = []  # allowances and charges not applied

    def read(self, segment: Segment) -> None:
        tag = segment.tag

        def value(reference: int) -> str:
            return text(segment, reference, self.component)

        if tag == "PO1":
            self._po1(segment)
        elif tag == "BEG":
            if self.beg is None:
                self.beg = segment
            else:
                self.problems.append(Problem(f"{at(segment)}: an 850 has one BEG, this is another", "invalid_segment",
                                             SegmentNote("BEG", segment.number_in_transaction or 0, "5")))
        elif tag == "N1":
            self.party = Party.of(segment, self.component)
            if not self.lines:
                self.parties.setdefault(self.party.code, self.party)
        elif tag in ("N2", "N3", "N4", "PER") and self.party is not None:
            self.party.add(segment, self.component)
        elif tag == "DTM":
            self._dtm(segment)
        elif tag in ("MSG", "NTE") and (note := value(1 if tag == "MSG" else 2)):
            line = self.line
            self.notes.append(note if line is None else f"line {text(line.po1, 1) or len(self.lines)}: {note}")
        elif tag == "SAC":
            self._sac(segment)
        elif self.line is not None:
            if tag == "PID" and value(1) == "F" and value(5):
                self.line.descriptions.append((value(2), value(5)))
            elif tag == "CTP" and value(2) == "UCP" and self.line.unit_price is None and value(3):
                self.line.unit_price = self._number(segment, 3, "212", "unit price", "a unit price")
            elif tag in ("CTT", "AMT"):
                self.line = None
        elif tag == "CUR" and self.currency is None and value(2):
            self.currency = value(2)
        elif tag == "REF" and not self.lines:
            self.references.append([value(1), value(2), value(3)])

    # -- segments -----------------------------------------------------------------------------------------

    def _po1(self, po1: Segment) -> None:
        self.party = None
        quantity_text, unit_price = text(po1, 2), None
        quantity = self._number(po1, 2, "330", "quantity ordered", "a quantity greater than zero")
        if not quantity_text:
            self.problems.append(element_problem(
                po1, 2, "330", "quantity ordered", "a quantity greater than zero", "",
                code="missing_element", ak4="2" if text(po1, 3) else None))
        elif quantity is not None and quantity <= 0:
            self.problems.append(element_problem(po1, 2, "330", "quantity ordered", "a quantity greater than zero",
                                                 quantity_text, code="invalid_quantity", ak4=None))
        if text(po1, 4):
            unit_price = self._number(po1, 4, "212", "unit price", "a unit price of zero or more")
            if unit_price is not None and unit_price < 0:
                self.problems.append(element_problem(po1, 4, "212", "unit price", "a unit price of zero or more",
                                                     text(po1, 4), code="invalid_element", ak4=None))
        ids: list[tuple[str, str]] = []
        for reference in range(6, 26, 2):
            qualifier, value = text(po1, reference, self.component), text(po1, reference + 1, self.component)
            if qualifier and value:
                ids.append((qualifier, value))
            elif qualifier or value:
                missing, other = (reference + 1, reference) if qualifier else (reference, reference + 1)
                self.problems.append(element_problem(
                    po1, missing, "234" if qualifier else "235", "product id" if qualifier else "product id qualifier",
                    f"present, as PO1{other:02d} is {qualifier or value!r}", "", code="missing_element", ak4="2"))
        self.line = _Line(po1, quantity or Decimal(0), unit_price, ids)
        self.lines.append(self.line)

    def _dtm(self, dtm: Segment) -> None:
        qualifier, value = text(dtm, 1), text(dtm, 2)
        if not value:
            return
        when = calendar_date(value)
        if when is None:
            self.problems.append(element_problem(dtm, 2, "373", "date", "a date CCYYMMDD", value,
                                                 code="invalid_element", ak4="8"))
        elif self.line is not None:
            if qualifier == "002" and self.line.delivery is None:
                self.line.delivery = when
        elif not self.lines:
            self.dates.setdefault(qualifier, when)

    def _sac(self, sac: Segment) -> None:
        indicator, code, handling = text(sac, 1), text(sac, 2), text(sac, 12)
        if indicator not in ("A", "C"):  # N: no allowance or charge, information only
            return
        amount = None
        if text(sac, 5):
            amount = amount_n2(text(sac, 5))
            if amount is None:
                self.problems.append(element_problem(sac, 5, "610", "amount", "an amount", text(sac, 5),
                                                     code="invalid_element", ak4="6"))
                return
        line = self.line
        if amount is not None and handling in _APPLIED_HANDLING:
            if line is None and not self.lines and indicator == "C" and code in _FREIGHT:
                self.shipping += amount
                return
            if line is not None and indicator == "A":
                line.discount += amount
                return
        kept = {"where": at(sac), "line": text(line.po1, 1) if line is not None else "", "indicator": indicator,
                "code": code, "amount": "" if amount is None else str(amount), "percent": text(sac, 7),
                "handling": handling, "description": text(sac, 15)}
        self.kept.append({key: value for key, value in kept.items() if value})

    def _number(self, segment: Segment, reference: int, data_element: str, label: str,
                expected: str) -> Decimal | None:
        value = text(segment, reference)
        if not value:
            return None
        parsed = number(value)
        if parsed is None:
            self.problems.append(element_problem(segment, reference, data_element, label, expected, value,
                                                 code="invalid_element", ak4="6"))
        return parsed

    # -- the result ---------------------------------------------------------------------------------------

    def result(self, segments: Sequence[Segment]) -> tuple[Captured, tuple[SegmentNote, ...]]:
        context, beg = self.context, self.beg
        if beg is None:
            self.problems.insert(0, Problem(f"the 850 has no BEG segment (beginning segment for purchase order): "
                                            f"expected right after {at(segments[0])}", "missing_segment",
                                            SegmentNote("BEG", 2, "3")))
        else:
            self._check_beg(beg)
        if not self.lines:
            end = segments[-1]
            self.problems.append(Problem(
                f"the 850 has no PO1 segment (line item): expected at least one before {at(end)}",
                "missing_segment", SegmentNote("PO1", end.number_in_transaction or len(segments), "3")))
        notes = tuple(problem.note for problem in self.problems if problem.note is not None)
        po_number = text(beg, 3, self.component) if beg is not None else ""
        if self.problems:
            return Rejected(context.where, "; ".join(problem.reason for problem in self.problems),
                            external_id=po_number or None, control=context.control,
                            code=self.problems[0].code), notes
        purpose = text(beg, 1) if beg is not None else ""
        if purpose not in _PURPOSE_TAGS:
            name = _PURPOSES.get(purpose, "a purpose other than original, replace, confirmation or duplicate")
            return Ignored(context.where, f"BEG01 is {purpose!r} ({name}): purchase order {po_number} is not an "
                                          "order to place; if it changes an order already placed, change that "
                                          "order by hand", control=context.control), notes
        return self._order(po_number, _PURPOSE_TAGS[purpose]), notes

    def _check_beg(self, beg: Segment) -> None:
        for reference, data_element, label in _BEG:
            if not text(beg, reference):
                self.problems.append(element_problem(beg, reference, data_element, label, "present (mandatory)", "",
                                                     code="missing_element", ak4="1"))
        po_date = text(beg, 5)
        if po_date and calendar_date(po_date) is None:
            self.problems.append(element_problem(beg, 5, "373", "purchase order date", "a date CCYYMMDD", po_date,
                                                 code="invalid_element", ak4="8"))

    def _order(self, po_number: str, tag: str | None) -> CapturedOrder:
        beg = self.beg
        assert beg is not None
        parties = self.parties
        ship_to, bill_to, buyer = parties.get("ST") or parties.get("BS"), parties.get("BT") or parties.get("BS"), \
            parties.get("BY")
        requested, source = self._requested_delivery()
        extra: dict[str, Any] = {
            "x12_reply": dict(self.context.reply), "purpose": text(beg, 1), "order_type": text(beg, 2),
            "po_date": text(beg, 5), "release": text(beg, 4), "references": self.references,
            "dates": {qualifier: when.isoformat() for qualifier, when in self.dates.items()},
            "parties": {code: party.summary() for code, party in parties.items()},
            "line_ids": [line.ids for line in self.lines], "allowances_charges": self.kept,
            "requested_delivery_date_source": source,
        }
        return CapturedOrder(
            external_id=po_number, customer=PartyRef(partner_id=self.context.partner_id,
                                                     name=(buyer.name or None) if buyer else None),
            lines=tuple(self._line(line) for line in self.lines), currency=self.currency,
            ship_to=ship_to.address() if ship_to else None, bill_to=bill_to.address() if bill_to else None,
            shipping=self.shipping, notes="\n".join(self.notes) or None, requested_delivery_date=requested,
            tags=(tag,) if tag else (), where=self.context.where, control=self.context.control,
            extra={key: value for key, value in extra.items() if value})

    def _requested_delivery(self) -> tuple[date | None, str | None]:
        for qualifier in _DELIVERY_DATES:
            if qualifier in self.dates:
                return self.dates[qualifier], f"DTM*{qualifier}"
        line_dates = [line.delivery for line in self.lines if line.delivery is not None]
        return (min(line_dates), "DTM*002 of the lines") if line_dates else (None, None)

    def _line(self, line: _Line) -> CapturedLine:
        po1 = line.po1
        fields: dict[str, str] = {}
        for table in (_PRIMARY, _FALLBACK):
            for qualifier, value in line.ids:
                if qualifier in table:
                    fields.setdefault(table[qualifier], value)
        main = [value for kind, value in line.descriptions if kind in ("", "08")]
        other = [value for kind, value in line.descriptions if kind not in ("", "08")]
        description = main[0] if main else other.pop(0) if other else fields.get("description")
        if description and other:
            description += f" ({', '.join(other)})"
        item = ItemRef(sku=fields.get("sku"), vendor_item=fields.get("vendor_item"), gtin=fields.get("gtin"),
                       buyer_item=fields.get("buyer_item"), description=description)
        return CapturedLine(item=item, quantity=line.quantity, unit_price=line.unit_price,
                            unit=text(po1, 3) or None, discount=line.discount, line_ref=text(po1, 1) or None,
                            where=f"segment {po1.number} (PO1)")
