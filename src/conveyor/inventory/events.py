"""What inventory tells the rest of the system, through the outbox.

Two facts can give waiting backorders stock, and they are two events with one consumer (the backorder filler):

- `stock.received`: goods arrived in a warehouse (a receipt). It keeps its own name because it means more
  than "something is free now": it is a delivery, with the quantity that arrived.
- `stock.freed`: available-to-promise of a product can have gone up without goods arriving: an order was
  cancelled or closed and gave its reservations back, a cart or quote hold was released or expired, an
  adjustment or count raised on hand, a transfer brought units in, or safety stock was lowered. The
  `reason` says which; the consumer treats them all alike and only uses it for the order timeline.

One `stock.freed` per product and transaction, only when units were actually freed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from conveyor.kernel.messages import Event

# Why stock was freed (StockFreed.reason).
ORDER_RELEASED = "order_released"  # a cancelled or closed order gave its reservations back
HOLD_RELEASED = "hold_released"  # a cart or quote hold was released on request
HOLD_EXPIRED = "hold_expired"  # a hold expired (the sweeper, or its reference held anew)
ADJUSTMENT = "adjustment"  # an adjustment raised on hand
COUNT = "count"  # a cycle count raised on hand
TRANSFER = "transfer"  # a transfer brought units into a warehouse
SAFETY_LOWERED = "safety_lowered"  # less safety stock is kept back
FREED_REASONS = (ORDER_RELEASED, HOLD_RELEASED, HOLD_EXPIRED, ADJUSTMENT, COUNT, TRANSFER, SAFETY_LOWERED)


@dataclass(frozen=True, kw_only=True)
class StockReceived(Event):
    """Goods arrived in a warehouse; waiting backorders of the product may now be filled."""

    name: ClassVar[str] = "stock.received"
    product_id: int
    warehouse_id: int
    quantity: int


@dataclass(frozen=True, kw_only=True)
class StockFreed(Event):
    """Units of a product became available to promise again in these warehouses, for `reason` (one of
    FREED_REASONS); waiting backorders of the product may now be filled."""

    name: ClassVar[str] = "stock.freed"
    product_id: int
    warehouse_ids: tuple[int, ...]
    quantity: int  # units freed in those warehouses together
    reason: str
