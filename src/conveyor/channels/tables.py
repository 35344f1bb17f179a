from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table

from conveyor.platform.db import UtcDateTime, metadata

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
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
