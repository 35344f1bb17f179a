from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, func

from conveyor.platform.db import UtcDateTime, metadata

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("gtin", String(14), nullable=True, unique=True, doc="GTIN-8/12/13/14, check digit verified"),
    Column("weight_g", Integer, nullable=True),
    Column("length_mm", Integer, nullable=True),
    Column("width_mm", Integer, nullable=True),
    Column("height_mm", Integer, nullable=True),
    Column("regulated", Boolean, nullable=False, default=False, doc="needs a customer licence"),
    Column("cold_chain", Boolean, nullable=False, default=False, doc="needs temperature-controlled shipping"),
    Column("hazardous", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Search by part of a SKU, name or GTIN, any case: a trigram index on PostgreSQL (pg_trgm), which the product
# list (catalog.queries) and the stock list (inventory.queries.list_stock) use through the same lower(...)
# expressions. SQLite has no such index type; there
# the search reads the products (migration 0003 creates this on PostgreSQL only, and Alembic's comparison
# skips expression indexes on SQLite).
Index("ix_products_search",
      func.lower(products.c.sku).label("sku_lower"), func.lower(products.c.name).label("name_lower"),
      func.lower(products.c.gtin).label("gtin_lower"), postgresql_using="gin",
      postgresql_ops={"sku_lower": "gin_trgm_ops", "name_lower": "gin_trgm_ops", "gtin_lower": "gin_trgm_ops"},
      ).ddl_if(dialect="postgresql")
