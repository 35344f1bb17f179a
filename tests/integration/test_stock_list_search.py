"""The stock list's search on SQLite and PostgreSQL, against a plain Python reference: every page of every
combination of text, warehouse, shortage and page size, with products that hold no balance (or none that
qualifies), and with NEAR_PRODUCTS made small so that PostgreSQL's "near" and "far" parts both take part.
Also: a SKU's latest movements come newest first from a long history (ix_stock_movements_product)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import insert, select

from conveyor.catalog.tables import products
from conveyor.inventory import ledger, queries
from conveyor.inventory.ledger import Move
from conveyor.inventory.tables import stock_levels
from conveyor.testing.factories import add_product, add_warehouse
from conveyor.warehouses.tables import warehouses

TEXTS = ["sku-1", "SKU-2", "flour", "BLUE", "8711", "1", "zz", "50%", "a_b", "x"]


@pytest.fixture
def catalogue(container: Any, seeded: dict[str, Any]) -> dict[str, Any]:
    """~60 more products, most with balances in some of three warehouses, some short, some with none."""
    rng = random.Random(7)
    now = container.clock.now()
    with container.db.write() as conn:
        for code in ("AMS", "UTR"):
            add_warehouse(conn, at=now, code=code)
        names = ["Blue flour 1 kg", "Red FLOUR 5 kg", "Green oats", "50% off bag", "a_b sample", "axb sample",
                 "Yeast"]
        for n in range(60):
            add_product(conn, at=now, sku=f"SKU-{100 + n}" if n % 3 else f"X-{n}", name=rng.choice(names),
                        gtin=f"8711{n:09d}" if n % 4 == 0 else None)
        ids = list(conn.execute(select(products.c.id)).scalars())
        codes = dict(conn.execute(select(warehouses.c.id, warehouses.c.code)).all())
        existing = set(conn.execute(select(stock_levels.c.product_id, stock_levels.c.warehouse_id)).all())
        rows = []
        for product_id in ids:
            for warehouse_id in codes:
                if (product_id, warehouse_id) in existing or rng.random() < 0.4:
                    continue
                on_hand = rng.choice([0, 5, 20])
                rows.append(dict(product_id=product_id, warehouse_id=warehouse_id, on_hand=on_hand,
                                 reserved=on_hand if rng.random() < 0.3 else 0, safety=0, incoming=0, updated_at=now))
        conn.execute(insert(stock_levels), rows)
    return {"codes": codes}


def reference(conn: Any, q: str, warehouse: str | None, short_only: bool) -> list[tuple[int, int]]:
    found = conn.execute(
        select(stock_levels.c.product_id, stock_levels.c.warehouse_id, stock_levels.c.on_hand, stock_levels.c.reserved,
               stock_levels.c.safety, products.c.sku, products.c.name, products.c.gtin, warehouses.c.code)
        .join(products, products.c.id == stock_levels.c.product_id)
        .join(warehouses, warehouses.c.id == stock_levels.c.warehouse_id)).all()
    text = q.strip().lower()
    return sorted((r.product_id, r.warehouse_id) for r in found
                  if any(text in (value or "").lower() for value in (r.sku, r.name, r.gtin))
                  and (warehouse is None or r.code == warehouse)
                  and (not short_only or r.on_hand - r.reserved - r.safety <= 0))


def every_page(conn: Any, limit: int, **filters: Any) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    after = None
    for _ in range(200):
        page = queries.list_stock(conn, limit=limit, after=after, **filters)
        assert len(page.items) <= limit
        seen += [(i.product_id, i.warehouse_id) for i in page.items]
        if not (after := page.next_after):
            return seen
        assert len(page.items) == limit, "a page before the last one is full"
    raise AssertionError("too many pages")


@pytest.mark.parametrize("near", [3, 2000])
def test_a_search_pages_through_exactly_the_matching_balances(container, catalogue, monkeypatch, near):
    monkeypatch.setattr(queries, "NEAR_PRODUCTS", near)
    with container.db.read() as conn:
        for q in TEXTS:
            for warehouse in (None, "AMS"):
                for short_only in (False, True):
                    expected = reference(conn, q, warehouse, short_only)
                    for limit in (1, 4, 50):
                        got = every_page(conn, limit, q=q, warehouse=warehouse, short_only=short_only)
                        assert got == expected, (q, warehouse, short_only, limit)


def test_a_search_treats_percent_and_underscore_as_text(container, catalogue):
    with container.db.read() as conn:
        names = {i.name for i in queries.list_stock(conn, q="a_b", limit=200).items}
        assert names == {"a_b sample"}
        assert {i.name for i in queries.list_stock(conn, q="50%", limit=200).items} == {"50% off bag"}


def test_the_latest_movements_of_a_long_history_come_newest_first(container, seeded):
    product = seeded["products"]["SKU-1"]
    with container.db.write() as conn:
        other = add_warehouse(conn, at=container.clock.now(), code="AMS")
        for n in range(120):
            ledger.receive(conn, product, other if n % 2 else seeded["warehouse"], 1,
                           Move(actor="system:test", at=container.clock.now(), reference=f"receipt:DN-{n}"))
    with container.db.read() as conn:
        stock = queries.sku_stock(conn, "SKU-1")
    assert len(stock.movements) == queries.MOVEMENTS_SHOWN
    assert [m.reference for m in stock.movements] == [f"receipt:DN-{n}" for n in range(119, 69, -1)]
