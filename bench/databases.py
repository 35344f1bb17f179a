"""Throwaway databases for the benchmarks: a temp SQLite file, or a fresh database on a PostgreSQL server that is
dropped afterwards (WITH (FORCE), so leftover connections do not keep it)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, text


@dataclass
class Target:
    url: str
    cleanup: Callable[[], None]


def make_database(arg: str, prefix: str) -> Target:
    """`arg` is 'sqlite' (or empty) or a PostgreSQL server URL; `prefix` names the file or database."""
    if arg in ("sqlite", ""):
        folder = tempfile.mkdtemp(prefix=f"{prefix}-")
        return Target(f"sqlite:///{folder}/{prefix}.db", lambda: shutil.rmtree(folder, ignore_errors=True))
    name = f"conveyor_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(arg.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return Target(arg.rsplit("/", 1)[0] + f"/{name}", drop)


def stock_products(conn: Any, products: list[tuple[str, str]], *, warehouse_id: int, stock: int, at: Any) -> None:
    """Adds (sku, name) products, each with `stock` units in the warehouse booked as one ledger receipt, so
    `conveyor stock verify` agrees with the balances."""
    from sqlalchemy import insert, select

    from conveyor.catalog.tables import products as table
    from conveyor.inventory.tables import stock_levels, stock_movements

    conn.execute(insert(table), [dict(sku=sku, name=name, weight_g=100, regulated=False, cold_chain=False,
                                      hazardous=False, active=True, created_at=at, updated_at=at)
                                 for sku, name in products])
    ids = [r.id for r in conn.execute(select(table.c.id).where(table.c.sku.in_([sku for sku, _ in products])))]
    conn.execute(insert(stock_levels), [dict(product_id=p, warehouse_id=warehouse_id, on_hand=stock, reserved=0,
                                             safety=0, incoming=0, updated_at=at) for p in ids])
    conn.execute(insert(stock_movements), [dict(product_id=p, warehouse_id=warehouse_id, kind="receipt",
                                                on_hand_delta=stock, reserved_delta=0, reference="receipt:bench",
                                                reason=None, actor="system:bench", at=at) for p in ids])
