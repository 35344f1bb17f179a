"""The read side of products: search with keyset pagination, and one product. One query per page."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.engine import Connection

from conveyor.catalog.handlers import product_not_found
from conveyor.catalog.schemas import ProductOut, ProductPage
from conveyor.catalog.tables import products
from conveyor.platform.pagination import DEFAULT_LIMIT, clamp_limit, contains, page_of

SEARCHED = (products.c.sku, products.c.name, products.c.gtin)


def text_match(dialect: str, q: str) -> ColumnElement[bool]:
    """Products whose SKU, name or GTIN contains `q`, ignoring case (% and _ literal).

    SQLite: plain LIKE, which ignores ASCII case as SQLite's lower() does, at a third of the cost. PostgreSQL:
    lower(column) LIKE lower(pattern), the expressions the trigram index ix_products_search (pg_trgm) holds."""
    pattern = contains(q)
    if dialect == "sqlite":
        return or_(*(column.like(pattern, escape="\\") for column in SEARCHED))
    return or_(*(func.lower(column).like(func.lower(pattern), escape="\\") for column in SEARCHED))


def list_products(conn: Connection, *, q: str | None = None, limit: int = DEFAULT_LIMIT,
                  after: int | None = None) -> ProductPage:
    limit = clamp_limit(limit)
    query = select(products).order_by(products.c.id).limit(limit + 1)
    if after is not None:
        query = query.where(products.c.id > after)
    if q and q.strip():
        query = query.where(text_match(conn.dialect.name, q.strip()))
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
