from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, false

from conveyor.platform.db import JsonText, UtcDateTime, metadata

channels = Table(
    "channels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True, doc="used in URLs and the API, e.g. 'webshop'"),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False,
           doc="api, webshop, shopify, woocommerce, amazon, edi_x12, edifact, csv, phone"),
    Column("default_currency", String(3), nullable=False, default="EUR"),
    Column("shortage_policy", String(10), nullable=True,
           doc="hold, backorder or reject when stock is short; customer overrides channel; default hold"),
    Column("reserve_before_review", Boolean, nullable=False, default=False, server_default=false(),
           doc="reserve stock at intake even for orders review holds (e.g. flash sales); else held orders wait"),
    Column("webhook_secret", String(200), nullable=True,
           doc="Shopify/WooCommerce webhook signing secret; never shown back, only whether it is set"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

trading_partners = Table(
    "trading_partners",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", Integer, ForeignKey("channels.id"), nullable=False),
    Column("partner_id", String(80), nullable=False,
           doc="how documents name the partner: 'ISA05:ISA06' for X12 (e.g. 'ZZ:ACME'), the buyer's GLN for EDIFACT"),
    Column("name", String(200), nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, doc="whose orders these are"),
    Column("our_id", String(80), nullable=True, doc="the id we answer as, when it is not the receiver they sent to"),
    Column("documents", JsonText, nullable=False, doc="documents the partner expects back, e.g. ['997', '855']"),
    Column("units", JsonText, nullable=False, doc="their units of measure in eaches, e.g. {'CS': 12}"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("channel_id", "partner_id", name="uq_trading_partners_channel_partner"),
)

partner_items = Table(
    "partner_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", Integer, ForeignKey("trading_partners.id", ondelete="CASCADE"), nullable=False),
    Column("buyer_item", String(80), nullable=False, doc="the partner's part number or GTIN as they send it"),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    UniqueConstraint("partner_id", "buyer_item", name="uq_partner_items_partner_item"),
)

channel_captures = Table(
    "channel_captures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", Integer, ForeignKey("channels.id"), nullable=False),
    Column("source", String(300), nullable=False, doc="file name, or 'webhook'"),
    Column("format", String(20), nullable=False),
    Column("actor", String(300), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("orders_created", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("ignored", Integer, nullable=False, default=0),
    Column("problems", JsonText, nullable=False, doc="the first rejections: [{where, reason}]"),
    Index("ix_channel_captures_channel_received", "channel_id", "received_at"),
)

channel_acks = Table(
    "channel_acks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", Integer, ForeignKey("channels.id"), nullable=False),
    Column("capture_id", Integer, ForeignKey("channel_captures.id", ondelete="CASCADE"), nullable=True),
    Column("kind", String(10), nullable=False, doc="997, 855, CONTRL, ORDRSP"),
    Column("partner", String(80), nullable=False, doc="who it is addressed to"),
    Column("control_number", String(20), nullable=False),
    Column("reply_to", String(300), nullable=True, doc="the control key or order number it answers"),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_channel_acks_channel_created", "channel_id", "created_at"),
)

control_numbers = Table(
    "control_numbers",
    metadata,
    Column("channel_id", Integer, ForeignKey("channels.id"), primary_key=True),
    Column("standard", String(10), primary_key=True, doc="x12 or edifact"),
    Column("last", Integer, nullable=False, doc="the last interchange control number we sent"),
)
