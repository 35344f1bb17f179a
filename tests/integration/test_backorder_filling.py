"""Backorders fill themselves after stock arrives, through the outbox, on SQLite and PostgreSQL: the
receipt publishes `stock.received`, the relay delivers it, waiting orders take the stock (higher priority,
then older, first), and an order inventory held for lack of stock goes back to the stage it was held from."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from conveyor.customers.tables import customers
from conveyor.inventory import ledger
from conveyor.inventory.backorder_filler import fill_backorders, on_stock_received
from conveyor.inventory.events import StockReceived
from conveyor.inventory.ledger import Move
from conveyor.inventory.receiving import receive_and_publish
from conveyor.inventory.tables import stock_levels
from conveyor.orders import handlers
from conveyor.orders.commands import MoveOrder, PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.platform.outbox import DONE, outbox
from conveyor.testing.factories import SAMPLE_ADDRESS, add_product, add_stock
from conveyor.testing.reads import order_stage as _order
from conveyor.testing.reads import timeline_entries as _timeline
from conveyor.testing.reads import units_missing as _missing


def _consume(container: Any) -> None:
    if not container.registry.for_event(StockReceived.name):  # until bootstrap registers it
        container.registry.register(StockReceived.name, on_stock_received(container))


def _scarce(container: Any, seeded: dict[str, Any], units: int) -> int:
    with container.db.write() as conn:
        product_id = add_product(conn, at=container.clock.now(), sku="SCARCE")
        if units:
            add_stock(conn, at=container.clock.now(), product_id=product_id, warehouse_id=seeded["warehouse"],
                      quantity=units)
        else:
            ledger.ensure_levels(conn, [(product_id, seeded["warehouse"])], container.clock.now())
    return product_id


def _place(container: Any, *lines: tuple[str, int], priority: int = 0) -> int:
    draft = OrderDraft(channel="api", customer="C-001", currency="EUR", ship_to=SAMPLE_ADDRESS, priority=priority,
                       lines=tuple(LineDraft(sku, qty, Decimal("1.00")) for sku, qty in lines))
    return handlers.place_order(PlaceOrder(draft=draft, actor="user:t@x"), uow=container.uow(),
                                config=container.lifecycle).order_id


def _receive(container: Any, product_id: int, warehouse_id: int, quantity: int) -> None:
    with container.uow() as uow:
        receive_and_publish(uow, product_id, warehouse_id, quantity,
                            Move(actor="user:dock@x", at=container.clock.now(), reference="receipt:R1"))






def _reserved(container: Any, product_id: int) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(stock_levels.c.reserved)
                                .where(stock_levels.c.product_id == product_id)).scalar_one())




def _verify(container: Any) -> list[Any]:
    with container.db.read() as conn:
        return ledger.verify(conn)


def test_arriving_stock_completes_a_held_order_and_releases_it_after_the_receipt(container, seeded):
    _consume(container)
    scarce = _scarce(container, seeded, units=2)
    order_id = _place(container, ("SKU-1", 1), ("SCARCE", 5))
    assert _order(container, order_id) == ("on_hold", "received")

    _receive(container, scarce, seeded["warehouse"], 10)
    assert _order(container, order_id) == ("on_hold", "received"), "nothing is filled inside the receipt"
    assert _missing(container, order_id) == 3

    container.make_relay().drain()

    assert _order(container, order_id) == ("received", None)
    assert _missing(container, order_id) == 0
    assert _reserved(container, scarce) == 5
    assert _timeline(container, order_id)[-2:] == [
        ("decision", "system:inventory", None, None, "Stock arrived: line 2 now fully reserved"),
        ("transition", "system:inventory", "release", "received", "Stock arrived"),
    ]
    with container.db.read() as conn:
        assert set(conn.execute(select(outbox.c.status)).scalars()) == {DONE}
    assert _verify(container) == []


def test_partly_arrived_stock_is_taken_and_the_order_stays_on_hold(container, seeded):
    _consume(container)
    scarce = _scarce(container, seeded, units=0)
    order_id = _place(container, ("SCARCE", 5))
    _receive(container, scarce, seeded["warehouse"], 2)
    container.make_relay().drain()
    assert _order(container, order_id) == ("on_hold", "received")
    assert _missing(container, order_id) == 3
    assert _timeline(container, order_id)[-1][4] == "Stock arrived: line 1: 2 more reserved, 3 still missing"
    assert _verify(container) == []


def test_the_oldest_backorder_is_filled_first_when_stock_covers_only_one(container, seeded):
    _consume(container)
    scarce = _scarce(container, seeded, units=0)
    older = _place(container, ("SCARCE", 3))
    container.clock.advance(timedelta(minutes=5))
    newer = _place(container, ("SCARCE", 3))
    _receive(container, scarce, seeded["warehouse"], 4)
    container.make_relay().drain()
    assert _order(container, older) == ("received", None)
    assert (_order(container, newer), _missing(container, newer)) == (("on_hold", "received"), 2)
    assert _verify(container) == []


def test_a_higher_priority_backorder_goes_before_an_older_one(container, seeded):
    _consume(container)
    scarce = _scarce(container, seeded, units=0)
    older = _place(container, ("SCARCE", 3))
    container.clock.advance(timedelta(minutes=5))
    urgent = _place(container, ("SCARCE", 3), priority=5)
    _receive(container, scarce, seeded["warehouse"], 3)
    container.make_relay().drain()
    assert _order(container, urgent) == ("received", None)
    assert (_order(container, older), _missing(container, older)) == (("on_hold", "received"), 3)
    assert _verify(container) == []


def test_delivering_the_same_event_twice_reserves_nothing_twice(container, seeded):
    _consume(container)
    scarce = _scarce(container, seeded, units=0)
    order_id = _place(container, ("SCARCE", 3))
    _receive(container, scarce, seeded["warehouse"], 10)
    with container.uow() as uow:  # the same event again, as an at-least-once relay may deliver it
        uow.publish(StockReceived(product_id=scarce, warehouse_id=seeded["warehouse"], quantity=10),
                    key=f"product:{scarce}")
    stats = container.make_relay().drain()
    assert stats.delivered >= 2 and stats.dead == stats.retried == 0
    assert _reserved(container, scarce) == 3
    assert fill_backorders(container, scarce) == []
    assert _reserved(container, scarce) == 3
    assert [e[0] for e in _timeline(container, order_id)].count("decision") == 2, "one intake, one arrival"
    assert _order(container, order_id) == ("received", None)
    assert _verify(container) == []


def test_an_order_a_person_put_on_hold_stays_on_hold_when_its_stock_arrives(container, seeded):
    _consume(container)
    scarce = _scarce(container, seeded, units=0)
    with container.db.write() as conn:
        conn.execute(update(customers).where(customers.c.account == "C-001").values(shortage_policy="backorder"))
    order_id = _place(container, ("SCARCE", 2))
    assert _order(container, order_id) == ("received", None)
    handlers.move_order(MoveOrder(order_id=order_id, action="hold", actor="user:cs@x", reason="customer asked"),
                        uow=container.uow(), config=container.lifecycle)
    _receive(container, scarce, seeded["warehouse"], 5)
    container.make_relay().drain()
    assert _missing(container, order_id) == 0
    assert _order(container, order_id) == ("on_hold", "received")
    assert _timeline(container, order_id)[-1][:2] == ("decision", "system:inventory")
    assert _verify(container) == []
