"""The read side of warehouses: search with keyset pagination, and one warehouse. One query per page."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from conveyor.platform.pagination import DEFAULT_LIMIT, clamp_limit, contains, page_of
from conveyor.warehouses.handlers import warehouse_not_found
from conveyor.warehouses.schemas import WarehouseOut, WarehousePage
from conveyor.warehouses.tables import warehouses


def list_warehouses(conn: Connection, *, q: str | None = None, limit: int = DEFAULT_LIMIT,
                    after: int | None = None) -> WarehousePage:
    limit = clamp_limit(limit)
    query = select(warehouses).order_by(warehouses.c.id).limit(limit + 1)
    if after is not None:
        query = query.where(warehouses.c.id > after)
    if q and q.strip():
        pattern = contains(q.strip())
        query = query.where(or_(warehouses.c.code.ilike(pattern, escape="\\"),
                                warehouses.c.name.ilike(pattern, escape="\\")))
    rows, next_after = page_of(list(conn.execute(query)), limit)
    return WarehousePage(items=[WarehouseOut.model_validate(r) for r in rows], next_after=next_after)


def get_warehouse(conn: Connection, warehouse_id: int) -> WarehouseOut:
    row = conn.execute(select(warehouses).where(warehouses.c.id == warehouse_id)).first()
    if row is None:
        raise warehouse_not_found(warehouse_id)
    return WarehouseOut.model_validate(row)
