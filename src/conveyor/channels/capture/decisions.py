"""What the core decided about each captured order, in the terms acknowledgements use (OrderDecision)."""

from __future__ import annotations

from decimal import Decimal

from conveyor.channels.capture.model import CapturedOrder, LineDecision, OrderDecision
from conveyor.channels.capture.resolve import Resolved
from conveyor.orders.domain import order_number
from conveyor.orders.queries import LineStock


def rejected(captured: CapturedOrder, reason: str) -> OrderDecision:
    return OrderDecision("rejected", captured.external_id, None, tuple(
        LineDecision(line.line_ref, "rejected", Decimal(0), line.quantity, line.unit, line.unit_price, line.item,
                     reason) for line in captured.lines), reason)


def placed(resolved: Resolved, order_id: int, stock: dict[int, LineStock]) -> OrderDecision:
    """Per line: accepted (all units reserved), backordered (some units wait for stock), or rejected (the item
    is not one we know: the order is held for item mapping). The order is 'accepted' when every line is,
    'changed' otherwise."""
    lines: list[LineDecision] = []
    for n, (line, draft) in enumerate(zip(resolved.captured.lines, resolved.draft.lines, strict=True), 1):
        factor = resolved.eaches[n - 1] or Decimal(1)
        if draft.unmapped:
            lines.append(LineDecision(line.line_ref, "rejected", Decimal(0), line.quantity, line.unit,
                                      line.unit_price, line.item, "item not in our catalog"))
            continue
        missing = stock.get(n, LineStock([], 0)).missing
        if missing:
            confirmed = (Decimal(draft.quantity - missing) / factor).quantize(Decimal(1)) if factor != 1 \
                else Decimal(draft.quantity - missing)
            lines.append(LineDecision(line.line_ref, "backordered", confirmed, line.quantity, line.unit,
                                      line.unit_price, line.item, f"{missing} each backordered"))
        else:
            lines.append(LineDecision(line.line_ref, "accepted", line.quantity, line.quantity, line.unit,
                                      line.unit_price, line.item))
    status = "accepted" if all(x.status == "accepted" for x in lines) else "changed"
    return OrderDecision(status, resolved.captured.external_id, order_number(order_id), tuple(lines))
