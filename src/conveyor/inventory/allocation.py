"""Reserving an order's lines at intake, and what lifecycle moves do to those reservations.

Shortage policies (per customer, else per channel, else hold):
- hold: reserve what is there, backorder the rest, and put the order on hold until it is complete;
- backorder: reserve what is there, backorder the rest, and let the order go on;
- reject: refuse the order (nothing is written).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from conveyor.inventory import ledger
from conveyor.inventory.freed import Freed
from conveyor.inventory.ledger import Move
from conveyor.inventory.tables import backorders, reservations, stock_levels
from conveyor.warehouses.tables import warehouses


class ShortagePolicy(StrEnum):
    HOLD = "hold"
    BACKORDER = "backorder"
    REJECT = "reject"


@dataclass(frozen=True)
class LineNeed:
    line_no: int
    product_id: int
    sku: str
    quantity: int


@dataclass
class Allocation:
    reserved: list[tuple[int, int, int]] = field(default_factory=list)  # (line_no, warehouse_id, quantity)
    short: list[tuple[int, str, int]] = field(default_factory=list)  # (line_no, sku, missing)

    @property
    def complete(self) -> bool:
        return not self.short

    def describe_short(self) -> str:
        return ", ".join(f"line {n} {sku}: {missing} short" for n, sku, missing in self.short)


_WAREHOUSES = select(warehouses.c.id, warehouses.c.code).where(warehouses.c.active.is_(True)).order_by(
    warehouses.c.priority, warehouses.c.id)  # the same order as balance_order, active ones only
_INSERT_RESERVATION = insert(reservations)
_INSERT_BACKORDER = insert(backorders)


def active_warehouses(conn: Connection) -> list[tuple[int, str]]:
    """(id, code) of the warehouses that may ship, in the order stock is taken from them."""
    return [(int(r.id), str(r.code)) for r in conn.execute(_WAREHOUSES)]


def warehouse_order(conn: Connection) -> list[int]:
    return [warehouse_id for warehouse_id, _ in active_warehouses(conn)]


def _reserve_line(conn: Connection, need: LineNeed, quantity: int, warehouse_ids: list[int], move: Move,
                  order_id: int) -> list[tuple[int, int]]:
    """Reserves up to `quantity` of a line from warehouses in priority order; returns (warehouse, units)."""
    got = 0
    taken: list[tuple[int, int]] = []
    for warehouse_id in warehouse_ids:
        remaining = quantity - got
        if remaining == 0:
            break
        take = remaining
        # Whole remainder in one statement first; then whatever this warehouse has, re-checked in SQL.
        for _ in range(3):
            if take > 0 and ledger.try_reserve(conn, need.product_id, warehouse_id, take, move):
                conn.execute(_INSERT_RESERVATION, dict(
                    kind="order", order_id=order_id, line_no=need.line_no, reference=None,
                    product_id=need.product_id, warehouse_id=warehouse_id, quantity=take, status="active",
                    expires_at=None, created_at=move.at, updated_at=move.at))
                got += take
                taken.append((warehouse_id, take))
                break
            take = min(remaining, ledger.available(conn, need.product_id, warehouse_id))
            if take == 0:
                break
    return taken


def plan_order(needs: list[LineNeed], free: Mapping[tuple[int, int], int], warehouse_ids: list[int]) -> Allocation:
    """Pure: where each line would be reserved given `free` units per (product, warehouse), taking warehouses
    in `warehouse_ids` order, as much of a line as one warehouse has before the next."""
    allocation = Allocation()
    used: dict[tuple[int, int], int] = {}
    for need in sorted(needs, key=lambda n: (n.product_id, n.line_no)):
        got = 0
        for warehouse_id in warehouse_ids:
            if got == need.quantity:
                break
            balance = (need.product_id, warehouse_id)
            take = min(need.quantity - got, free.get(balance, 0) - used.get(balance, 0))
            if take > 0:
                allocation.reserved.append((need.line_no, warehouse_id, take))
                used[balance] = used.get(balance, 0) + take
                got += take
        if got < need.quantity:
            allocation.short.append((need.line_no, need.sku, need.quantity - got))
    return allocation


def take_planned(free: dict[tuple[int, int], int], needs: list[LineNeed], allocation: Allocation) -> None:
    """Pure: subtracts a planned allocation from `free`, so the next order in a batch sees what is left."""
    product = {need.line_no: need.product_id for need in needs}
    for line_no, warehouse_id, units in allocation.reserved:
        free[(product[line_no], warehouse_id)] -= units


_LOCK_FREE = (
    select(stock_levels.c.product_id, stock_levels.c.warehouse_id,
           (stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety).label("free"))
    .join(warehouses, warehouses.c.id == stock_levels.c.warehouse_id)
    .where(stock_levels.c.product_id.in_(bindparam("products", expanding=True)),
           stock_levels.c.warehouse_id.in_(bindparam("warehouses", expanding=True)))
    .order_by(stock_levels.c.product_id, warehouses.c.priority, warehouses.c.id)
    .with_for_update(of=stock_levels)
)


def lock_free_stock(conn: Connection, product_ids: set[int], warehouse_ids: list[int]) -> dict[tuple[int, int], int]:
    """Free units (on hand - reserved - safety) per (product, warehouse) for a whole batch of orders, read in one
    statement. On PostgreSQL the balances are locked in the one balance order (product id, warehouse priority,
    id) that every other stock writer uses, so batches never deadlock with each other or with single moves;
    on SQLite the write transaction (BEGIN IMMEDIATE) already excludes every other writer."""
    if not product_ids or not warehouse_ids:
        return {}
    rows = conn.execute(_LOCK_FREE, {"products": sorted(product_ids), "warehouses": warehouse_ids})
    return {(int(r.product_id), int(r.warehouse_id)): max(0, int(r.free)) for r in rows}


@dataclass(frozen=True)
class PlannedOrder:
    order_id: int
    needs: list[LineNeed]
    allocation: Allocation
    priority: int


def book_planned(conn: Connection, planned: list[PlannedOrder], *, actor: str, at: datetime) -> None:
    """Books planned allocations of several orders: the ledger (balances and movements), one reservation row per
    line and warehouse, one backorder row per short line; a handful of statements for the whole batch."""
    takes: list[tuple[int, int, int, Move]] = []
    held: list[dict[str, object]] = []
    missing: list[dict[str, object]] = []
    for p in planned:
        product = {need.line_no: need.product_id for need in p.needs}
        move = Move(actor=actor, at=at, reference=f"order:{p.order_id}")
        for line_no, warehouse_id, units in sorted(p.allocation.reserved, key=lambda r: (product[r[0]], r[0])):
            takes.append((product[line_no], warehouse_id, units, move))
            held.append(dict(kind="order", order_id=p.order_id, line_no=line_no, reference=None,
                             product_id=product[line_no], warehouse_id=warehouse_id, quantity=units,
                             status="active", expires_at=None, created_at=at, updated_at=at))
        missing += [dict(order_id=p.order_id, line_no=line_no, product_id=product[line_no], quantity=units,
                         priority=p.priority, created_at=at, filled_at=None)
                    for line_no, _, units in p.allocation.short]
    ledger.reserve_many(conn, takes)
    if held:
        conn.execute(_INSERT_RESERVATION, held)
    if missing:
        conn.execute(_INSERT_BACKORDER, missing)


_ACTIVE = select(reservations.c.id, reservations.c.product_id, reservations.c.warehouse_id,
                 reservations.c.quantity).where(reservations.c.order_id == bindparam("order_id"),
                                                reservations.c.status == "active")
_CLOSE_RESERVATION = update(reservations).where(reservations.c.id == bindparam("rid")).values(
    status=bindparam("status"), quantity=0, updated_at=bindparam("at"))


def balance_order(conn: Connection) -> dict[int, int]:
    """Warehouse id -> its rank in the one order every transaction takes balances in: product id first,
    then warehouse priority (then id). Intake, release, shipment and transfers all use it."""
    return {warehouse_id: rank for rank, warehouse_id in enumerate(warehouse_order_all(conn))}


_ALL_WAREHOUSES = select(warehouses.c.id).order_by(warehouses.c.priority, warehouses.c.id)


def warehouse_order_all(conn: Connection) -> list[int]:
    """Every warehouse, active or not, in balance order (released stock may sit in a closed warehouse)."""
    return [int(r) for r in conn.execute(_ALL_WAREHOUSES).scalars()]


def _active(conn: Connection, order_id: int) -> list[tuple[int, int, int, int]]:
    rows = conn.execute(_ACTIVE, {"order_id": order_id}).all()
    rank = balance_order(conn)
    ordered = sorted(rows, key=lambda r: (r.product_id, rank.get(r.warehouse_id, len(rank)), r.warehouse_id, r.id))
    return [(r.product_id, r.warehouse_id, r.id, r.quantity) for r in ordered]


def _settle(conn: Connection, order_id: int, move: Move,
            book: Callable[[Connection, int, int, int, Move], None], status: str) -> list[tuple[int, int, int]]:
    """Books every active reservation of the order with `book` (release or ship), in balance order; the
    (product, warehouse, units) booked."""
    booked: list[tuple[int, int, int]] = []
    for product_id, warehouse_id, rid, quantity in _active(conn, order_id):
        if quantity:
            book(conn, product_id, warehouse_id, quantity, move)
            booked.append((product_id, warehouse_id, quantity))
        conn.execute(_CLOSE_RESERVATION, {"rid": rid, "status": status, "at": move.at})
    return booked


def release_order(conn: Connection, order_id: int, move: Move) -> Freed:
    """Returns everything the order still holds to available stock, and drops its backorders; what it freed,
    for the caller to publish (freed.publish_freed) so that waiting backorders can take it."""
    freed = Freed()
    for product_id, warehouse_id, units in _settle(conn, order_id, move, ledger.release, "released"):
        freed.add(product_id, warehouse_id, units)
    conn.execute(update(backorders).where(backorders.c.order_id == order_id, backorders.c.filled_at.is_(None))
                 .values(quantity=0, filled_at=move.at))
    return freed


def ship_order(conn: Connection, order_id: int, move: Move) -> int:
    """Reserved units of the order leave: on hand and reserved go down together."""
    return sum(units for _, _, units in _settle(conn, order_id, move, ledger.ship, "shipped"))


def open_backorders(conn: Connection, order_id: int) -> list[tuple[int, int, int, int]]:
    """(backorder id, line_no, product_id, missing quantity) still waiting for stock."""
    rows = conn.execute(select(backorders.c.id, backorders.c.line_no, backorders.c.product_id,
                               backorders.c.quantity)
                        .where(backorders.c.order_id == order_id, backorders.c.filled_at.is_(None))).all()
    return [(r.id, r.line_no, r.product_id, r.quantity) for r in rows]


def fill_order_backorders(conn: Connection, order_id: int, move: Move,
                          warehouse_ids: list[int] | None = None) -> bool:
    """Tries to reserve what the order is still missing; True when nothing is missing any more."""
    warehouse_ids = warehouse_ids if warehouse_ids is not None else warehouse_order(conn)
    complete = True
    for backorder_id, line_no, product_id, missing in sorted(open_backorders(conn, order_id),
                                                             key=lambda b: (b[2], b[1])):
        taken = _reserve_line(conn, LineNeed(line_no, product_id, "", missing), missing, warehouse_ids, move,
                              order_id)
        left = missing - sum(units for _, units in taken)
        conn.execute(update(backorders).where(backorders.c.id == backorder_id).values(
            quantity=left, filled_at=move.at if left == 0 else None))
        complete = complete and left == 0
    return complete


def book_order_lines(conn: Connection, order_id: int, lines: list[LineNeed], priority: int, at: datetime) -> bool:
    """An order reviewed before its stock was reserved (review held it): its mapped lines become backorders
    for their whole quantity, so `fill_order_backorders` reserves what is there. False (nothing done) when the
    order already holds or awaits stock."""
    has_stock = conn.execute(select(reservations.c.id).where(reservations.c.order_id == order_id).limit(1)).first()
    waits = conn.execute(select(backorders.c.id).where(backorders.c.order_id == order_id).limit(1)).first()
    if has_stock is not None or waits is not None or not lines:
        return False
    conn.execute(_INSERT_BACKORDER, [dict(order_id=order_id, line_no=n.line_no, product_id=n.product_id,
                                          quantity=n.quantity, priority=priority, created_at=at, filled_at=None)
                                     for n in lines])
    return True
