"""Placing a batch of orders in one transaction: each order keeps its own outcome, stock goes in arrival order,
duplicates inside the batch see each other, and the ledger agrees afterwards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from conveyor.customers.tables import customers
from conveyor.inventory import ledger
from conveyor.inventory.tables import backorders, reservations, stock_levels
from conveyor.kernel.errors import Conflict, NotAllowed, ValidationFailed
from conveyor.orders import handlers
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.orders.tables import idempotency_keys, order_timeline, orders
from conveyor.platform.outbox import outbox
from conveyor.testing.factories import SAMPLE_ADDRESS, add_customer, add_product, add_stock


def cmd(lines: list[tuple[str, int]], *, customer: str = "C-001", external_id: str | None = None,
        key: str | None = None, body_hash: str | None = None, only_customer_id: int | None = None) -> PlaceOrder:
    draft = OrderDraft(channel="api", customer=customer, currency="EUR", ship_to=SAMPLE_ADDRESS,
                       external_id=external_id, lines=tuple(LineDraft(s, q, Decimal("2.50")) for s, q in lines))
    return PlaceOrder(draft=draft, actor="user:batch@test", idempotency_key=key, request_hash=body_hash,
                      only_customer_id=only_customer_id)


def place_all(container: Any, cmds: list[PlaceOrder]) -> list[Any]:
    return handlers.place_orders(cmds, uow=container.uow(), config=container.lifecycle)


def scarce(container: Any, seeded: dict[str, Any], sku: str, units: int) -> int:
    with container.db.write() as conn:
        product = add_product(conn, at=container.clock.now(), sku=sku)
        add_stock(conn, at=container.clock.now(), product_id=product, warehouse_id=seeded["warehouse"],
                  quantity=units)
    return product


def stage(container: Any, order_id: int) -> str:
    with container.db.read() as conn:
        return str(conn.execute(select(orders.c.stage).where(orders.c.id == order_id)).scalar())


def test_a_batch_keeps_each_orders_outcome_and_writes_only_the_good_ones(container, seeded):
    scarce(container, seeded, "LAST-1", 1)
    with container.db.write() as conn:
        strict = add_customer(conn, at=container.clock.now(), account="C-REJ", name="Strict")
        conn.execute(update(customers).where(customers.c.id == strict).values(shortage_policy="reject"))
    out = place_all(container, [
        cmd([("SKU-1", 2), ("SKU-2", 1)], external_id="B-1"),
        cmd([("NOPE", 1)], external_id="B-2"),  # unknown SKU
        cmd([("LAST-1", 2)], customer="C-REJ", external_id="B-3"),  # short, and the customer rejects
        cmd([("SKU-3", 1)], customer="C-002", only_customer_id=seeded["customers"]["C-001"]),  # not theirs
        cmd([("SKU-3", 4)], external_id="B-5"),
    ])
    assert [type(o).__name__ for o in out] == ["Placed", "ValidationFailed", "Conflict", "NotAllowed", "Placed"]
    assert isinstance(out[1], ValidationFailed) and out[1].problems[0].field == "lines.0.sku"
    assert isinstance(out[2], Conflict) and out[2].code == "insufficient_stock"
    assert isinstance(out[3], NotAllowed)
    assert out[0].created and out[4].created and out[4].order_id > out[0].order_id
    with container.db.read() as conn:
        stored = conn.execute(select(orders.c.external_id).order_by(orders.c.id)).scalars().all()
        assert stored == ["B-1", "B-5"]
        held = dict(conn.execute(select(reservations.c.order_id, func.sum(reservations.c.quantity))
                                 .group_by(reservations.c.order_id)).all())
        assert held == {out[0].order_id: 3, out[4].order_id: 4}
        events = conn.execute(select(outbox.c.event, outbox.c.key).order_by(outbox.c.id)).all()
        assert [(e, int(k)) for e, k in events] == [("order.placed", o.order_id) for o in (out[0], out[4])]
        kinds = conn.execute(select(order_timeline.c.order_id, order_timeline.c.kind)
                             .order_by(order_timeline.c.id)).all()
        for placed in (out[0], out[4]):
            assert [k for o, k in kinds if o == placed.order_id] == ["created", "decision"]
        assert ledger.verify(conn) == []


def test_stock_goes_to_the_orders_of_a_batch_in_arrival_order(container, seeded):
    product = scarce(container, seeded, "FEW-1", 5)
    out = place_all(container, [cmd([("FEW-1", 2)], external_id=f"A-{i}") for i in range(4)])
    assert all(o.created for o in out)
    assert [stage(container, o.order_id) for o in out] == ["received", "received", "on_hold", "on_hold"]
    with container.db.read() as conn:
        missing = dict(conn.execute(select(backorders.c.order_id, backorders.c.quantity)).all())
        assert missing == {out[2].order_id: 1, out[3].order_id: 2}
        level = conn.execute(select(stock_levels.c.on_hand, stock_levels.c.reserved)
                             .where(stock_levels.c.product_id == product)).one()
        assert tuple(level) == (5, 5)
        assert ledger.verify(conn) == []


def test_duplicates_inside_a_batch_and_against_stored_orders_answer_with_the_first(container, seeded):
    first = handlers.place_order(cmd([("SKU-1", 1)], external_id="EXISTING"), uow=container.uow(),
                                 config=container.lifecycle)
    out = place_all(container, [
        cmd([("SKU-1", 1)], external_id="DUP", key="k-1", body_hash="h1"),
        cmd([("SKU-1", 1)], external_id="DUP"),  # same external id in the same batch
        cmd([("SKU-2", 1)], key="k-1", body_hash="h1"),  # same key, same body
        cmd([("SKU-2", 1)], key="k-1", body_hash="other"),  # same key, another body
        cmd([("SKU-1", 1)], external_id="EXISTING", key="k-2"),  # stored before this batch
    ])
    assert out[0].created
    assert (out[1].order_id, out[1].created, out[1].reason) == (out[0].order_id, False, "external_id")
    assert (out[2].order_id, out[2].created, out[2].reason) == (out[0].order_id, False, "idempotency_key")
    assert isinstance(out[3], ValidationFailed) and out[3].code == "idempotency_key_reused"
    assert (out[4].order_id, out[4].created) == (first.order_id, False)
    with container.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(orders)).scalar() == 2
        keys = dict(conn.execute(select(idempotency_keys.c.key, idempotency_keys.c.order_id)).all())
        assert keys == {"k-1": out[0].order_id, "k-2": first.order_id}
        assert ledger.verify(conn) == []


def test_a_batch_that_rejects_everything_writes_nothing(container, seeded):
    with container.db.write() as conn:  # a product never stocked anywhere: no balance row at all
        add_product(conn, at=container.clock.now(), sku="NONE-1")
        conn.execute(update(customers).values(shortage_policy="reject"))
    out = place_all(container, [cmd([("NONE-1", 1)], external_id=f"R-{i}") for i in range(3)])
    assert all(isinstance(o, Conflict) for o in out)
    with container.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(orders)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(outbox)).scalar() == 0
