"""The read side of products: search with keyset pagination, and one product. One query per page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from conveyor.catalog.handlers import product_not_found
from conveyor.catalog.schemas import ProductOut, ProductPage
from conveyor.catalog.tables import products

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Larger ids cannot exist, and SQLite's driver overflows on them: refuse them as input (422), not with a 500.
MAX_ID = 2**63 - 1


def contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with % and _ taken literally (escape '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page_of(rows: list[Any], limit: int) -> tuple[list[Any], int | None]:
    """Rows fetched with limit + 1: the page, and the last id on it when another page follows."""
    page = rows[:limit]
    return page, (page[-1].id if len(rows) > limit else None)


def clamp_limit(limit: int | None) -> int:
    return max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))


def list_products(conn: Connection, *, q: str | None = None, limit: int = DEFAULT_LIMIT,
                  after: int | None = None) -> ProductPage:
    limit = clamp_limit(limit)
    query = select(products).order_by(products.c.id).limit(limit + 1)
    if after is not None:
        query = query.where(products.c.id > after)
    if q and q.strip():
        pattern = contains(q.strip())
        query = query.where(or_(products.c.sku.ilike(pattern, escape="\\"),
                                products.c.name.ilike(pattern, escape="\\"),
                                products.c.gtin.ilike(pattern, escape="\\")))
    rows, next_after = page_of(list(conn.execute(query)), limit)
    return ProductPage(items=[ProductOut.model_validate(r) for r in rows], next_after=next_after)


def get_product(conn: Connection, product_id: int) -> ProductOut:
    row = conn.execute(select(products).where(products.c.id == product_id)).first()
    if row is None:
        raise product_not_found(product_id)
    return ProductOut.model_validate(row)


def get_product_by_sku(conn: Connection, sku: str) -> ProductOut:
    row = conn.execute(select(products).where(products.c.sku == sku)).first()
    if row is None:
        raise product_not_found(sku, "sku")
    return ProductOut.model_validate(row)
