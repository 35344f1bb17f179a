"""The read side of products: search with keyset pagination, and one product. One query per page."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from conveyor.catalog.handlers import product_not_found
from conveyor.catalog.schemas import ProductOut, ProductPage
from conveyor.catalog.tables import products
from conveyor.platform.pagination import DEFAULT_LIMIT, clamp_limit, contains, page_of


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
