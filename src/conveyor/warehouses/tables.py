from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table

from conveyor.platform.db import UtcDateTime, metadata

warehouses = Table(
    "warehouses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("line1", String(200), nullable=False),
    Column("line2", String(200), nullable=True),
    Column("city", String(100), nullable=False),
    Column("region", String(100), nullable=True),
    Column("postal_code", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("priority", Integer, nullable=False, default=100, doc="lower ships first when all else is equal"),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
