"""The read side of stock: the stock list (one query per page, keyset on the primary key), one SKU in
every warehouse with its latest movements, and the ledger check with SKUs and codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, or_, select, tuple_
from sqlalchemy.engine import Connection

from conveyor.catalog.tables import products
from conveyor.inventory import ledger
from conveyor.inventory.schemas import (
    Movement,
    SkuStock,
    StockDifference,
    StockItem,
    StockPage,
    StockTotals,
)
from conveyor.inventory.tables import stock_levels, stock_movements
from conveyor.kernel.errors import NotFound, ValidationFailed
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, clamp_limit, contains
from conveyor.warehouses.tables import warehouses

MOVEMENTS_SHOWN = 50
_ATP = stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety
_COLUMNS = (stock_levels.c.product_id, products.c.sku, products.c.name, stock_levels.c.warehouse_id,
            warehouses.c.code.label("warehouse"), stock_levels.c.on_hand, stock_levels.c.reserved,
            stock_levels.c.safety, case((_ATP > 0, _ATP), else_=0).label("available"), stock_levels.c.incoming)


def parse_cursor(after: str | None) -> tuple[int, int] | None:
    """'product_id:warehouse_id' -> (product_id, warehouse_id); refused (422) when malformed."""
    if not after:
        return None
    product, _, warehouse = after.partition(":")
    if product.isdigit() and warehouse.isdigit() and int(product) <= MAX_ID and int(warehouse) <= MAX_ID:
        return int(product), int(warehouse)
    raise ValidationFailed("invalid_cursor", "after is the `next_after` of the previous page, "
                                             "'<product id>:<warehouse id>'", "after")


def warehouse_id(conn: Connection, code: str, field: str = "warehouse") -> int:
    found = conn.execute(select(warehouses.c.id).where(warehouses.c.code == code)).scalar()
    if found is None:
        raise ValidationFailed("unknown_warehouse", f"no warehouse has the code {code!r}", field)
    return int(found)


def warehouse_codes(conn: Connection) -> list[str]:
    return list(conn.execute(select(warehouses.c.code).order_by(warehouses.c.code)).scalars())


def list_stock(conn: Connection, *, q: str | None = None, warehouse: str | None = None,
               short_only: bool = False, limit: int = DEFAULT_LIMIT, after: str | None = None) -> StockPage:
    """Stock per SKU and warehouse in (product id, warehouse id) order. Without a warehouse the primary key
    drives the scan; with one, ix_stock_levels_warehouse (warehouse_id, product_id) does."""
    limit = clamp_limit(limit)
    cursor = parse_cursor(after)
    query = (select(*_COLUMNS)
             .select_from(stock_levels.join(products, products.c.id == stock_levels.c.product_id)
                          .join(warehouses, warehouses.c.id == stock_levels.c.warehouse_id))
             .order_by(stock_levels.c.product_id, stock_levels.c.warehouse_id).limit(limit + 1))
    if warehouse and warehouse.strip():
        only = warehouse_id(conn, warehouse.strip())
        query = query.where(stock_levels.c.warehouse_id == only)
        if cursor is not None:
            # (product, warehouse) > cursor with the warehouse fixed: a plain range on the index's 2nd column.
            query = query.where(stock_levels.c.product_id >= cursor[0] if only > cursor[1]
                                else stock_levels.c.product_id > cursor[0])
    elif cursor is not None:
        query = query.where(tuple_(stock_levels.c.product_id, stock_levels.c.warehouse_id) > tuple_(*cursor))
    if q and q.strip():
        pattern = contains(q.strip())
        query = query.where(or_(products.c.sku.ilike(pattern, escape="\\"),
                                products.c.name.ilike(pattern, escape="\\"),
                                products.c.gtin.ilike(pattern, escape="\\")))
    if short_only:
        query = query.where(_ATP <= 0)
    rows = list(conn.execute(query))
    page = rows[:limit]
    next_after = f"{page[-1].product_id}:{page[-1].warehouse_id}" if len(rows) > limit else None
    return StockPage(items=[_item(r) for r in page], next_after=next_after)


def _item(row: Any) -> StockItem:
    return StockItem(product_id=row.product_id, sku=row.sku, name=row.name, warehouse_id=row.warehouse_id,
                     warehouse=row.warehouse, on_hand=row.on_hand or 0, reserved=row.reserved or 0,
                     safety=row.safety or 0, available=row.available or 0, incoming=row.incoming or 0)


def sku_stock(conn: Connection, sku: str) -> SkuStock:
    """One product in every active warehouse (and any other that holds a balance), totals, movements."""
    product = conn.execute(select(products.c.id, products.c.sku, products.c.name)
                           .where(products.c.sku == sku)).first()
    if product is None:
        raise NotFound("product_not_found", f"no product has the SKU {sku!r}", "sku")
    level = stock_levels.alias("level")
    atp = level.c.on_hand - level.c.reserved - level.c.safety
    rows = conn.execute(
        select(warehouses.c.id.label("warehouse_id"), warehouses.c.code.label("warehouse"), level.c.on_hand,
               level.c.reserved, level.c.safety, case((atp > 0, atp), else_=0).label("available"),
               level.c.incoming)
        .select_from(warehouses.outerjoin(level, and_(level.c.warehouse_id == warehouses.c.id,
                                                      level.c.product_id == product.id)))
        .where(or_(warehouses.c.active.is_(True), level.c.product_id.is_not(None)))
        .order_by(warehouses.c.priority, warehouses.c.code)).all()
    items = [StockItem(product_id=product.id, sku=product.sku, name=product.name, warehouse_id=r.warehouse_id,
                       warehouse=r.warehouse, on_hand=r.on_hand or 0, reserved=r.reserved or 0,
                       safety=r.safety or 0, available=r.available or 0, incoming=r.incoming or 0) for r in rows]
    totals = StockTotals(**{name: sum(getattr(i, name) for i in items)
                            for name in ("on_hand", "reserved", "safety", "available", "incoming")})
    moves = conn.execute(
        select(stock_movements.c.id, stock_movements.c.at, warehouses.c.code.label("warehouse"),
               stock_movements.c.kind, stock_movements.c.on_hand_delta, stock_movements.c.reserved_delta,
               stock_movements.c.reference, stock_movements.c.reason, stock_movements.c.actor)
        .select_from(stock_movements.join(warehouses, warehouses.c.id == stock_movements.c.warehouse_id))
        .where(stock_movements.c.product_id == product.id)
        .order_by(stock_movements.c.id.desc()).limit(MOVEMENTS_SHOWN)).all()
    return SkuStock(product_id=product.id, sku=product.sku, name=product.name, warehouses=items, totals=totals,
                    movements=[Movement.model_validate(m, from_attributes=True) for m in moves])


def differences(conn: Connection) -> list[StockDifference]:
    """The ledger check (balances against the sums of their movements), with SKUs and warehouse codes."""
    found = ledger.verify(conn)
    if not found:
        return []
    skus = {r.id: r.sku for r in conn.execute(
        select(products.c.id, products.c.sku).where(products.c.id.in_({d.product_id for d in found})))}
    codes = {r.id: r.code for r in conn.execute(
        select(warehouses.c.id, warehouses.c.code).where(warehouses.c.id.in_({d.warehouse_id for d in found})))}
    return [StockDifference(sku=skus.get(d.product_id, str(d.product_id)),
                            warehouse=codes.get(d.warehouse_id, str(d.warehouse_id)), on_hand=d.on_hand,
                            on_hand_from_ledger=d.on_hand_from_ledger, reserved=d.reserved,
                            reserved_from_ledger=d.reserved_from_ledger) for d in found]
