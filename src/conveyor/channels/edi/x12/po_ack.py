"""The X12 855 purchase order acknowledgement: what we decided about a captured 850. Pure: no clock.

    text = purchase_order_acknowledgment(order, decision, control_number=next_number, created_at=now)

`order` is the `CapturedOrder` that `capture_x12` made (its `extra["x12_reply"]` says where the answer goes,
`extra["po_date"]` and `extra["line_ids"]` what to echo); `decision` is the core's `OrderDecision`.

- BAK*00*<type>*<PO number>*<PO date>****<our order number>: type AD (accepted with detail, no change), AC
  (accepted with detail and changes) or RJ (rejected, no detail). BAK04 is BEG05 as received (the date of
  the acknowledgement when the order has none).
- Unless rejected, per decision line: PO1 echoing the buyer's line (PO101 line number, PO102 quantity
  ordered, PO103 unit, PO104 unit price, and the buyer's own product ids, qualifiers included), then ACK:
  IA accepted, IQ quantity changed, IP price changed, IC other changes, IB backordered, IR rejected, with
  the quantity (confirmed, backordered, or for IR the quantity refused) and its unit (EA when none).
- CTT with the number of PO1 segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from conveyor.channels.capture.model import CapturedLine, CapturedOrder, ItemRef, LineDecision, OrderDecision
from conveyor.channels.edi.x12.errors import X12Error, X12ErrorCode
from conveyor.channels.edi.x12.replies import ReplyTo, plain, write_reply
from conveyor.channels.edi.x12.segments import Delimiters, Segment

_BAK02 = {"accepted": "AD", "changed": "AC", "rejected": "RJ"}
_MAX_ID_PAIRS = 10  # PO106/PO107 to PO124/PO125


def purchase_order_acknowledgment(order: CapturedOrder, decision: OrderDecision, *, control_number: int,
                                  created_at: datetime, reply: ReplyTo | None = None, line_break: str = "") -> str:
    """The 855 for `decision` about `order`, as X12 text in an ISA/GS(PR)/ST envelope back to the buyer.

    `reply` defaults to the address kept in `order.extra["x12_reply"]`. Raises `X12Error` when there is none
    (the order did not come from X12) or when a value holds one of the partner's delimiters."""
    if decision.status not in _BAK02:
        raise X12Error(X12ErrorCode.INVALID_VALUE, f"an order decision is accepted, changed or rejected, "
                                                   f"not {decision.status!r}", tag="BAK", element=2)
    if reply is None:
        kept = order.extra.get("x12_reply")
        if not isinstance(kept, dict):
            raise X12Error(X12ErrorCode.INVALID_VALUE, f"order {order.external_id!r} has no X12 reply address "
                                                       "(extra['x12_reply']); pass reply=")
        reply = ReplyTo.from_dict(kept)
    po_date = str(order.extra.get("po_date") or created_at.strftime("%Y%m%d"))
    bak: list[str] = ["00", _BAK02[decision.status], decision.external_id or order.external_id, po_date]
    if decision.order_number:
        bak += ["", "", "", decision.order_number]
    body = [Segment("BAK", tuple(bak))]
    if decision.status != "rejected":
        line_ids = order.extra.get("line_ids")
        for index, line in enumerate(decision.lines):
            captured = _captured(order.lines, line, index)
            ids = _buyer_ids(line_ids, captured, line.item, order.lines, reply.delimiters)
            body.append(_po1(line, captured, ids))
            body.append(_ack(line, captured))
        body.append(Segment("CTT", (str(len(decision.lines)),)))
    return write_reply(reply, functional_id="PR", set_id="855", body=body, control_number=control_number,
                       created_at=created_at, line_break=line_break)


def _captured(lines: Sequence[CapturedLine], decision: LineDecision, index: int) -> CapturedLine | None:
    """The captured line a decision is about: by line_ref when that names one line, else by position."""
    if decision.line_ref is not None:
        matches = [line for line in lines if line.line_ref == decision.line_ref]
        if len(matches) == 1:
            return matches[0]
    return lines[index] if index < len(lines) else None


def _buyer_ids(line_ids: object, captured: CapturedLine | None, item: ItemRef, lines: Sequence[CapturedLine],
               delimiters: Delimiters) -> list[str]:
    """PO106 onwards: the qualifier/id pairs of the buyer's PO1 as received, else those of the item."""
    pairs: list[tuple[str, str]] = []
    if captured is not None and isinstance(line_ids, list | tuple):
        position = next((number for number, line in enumerate(lines) if line is captured), None)
        if position is not None and position < len(line_ids):
            pairs = [(str(qualifier), str(value)) for qualifier, value in line_ids[position]]
    if not pairs:
        source = captured.item if captured is not None else item
        pairs = [(qualifier, value) for qualifier, value in (
            ("BP", source.buyer_item), ("VN", source.vendor_item), (_gtin_qualifier(source.gtin), source.gtin),
            ("SK", source.sku)) if value]
    flat: list[str] = []
    for qualifier, value in pairs[:_MAX_ID_PAIRS]:
        flat += [qualifier, plain(value, delimiters)]
    return flat


def _gtin_qualifier(gtin: str | None) -> str:
    return {12: "UP", 14: "UK"}.get(len(gtin or ""), "EN")


def _po1(line: LineDecision, captured: CapturedLine | None, ids: list[str]) -> Segment:
    unit = line.unit or (captured.unit if captured is not None else None) or "EA"
    price = line.unit_price if line.unit_price is not None else (captured.unit_price if captured else None)
    line_ref = line.line_ref if line.line_ref is not None else (captured.line_ref if captured else None)
    values = [line_ref or "", _number(line.ordered), unit, "" if price is None else _number(price), ""]
    if ids:
        values += ids
    while values and values[-1] == "":
        values.pop()
    return Segment("PO1", tuple(values))


def _ack(line: LineDecision, captured: CapturedLine | None) -> Segment:
    unit = line.unit or (captured.unit if captured is not None else None) or "EA"
    if line.status == "accepted":
        code, quantity = "IA", line.quantity
    elif line.status == "backordered":
        code, quantity = "IB", line.quantity
    elif line.status == "rejected":
        code, quantity = "IR", line.ordered - line.quantity if line.quantity < line.ordered else line.ordered
    elif line.status == "changed":
        was = captured.unit_price if captured is not None else None
        repriced = line.unit_price is not None and was is not None and line.unit_price != was
        code, quantity = ("IQ" if line.quantity != line.ordered else "IP" if repriced else "IC"), line.quantity
    else:
        raise X12Error(X12ErrorCode.INVALID_VALUE, f"a line decision is accepted, changed, backordered or "
                                                   f"rejected, not {line.status!r}", tag="ACK", element=1)
    return Segment("ACK", (code, _number(quantity), unit))


def _number(value: Decimal) -> str:
    """A decimal as X12 writes numbers: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
