from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from conveyor.kernel.messages import Event


@dataclass(frozen=True, kw_only=True)
class StockReceived(Event):
    """Goods arrived in a warehouse; waiting backorders of the product may now be filled."""

    name: ClassVar[str] = "stock.received"
    product_id: int
    warehouse_id: int
    quantity: int
