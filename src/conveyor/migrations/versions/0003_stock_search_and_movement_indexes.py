"""inventory: indexes for availability at 100k SKUs x 10 warehouses (bench/availability.py)

- ix_stock_movements_product (product_id, id): a SKU's latest 50 movements without reading its whole history;
- ix_products_search, PostgreSQL only: a trigram (pg_trgm) GIN index on lower(sku), lower(name), lower(gtin)
  for the stock list's "contains" search. pg_trgm ships with PostgreSQL (contrib) and is a trusted extension:
  the database owner may create it. SQLite has no such index; its search reads the products table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 00:30:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.create_index('ix_stock_movements_product', ['product_id', 'id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute('CREATE INDEX ix_products_search ON products USING gin '
                   '(lower(sku) gin_trgm_ops, lower(name) gin_trgm_ops, lower(gtin) gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_products_search')  # pg_trgm stays: other schemas may use it

    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_movements_product')
