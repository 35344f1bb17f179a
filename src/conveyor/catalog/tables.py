from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

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
