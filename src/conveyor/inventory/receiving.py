"""Receiving stock: the ledger change and the event that lets backorders fill after the request."""

from __future__ import annotations

from conveyor.inventory import ledger
from conveyor.inventory.events import StockReceived
from conveyor.inventory.ledger import Move
from conveyor.platform.uow import UnitOfWork


def receive_and_publish(uow: UnitOfWork, product_id: int, warehouse_id: int, quantity: int, move: Move) -> None:
    """Books the receipt inside the caller's unit of work and publishes `stock.received` with it."""
    ledger.receive(uow.conn, product_id, warehouse_id, quantity, move)
    uow.publish(StockReceived(product_id=product_id, warehouse_id=warehouse_id, quantity=quantity),
                key=f"product:{product_id}")
