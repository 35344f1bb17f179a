"""Many multi-SKU, multi-warehouse orders at once, their lines in every order: reservation takes balances
in one order (product id, then warehouse priority), so nothing deadlocks, nothing oversells, and the
ledger stays equal to its balances; cancelling them all at once returns every reserved unit."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from conveyor.customers.tables import customers
from conveyor.inventory import ledger
from conveyor.inventory.ledger import Move
from conveyor.inventory.tables import backorders, reservations, stock_levels
from conveyor.orders import handlers, placing
from conveyor.orders.commands import MoveOrder, PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.orders.intake import IntakeQueue
from conveyor.orders.tables import order_lines, orders
from conveyor.testing.factories import SAMPLE_ADDRESS, add_product, add_warehouse

THREADS, ORDERS_PER_THREAD = 16, 10
SKUS = ("D-1", "D-2", "D-3", "D-4")
# Per SKU: (warehouse code, priority, units). Priorities run opposite to ids (the seeded RTM is created
# first but preferred last), and the first-choice warehouses hold little, so many lines split.
STOCK = (("RTM", None, 100), ("W-2", 50, 80), ("W-3", 10, 60))


def order_plan(thread: int, k: int) -> list[tuple[str, int]]:
    """3 or 4 of the 4 SKUs, in a random line order, 1-4 units each (deterministic per thread and k)."""
    rng = random.Random(thread * 1000 + k)
    return [(sku, rng.randint(1, 4)) for sku in rng.sample(SKUS, rng.choice((3, 4)))]


def place(container: Any, lines: list[tuple[str, int]], external_id: str) -> int:
    draft = OrderDraft(channel="api", customer="C-001", currency="EUR", ship_to=SAMPLE_ADDRESS,
                       external_id=external_id, lines=tuple(LineDraft(s, q, Decimal("1.00")) for s, q in lines))
    return handlers.place_order(PlaceOrder(draft=draft, actor="user:t@x"), uow=container.uow(),
                                config=container.lifecycle).order_id


def cancel(container: Any, order_id: int) -> None:
    handlers.move_order(MoveOrder(order_id=order_id, action="cancel", actor="user:t@x", reason="test"),
                        uow=container.uow(), config=container.lifecycle)


def run_threads(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Runs work(0..n-1) in n threads started together; returns results and every exception raised."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # asserted on by the caller: none is allowed
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


class Watcher:
    """Samples the balances while the threads run: reserved never exceeds on hand, per level or per SKU."""

    def __init__(self, container: Any, product_ids: list[int]) -> None:
        self.container, self.product_ids = container, product_ids
        self.violations: list[Any] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            with self.container.db.read() as conn:
                rows = conn.execute(select(stock_levels.c.product_id, stock_levels.c.warehouse_id,
                                           stock_levels.c.on_hand, stock_levels.c.reserved)
                                    .where(stock_levels.c.product_id.in_(self.product_ids))).all()
            per_sku: dict[int, list[int]] = defaultdict(lambda: [0, 0])
            for r in rows:
                if not 0 <= r.reserved <= r.on_hand:
                    self.violations.append(tuple(r))
                per_sku[r.product_id][0] += r.on_hand
                per_sku[r.product_id][1] += r.reserved
            self.violations += [(p, sums) for p, sums in per_sku.items() if sums[1] > sums[0]]
            self.samples += 1

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def stocked(container: Any, seeded: dict[str, Any]) -> dict[str, Any]:
    """4 SKUs stocked across 3 warehouses; the customer's shortage policy is 'backorder'."""
    at = container.clock.now()
    with container.db.write() as conn:
        warehouse_ids = {"RTM": seeded["warehouse"]}
        for code, priority, _ in STOCK:
            if priority is not None:
                warehouse_ids[code] = add_warehouse(conn, at=at, code=code, priority=priority)
        product_ids = {sku: add_product(conn, at=at, sku=sku) for sku in SKUS}
        for product_id in product_ids.values():
            for code, _, units in STOCK:
                ledger.receive(conn, product_id, warehouse_ids[code], units,
                               Move(actor="system:test", at=at, reference="receipt:seed"))
        conn.execute(update(customers).values(shortage_policy="backorder"))
    return {"products": product_ids, "warehouses": warehouse_ids}


def levels(container: Any, product_ids: list[int]) -> dict[tuple[int, int], tuple[int, int]]:
    with container.db.read() as conn:
        return {(r.product_id, r.warehouse_id): (r.on_hand, r.reserved) for r in conn.execute(
            select(stock_levels.c.product_id, stock_levels.c.warehouse_id, stock_levels.c.on_hand,
                   stock_levels.c.reserved).where(stock_levels.c.product_id.in_(product_ids)))}


def place_everything(container: Any, stocked: dict[str, Any], via: str = "transactions") -> list[int]:
    """Every thread places its orders; via "queues", half the threads go through two intake queues (batches
    of several orders in one transaction, as two API processes would) while the rest place one by one."""
    product_ids = list(stocked["products"].values())
    queues = [IntakeQueue(container, max_batch=8) for _ in range(2)] if via == "queues" else []

    def one(thread: int, k: int) -> int:
        lines, external_id = order_plan(thread, k), f"D-{thread}-{k}"
        if queues and thread % 2 == 0:
            draft = OrderDraft(channel="api", customer="C-001", currency="EUR", ship_to=SAMPLE_ADDRESS,
                               external_id=external_id,
                               lines=tuple(LineDraft(s, q, Decimal("1.00")) for s, q in lines))
            return queues[thread // 2 % 2].place(PlaceOrder(draft=draft, actor="user:t@x")).placed.order_id
        return place(container, lines, external_id)

    def buyer(thread: int) -> list[int]:
        return [one(thread, k) for k in range(ORDERS_PER_THREAD)]

    with Watcher(container, product_ids) as watcher:
        results, errors = run_threads(THREADS, buyer)
    for queue in queues:
        queue.close()
    assert errors == [], errors[:3]  # no DeadlockDetected, SerializationFailure, or anything else
    assert watcher.violations == []
    return [order_id for ids in results for order_id in ids]


def assert_consistent(container: Any, stocked: dict[str, Any]) -> dict[tuple[int, int], tuple[int, int]]:
    """Balances against the ledger, against the active reservations, and every line fully accounted for."""
    product_ids = list(stocked["products"].values())
    now = levels(container, product_ids)
    with container.db.read() as conn:
        assert ledger.verify(conn) == []
        held = dict(((r.product_id, r.warehouse_id), int(r.units)) for r in conn.execute(
            select(reservations.c.product_id, reservations.c.warehouse_id,
                   func.sum(reservations.c.quantity).label("units"))
            .where(reservations.c.status == "active")
            .group_by(reservations.c.product_id, reservations.c.warehouse_id)))
        lines = conn.execute(select(order_lines.c.order_id, order_lines.c.line_no, order_lines.c.quantity,
                                    orders.c.stage).join(orders, orders.c.id == order_lines.c.order_id)).all()
        got = defaultdict(int)
        for r in conn.execute(select(reservations.c.order_id, reservations.c.line_no, reservations.c.quantity)
                              .where(reservations.c.status == "active")):
            got[r.order_id, r.line_no] += r.quantity
        for r in conn.execute(select(backorders.c.order_id, backorders.c.line_no, backorders.c.quantity)
                              .where(backorders.c.filled_at.is_(None))):
            got[r.order_id, r.line_no] += r.quantity
    for key, (on_hand, reserved) in now.items():
        assert 0 <= reserved <= on_hand, key
        assert reserved == held.get(key, 0), key
    for line in lines:  # reserved + backordered == ordered for a live order; nothing for a cancelled one
        expected = 0 if line.stage == "cancelled" else line.quantity
        assert got[line.order_id, line.line_no] == expected, tuple(line)
    return now


@pytest.mark.parametrize("via", ["transactions", "queues"])
def test_concurrent_multi_warehouse_orders_never_deadlock_or_oversell(container, stocked, via):
    before = levels(container, list(stocked["products"].values()))
    order_ids = place_everything(container, stocked, via)
    assert len(order_ids) == THREADS * ORDERS_PER_THREAD
    after = assert_consistent(container, stocked)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}  # on hand untouched
    with container.db.read() as conn:
        split = conn.execute(select(reservations.c.order_id, reservations.c.line_no).group_by(
            reservations.c.order_id, reservations.c.line_no).having(func.count() > 1)).all()
        short = conn.execute(select(func.count()).select_from(backorders)).scalar_one()
    assert split and short, "the stock was meant to split some lines over warehouses and backorder others"


def test_cancelling_all_of_them_concurrently_returns_every_reserved_unit(container, stocked):
    order_ids = place_everything(container, stocked)
    before = levels(container, list(stocked["products"].values()))
    assert sum(reserved for _, reserved in before.values()) > 0
    _, errors = run_threads(THREADS, lambda i: [cancel(container, oid) for oid in order_ids[i::THREADS]])
    assert errors == [], errors[:3]
    after = assert_consistent(container, stocked)
    assert {k: (on_hand, 0) for k, (on_hand, _) in before.items()} == after
    with container.db.read() as conn:
        assert set(conn.execute(select(orders.c.stage)).scalars()) == {"cancelled"}
        assert conn.execute(select(func.count()).select_from(reservations)
                            .where(reservations.c.status == "active")).scalar_one() == 0


def test_placing_while_cancelling_never_deadlocks(container, stocked, backend, request):
    """Cancels release balances in their own order while new orders reserve in priority order."""
    first = place_everything(container, stocked)

    def work(i: int) -> None:
        if i % 2:
            for oid in first[i::THREADS]:
                cancel(container, oid)
        else:
            for k in range(ORDERS_PER_THREAD):
                place(container, order_plan(i + 100, k), f"E-{i}-{k}")

    _, errors = run_threads(THREADS, work)
    assert errors == [], errors[:3]
    assert_consistent(container, stocked)


def test_a_cancel_and_a_placement_that_meet_on_two_warehouses_do_not_deadlock(backend, request, monkeypatch):
    """Deterministic: a placement has locked the balances it needs (W-3, preferred though its id is higher, then
    RTM) while a cancel of an order holding both releases them in the same balance order: the cancel waits, no
    cycle forms."""
    if backend == "sqlite":
        pytest.skip("PostgreSQL only: on SQLite BEGIN IMMEDIATE serialises whole transactions, no row locks")
    container, seeded = request.getfixturevalue("container"), request.getfixturevalue("seeded")
    at = container.clock.now()
    with container.db.write() as conn:
        preferred = add_warehouse(conn, at=at, code="W-3", priority=10)  # id > RTM's, preferred to RTM
        product = add_product(conn, at=at, sku="D-1")
        for warehouse in (seeded["warehouse"], preferred):
            ledger.receive(conn, product, warehouse, 5, Move(actor="system:test", at=at, reference="receipt:a"))
        conn.execute(update(customers).values(shortage_policy="backorder"))
    holder = place(container, [("D-1", 8)], "HOLDER")  # 5 at W-3, 3 at RTM
    with container.db.write() as conn:
        ledger.receive(conn, product, preferred, 2, Move(actor="system:test", at=at, reference="receipt:b"))

    placement_holds_w3, cancel_is_waiting = threading.Event(), threading.Event()
    original = placing.lock_free_stock

    def pausing_lock(conn: Any, product_ids: set[int], warehouse_ids: list[int]) -> dict[tuple[int, int], int]:
        free = original(conn, product_ids, warehouse_ids)  # the placement now holds W-3 and RTM
        if threading.current_thread().name == "placement" and not placement_holds_w3.is_set():
            placement_holds_w3.set()
            cancel_is_waiting.wait(10)
        return free

    monkeypatch.setattr(placing, "lock_free_stock", pausing_lock)
    errors: list[BaseException] = []

    def run(work: Callable[[], Any]) -> None:
        try:
            work()
        except BaseException as exc:  # asserted below
            errors.append(exc)

    placement = threading.Thread(name="placement", target=run, args=(lambda: place(container, [("D-1", 4)], "NEW"),))
    placement.start()
    assert placement_holds_w3.wait(10)
    canceller = threading.Thread(target=run, args=(lambda: cancel(container, holder),))
    canceller.start()
    canceller.join(0.5)  # it releases RTM, then waits for W-3
    cancel_is_waiting.set()
    placement.join()
    canceller.join()
    assert errors == []
