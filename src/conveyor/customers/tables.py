from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, func

from conveyor.platform.db import UtcDateTime, metadata

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(32), nullable=False, unique=True, doc="the account number people quote"),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=True),
    Column("phone", String(40), nullable=True),
    Column("credit_limit_minor", BigInteger, nullable=False, default=0),
    Column("currency", String(3), nullable=False, default="EUR"),
    Column("credit_rating", String(2), nullable=False, default="B", doc="A (best) to E"),
    Column("payment_terms", String(20), nullable=False, default="prepaid",
           doc="prepaid, net15, net30, net60"),
    Column("shortage_policy", String(10), nullable=True,
           doc="hold, backorder or reject when stock is short; customer overrides channel; default hold"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_customers_name", "name"),
)
# Capture finds web-shop buyers by e-mail in any case (migration 0005).
Index("ix_customers_email_lower", func.lower(customers.c.email))

customer_contacts = Table(
    "customer_contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=True),
    Column("phone", String(40), nullable=True),
    Column("role", String(60), nullable=True, doc="e.g. purchasing, accounts payable"),
)

customer_addresses = Table(
    "customer_addresses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(10), nullable=False, doc="billing or shipping"),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("name", String(200), nullable=False),
    Column("company", String(200), nullable=True),
    Column("line1", String(200), nullable=False),
    Column("line2", String(200), nullable=True),
    Column("city", String(100), nullable=False),
    Column("region", String(100), nullable=True),
    Column("postal_code", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("phone", String(40), nullable=True),
    Column("email", String(254), nullable=True),
)

customer_licences = Table(
    "customer_licences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(40), nullable=False, doc="what it allows, e.g. pharmacy, alcohol, tobacco"),
    Column("number", String(60), nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_until", Date, nullable=True, doc="inclusive; null = no end"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(300), nullable=False),
)
