"""Collecting the units a transaction gives back to available stock, and publishing `stock.freed` for them.

Stock primitives (allocation.release_order, the hold closing in holds.py) report what they freed as a
`Freed`; the use case that owns the transaction publishes it with `publish_freed`, one event per product,
in the same transaction, and nothing when no unit was freed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Connection

from conveyor.inventory.events import FREED_REASONS, StockFreed
from conveyor.platform.outbox import publish_many


def product_key(product_id: int) -> str:
    """The outbox key of stock events: the product they are about."""
    return f"product:{product_id}"


@dataclass
class Freed:
    """Units freed per product and warehouse."""

    units: dict[int, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, product_id: int, warehouse_id: int, quantity: int) -> Freed:
        freed = cls()
        freed.add(product_id, warehouse_id, quantity)
        return freed

    def add(self, product_id: int, warehouse_id: int, quantity: int) -> None:
        if quantity > 0:
            by_warehouse = self.units.setdefault(product_id, {})
            by_warehouse[warehouse_id] = by_warehouse.get(warehouse_id, 0) + quantity

    def total(self) -> int:
        return sum(sum(by_warehouse.values()) for by_warehouse in self.units.values())

    def __bool__(self) -> bool:
        return bool(self.units)

    def events(self, reason: str) -> list[tuple[StockFreed, str]]:
        """One (event, outbox key) per product, in product order."""
        if reason not in FREED_REASONS:
            raise ValueError(f"unknown reason for freed stock: {reason!r}")
        return [(StockFreed(product_id=product_id, warehouse_ids=tuple(sorted(by_warehouse)),
                            quantity=sum(by_warehouse.values()), reason=reason), product_key(product_id))
                for product_id, by_warehouse in sorted(self.units.items())]


def publish_freed(conn: Connection, freed: Freed, *, reason: str, at: datetime) -> None:
    """Writes one `stock.freed` per product of `freed` to the outbox, in the caller's transaction."""
    publish_many(conn, list(freed.events(reason)), at=at)
