"""Stock changes as SQL: every change is one conditional UPDATE of a balance plus one ledger row.

Concurrency lives in the statements: a reservation is `UPDATE ... SET reserved = reserved + :q WHERE ...
AND on_hand - reserved - safety >= :q`, so two transactions can never both take the last unit, on
PostgreSQL (row locks, re-checked condition) or SQLite (BEGIN IMMEDIATE). Callers that touch several
balances in one transaction take them in one sorted order (product id, then warehouse rank), so
transactions never wait on each other in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from conveyor.inventory.tables import stock_levels, stock_movements
from conveyor.kernel.errors import Conflict, ValidationFailed

RECEIPT, ADJUSTMENT, COUNT = "receipt", "adjustment", "count"
TRANSFER_OUT, TRANSFER_IN = "transfer_out", "transfer_in"
RESERVATION, RELEASE, SHIPMENT, RETURN = "reservation", "release", "shipment", "return"
KINDS = (RECEIPT, ADJUSTMENT, COUNT, TRANSFER_OUT, TRANSFER_IN, RESERVATION, RELEASE, SHIPMENT, RETURN)

_level = and_(stock_levels.c.product_id == bindparam("p"), stock_levels.c.warehouse_id == bindparam("w"))
_RESERVE = update(stock_levels).where(
    _level, stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety >= bindparam("q")
).values(reserved=stock_levels.c.reserved + bindparam("q"), updated_at=bindparam("at"))
_RELEASE = update(stock_levels).where(_level, stock_levels.c.reserved >= bindparam("q")).values(
    reserved=stock_levels.c.reserved - bindparam("q"), updated_at=bindparam("at"))
_SHIP = update(stock_levels).where(_level, stock_levels.c.reserved >= bindparam("q")).values(
    reserved=stock_levels.c.reserved - bindparam("q"), on_hand=stock_levels.c.on_hand - bindparam("q"),
    updated_at=bindparam("at"))
_CHANGE_ON_HAND = update(stock_levels).where(
    _level, stock_levels.c.on_hand + bindparam("d") >= stock_levels.c.reserved
).values(on_hand=stock_levels.c.on_hand + bindparam("d"), updated_at=bindparam("at"))
# Taking stock away (a transfer out) may not touch what is reserved or kept as safety stock.
_TAKE_FREE = update(stock_levels).where(
    _level, stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety >= bindparam("q")
).values(on_hand=stock_levels.c.on_hand - bindparam("q"), updated_at=bindparam("at"))
_MOVEMENT = insert(stock_movements)


@dataclass(frozen=True)
class Move:
    """Who and why, for the ledger row."""

    actor: str
    at: datetime
    reference: str | None = None
    reason: str | None = None


def _record(conn: Connection, kind: str, product_id: int, warehouse_id: int, on_hand: int, reserved: int,
            move: Move) -> None:
    conn.execute(_MOVEMENT, dict(product_id=product_id, warehouse_id=warehouse_id, kind=kind,
                                 on_hand_delta=on_hand, reserved_delta=reserved, reference=move.reference,
                                 reason=move.reason, actor=move.actor, at=move.at))


def record_announcement(conn: Connection, product_id: int, warehouse_id: int, move: Move, kind: str) -> None:
    """A ledger row that changes no balance (an advance ship notice), so the history shows it."""
    _record(conn, kind, product_id, warehouse_id, 0, 0, move)


def ensure_levels(conn: Connection, pairs: list[tuple[int, int]], at: datetime) -> None:
    """Creates empty balances for (product, warehouse) pairs that have none (no-op for existing ones)."""
    if not pairs:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(stock_levels).on_conflict_do_nothing(index_elements=["product_id", "warehouse_id"])
    conn.execute(stmt, [dict(product_id=p, warehouse_id=w, on_hand=0, reserved=0, safety=0, incoming=0,
                             updated_at=at) for p, w in sorted(set(pairs))])


def _positive(quantity: int, field: str = "quantity") -> None:
    if quantity <= 0:
        raise ValidationFailed("invalid_quantity", f"{field} must be at least 1", field)


def receive(conn: Connection, product_id: int, warehouse_id: int, quantity: int, move: Move,
            kind: str = RECEIPT) -> None:
    """Goods arrived (a receipt, a transfer in, a customer return)."""
    _positive(quantity)
    ensure_levels(conn, [(product_id, warehouse_id)], move.at)
    conn.execute(_CHANGE_ON_HAND, dict(p=product_id, w=warehouse_id, d=quantity, at=move.at))
    _record(conn, kind, product_id, warehouse_id, quantity, 0, move)


def adjust(conn: Connection, product_id: int, warehouse_id: int, delta: int, move: Move,
           kind: str = ADJUSTMENT) -> None:
    """Changes on hand by `delta` (damage, found stock, ...); refused below what is reserved."""
    if delta == 0:
        raise ValidationFailed("invalid_quantity", "an adjustment changes stock by at least one unit", "delta")
    if not move.reason or not move.reason.strip():
        raise ValidationFailed("reason_required", "say why stock is adjusted", "reason")
    ensure_levels(conn, [(product_id, warehouse_id)], move.at)
    if conn.execute(_CHANGE_ON_HAND, dict(p=product_id, w=warehouse_id, d=delta, at=move.at)).rowcount != 1:
        raise Conflict("below_reserved", "on hand cannot go below what is reserved; release or re-source "
                                         "those reservations first", "delta")
    _record(conn, kind, product_id, warehouse_id, delta, 0, move)


def count(conn: Connection, product_id: int, warehouse_id: int, counted: int, move: Move) -> int:
    """A cycle count: on hand becomes `counted`; the difference is booked as a count correction."""
    if counted < 0:
        raise ValidationFailed("invalid_quantity", "a count is zero or more", "counted")
    ensure_levels(conn, [(product_id, warehouse_id)], move.at)
    # Conditional on the value read, so a reservation or receipt in between cannot be overwritten.
    for _ in range(5):
        seen = conn.execute(select(stock_levels.c.on_hand).where(_level), dict(p=product_id, w=warehouse_id)).scalar()
        delta = counted - int(seen or 0)
        if delta == 0:
            return 0
        changed = conn.execute(
            update(stock_levels).where(_level, stock_levels.c.on_hand == seen,
                                       literal(counted) >= stock_levels.c.reserved)
            .values(on_hand=counted, updated_at=move.at), dict(p=product_id, w=warehouse_id)).rowcount
        if changed == 1:
            _record(conn, COUNT, product_id, warehouse_id, delta, 0, move)
            return delta
        reserved = conn.execute(select(stock_levels.c.reserved).where(_level),
                                dict(p=product_id, w=warehouse_id)).scalar()
        if counted < int(reserved or 0):
            raise Conflict("below_reserved", f"{reserved} units are reserved here; a count of {counted} needs "
                                             "those reservations released or re-sourced first", "counted")
    raise Conflict("count_contended", "stock kept changing during the count; count again", "counted")


def transfer(conn: Connection, product_id: int, from_warehouse: int, to_warehouse: int, quantity: int,
             move: Move) -> None:
    """Moves free stock (not reserved, not safety stock) between warehouses; the two balances are taken in
    the same warehouse order as everywhere else (priority, then id), so a transfer never deadlocks."""
    from conveyor.inventory.allocation import balance_order

    _positive(quantity)
    if from_warehouse == to_warehouse:
        raise ValidationFailed("same_warehouse", "a transfer goes to another warehouse", "to_warehouse")
    ensure_levels(conn, [(product_id, from_warehouse), (product_id, to_warehouse)], move.at)
    rank = balance_order(conn)
    steps = sorted([(from_warehouse, -quantity), (to_warehouse, quantity)], key=lambda s: (rank.get(s[0], 0), s[0]))
    for warehouse, delta in steps:
        if delta < 0:
            if conn.execute(_TAKE_FREE, dict(p=product_id, w=warehouse, q=quantity, at=move.at)).rowcount != 1:
                raise Conflict("insufficient_stock", f"fewer than {quantity} free units (not reserved, not safety "
                                                     "stock) in the source warehouse", "quantity")
            _record(conn, TRANSFER_OUT, product_id, warehouse, -quantity, 0, move)
        else:
            conn.execute(_CHANGE_ON_HAND, dict(p=product_id, w=warehouse, d=quantity, at=move.at))
            _record(conn, TRANSFER_IN, product_id, warehouse, quantity, 0, move)


def try_reserve(conn: Connection, product_id: int, warehouse_id: int, quantity: int, move: Move) -> bool:
    """Reserves `quantity` if that much is available to promise; False (and nothing changed) if not."""
    _positive(quantity)
    if conn.execute(_RESERVE, dict(p=product_id, w=warehouse_id, q=quantity, at=move.at)).rowcount != 1:
        return False
    _record(conn, RESERVATION, product_id, warehouse_id, 0, quantity, move)
    return True


def reserve_many(conn: Connection, takes: list[tuple[int, int, int, Move]]) -> None:
    """Books many reservations at once, (product, warehouse, units, move) each: one conditional UPDATE per
    balance for the units it gives in total (executed as one batch), and one ledger row per take. The caller
    holds the balances' row locks (allocation.lock_free_stock), so the condition only guards against a bug;
    if any balance has too little, nothing is booked and Conflict is raised."""
    if not takes:
        return
    totals: dict[tuple[int, int], int] = {}
    for product_id, warehouse_id, quantity, _ in takes:
        _positive(quantity)
        totals[(product_id, warehouse_id)] = totals.get((product_id, warehouse_id), 0) + quantity
    at = takes[0][3].at
    changed = conn.execute(_RESERVE, [dict(p=p, w=w, q=q, at=at) for (p, w), q in sorted(totals.items())]).rowcount
    if changed != len(totals):
        raise Conflict("insufficient_stock", "stock changed while it was being reserved; try again", None)
    conn.execute(_MOVEMENT, [dict(product_id=p, warehouse_id=w, kind=RESERVATION, on_hand_delta=0,
                                  reserved_delta=q, reference=m.reference, reason=m.reason, actor=m.actor, at=m.at)
                             for p, w, q, m in takes])


def release(conn: Connection, product_id: int, warehouse_id: int, quantity: int, move: Move) -> None:
    _positive(quantity)
    if conn.execute(_RELEASE, dict(p=product_id, w=warehouse_id, q=quantity, at=move.at)).rowcount != 1:
        raise Conflict("not_reserved", "fewer units are reserved than released", "quantity")
    _record(conn, RELEASE, product_id, warehouse_id, 0, -quantity, move)


def ship(conn: Connection, product_id: int, warehouse_id: int, quantity: int, move: Move) -> None:
    """Reserved units leave the building: on hand and reserved both go down."""
    _positive(quantity)
    if conn.execute(_SHIP, dict(p=product_id, w=warehouse_id, q=quantity, at=move.at)).rowcount != 1:
        raise Conflict("not_reserved", "only reserved units can be shipped", "quantity")
    _record(conn, SHIPMENT, product_id, warehouse_id, -quantity, -quantity, move)


def set_safety(conn: Connection, product_id: int, warehouse_id: int, safety: int, at: datetime) -> int:
    """Sets the safety stock; the change (new - old, negative when less is kept back now)."""
    if safety < 0:
        raise ValidationFailed("invalid_quantity", "safety stock is zero or more", "safety")
    ensure_levels(conn, [(product_id, warehouse_id)], at)
    before = conn.execute(select(stock_levels.c.safety).where(_level).with_for_update(),
                          dict(p=product_id, w=warehouse_id)).scalar()
    conn.execute(update(stock_levels).where(_level).values(safety=safety, updated_at=at),
                 dict(p=product_id, w=warehouse_id))
    return safety - int(before or 0)


def available(conn: Connection, product_id: int, warehouse_id: int) -> int:
    row = conn.execute(select(stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety)
                       .where(_level), dict(p=product_id, w=warehouse_id)).scalar()
    return max(0, int(row or 0))


@dataclass(frozen=True)
class Difference:
    product_id: int
    warehouse_id: int
    on_hand: int
    on_hand_from_ledger: int
    reserved: int
    reserved_from_ledger: int


def verify(conn: Connection) -> list[Difference]:
    """Every balance against the sum of its movements, in one query; an empty list means all agree."""
    sums = (select(stock_movements.c.product_id, stock_movements.c.warehouse_id,
                   func.sum(stock_movements.c.on_hand_delta).label("on_hand"),
                   func.sum(stock_movements.c.reserved_delta).label("reserved"))
            .group_by(stock_movements.c.product_id, stock_movements.c.warehouse_id).subquery())
    rows: list[Any] = list(conn.execute(
        select(stock_levels.c.product_id, stock_levels.c.warehouse_id, stock_levels.c.on_hand,
               stock_levels.c.reserved, func.coalesce(sums.c.on_hand, 0).label("ledger_on_hand"),
               func.coalesce(sums.c.reserved, 0).label("ledger_reserved"))
        .select_from(stock_levels.outerjoin(sums, and_(sums.c.product_id == stock_levels.c.product_id,
                                                       sums.c.warehouse_id == stock_levels.c.warehouse_id)))
        .where((stock_levels.c.on_hand != func.coalesce(sums.c.on_hand, 0))
               | (stock_levels.c.reserved != func.coalesce(sums.c.reserved, 0)))
    ).all())
    orphans = conn.execute(
        select(sums.c.product_id, sums.c.warehouse_id, sums.c.on_hand, sums.c.reserved)
        .select_from(sums.outerjoin(stock_levels, and_(sums.c.product_id == stock_levels.c.product_id,
                                                       sums.c.warehouse_id == stock_levels.c.warehouse_id)))
        .where(stock_levels.c.product_id.is_(None))).all()
    found = [Difference(r.product_id, r.warehouse_id, r.on_hand, int(r.ledger_on_hand), r.reserved,
                        int(r.ledger_reserved)) for r in rows]
    found += [Difference(r.product_id, r.warehouse_id, 0, int(r.on_hand), 0, int(r.reserved)) for r in orphans]
    return found
