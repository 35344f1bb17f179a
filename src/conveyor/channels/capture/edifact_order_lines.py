"""One ORDERS line (segment group 25: LIN and what follows it up to the next LIN or UNS). Pure.

The segment groups of a line matter: a QTY right after LIN is the ordered quantity, one after LOC a
delivery split; a MOA right in the line is a line amount, one after TAX a tax amount, one after ALC an
allowance or charge. A segment belongs to the group opened last when that group may hold it, and to the
line itself otherwise (so a line amount sent after PRI, as some senders do, is still a line amount).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from conveyor.channels.capture.edifact_values import Checker
from conveyor.channels.capture.model import CapturedLine, ItemRef
from conveyor.channels.edi.edifact import Segment
from conveyor.channels.edi.edifact import receipt as codes

ZERO = Decimal(0)
_ALC = frozenset({"ALI", "DTM", "QTY", "RNG", "PCD", "MOA", "RTE", "TAX"})
COMMON_GROUPS: dict[str, frozenset[str]] = {  # segment group opener -> what the group may hold after it
    "NAD": frozenset({"LOC", "FII", "RFF", "DOC", "DTM", "CTA", "COM"}), "RFF": frozenset({"DTM"}),
    "TAX": frozenset({"MOA", "LOC"}), "TDT": frozenset({"LOC", "DTM"}), "TOD": frozenset({"LOC"}),
    "EQD": frozenset({"HAN", "MEA", "FTX"}), "ALC": _ALC, "SCC": frozenset({"FTX", "RFF", "QTY", "DTM"}),
    "APR": frozenset({"DTM", "RNG"}), "RCS": frozenset({"RFF", "DTM", "FTX"}), "DOC": frozenset({"DTM"}),
    "PAC": frozenset({"MEA", "PCI", "RFF", "DTM", "GIN", "QTY"}), "CTA": frozenset({"COM"}),
}
LINE_GROUPS = {**COMMON_GROUPS, "PRI": frozenset({"CUX", "APR", "RNG", "DTM"}), "LOC": frozenset({"QTY", "DTM"}),
               "STG": frozenset({"QTY", "DTM"})}

GTIN = frozenset({"EN", "SRV", "UP"})  # 7143: EAN/GS1 article number, GTIN, UPC
VENDOR = frozenset({"SA", "VN", "VP"})  # supplier's article number, vendor item number, vendor's part number
ORDERED = ("21", "1")  # QTY 6063: ordered quantity, else discrete quantity
NET, GROSS = "AAA", "AAB"  # PRI 5125: calculation net price, calculation gross price


def group_of(current: str | None, tag: str, groups: dict[str, frozenset[str]]) -> str | None:
    """The segment group `tag` is in, given the one open before it (None: the section or line itself)."""
    if current is not None and tag in groups.get(current, ()):
        return current
    return tag if tag in groups else None


def free_text(ftx: Segment) -> str:
    """FTX04 (C108, up to five lines of free text) as one line."""
    return " ".join(v for v in ftx.composite(4) if v)


@dataclass
class LineReader:
    lin: Segment
    check: Checker
    ids: dict[str, str] = field(default_factory=dict)
    descriptions: list[str] = field(default_factory=list)
    quantity: tuple[str, Decimal, str | None] | None = None  # qualifier, value, unit
    prices: dict[str, Decimal] = field(default_factory=dict)
    allowances: Decimal = ZERO
    tax: Decimal = ZERO
    amounts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    group: str | None = None
    allowance: bool = False  # the open ALC group is an allowance (ALC+A), not a charge

    def __post_init__(self) -> None:
        self._item_id(self.lin.value(3, 1), self.lin.value(3, 2))

    def feed(self, segment: Segment) -> None:
        tag = segment.tag
        self.group = group_of(self.group, tag, LINE_GROUPS)
        if tag == "PIA":
            for number in range(2, 7):
                self._item_id(segment.value(number, 1), segment.value(number, 2))
        elif tag == "IMD":
            if text := " ".join(v for v in segment.composite(3)[3:5] if v):
                self.descriptions.append(text)
        elif tag == "QTY" and self.group is None:
            self._quantity(segment)
        elif tag == "PRI":
            qualifier = segment.value(1, 1)
            price = self.check.number(segment, (1, 2), "the price")
            basis = self.check.number(segment, (1, 5), "the unit price basis")
            if price is not None and qualifier not in self.prices:
                self.prices[qualifier] = price / basis if basis else price
        elif tag == "ALC":
            self.allowance = segment.value(1) == "A"
        elif tag == "MOA":
            self._amount(segment)
        elif tag == "FTX" and self.group is None and (text := free_text(segment)):
            self.notes.append(text)

    def _item_id(self, value: str, kind: str) -> None:
        """The first number of each kind wins; kinds other than GTIN and the supplier's (the buyer's own, the
        manufacturer's, none) are buyer_item, which the partner's item mapping resolves."""
        if value:
            self.ids.setdefault("gtin" if kind in GTIN else "vendor_item" if kind in VENDOR else "buyer_item", value)

    def _quantity(self, segment: Segment) -> None:
        qualifier = segment.value(1, 1)
        if qualifier not in ORDERED:
            return
        if self.quantity is not None and self.quantity[0] == qualifier:
            self.check.fail("repeated_segment", codes.TOO_MANY_REPETITIONS, f"the line has a second QTY+{qualifier}",
                            segment, (1, 1), found=qualifier)
            return
        raw = segment.value(1, 2)
        value = self.check.number(segment, (1, 2), "the ordered quantity")
        if value is None or value <= 0:
            self.check.fail("invalid_quantity", codes.INVALID_VALUE if raw else codes.MISSING, "the ordered quantity "
                            "must be a number greater than zero", segment, (1, 2), expected="a positive number",
                            found=raw)
        elif self.quantity is None or qualifier == "21":
            self.quantity = (qualifier, value, segment.value(1, 3) or None)

    def _amount(self, segment: Segment) -> None:
        qualifier = segment.value(1, 1)
        if self.group is None:
            amount = self.check.number(segment, (1, 2), "the amount")
            if amount is not None:
                self.amounts.setdefault(qualifier, str(amount))
        elif self.group == "TAX" and qualifier == "124":
            self.tax += self.check.number(segment, (1, 2), "the tax amount") or ZERO
        elif self.group == "ALC" and self.allowance and qualifier in ("204", "8"):
            self.allowances += self.check.number(segment, (1, 2), "the allowance amount") or ZERO

    def finish(self) -> CapturedLine | None:
        """The line; None when it has no ordered quantity (reported) or the message was rejected already."""
        lin = self.lin
        if self.quantity is None:
            self.check.fail("missing_segment", codes.MISSING, "the line has no ordered quantity", lin,
                            expected="QTY+21 with a number greater than zero",
                            found=f"no QTY+21 in line {lin.value(1) or '?'}", missing="QTY")
        if self.check.fault is not None or self.quantity is None:
            return None
        ids = self.ids
        item = ItemRef(vendor_item=ids.get("vendor_item"), gtin=ids.get("gtin"), buyer_item=ids.get("buyer_item"),
                       description=" ".join(self.descriptions) or None)
        _, quantity, unit = self.quantity
        net = NET in self.prices  # a net price has the allowances taken off already
        return CapturedLine(item=item, quantity=quantity, unit_price=self.prices.get(NET, self.prices.get(GROSS)),
                            unit=unit, discount=ZERO if net else self.allowances, tax=self.tax,
                            line_ref=lin.value(1) or None, where=f"segment {lin.position.segment} (LIN)")

    def extra(self) -> dict[str, Any]:
        """What the line has beyond `CapturedLine`: its amounts (MOA qualifier -> value) and free text."""
        return {k: v for k, v in (("amounts", self.amounts), ("notes", self.notes)) if v}
