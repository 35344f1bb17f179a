from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from conveyor.platform.db import UtcDateTime, metadata

ID = BigInteger().with_variant(Integer, "sqlite")

# Maintained balances: always equal to the sums of their movements (`conveyor stock verify` checks).
stock_levels = Table(
    "stock_levels",
    metadata,
    Column("product_id", Integer, ForeignKey("products.id"), primary_key=True),
    Column("warehouse_id", Integer, ForeignKey("warehouses.id"), primary_key=True),
    Column("on_hand", Integer, nullable=False, default=0),
    Column("reserved", Integer, nullable=False, default=0),
    Column("safety", Integer, nullable=False, default=0, doc="safety stock: never promised"),
    Column("incoming", Integer, nullable=False, default=0, doc="announced by advance ship notices"),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    CheckConstraint("safety >= 0", name="safety_not_negative"),
    CheckConstraint("incoming >= 0", name="incoming_not_negative"),
    Index("ix_stock_levels_warehouse", "warehouse_id", "product_id"),
)

# The append-only ledger. Every change of on_hand or reserved is one row here, in the same transaction.
stock_movements = Table(
    "stock_movements",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("warehouse_id", Integer, ForeignKey("warehouses.id"), nullable=False),
    Column("kind", String(20), nullable=False,
           doc="receipt, adjustment, count, transfer_out, transfer_in, reservation, release, shipment, return"),
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    Column("reference", String(100), nullable=True, doc="order:<id>, hold:<id>, receipt:<ref>, count:<ref>"),
    Column("reason", Text, nullable=True),
    Column("actor", String(300), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_stock_movements_item", "product_id", "warehouse_id", "id"),
    Index("ix_stock_movements_reference", "reference"),
    # A SKU's latest movements (`conveyor stock show`, /stock/{sku}) without reading its whole history.
    Index("ix_stock_movements_product", "product_id", "id"),
)

# What is held, for whom: an order line's allocation, or a hold for a cart or quote with an expiry.
reservations = Table(
    "reservations",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False, doc="order or hold"),
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=True),
    Column("line_no", Integer, nullable=True),
    Column("reference", String(100), nullable=True, doc="the caller's id of a hold (cart, quote)"),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("warehouse_id", Integer, ForeignKey("warehouses.id"), nullable=False),
    Column("quantity", Integer, nullable=False, doc="units still held"),
    Column("status", String(10), nullable=False, doc="active, released, shipped, expired"),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    Index("ix_reservations_order", "order_id"),
    Index("ix_reservations_active_expiry", "status", "expires_at"),
)

# A line's quantity that could not be reserved, waiting for stock (shortage policy "backorder").
backorders = Table(
    "backorders",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("quantity", Integer, nullable=False, doc="units still missing"),
    Column("priority", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("filled_at", UtcDateTime, nullable=True),
    Index("ix_backorders_open", "product_id", "filled_at", "priority", "created_at"),
)
