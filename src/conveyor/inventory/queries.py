"""The read side of stock: the stock list (one query per page, keyset on the primary key, searched through
the matching products), one SKU in every warehouse with its latest movements, and the ledger check with SKUs
and codes. bench/availability.py times them at 100k SKUs x 10 warehouses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, case, func, literal, or_, select, tuple_, union_all
from sqlalchemy.engine import Connection

from conveyor.catalog.queries import text_match
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
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, clamp_limit
from conveyor.warehouses.tables import warehouses

MOVEMENTS_SHOWN = 50
NEAR_PRODUCTS = 2000  # a search on PostgreSQL first looks among this many products from the cursor
_LAST_ID = 2**31 - 1  # product ids are 32-bit integers
# For the rest of a search's transaction (SET LOCAL; see list_stock).
_SHORT_SEARCH_SETTINGS = select(func.set_config("plan_cache_mode", "force_custom_plan", True),
                                func.set_config("jit", "off", True))
_SEARCH_SETTINGS = _SHORT_SEARCH_SETTINGS.add_columns(func.set_config("enable_seqscan", "off", True))


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
    """Stock per SKU and warehouse in (product id, warehouse id) order, one statement per page.

    The page's balances are chosen from stock_levels alone (keyset on the primary key, or on
    ix_stock_levels_warehouse (warehouse_id, product_id) with a warehouse) and only those rows are joined to
    products and warehouses, so a page deep in the list costs what the first one does. A search chooses among
    the balances of the first matching products only (`_matching_products`); on PostgreSQL it also changes
    planner settings until the caller's transaction ends (SET LOCAL, below), so call it in a read
    transaction of its own, as the routes and the CLI do."""
    limit = clamp_limit(limit)
    cursor = parse_cursor(after)
    only = warehouse_id(conn, warehouse.strip()) if warehouse and warehouse.strip() else None
    if cursor is not None and cursor[0] > _LAST_ID:
        return StockPage(items=[], next_after=None)  # nothing follows (and PostgreSQL refuses the number)

    def wanted(levels: Any) -> list[ColumnElement[bool]]:
        """The conditions on a balance (of stock_levels or an alias of it) other than the search."""
        found: list[ColumnElement[bool]] = []
        if only is not None:
            found.append(levels.c.warehouse_id == only)
            if cursor is not None:
                # (product, warehouse) > cursor with the warehouse fixed: a plain range on the index's 2nd column.
                found.append(levels.c.product_id >= cursor[0] if only > cursor[1] else levels.c.product_id > cursor[0])
        elif cursor is not None:
            found.append(tuple_(levels.c.product_id, levels.c.warehouse_id) > tuple_(*cursor))
        if short_only:
            found.append(levels.c.on_hand - levels.c.reserved - levels.c.safety <= 0)
        return found

    chosen = (select(stock_levels.c.product_id, stock_levels.c.warehouse_id, stock_levels.c.on_hand,
                     stock_levels.c.reserved, stock_levels.c.safety, stock_levels.c.incoming)
              .where(*wanted(stock_levels))
              .order_by(stock_levels.c.product_id, stock_levels.c.warehouse_id).limit(limit + 1))
    if q and q.strip():
        if conn.dialect.name == "postgresql":
            # For the rest of the caller's transaction: plans for the actual text (psycopg prepares a statement
            # that runs often, and a generic plan would take one way for every text); no JIT compilation (the
            # estimate of the `far` part is high enough to start it: 150 ms); and from three characters on, when
            # the trigram index can serve, no sequential scan of the products (the planner prices lower() and
            # LIKE far below their cost and chose to read all 100k, 28 ms, where the index takes 1).
            conn.execute(_SEARCH_SETTINGS if len(q.strip()) >= 3 else _SHORT_SEARCH_SETTINGS)
        held = stock_levels.alias("held")
        chosen = chosen.where(stock_levels.c.product_id.in_(_matching_products(
            conn.dialect.name, q.strip(), held, wanted(held), limit + 1, cursor[0] if cursor else None)))
    page = chosen.subquery("page")
    atp = page.c.on_hand - page.c.reserved - page.c.safety
    query = (select(page.c.product_id, products.c.sku, products.c.name, page.c.warehouse_id,
                    warehouses.c.code.label("warehouse"), page.c.on_hand, page.c.reserved, page.c.safety,
                    case((atp > 0, atp), else_=0).label("available"), page.c.incoming)
             .select_from(page.join(products, products.c.id == page.c.product_id)
                          .join(warehouses, warehouses.c.id == page.c.warehouse_id))
             .order_by(page.c.product_id, page.c.warehouse_id))
    rows = list(conn.execute(query))
    page_rows = rows[:limit]
    next_after = f"{page_rows[-1].product_id}:{page_rows[-1].warehouse_id}" if len(rows) > limit else None
    return StockPage(items=[_item(r) for r in page_rows], next_after=next_after)


def _matching_products(dialect: str, q: str, held: Any, conditions: list[ColumnElement[bool]], count: int,
                       from_product: int | None) -> Select[tuple[int]] | CompoundSelect[tuple[int]]:
    """The first `count` products (in id order, from `from_product`) whose SKU, name or GTIN contains `q`,
    ignoring case, and that hold a balance meeting `conditions` (on `held`, an alias of stock_levels). Each of
    them adds at least one row to the page, so the page's `count` rows come from these products only.

    SQLite: plain LIKE, which ignores ASCII case just as SQLite's lower() does (the same matches in a third of
    the time), on the products in id order until `count` match: at worst one pass over the products (not over
    the balances); SQLite has no index for "contains".

    PostgreSQL: lower(column) LIKE lower(pattern), the expressions the trigram index ix_products_search
    (pg_trgm) holds, in two parts: the next NEAR_PRODUCTS products in id order (`near`: a common text fills
    the page there at once), and only when they hold too few matches, the matches among all later products,
    found through the index and sorted (`far`, read only when needed). Left to itself the planner reads the
    products in id order whenever it expects many matches, which takes a pass over every product when the
    matches all lie late in the id order (a prefix of recent SKUs: 40 ms instead of 3 at 100k SKUs)."""
    match = text_match(dialect, q)
    start = from_product or 0

    def held_by(product_id: Any) -> ColumnElement[bool]:
        # A correlated subquery, run for one candidate at a time. (PostgreSQL makes an EXISTS a semi join, and
        # planned one as a merge join that read the balances from the first product on: 65 ms.)
        return select(literal(1)).where(held.c.product_id == product_id, *conditions).limit(1).scalar_subquery() \
            .is_not(None)

    if dialect == "sqlite":
        return (select(products.c.id).where(products.c.id >= start, match, held_by(products.c.id))
                .order_by(products.c.id).limit(count))
    split = min(start + NEAR_PRODUCTS, _LAST_ID)
    near = (select(products.c.id)
            .where(products.c.id >= start, products.c.id < split, match, held_by(products.c.id))
            .order_by(products.c.id).limit(count).cte("near").prefix_with("MATERIALIZED"))
    found_near = select(func.count()).select_from(near).scalar_subquery()
    far = select(products.c.id).where(products.c.id >= split, match).cte("far").prefix_with("MATERIALIZED")
    # Only when `near` is short (a one-time filter: `far` is not read otherwise), the later matches sorted, then
    # checked for a balance one by one until `count` have one (OFFSET 0 keeps the check above the sort; below
    # it, every match would be checked first).
    far_sorted = select(far.c.id).where(found_near < count).order_by(far.c.id).offset(0).subquery("far_sorted")
    far_held = (select(far_sorted.c.id).where(held_by(far_sorted.c.id))
                .order_by(far_sorted.c.id).limit(count).subquery("far_held"))
    return union_all(select(near.c.id), select(far_held.c.id)).order_by("id").limit(count)


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
