"""What the warehouses area tells the rest of the system, through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from conveyor.kernel.messages import Event


@dataclass(frozen=True, kw_only=True)
class WarehouseActivated(Event):
    """A closed (inactive) warehouse was opened again: its stock may ship, so orders waiting for stock that
    it holds can take it (inventory's backorder filler consumes this)."""

    name: ClassVar[str] = "warehouse.activated"
    warehouse_id: int
    code: str
