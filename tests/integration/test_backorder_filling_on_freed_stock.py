"""Backorders also fill when stock is freed rather than received, on SQLite and PostgreSQL: a cancelled order,
a released or expired hold, an adjustment or count up, a transfer in and lowered safety stock publish
`stock.freed` (one per product, none for zero changes) in their own transaction; the relay delivers it and
waiting orders take the stock as on receipt, with the cause on their timeline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from conveyor.inventory import ledger
from conveyor.inventory.backorder_filler import fill_backorders
from conveyor.inventory.events import StockFreed
from conveyor.inventory.holds import place_hold, release_hold
from conveyor.inventory.ledger import Move
from conveyor.inventory.receipts import StockCommand, book
from conveyor.inventory.schemas import AdjustmentIn, CountIn, SafetyIn, TransferIn
from conveyor.inventory.sweeper import sweep_once
from conveyor.inventory.tables import stock_levels
from conveyor.orders import handlers
from conveyor.orders.commands import MoveOrder, PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.platform.outbox import DONE, outbox
from conveyor.testing.factories import SAMPLE_ADDRESS, add_product, add_stock, add_warehouse
from conveyor.testing.reads import order_stage as _order
from conveyor.testing.reads import timeline_entries as _timeline
from conveyor.testing.reads import units_missing as _missing
from conveyor.warehouses.tables import warehouses

ACTOR = "user:t@x"


def _scarce(container: Any, warehouse_id: int, units: int) -> int:
    with container.db.write() as conn:
        product_id = add_product(conn, at=container.clock.now(), sku="SCARCE")
        if units:
            add_stock(conn, at=container.clock.now(), product_id=product_id, warehouse_id=warehouse_id,
                      quantity=units)
        else:
            ledger.ensure_levels(conn, [(product_id, warehouse_id)], container.clock.now())
    return product_id


def _place(container: Any, *lines: tuple[str, int], priority: int = 0) -> int:
    draft = OrderDraft(channel="api", customer="C-001", currency="EUR", ship_to=SAMPLE_ADDRESS, priority=priority,
                       lines=tuple(LineDraft(sku, qty, Decimal("1.00")) for sku, qty in lines))
    return handlers.place_order(PlaceOrder(draft=draft, actor=ACTOR), uow=container.uow(),
                                config=container.lifecycle).order_id


def _cancel(container: Any, order_id: int) -> None:
    handlers.move_order(MoveOrder(order_id=order_id, action="cancel", actor=ACTOR, reason="customer cancelled"),
                        uow=container.uow(), config=container.lifecycle)


def _book(container: Any, command: StockCommand) -> None:
    with container.uow() as uow:
        book(uow, command, actor=ACTOR, at=container.clock.now())


def _hold(container: Any, product_id: int, quantity: int, ttl: int = 900) -> None:
    with container.db.write() as conn:
        place_hold(conn, sku_lines=[(product_id, quantity)], reference="cart-1", ttl_seconds=ttl,
                   move=Move(actor="user:shop@x", at=container.clock.now()))






def _reserved(container: Any, product_id: int) -> int:
    with container.db.read() as conn:
        return sum(conn.execute(select(stock_levels.c.reserved)
                                .where(stock_levels.c.product_id == product_id)).scalars())




def _freed_events(container: Any) -> list[tuple[str, dict[str, Any]]]:
    """(key, payload) of every `stock.freed` in the outbox, oldest first."""
    with container.db.read() as conn:
        rows = conn.execute(select(outbox.c.key, outbox.c.payload).where(outbox.c.event == StockFreed.name)
                            .order_by(outbox.c.id)).all()
    return [(r.key, dict(r.payload)) for r in rows]


def _freed(product_id: int, warehouse_ids: list[int], quantity: int, reason: str) -> tuple[str, dict[str, Any]]:
    return f"product:{product_id}", {"product_id": product_id, "warehouse_ids": warehouse_ids,
                                     "quantity": quantity, "reason": reason}


def _drain_and_verify(container: Any) -> None:
    stats = container.make_relay().drain()
    assert stats.dead == stats.retried == 0
    with container.db.read() as conn:
        assert set(conn.execute(select(outbox.c.status)).scalars()) == {DONE}
        assert ledger.verify(conn) == []


def _released(cause: str, detail: str = "line 1 now fully reserved") -> list[tuple[Any, ...]]:
    """The last two timeline entries of an order inventory held, filled and released."""
    return [("decision", "system:inventory", None, None, f"{cause}: {detail}"),
            ("transition", "system:inventory", "release", "received", cause)]


def _assert_filled_and_released(container: Any, order_id: int, product_id: int, reserved: int, cause: str) -> None:
    """After the relay: the waiting order has all its stock, inventory released it, and the timeline says why."""
    _drain_and_verify(container)
    assert (_order(container, order_id), _missing(container, order_id)) == (("received", None), 0)
    assert _reserved(container, product_id) == reserved
    assert _timeline(container, order_id)[-2:] == _released(cause)


def test_cancelling_an_order_gives_its_stock_to_a_waiting_one(container, seeded):
    wh = seeded["warehouse"]
    scarce = _scarce(container, wh, units=5)
    first = _place(container, ("SKU-1", 2), ("SCARCE", 5))
    waiting = _place(container, ("SCARCE", 3))
    assert (_order(container, waiting), _missing(container, waiting)) == (("on_hold", "received"), 3)

    _cancel(container, first)
    assert _freed_events(container) == [_freed(seeded["products"]["SKU-1"], [wh], 2, "order_released"),
                                        _freed(scarce, [wh], 5, "order_released")], "one event per product"
    assert _order(container, waiting) == ("on_hold", "received"), "nothing is filled inside the cancellation"

    _assert_filled_and_released(container, waiting, scarce, 3, "Stock released by a cancelled or closed order")


def test_stock_freed_by_a_cancellation_goes_to_the_most_urgent_then_oldest_order(container, seeded):
    scarce = _scarce(container, seeded["warehouse"], units=3)
    first = _place(container, ("SCARCE", 3))
    older = _place(container, ("SCARCE", 3))
    container.clock.advance(timedelta(minutes=5))
    urgent = _place(container, ("SCARCE", 3), priority=5)
    _cancel(container, first)
    _drain_and_verify(container)
    assert _order(container, urgent) == ("received", None)
    assert (_order(container, older), _missing(container, older)) == (("on_hold", "received"), 3)
    assert _reserved(container, scarce) == 3


def test_cancelling_an_order_that_holds_nothing_publishes_nothing(container, seeded):
    _scarce(container, seeded["warehouse"], units=0)
    empty_handed = _place(container, ("SCARCE", 3))
    _cancel(container, empty_handed)
    assert _freed_events(container) == []
    _drain_and_verify(container)


def test_an_expired_hold_gives_its_stock_to_a_waiting_order_at_the_sweep(container, seeded):
    wh = seeded["warehouse"]
    scarce = _scarce(container, wh, units=4)
    _hold(container, scarce, 4, ttl=60)
    waiting = _place(container, ("SCARCE", 3))
    assert _missing(container, waiting) == 3
    container.clock.advance(timedelta(seconds=60))
    assert sweep_once(container) == 1
    assert _freed_events(container) == [_freed(scarce, [wh], 4, "hold_expired")]

    _assert_filled_and_released(container, waiting, scarce, 3, "Stock freed by an expired hold")


def test_a_released_hold_gives_its_stock_to_a_waiting_order(container, seeded):
    wh = seeded["warehouse"]
    scarce = _scarce(container, wh, units=2)
    _hold(container, scarce, 2)
    waiting = _place(container, ("SCARCE", 3))
    with container.db.write() as conn:
        assert release_hold(conn, "cart-1", Move(actor="user:shop@x", at=container.clock.now())) == 2
        assert release_hold(conn, "cart-1", Move(actor="user:shop@x", at=container.clock.now())) == 0
    assert _freed_events(container) == [_freed(scarce, [wh], 2, "hold_released")], "none for the second release"

    _drain_and_verify(container)
    assert (_order(container, waiting), _missing(container, waiting)) == (("on_hold", "received"), 1)
    assert _timeline(container, waiting)[-1][4] == ("Stock released from a hold: "
                                                    "line 1: 2 more reserved, 1 still missing")


def test_a_positive_adjustment_fills_a_waiting_order_and_a_negative_one_publishes_nothing(container, seeded):
    wh = seeded["warehouse"]
    scarce = _scarce(container, wh, units=1)
    waiting = _place(container, ("SCARCE", 4))
    _book(container, AdjustmentIn(sku="SKU-1", warehouse="RTM", delta=-2, reason="damaged"))
    assert _freed_events(container) == []
    _book(container, AdjustmentIn(sku="SCARCE", warehouse="RTM", delta=5, reason="found on the wrong shelf"))
    assert _freed_events(container) == [_freed(scarce, [wh], 5, "adjustment")]

    _assert_filled_and_released(container, waiting, scarce, 4, "Stock adjusted up")


def test_a_count_up_fills_and_a_count_down_or_unchanged_publishes_nothing(container, seeded):
    wh = seeded["warehouse"]
    scarce = _scarce(container, wh, units=0)
    waiting = _place(container, ("SCARCE", 3))
    _book(container, CountIn(sku="SKU-1", warehouse="RTM", counted=990, reference="CC-1"))
    _book(container, CountIn(sku="SCARCE", warehouse="RTM", counted=0, reference="CC-2"))
    assert _freed_events(container) == []
    _book(container, CountIn(sku="SCARCE", warehouse="RTM", counted=2, reference="CC-3"))
    assert _freed_events(container) == [_freed(scarce, [wh], 2, "count")]

    _drain_and_verify(container)
    assert (_order(container, waiting), _missing(container, waiting)) == (("on_hold", "received"), 1)
    assert _timeline(container, waiting)[-1][4] == ("A count found more stock: "
                                                    "line 1: 2 more reserved, 1 still missing")


def test_a_transfer_in_from_a_closed_warehouse_fills_a_waiting_order(container, seeded):
    wh = seeded["warehouse"]
    scarce = _scarce(container, wh, units=0)
    with container.db.write() as conn:
        old = add_warehouse(conn, at=container.clock.now(), code="OLD", priority=300)
        add_stock(conn, at=container.clock.now(), product_id=scarce, warehouse_id=old, quantity=5)
        conn.execute(update(warehouses).where(warehouses.c.id == old).values(active=False))
    waiting = _place(container, ("SCARCE", 3))
    assert _missing(container, waiting) == 3, "a closed warehouse ships nothing"
    _book(container, TransferIn(sku="SCARCE", from_warehouse="OLD", to_warehouse="RTM", quantity=5))
    with container.db.read() as conn:
        assert "stock.received" not in set(conn.execute(select(outbox.c.event)).scalars()), "not a receipt"
    assert _freed_events(container) == [_freed(scarce, [wh], 5, "transfer")]

    _drain_and_verify(container)
    assert (_order(container, waiting), _missing(container, waiting)) == (("received", None), 0)
    assert _timeline(container, waiting)[-2:] == _released("Stock transferred in")


def test_lowering_safety_stock_fills_a_waiting_order_and_raising_it_publishes_nothing(container, seeded):
    wh = seeded["warehouse"]
    scarce = _scarce(container, wh, units=5)
    _book(container, SafetyIn(sku="SCARCE", warehouse="RTM", safety=5))
    _book(container, SafetyIn(sku="SCARCE", warehouse="RTM", safety=5))
    waiting = _place(container, ("SCARCE", 3))
    assert _missing(container, waiting) == 3
    assert _freed_events(container) == []
    _book(container, SafetyIn(sku="SCARCE", warehouse="RTM", safety=1))
    assert _freed_events(container) == [_freed(scarce, [wh], 4, "safety_lowered")]

    _drain_and_verify(container)
    assert (_order(container, waiting), _missing(container, waiting)) == (("received", None), 0)
    assert _timeline(container, waiting)[-2:] == _released("Safety stock lowered")


def test_delivering_stock_freed_twice_reserves_nothing_twice(container, seeded):
    scarce = _scarce(container, seeded["warehouse"], units=3)
    first = _place(container, ("SCARCE", 3))
    waiting = _place(container, ("SCARCE", 3))
    _cancel(container, first)
    with container.uow() as uow:  # the same event again, as an at-least-once relay may deliver it
        uow.publish(StockFreed(product_id=scarce, warehouse_ids=(seeded["warehouse"],), quantity=3,
                               reason="order_released"), key=f"product:{scarce}")
    _drain_and_verify(container)
    assert _reserved(container, scarce) == 3
    assert fill_backorders(container, scarce) == []
    assert [e[0] for e in _timeline(container, waiting)].count("decision") == 2, "one intake, one filling"
    assert _order(container, waiting) == ("received", None)


def test_opening_a_closed_warehouse_again_fills_orders_waiting_for_its_stock(container, seeded):
    from conveyor.warehouses.handlers import update_warehouse
    from conveyor.warehouses.schemas import WarehousePatch

    wh = seeded["warehouse"]
    scarce = _scarce(container, wh, units=0)
    with container.db.write() as conn:
        old = add_warehouse(conn, at=container.clock.now(), code="OLD", priority=300)
        add_stock(conn, at=container.clock.now(), product_id=scarce, warehouse_id=old, quantity=5)
        conn.execute(update(warehouses).where(warehouses.c.id == old).values(active=False))
    waiting = _place(container, ("SCARCE", 3))
    assert _missing(container, waiting) == 3, "a closed warehouse ships nothing"
    with container.db.write() as conn:  # a name change of a closed warehouse publishes nothing
        update_warehouse(conn, old, WarehousePatch(name="Old hall"), at=container.clock.now())
    with container.db.write() as conn:
        update_warehouse(conn, old, WarehousePatch(active=True), at=container.clock.now())
    with container.db.read() as conn:
        events = conn.execute(select(outbox.c.event, outbox.c.payload)
                              .where(outbox.c.event == "warehouse.activated")).all()
    assert [(e, dict(p)) for e, p in events] == [("warehouse.activated", {"warehouse_id": old, "code": "OLD"})]

    _drain_and_verify(container)
    assert (_order(container, waiting), _missing(container, waiting)) == (("received", None), 0)
    assert _timeline(container, waiting)[-2:] == _released("Warehouse OLD opened again")
