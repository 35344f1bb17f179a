"""Holds: stock set aside for a cart or a quote under the caller's reference, until it expires.

A hold reserves every line or nothing. Its units are ordinary reservations (kind 'hold') with an
`expires_at`; the sweeper (inventory.sweeper) returns expired ones to available stock every few seconds, so
a hold may outlive its expiry by up to one sweep interval. Ledger rows of a hold carry the reference
`hold:<reference>`. Releasing or expiring a hold publishes `stock.freed` in the same transaction, so
backorders waiting for those products fill (inventory.backorder_filler).

Lock order: reservation rows first (by id), then balances in (product id, warehouse priority) order, the
same as every other stock change, so a release, an expiry sweep and an order never wait on each other in a
cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection

from conveyor.inventory import ledger
from conveyor.inventory.allocation import warehouse_order
from conveyor.inventory.events import HOLD_EXPIRED, HOLD_RELEASED
from conveyor.inventory.freed import Freed, publish_freed
from conveyor.inventory.ledger import Move
from conveyor.inventory.tables import reservations, stock_movements
from conveyor.kernel.errors import Conflict, FieldProblem, ValidationFailed

HOLD = "hold"
ACTIVE, RELEASED, EXPIRED = "active", "released", "expired"
MAX_REFERENCE = 80  # the ledger stores "hold:<reference>" in 100 characters
MAX_TTL_SECONDS = 7 * 24 * 3600

_INSERT = insert(reservations)
_ROWS = select(reservations.c.id, reservations.c.reference, reservations.c.line_no, reservations.c.product_id,
               reservations.c.warehouse_id, reservations.c.quantity, reservations.c.status, reservations.c.expires_at,
               reservations.c.created_at, reservations.c.updated_at).where(
    reservations.c.kind == HOLD, reservations.c.reference == bindparam("reference"))
_CLOSE = update(reservations).where(reservations.c.id == bindparam("rid")).values(
    status=bindparam("status"), quantity=0, updated_at=bindparam("at"))


@dataclass(frozen=True)
class HeldUnits:
    line_no: int  # 1-based position of the line in the request
    product_id: int
    warehouse_id: int
    quantity: int  # units held now (0 once released or expired)


@dataclass(frozen=True)
class Hold:
    reference: str
    status: str  # active, released or expired
    expires_at: datetime
    created_at: datetime
    lines: list[HeldUnits]
    created: bool = False  # True only for the call that placed it


def ledger_reference(reference: str) -> str:
    return f"{HOLD}:{reference}"


def _check_reference(reference: str) -> None:
    if not reference or not reference.strip() or len(reference) > MAX_REFERENCE:
        raise ValidationFailed("invalid_reference", f"a reference has 1 to {MAX_REFERENCE} characters",
                               "reference")


def _serialise_reference(conn: Connection, reference: str) -> None:
    """Two requests placing the same reference at once: the second waits and then finds the first's hold.
    (SQLite needs nothing: BEGIN IMMEDIATE already serialises writers.)"""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                     {"k": ledger_reference(reference)})


def _to_hold(rows: list[Any], reference: str, *, created: bool = False) -> Hold:
    lines = [HeldUnits(r.line_no or 0, r.product_id, r.warehouse_id, r.quantity)
             for r in sorted(rows, key=lambda r: (r.line_no or 0, r.id))]
    return Hold(reference, rows[0].status, rows[0].expires_at, rows[0].created_at, lines, created)


def get_hold(conn: Connection, reference: str) -> Hold | None:
    """The active hold under `reference`, else the latest one (released or expired), else None."""
    rows = conn.execute(_ROWS, {"reference": reference}).all()
    if not rows:
        return None
    active = [r for r in rows if r.status == ACTIVE]
    if active:
        return _to_hold(active, reference)
    latest = max(rows, key=lambda r: r.id)
    return _to_hold([r for r in rows if r.created_at == latest.created_at and r.status == latest.status],
                    reference)


def placed_by(conn: Connection, reference: str) -> str | None:
    """Who placed the latest hold under `reference` (the actor of its reservation movement)."""
    return conn.execute(
        select(stock_movements.c.actor).where(stock_movements.c.reference == ledger_reference(reference),
                                              stock_movements.c.kind == ledger.RESERVATION)
        .order_by(stock_movements.c.id.desc()).limit(1)).scalar()


def _reserve_split(conn: Connection, product_id: int, quantity: int, warehouse_ids: list[int],
                   move: Move) -> list[tuple[int, int]]:
    """Up to `quantity` units from warehouses in priority order; (warehouse, units) taken."""
    taken: list[tuple[int, int]] = []
    remaining = quantity
    for warehouse_id in warehouse_ids:
        if remaining == 0:
            break
        take = remaining
        # The whole remainder in one statement first; then what this warehouse has, re-checked in SQL.
        for _ in range(3):
            if ledger.try_reserve(conn, product_id, warehouse_id, take, move):
                taken.append((warehouse_id, take))
                remaining -= take
                break
            take = min(remaining, ledger.available(conn, product_id, warehouse_id))
            if take == 0:
                break
    return taken


def place_hold(conn: Connection, *, sku_lines: list[tuple[int, int]], reference: str, ttl_seconds: int,
               move: Move) -> Hold:
    """Holds every line until now + ttl, or nothing (Conflict `insufficient_stock`, a problem per short line
    at `lines.N.quantity`). A reference that already has an active hold returns that hold unchanged."""
    _check_reference(reference)
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValidationFailed("invalid_ttl", f"ttl_seconds is 1 to {MAX_TTL_SECONDS}", "ttl_seconds")
    if not sku_lines:
        raise ValidationFailed("no_lines", "a hold needs at least one line", "lines")
    for index, (_, quantity) in enumerate(sku_lines):
        if quantity <= 0:
            raise ValidationFailed("invalid_quantity", "quantity must be at least 1", f"lines.{index}.quantity")
    _serialise_reference(conn, reference)
    existing = get_hold(conn, reference)
    if existing is not None and existing.status == ACTIVE:
        if existing.expires_at > move.at:
            return existing
        _close(conn, _due_rows(conn, move.at, reference), EXPIRED, replace(move, reason="hold expired"))
    move = replace(move, reference=ledger_reference(reference))
    expires_at = move.at + timedelta(seconds=ttl_seconds)
    warehouse_ids = warehouse_order(conn)
    rows: list[dict[str, Any]] = []
    short: list[FieldProblem] = []
    with conn.begin_nested():
        for index, (product_id, quantity) in sorted(enumerate(sku_lines), key=lambda e: (e[1][0], e[0])):
            taken = _reserve_split(conn, product_id, quantity, warehouse_ids, move)
            got = sum(units for _, units in taken)
            if got < quantity:
                short.append(FieldProblem("insufficient_stock", f"{quantity - got} of {quantity} units not "
                                          "available", f"lines.{index}.quantity"))
            rows += [dict(kind=HOLD, order_id=None, line_no=index + 1, reference=reference,
                          product_id=product_id, warehouse_id=warehouse_id, quantity=units, status=ACTIVE,
                          expires_at=expires_at, created_at=move.at, updated_at=move.at)
                     for warehouse_id, units in taken]
        if short:  # leaving the block with an error rolls the savepoint back: nothing is held
            short.sort(key=lambda p: int((p.field or "lines.0").split(".")[1]))
            raise Conflict("insufficient_stock", "not enough stock to hold every line; nothing was held",
                           short[0].field, short)
        conn.execute(_INSERT, rows)
    hold = get_hold(conn, reference)
    assert hold is not None
    return replace(hold, created=True)


def _lock_in_order(conn: Connection, rows: list[Any]) -> list[Any]:
    """Locks the reservation rows (by id) on PostgreSQL and re-reads them; rows another transaction closed
    meanwhile drop out. Then sorts them into balance order for the ledger."""
    if not rows:
        return []
    ids = sorted(r.id for r in rows)
    query = select(reservations.c.id, reservations.c.product_id, reservations.c.warehouse_id,
                   reservations.c.quantity, reservations.c.reference).where(
        reservations.c.id.in_(ids), reservations.c.status == ACTIVE).order_by(reservations.c.id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    locked = conn.execute(query).all()
    rank = {w: i for i, w in enumerate(warehouse_order(conn))}
    return sorted(locked, key=lambda r: (r.product_id, rank.get(r.warehouse_id, len(rank)), r.warehouse_id, r.id))


def _close(conn: Connection, rows: list[Any], status: str, move: Move) -> tuple[set[str], int]:
    """Returns the rows' units to available stock and marks them `status`; the references closed and the
    units returned (rows another transaction closed meanwhile are skipped). Every way a hold ends comes
    through here, so here it publishes `stock.freed` for the units returned, for waiting backorders."""
    closed: set[str] = set()
    freed = Freed()
    for row in _lock_in_order(conn, rows):
        if row.quantity:
            ledger.release(conn, row.product_id, row.warehouse_id, row.quantity,
                           replace(move, reference=ledger_reference(row.reference)))
            freed.add(row.product_id, row.warehouse_id, int(row.quantity))
        conn.execute(_CLOSE, {"rid": row.id, "status": status, "at": move.at})
        closed.add(row.reference)
    publish_freed(conn, freed, reason=HOLD_EXPIRED if status == EXPIRED else HOLD_RELEASED, at=move.at)
    return closed, freed.total()


def release_hold(conn: Connection, hold_reference: str, move: Move) -> int:
    """Releases the active hold under the reference; the number of units returned (0: none was active)."""
    rows = [r for r in conn.execute(_ROWS, {"reference": hold_reference}).all() if r.status == ACTIVE]
    return _close(conn, rows, RELEASED, replace(move, reason=move.reason or "hold released"))[1]


_DUE = select(reservations.c.id, reservations.c.reference).where(
    reservations.c.status == ACTIVE, reservations.c.kind == HOLD, reservations.c.expires_at <= bindparam("now"))


def _due_rows(conn: Connection, now: datetime, reference: str | None = None) -> list[Any]:
    query = _DUE if reference is None else _DUE.where(reservations.c.reference == reference)
    return list(conn.execute(query, {"now": now}).all())


def holds_due(conn: Connection, now: datetime) -> int:
    """How many hold rows are past their expiry (a cheap read before the sweeper takes the write lock)."""
    return int(conn.execute(select(func.count()).select_from(reservations).where(
        reservations.c.status == ACTIVE, reservations.c.kind == HOLD,
        reservations.c.expires_at <= now)).scalar_one())


def expire_holds(conn: Connection, now: datetime, move: Move) -> int:
    """Releases every active hold whose expiry has passed, in one sorted pass; the number of holds expired."""
    closed, _ = _close(conn, _due_rows(conn, now), EXPIRED, replace(move, reason=move.reason or "hold expired"))
    return len(closed)
