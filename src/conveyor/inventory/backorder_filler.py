"""Backorders fill themselves when stock becomes available: the `stock.received` and `stock.freed` consumer.

Runs after the transaction that received or freed the stock, from the outbox relay. One unit of work per
delivery: the product's open backorders, highest priority first and then oldest, take what they still miss;
each order that got stock gets a timeline entry naming the cause (stock arrived, an order gave stock back,
a hold ended, ...), and an order that is now complete and was put on hold by inventory for lack of stock is
released to the stage it was held from. Filling only takes what backorders still miss, so delivering the
same event twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from conveyor.inventory import events
from conveyor.inventory.allocation import fill_order_backorders, open_backorders, warehouse_order
from conveyor.inventory.ledger import Move
from conveyor.inventory.tables import backorders, stock_levels
from conveyor.kernel.errors import Conflict
from conveyor.orders.lifecycle import Action, LifecycleState, Stage
from conveyor.orders.moves import INVENTORY, add_timeline, apply_move
from conveyor.orders.tables import order_lines, order_timeline, orders
from conveyor.platform.uow import UnitOfWork

if TYPE_CHECKING:
    from conveyor.bootstrap import Container

ARRIVED = "Stock arrived"
# What the timeline says stock became available by, per `stock.freed` reason.
CAUSES = {
    events.ORDER_RELEASED: "Stock released by a cancelled or closed order",
    events.HOLD_RELEASED: "Stock released from a hold",
    events.HOLD_EXPIRED: "Stock freed by an expired hold",
    events.ADJUSTMENT: "Stock adjusted up",
    events.COUNT: "A count found more stock",
    events.TRANSFER: "Stock transferred in",
    events.SAFETY_LOWERED: "Safety stock lowered",
}
REOPENED = "Warehouse {code} opened again"
FREED = "Stock became available"
MAPPED = "Line mapped to a product"  # a reason this code does not know (an event from a newer version)


def _waiting_orders(conn: Connection, product_id: int) -> list[int]:
    rows = conn.execute(
        select(backorders.c.order_id).where(backorders.c.product_id == product_id,
                                            backorders.c.filled_at.is_(None))
        .order_by(backorders.c.priority.desc(), backorders.c.created_at, backorders.c.id)).scalars()
    return list(dict.fromkeys(int(r) for r in rows))


def _lock_balances(conn: Connection, order_ids: list[int], warehouse_ids: list[int]) -> None:
    """Filling several orders touches their products out of one global order; on PostgreSQL lock every
    balance they may take up front, in (product id, warehouse priority) order, as order intake does."""
    if conn.dialect.name != "postgresql" or not order_ids:
        return
    product_ids = sorted(set(conn.execute(select(backorders.c.product_id).where(
        backorders.c.order_id.in_(order_ids), backorders.c.filled_at.is_(None))).scalars()))
    for product_id in product_ids:
        for warehouse_id in warehouse_ids:
            conn.execute(select(stock_levels.c.product_id).where(
                stock_levels.c.product_id == product_id, stock_levels.c.warehouse_id == warehouse_id)
                .with_for_update())


def _describe(before: dict[int, int], after: dict[int, int], cause: str) -> str:
    parts = []
    for line_no, missing in sorted(before.items()):
        left = after.get(line_no, 0)
        if left == missing:
            continue
        parts.append(f"line {line_no} now fully reserved" if left == 0
                     else f"line {line_no}: {missing - left} more reserved, {left} still missing")
    return f"{cause}: " + "; ".join(parts)


def _missing_by_line(conn: Connection, order_id: int) -> dict[int, int]:
    missing: dict[int, int] = {}
    for _, line_no, _, quantity in open_backorders(conn, order_id):
        missing[line_no] = missing.get(line_no, 0) + quantity
    return missing


def _held_by_inventory(conn: Connection, order_id: int) -> LifecycleState | None:
    """The order's state if it is on hold and the latest hold was inventory's; else None."""
    order = conn.execute(select(orders.c.stage, orders.c.held_from).where(orders.c.id == order_id)).first()
    if order is None or order.stage != Stage.ON_HOLD.value or not order.held_from:
        return None
    last_hold_by = conn.execute(
        select(order_timeline.c.actor).where(order_timeline.c.order_id == order_id,
                                             order_timeline.c.to_stage == Stage.ON_HOLD.value)
        .order_by(order_timeline.c.id.desc()).limit(1)).scalar()
    if last_hold_by != INVENTORY:
        return None  # a person held it: they decide when it goes on
    if conn.execute(select(order_lines.c.id).where(order_lines.c.order_id == order_id,
                                                   order_lines.c.product_id.is_(None)).limit(1)).first():
        return None  # a line still waits for item mapping
    return LifecycleState(Stage.ON_HOLD, Stage(order.held_from))


def _fill_order(uow: UnitOfWork, container: Container, order_id: int, warehouse_ids: list[int],
                cause: str) -> bool:
    conn, at = uow.conn, uow.clock.now()
    before = _missing_by_line(conn, order_id)
    complete = fill_order_backorders(conn, order_id, Move(actor=INVENTORY, at=at, reference=f"order:{order_id}",
                                                          reason="backorder filled"), warehouse_ids)
    after = _missing_by_line(conn, order_id)
    if after == before:
        return False  # nothing arrived for this order: no entry
    add_timeline(conn, order_id=order_id, at=at, actor=INVENTORY, kind="decision",
                 reason=_describe(before, after, cause),
                 data={"missing_before": {str(k): v for k, v in before.items()},
                       "missing_after": {str(k): v for k, v in after.items()}})
    if not complete:
        return False
    if (held := _held_by_inventory(conn, order_id)) is not None:
        with suppress(Conflict):  # someone moved the order meanwhile: their move stands
            lifecycle = container.lifecycle.get(conn)
            back = apply_move(uow, order_id, held, Action.RELEASE.value, actor=INVENTORY, reason=cause,
                              lifecycle=lifecycle)
            if back.stage is Stage.APPROVED:  # approved (by review) and now complete: it goes on to picking
                apply_move(uow, order_id, back, Action.RESERVE.value, actor=INVENTORY, reason=None,
                           lifecycle=lifecycle)
    return True


def fill_backorders(container: Container, product_id: int, cause: str = ARRIVED) -> list[int]:
    """Fills the product's open backorders from available stock; the ids of orders now complete. `cause`
    starts the timeline entries (and is the reason of the release from an inventory hold)."""
    completed: list[int] = []
    with container.uow() as uow:
        conn = uow.conn
        order_ids = _waiting_orders(conn, product_id)
        if not order_ids:
            return []
        warehouse_ids = warehouse_order(conn)
        _lock_balances(conn, order_ids, warehouse_ids)
        for order_id in order_ids:
            if _fill_order(uow, container, order_id, warehouse_ids, cause):
                completed.append(order_id)
    return completed


def on_stock_received(container: Container) -> Callable[[dict[str, Any]], None]:
    """The outbox handler for `stock.received`."""

    def handle(payload: dict[str, Any]) -> None:
        fill_backorders(container, int(payload["product_id"]))

    return handle


def on_line_mapped(container: Container) -> Callable[[dict[str, Any]], None]:
    """The outbox handler for `order.line_mapped`: the newly mapped line waits as a backorder; fill it."""

    def handle(payload: dict[str, Any]) -> None:
        fill_backorders(container, int(payload["product_id"]), MAPPED)

    return handle


def on_stock_freed(container: Container) -> Callable[[dict[str, Any]], None]:
    """The outbox handler for `stock.freed`: the same filling, with the reason on the timeline."""

    def handle(payload: dict[str, Any]) -> None:
        fill_backorders(container, int(payload["product_id"]), CAUSES.get(str(payload.get("reason")), FREED))

    return handle


_WAITING_WITH_STOCK_AT = (
    select(backorders.c.product_id).distinct()
    .join(stock_levels, stock_levels.c.product_id == backorders.c.product_id)
    .where(backorders.c.filled_at.is_(None), stock_levels.c.warehouse_id == bindparam("warehouse_id"),
           stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety > 0)
    .order_by(backorders.c.product_id)
)


def on_warehouse_activated(container: Container) -> Callable[[dict[str, Any]], None]:
    """The outbox handler for `warehouse.activated`: every product with open backorders and free stock in the
    reopened warehouse is filled as on receipt (one unit of work per product, in product order)."""

    def handle(payload: dict[str, Any]) -> None:
        with container.db.read() as conn:
            product_ids = list(conn.execute(_WAITING_WITH_STOCK_AT,
                                            {"warehouse_id": int(payload["warehouse_id"])}).scalars())
        cause = REOPENED.format(code=payload.get("code", payload["warehouse_id"]))
        for product_id in product_ids:
            fill_backorders(container, int(product_id), cause)

    return handle
