"""Stock on SQLite and PostgreSQL: reservation at intake, shortage policies, release and shipment through
the lifecycle, and no oversell under 200 concurrent orders."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from conveyor.channels.tables import channels
from conveyor.customers.tables import customers
from conveyor.inventory import ledger
from conveyor.inventory.ledger import Move
from conveyor.inventory.tables import backorders, reservations, stock_levels
from conveyor.kernel.errors import DomainError
from conveyor.orders import handlers
from conveyor.orders.commands import MoveOrder, PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.orders.intake import IntakeQueue
from conveyor.orders.queries import get_order
from conveyor.orders.tables import orders
from conveyor.testing.factories import SAMPLE_ADDRESS, STOCK_PER_SKU, add_product

THREADS = 200


def draft(*lines: tuple[str, int], external_id: str | None = None, customer: str = "C-001") -> OrderDraft:
    return OrderDraft(channel="api", customer=customer, currency="EUR", ship_to=SAMPLE_ADDRESS,
                      external_id=external_id,
                      lines=tuple(LineDraft(sku, qty, Decimal("1.00")) for sku, qty in lines))


def place(container: Any, *lines: tuple[str, int], **kw: Any) -> int:
    return handlers.place_order(PlaceOrder(draft=draft(*lines, **kw), actor="user:t@x"), uow=container.uow(),
                                config=container.lifecycle).order_id


def move(container: Any, order_id: int, action: str, reason: str | None = None) -> None:
    handlers.move_order(MoveOrder(order_id=order_id, action=action, actor="user:t@x", reason=reason),
                        uow=container.uow(), config=container.lifecycle)


def level(container: Any, product_id: int) -> tuple[int, int]:
    with container.db.read() as conn:
        row = conn.execute(select(stock_levels.c.on_hand, stock_levels.c.reserved)
                           .where(stock_levels.c.product_id == product_id)).one()
    return row.on_hand, row.reserved


def stage(container: Any, order_id: int) -> str:
    with container.db.read() as conn:
        return str(conn.execute(select(orders.c.stage).where(orders.c.id == order_id)).scalar_one())


def set_policy(container: Any, policy: str) -> None:
    with container.db.write() as conn:
        conn.execute(update(customers).where(customers.c.account == "C-001").values(shortage_policy=policy))


def verify(container: Any) -> list[Any]:
    with container.db.read() as conn:
        return ledger.verify(conn)


def test_placing_an_order_reserves_its_stock_in_the_same_transaction(container, seeded):
    sku1 = seeded["products"]["SKU-1"]
    order_id = place(container, ("SKU-1", 3), ("SKU-1", 2))
    assert level(container, sku1) == (STOCK_PER_SKU, 5)
    with container.db.read() as conn:
        held = conn.execute(select(reservations.c.line_no, reservations.c.quantity)
                            .where(reservations.c.order_id == order_id).order_by(reservations.c.line_no)).all()
    assert [tuple(r) for r in held] == [(1, 3), (2, 2)]
    assert verify(container) == []


def test_cancelling_releases_the_stock_and_shipping_takes_it_out(container, seeded):
    sku1 = seeded["products"]["SKU-1"]
    cancelled = place(container, ("SKU-1", 4))
    move(container, cancelled, "cancel", reason="customer changed their mind")
    assert level(container, sku1) == (STOCK_PER_SKU, 0)
    shipped = place(container, ("SKU-1", 6))
    for action in ("review", "approve", "reserve", "pick", "pack", "ship"):
        move(container, shipped, action)
    assert level(container, sku1) == (STOCK_PER_SKU - 6, 0)
    assert verify(container) == []


def test_a_short_order_is_held_with_what_is_there_reserved_by_default(container, seeded):
    scarce = _scarce_product(container, seeded, units=2)
    order_id = place(container, ("SKU-1", 1), ("SCARCE", 5))
    assert stage(container, order_id) == "on_hold"
    assert level(container, scarce) == (2, 2)
    with container.db.read() as conn:
        missing = conn.execute(select(backorders.c.quantity).where(backorders.c.order_id == order_id)).scalar()
    assert missing == 3
    with container.db.read() as conn:
        detail = get_order(conn, order_id, principal=None, lifecycle=container.lifecycle.get(conn),
                           now=container.clock.now())
    assert detail.stock[2].held == [("RTM", 2, "active")] and detail.stock[2].missing == 3
    assert "Waiting for stock: line 2 SCARCE: 3 short" in [t.reason for t in detail.timeline]
    with pytest.raises(DomainError) as refused:
        move(container, order_id, "release")
        move(container, order_id, "review")
        move(container, order_id, "approve")
        move(container, order_id, "reserve")
    assert refused.value.code == "insufficient_stock"


def test_the_reserve_step_takes_stock_that_arrived_since(container, seeded):
    scarce = _scarce_product(container, seeded, units=1)
    set_policy(container, "backorder")
    order_id = place(container, ("SCARCE", 3))
    assert stage(container, order_id) == "received"  # backorder: the order goes on
    with container.db.write() as conn:
        ledger.receive(conn, scarce, seeded["warehouse"], 10,
                       Move(actor="user:t@x", at=container.clock.now(), reference="receipt:R1"))
    for action in ("review", "approve", "reserve"):
        move(container, order_id, action)
    assert level(container, scarce) == (11, 3)
    assert verify(container) == []


def test_a_reject_policy_refuses_a_short_order_and_writes_nothing(container, seeded):
    _scarce_product(container, seeded, units=1)
    set_policy(container, "reject")
    with pytest.raises(DomainError) as refused:
        place(container, ("SKU-1", 1), ("SCARCE", 2), external_id="R-1")
    assert refused.value.code == "insufficient_stock"
    assert refused.value.problems[0].field == "lines.1.quantity"
    with container.db.read() as conn:
        assert conn.execute(select(orders.c.id)).all() == []
    assert level(container, seeded["products"]["SKU-1"]) == (STOCK_PER_SKU, 0)


def test_the_channel_policy_applies_when_the_customer_has_none(container, seeded):
    _scarce_product(container, seeded, units=0)
    with container.db.write() as conn:
        conn.execute(update(channels).where(channels.c.code == "api").values(shortage_policy="reject"))
    with pytest.raises(DomainError):
        place(container, ("SCARCE", 1))


def _scarce_product(container: Any, seeded: dict[str, Any], units: int) -> int:
    with container.db.write() as conn:
        product_id = add_product(conn, at=container.clock.now(), sku="SCARCE")
        if units:
            ledger.receive(conn, product_id, seeded["warehouse"], units,
                           Move(actor="system:test", at=container.clock.now(), reference="receipt:seed"))
        else:
            ledger.ensure_levels(conn, [(product_id, seeded["warehouse"])], container.clock.now())
    return product_id


def test_200_concurrent_orders_for_50_units_never_oversell(container, seeded):
    scarce = _scarce_product(container, seeded, units=50)
    set_policy(container, "reject")
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    queue = IntakeQueue(container, max_batch=32)

    def buyer(i: int) -> None:
        barrier.wait()
        try:
            if i % 4 == 0:  # a quarter through the intake queue: batches competing with single transactions
                results[i] = queue.place(PlaceOrder(draft=draft(("SCARCE", 1 + i % 2), external_id=f"RUSH-{i}"),
                                                    actor="user:t@x")).placed.order_id
            else:
                results[i] = place(container, ("SCARCE", 1 + i % 2), external_id=f"RUSH-{i}")
        except Exception as exc:  # asserted below: only clear "insufficient stock" refusals are allowed
            results[i] = exc

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.close()
    accepted = [(i, r) for i, r in enumerate(results) if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert all(isinstance(r, DomainError) and r.code == "insufficient_stock" for r in refused), refused[:3]
    on_hand, reserved = level(container, scarce)
    assert on_hand == 50 and reserved == sum(1 + i % 2 for i, _ in accepted)
    assert reserved >= 49  # the last order may want 2 when 1 is left
    with container.db.read() as conn:
        held = dict(conn.execute(select(reservations.c.order_id, reservations.c.quantity)
                                 .where(reservations.c.status == "active")).all())
    assert {oid: held[oid] for _, oid in accepted} == {oid: 1 + i % 2 for i, oid in accepted}
    assert verify(container) == []
