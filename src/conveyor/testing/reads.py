"""Small reads the tests share: an order's stage, what it still misses, its timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conveyor.inventory.tables import backorders
from conveyor.orders.tables import order_timeline, orders


def order_stage(container: Any, order_id: int) -> tuple[str, str | None]:
    """(stage, held_from) of the order."""
    with container.db.read() as conn:
        row = conn.execute(select(orders.c.stage, orders.c.held_from).where(orders.c.id == order_id)).one()
    return row.stage, row.held_from


def units_missing(container: Any, order_id: int) -> int:
    """Units the order's backorders still wait for."""
    with container.db.read() as conn:
        return sum(conn.execute(select(backorders.c.quantity).where(backorders.c.order_id == order_id)).scalars())


def timeline_entries(container: Any, order_id: int) -> list[tuple[Any, ...]]:
    """(kind, actor, action, to_stage, reason) of every timeline entry of the order, oldest first."""
    with container.db.read() as conn:
        rows = conn.execute(select(order_timeline.c.kind, order_timeline.c.actor, order_timeline.c.action,
                                   order_timeline.c.to_stage, order_timeline.c.reason)
                            .where(order_timeline.c.order_id == order_id).order_by(order_timeline.c.id)).all()
    return [tuple(r) for r in rows]
