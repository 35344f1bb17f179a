"""Product use cases: create and change a product, with unique SKUs and GTINs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from conveyor.catalog.domain import check_product, gtin_equivalents
from conveyor.catalog.schemas import ProductIn, ProductPatch
from conveyor.catalog.tables import products
from conveyor.kernel.errors import Conflict, NotFound


def create_product(conn: Connection, data: ProductIn, *, at: datetime) -> int:
    clean = check_product(data.model_dump())
    _refuse_duplicates(conn, clean, product_id=None)
    try:
        return int(conn.execute(insert(products).values(**clean, created_at=at, updated_at=at)
                                .returning(products.c.id)).scalar_one())
    except IntegrityError as exc:
        raise _conflict(exc, clean) from None


def update_product(conn: Connection, product_id: int, patch: ProductPatch, *, at: datetime) -> None:
    query = select(products).where(products.c.id == product_id).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise product_not_found(product_id)
    clean = check_product({**row, **patch.model_dump(exclude_unset=True)})
    _refuse_duplicates(conn, clean, product_id=product_id)
    try:
        conn.execute(update(products).where(products.c.id == product_id).values(**clean, updated_at=at))
    except IntegrityError as exc:
        raise _conflict(exc, clean) from None


def product_not_found(key: int | str, field: str = "id") -> NotFound:
    return NotFound("product_not_found", f"there is no product {key}", field)


def _refuse_duplicates(conn: Connection, clean: dict[str, Any], *, product_id: int | None) -> None:
    def other(condition: Any) -> Any:
        query = select(products.c.id, products.c.sku).where(condition)
        if product_id is not None:
            query = query.where(products.c.id != product_id)
        return conn.execute(query.limit(1)).first()

    if clean["sku"] and (hit := other(products.c.sku == clean["sku"])):
        raise Conflict("sku_taken", f"SKU {clean['sku']} is already used by product {hit.id}", "sku")
    if clean["gtin"] and (hit := other(products.c.gtin.in_(gtin_equivalents(clean["gtin"])))):
        raise Conflict("gtin_taken", f"GTIN {clean['gtin']} is already used by SKU {hit.sku}", "gtin")


def _conflict(exc: IntegrityError, clean: dict[str, Any]) -> Conflict:
    """A concurrent writer won the race between our check and our write (PostgreSQL)."""
    if "gtin" in str(exc.orig).lower():
        return Conflict("gtin_taken", f"GTIN {clean['gtin']} is already used", "gtin")
    return Conflict("sku_taken", f"SKU {clean['sku']} is already used", "sku")
