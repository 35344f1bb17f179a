"""Booking stock changes that come from outside (API, screens, CSV, CLI), and advance ship notices.

SKUs and warehouse codes are resolved here (in bulk for a CSV file), then every change goes through the
ledger. An advance ship notice (ASN) only raises `incoming` and leaves a zero-quantity "asn" movement
as its record; a later receipt with the same reference books the goods and lowers `incoming` by what
arrived, never below 0, in one conditional UPDATE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, select, update
from sqlalchemy.engine import Connection

from conveyor.catalog.tables import products
from conveyor.inventory import ledger
from conveyor.inventory.events import ADJUSTMENT, COUNT, SAFETY_LOWERED, TRANSFER
from conveyor.inventory.freed import Freed, publish_freed
from conveyor.inventory.ledger import Move
from conveyor.inventory.receiving import receive_and_publish
from conveyor.inventory.schemas import AdjustmentIn, CountIn, ReceiptIn, SafetyIn, TransferIn
from conveyor.inventory.tables import stock_levels, stock_movements
from conveyor.kernel.errors import ValidationFailed
from conveyor.platform.uow import UnitOfWork
from conveyor.warehouses.tables import warehouses

ASN = "asn"
LOOKUP_CHUNK = 500

StockCommand = ReceiptIn | AdjustmentIn | CountIn | TransferIn | SafetyIn


def unknown_sku(sku: str, field: str = "sku") -> ValidationFailed:
    return ValidationFailed("unknown_sku", f"no product has the SKU {sku!r}", field)


def unknown_warehouse(code: str, field: str = "warehouse") -> ValidationFailed:
    return ValidationFailed("unknown_warehouse", f"no warehouse has the code {code!r}", field)


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start:start + LOOKUP_CHUNK]


@dataclass
class Ids:
    """SKU -> product id and warehouse code -> id, looked up once for a batch of commands."""

    products: dict[str, int] = field(default_factory=dict)
    warehouses: dict[str, int] = field(default_factory=dict)

    @classmethod
    def lookup(cls, conn: Connection, skus: Iterable[str], codes: Iterable[str]) -> Ids:
        ids = cls()
        for chunk in _chunks(sorted(set(skus))):
            ids.products.update((r.sku, r.id) for r in conn.execute(
                select(products.c.sku, products.c.id).where(products.c.sku.in_(chunk))))
        for chunk in _chunks(sorted(set(codes))):
            ids.warehouses.update((r.code, r.id) for r in conn.execute(
                select(warehouses.c.code, warehouses.c.id).where(warehouses.c.code.in_(chunk))))
        return ids

    @classmethod
    def of(cls, conn: Connection, commands: Iterable[StockCommand]) -> Ids:
        commands = list(commands)
        return cls.lookup(conn, [c.sku for c in commands], [code for c in commands for code in codes_of(c)])

    def product(self, sku: str, field: str = "sku") -> int:
        if sku not in self.products:
            raise unknown_sku(sku, field)
        return self.products[sku]

    def warehouse(self, code: str, field: str = "warehouse") -> int:
        if code not in self.warehouses:
            raise unknown_warehouse(code, field)
        return self.warehouses[code]


def codes_of(command: StockCommand) -> tuple[str, ...]:
    if isinstance(command, TransferIn):
        return command.from_warehouse, command.to_warehouse
    return (command.warehouse,)


def announce(conn: Connection, product_id: int, warehouse_id: int, quantity: int, move: Move) -> None:
    """An advance ship notice: `quantity` units are on their way; nothing is on hand yet."""
    if quantity <= 0:
        raise ValidationFailed("invalid_quantity", "quantity must be at least 1", "quantity")
    ledger.ensure_levels(conn, [(product_id, warehouse_id)], move.at)
    conn.execute(update(stock_levels).where(_level(product_id, warehouse_id))
                 .values(incoming=stock_levels.c.incoming + quantity, updated_at=move.at))
    # A zero-quantity ledger row keeps who announced what, and lets the receipt find its notice.
    ledger.record_announcement(conn, product_id, warehouse_id, move, ASN)


def receive(uow: UnitOfWork, product_id: int, warehouse_id: int, quantity: int, reference: str,
            move: Move) -> None:
    """Books a receipt (publishing `stock.received`, so backorders fill); when an ASN with the same
    reference exists here, `incoming` drops by `quantity`."""
    conn = uow.conn
    receive_and_publish(uow, product_id, warehouse_id, quantity, move)
    announced = conn.execute(select(stock_movements.c.id).where(
        stock_movements.c.reference == asn_reference(reference), stock_movements.c.kind == ASN,
        stock_movements.c.product_id == product_id, stock_movements.c.warehouse_id == warehouse_id).limit(1)
    ).first()
    if announced is not None:
        incoming = stock_levels.c.incoming
        conn.execute(update(stock_levels).where(_level(product_id, warehouse_id)).values(
            incoming=case((incoming > quantity, incoming - quantity), else_=0), updated_at=move.at))


def asn_reference(reference: str) -> str:
    return f"asn:{reference.strip()}"


def _level(product_id: int, warehouse_id: int) -> ColumnElement[bool]:
    return and_(stock_levels.c.product_id == product_id, stock_levels.c.warehouse_id == warehouse_id)


def book(uow: UnitOfWork, command: StockCommand, *, actor: str, at: datetime, ids: Ids | None = None) -> None:
    """One stock change, through the ledger, in the caller's unit of work. Unknown SKUs and warehouses are
    refused with their field. A receipt publishes `stock.received`; a change that can raise
    available-to-promise (an adjustment or count up, a transfer in, less safety stock) publishes
    `stock.freed`; either lets waiting backorders fill."""
    conn = uow.conn
    ids = ids or Ids.of(conn, [command])
    product_id = ids.product(command.sku)
    if isinstance(command, ReceiptIn):
        warehouse_id = ids.warehouse(command.warehouse)
        if command.asn:
            announce(conn, product_id, warehouse_id, command.quantity,
                     Move(actor, at, reference=asn_reference(command.reference)))
        else:
            receive(uow, product_id, warehouse_id, command.quantity, command.reference,
                    Move(actor, at, reference=f"receipt:{command.reference.strip()}"))
    elif isinstance(command, AdjustmentIn):
        warehouse_id = ids.warehouse(command.warehouse)
        ledger.adjust(conn, product_id, warehouse_id, command.delta, Move(actor, at, reason=command.reason.strip()))
        _freed(conn, product_id, warehouse_id, command.delta, ADJUSTMENT, at)
    elif isinstance(command, CountIn):
        warehouse_id = ids.warehouse(command.warehouse)
        delta = ledger.count(conn, product_id, warehouse_id, command.counted,
                             Move(actor, at, reference=f"count:{command.reference.strip()}"))
        _freed(conn, product_id, warehouse_id, delta, COUNT, at)
    elif isinstance(command, TransferIn):
        source = ids.warehouse(command.from_warehouse, "from_warehouse")
        target = ids.warehouse(command.to_warehouse, "to_warehouse")
        ledger.transfer(conn, product_id, source, target, command.quantity,
                        Move(actor, at, reference=f"transfer:{command.from_warehouse}>{command.to_warehouse}"))
        _freed(conn, product_id, target, command.quantity, TRANSFER, at)
    else:
        warehouse_id = ids.warehouse(command.warehouse)
        change = ledger.set_safety(conn, product_id, warehouse_id, command.safety, at)
        _freed(conn, product_id, warehouse_id, -change, SAFETY_LOWERED, at)


def _freed(conn: Connection, product_id: int, warehouse_id: int, units: int, reason: str, at: datetime) -> None:
    """Publishes `stock.freed` when `units` more may be promised now; nothing for zero or fewer."""
    publish_freed(conn, Freed.of(product_id, warehouse_id, units), reason=reason, at=at)
