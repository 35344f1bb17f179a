from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from conveyor.platform.db import JsonText, UtcDateTime, metadata

ID = BigInteger().with_variant(Integer, "sqlite")

orders = Table(
    "orders",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("channel_id", Integer, ForeignKey("channels.id"), nullable=False),
    Column("external_id", String(100), nullable=False,
           doc="the channel's own id; generated for API orders that send none"),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("held_from", String(20), nullable=True),
    Column("stage_entered_at", UtcDateTime, nullable=False),
    Column("stage_due_at", UtcDateTime, nullable=True, doc="SLA due time of the current stage"),
    Column("priority", Integer, nullable=False, default=0, doc="0 normal, higher is more urgent"),
    Column("requested_delivery_date", Date, nullable=True),
    Column("bill_to", JsonText, nullable=False),
    Column("ship_to", JsonText, nullable=False),
    Column("notes", Text, nullable=True),
    Column("tags", JsonText, nullable=False),
    Column("subtotal_minor", BigInteger, nullable=False),
    Column("discount_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("shipping_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("fingerprint", String(32), nullable=True,
           doc="hash of customer, ship-to and lines: finds probable duplicates sent under different ids"),
    Column("shipping_service", String(40), nullable=True,
           doc="the shipping service asked for, e.g. express, cold-chain (review checks cold-chain items)"),
    Column("address_key", String(32), nullable=True,
           doc="hash of the normalised ship-to: orders to one address (review: velocity, known addresses)"),
    Column("created_by", String(300), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("channel_id", "external_id", name="uq_orders_channel_external"),
    Index("ix_orders_created", "created_at", "id"),
    Index("ix_orders_stage_created", "stage", "created_at", "id"),
    Index("ix_orders_customer_created", "customer_id", "created_at", "id"),
    Index("ix_orders_stage_due", "stage", "stage_due_at"),
    Index("ix_orders_external", "external_id"),
    Index("ix_orders_fingerprint", "fingerprint", "created_at"),
    Index("ix_orders_channel_created", "channel_id", "created_at"),
    Index("ix_orders_address_created", "address_key", "created_at"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=True,
           doc="null while the line's item is not mapped to a catalog product (the order is held)"),
    Column("sku", String(64), nullable=False, doc="the SKU, or for an unmapped line the item as the channel named it"),
    Column("name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("discount_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    UniqueConstraint("order_id", "line_no", name="uq_order_lines_order_line"),
)

order_timeline = Table(
    "order_timeline",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(300), nullable=False, doc="user:<email> or system:<component>"),
    Column("kind", String(30), nullable=False, doc="created, transition, decision, note, sla"),
    Column("action", String(20), nullable=True),
    Column("from_stage", String(20), nullable=True),
    Column("to_stage", String(20), nullable=True),
    Column("reason", Text, nullable=True),
    Column("data", JsonText, nullable=True),
    Index("ix_order_timeline_order", "order_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("principal", String(300), primary_key=True, doc="keys are scoped to the caller"),
    Column("request_hash", String(64), nullable=False),
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

stage_definitions = Table(
    "stage_definitions",
    metadata,
    Column("stage", String(20), primary_key=True),
    Column("label", String(60), nullable=False),
    Column("owner_role", String(30), nullable=False),
    Column("sla_minutes", Integer, nullable=True, doc="business minutes; null = no SLA"),
    Column("description", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(300), nullable=False),
)

business_calendar = Table(
    "business_calendar",
    metadata,
    Column("id", Integer, primary_key=True, doc="a single row, id 1"),
    Column("timezone", String(64), nullable=False),
    Column("working_days", String(20), nullable=False, doc="comma-separated ISO weekday numbers 1-7"),
    Column("opens", String(5), nullable=False, doc="HH:MM local"),
    Column("closes", String(5), nullable=False, doc="HH:MM local; 00:00 = midnight"),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(300), nullable=False),
)

holidays = Table(
    "holidays",
    metadata,
    Column("day", Date, primary_key=True),
    Column("name", String(100), nullable=False),
)
