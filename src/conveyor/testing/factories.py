"""Builders of reference data for tests and demos. They write through the same tables as the product."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from conveyor.catalog.tables import products
from conveyor.channels.tables import channels
from conveyor.customers.tables import customer_addresses, customers
from conveyor.identity import service as identity
from conveyor.identity.permissions import Role
from conveyor.identity.tables import users
from conveyor.warehouses.tables import warehouses

TEST_PASSWORD = "correct-horse-battery"


@cache
def _test_password_hash() -> str:
    return identity.hash_password(TEST_PASSWORD)  # argon2 is slow on purpose: hash once per process


def add_channel(conn: Connection, *, at: datetime, code: str = "api", kind: str = "api",
                name: str | None = None, currency: str = "EUR") -> int:
    existing = conn.execute(select(channels.c.id).where(channels.c.code == code)).scalar()
    if existing:
        return int(existing)
    return int(conn.execute(insert(channels).values(
        code=code, name=name or code.title(), kind=kind, default_currency=currency, active=True,
        created_at=at, updated_at=at).returning(channels.c.id)).scalar_one())


def add_product(conn: Connection, *, at: datetime, sku: str, name: str | None = None,
                gtin: str | None = None, **flags: Any) -> int:
    return int(conn.execute(insert(products).values(
        sku=sku, name=name or f"Product {sku}", gtin=gtin, weight_g=flags.pop("weight_g", 500),
        regulated=flags.pop("regulated", False), cold_chain=flags.pop("cold_chain", False),
        hazardous=flags.pop("hazardous", False), active=flags.pop("active", True),
        created_at=at, updated_at=at, **flags).returning(products.c.id)).scalar_one())


SAMPLE_ADDRESS = {
    "name": "Anna de Vries", "company": "De Vries Bakkerij", "line1": "Prinsengracht 263",
    "city": "Amsterdam", "postal_code": "1016 GV", "country": "NL", "email": "anna@example.com",
}


def add_customer(conn: Connection, *, at: datetime, account: str, name: str | None = None,
                 credit_limit_minor: int = 500_000, currency: str = "EUR",
                 address: dict[str, Any] | None = None) -> int:
    customer_id = int(conn.execute(insert(customers).values(
        account=account, name=name or f"Customer {account}", email=f"{account.lower()}@example.com",
        credit_limit_minor=credit_limit_minor, currency=currency, credit_rating="B", payment_terms="net30",
        active=True, created_at=at, updated_at=at).returning(customers.c.id)).scalar_one())
    addr = address or SAMPLE_ADDRESS
    for kind in ("billing", "shipping"):
        conn.execute(insert(customer_addresses).values(
            customer_id=customer_id, kind=kind, is_default=True, name=addr["name"],
            company=addr.get("company"), line1=addr["line1"], line2=addr.get("line2"), city=addr["city"],
            region=addr.get("region"), postal_code=addr["postal_code"], country=addr["country"],
            phone=addr.get("phone"), email=addr.get("email")))
    return customer_id


def add_warehouse(conn: Connection, *, at: datetime, code: str, name: str | None = None,
                  city: str = "Rotterdam", country: str = "NL", postal_code: str = "3011 AA",
                  latitude: float | None = 51.92, longitude: float | None = 4.48, priority: int = 100) -> int:
    return int(conn.execute(insert(warehouses).values(
        code=code, name=name or f"Warehouse {code}", line1="Havenweg 1", city=city, postal_code=postal_code,
        country=country, latitude=latitude, longitude=longitude, priority=priority, timezone="Europe/Amsterdam",
        active=True, created_at=at, updated_at=at).returning(warehouses.c.id)).scalar_one())


def add_user(conn: Connection, *, at: datetime, role: Role | str, email: str | None = None,
             customer_id: int | None = None, channel_id: int | None = None) -> int:
    role = Role(role)
    return int(conn.execute(insert(users).values(
        email=email or f"{role.value}@test.example", name=role.label, password_hash=_test_password_hash(),
        role=role.value, customer_id=customer_id, channel_id=channel_id, active=True, created_at=at,
    ).returning(users.c.id)).scalar_one())


STOCK_PER_SKU = 1000


def add_stock(conn: Connection, *, at: datetime, product_id: int, warehouse_id: int, quantity: int,
              reference: str = "receipt:seed") -> None:
    """Receives stock through the real ledger, so balances and movements agree."""
    from conveyor.inventory.ledger import Move, receive

    receive(conn, product_id, warehouse_id, quantity, Move(actor="system:test", at=at, reference=reference))


def seed_basics(conn: Connection, *, at: datetime) -> dict[str, Any]:
    """A small world: two channels, two customers, five products with 1000 units each in one warehouse,
    one user per role (the customer user belongs to C-001, the partner user to the 'webshop' channel)."""
    api = add_channel(conn, at=at, code="api", kind="api", name="REST API")
    webshop = add_channel(conn, at=at, code="webshop", kind="webshop", name="Web shop")
    c1 = add_customer(conn, at=at, account="C-001", name="De Vries Bakkerij")
    c2 = add_customer(conn, at=at, account="C-002", name="Jansen Horeca")
    product_ids = {f"SKU-{i}": add_product(conn, at=at, sku=f"SKU-{i}", name=f"Test product {i}")
                   for i in range(1, 6)}
    wh = add_warehouse(conn, at=at, code="RTM")
    for product_id in product_ids.values():
        add_stock(conn, at=at, product_id=product_id, warehouse_id=wh, quantity=STOCK_PER_SKU)
    user_ids = {}
    for role in Role:
        user_ids[role.value] = add_user(
            conn, at=at, role=role,
            customer_id=c1 if role == Role.CUSTOMER else None,
            channel_id=webshop if role == Role.PARTNER else None)
    return {"channels": {"api": api, "webshop": webshop}, "customers": {"C-001": c1, "C-002": c2},
            "products": product_ids, "warehouse": wh, "users": user_ids}
