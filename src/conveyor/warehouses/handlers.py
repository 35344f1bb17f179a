"""Warehouse use cases: create and change a warehouse, with unique codes. Opening a closed warehouse again
publishes `warehouse.activated` (its stock may then fill waiting backorders)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from conveyor.kernel.errors import Conflict, NotFound
from conveyor.platform.outbox import publish
from conveyor.warehouses.domain import check_warehouse
from conveyor.warehouses.events import WarehouseActivated
from conveyor.warehouses.schemas import WarehouseIn, WarehousePatch
from conveyor.warehouses.tables import warehouses


def create_warehouse(conn: Connection, data: WarehouseIn, *, at: datetime) -> int:
    clean = check_warehouse(data.model_dump())
    _refuse_duplicates(conn, clean, warehouse_id=None)
    try:
        return int(conn.execute(insert(warehouses).values(**clean, created_at=at, updated_at=at)
                                .returning(warehouses.c.id)).scalar_one())
    except IntegrityError:
        raise _code_taken(clean["code"]) from None


def update_warehouse(conn: Connection, warehouse_id: int, patch: WarehousePatch, *, at: datetime) -> None:
    query = select(warehouses).where(warehouses.c.id == warehouse_id).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise warehouse_not_found(warehouse_id)
    clean = check_warehouse({**row, **patch.model_dump(exclude_unset=True)})
    _refuse_duplicates(conn, clean, warehouse_id=warehouse_id)
    try:
        conn.execute(update(warehouses).where(warehouses.c.id == warehouse_id).values(**clean, updated_at=at))
    except IntegrityError:
        raise _code_taken(clean["code"]) from None
    if clean["active"] and not row["active"]:
        publish(conn, WarehouseActivated(warehouse_id=warehouse_id, code=clean["code"]),
                key=f"warehouse:{warehouse_id}", at=at)


def warehouse_not_found(warehouse_id: int) -> NotFound:
    return NotFound("warehouse_not_found", f"there is no warehouse {warehouse_id}", "id")


def _code_taken(code: str) -> Conflict:
    return Conflict("code_taken", f"the warehouse code {code!r} is already used", "code")


def _refuse_duplicates(conn: Connection, clean: dict[str, Any], *, warehouse_id: int | None) -> None:
    query = select(warehouses.c.id).where(warehouses.c.code == clean["code"])
    if warehouse_id is not None:
        query = query.where(warehouses.c.id != warehouse_id)
    if conn.execute(query.limit(1)).first():
        raise _code_taken(clean["code"])
