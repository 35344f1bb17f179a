"""Random sequences of stock operations through the real ledger on a real database, against a pure Python
model: every accepted operation changes exactly what the model says, every refusal changes nothing, and the
maintained balances always equal the sums of their movements."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select

from conveyor.bootstrap import Container, build
from conveyor.inventory import ledger
from conveyor.inventory.ledger import Move
from conveyor.inventory.tables import stock_levels, stock_movements
from conveyor.kernel.clock import FixedClock
from conveyor.kernel.errors import DomainError
from conveyor.settings import Settings
from conveyor.testing.factories import add_product, add_warehouse
from tests.conftest import NOW, _truncate_pg

PRODUCTS, WAREHOUSES = 3, 2
MOVE = Move(actor="system:test", at=NOW, reference="test:ledger", reason="property test")

products_ = st.integers(0, PRODUCTS - 1)
warehouses_ = st.integers(0, WAREHOUSES - 1)
quantities = st.integers(-1, 12)  # 0 and -1: invalid_quantity


class Level:
    def __init__(self) -> None:
        self.on_hand = self.reserved = self.safety = 0

    def as_tuple(self) -> tuple[int, int, int]:
        return self.on_hand, self.reserved, self.safety


class LedgerMachine(RuleBasedStateMachine):
    """`open_container` gives a container on an empty, migrated database (set per test)."""

    open_container: Callable[[], tuple[Container, Callable[[], None]]]
    examples = 0

    @initialize()
    def setup_world(self) -> None:
        self.c, self.close = type(self).open_container()
        # Fresh products and warehouses per example, so a shared database needs no truncation in between.
        n = LedgerMachine.examples = LedgerMachine.examples + 1
        with self.c.db.write() as conn:
            self.products = [add_product(conn, at=NOW, sku=f"P-{n}-{i}") for i in range(PRODUCTS)]
            # Priorities opposite to ids, like a real setup where a newer warehouse is preferred.
            self.warehouses = [add_warehouse(conn, at=NOW, code=f"W-{n}-{i}", priority=100 - i)
                               for i in range(WAREHOUSES)]
        self.model = {(p, w): Level() for p in range(PRODUCTS) for w in range(WAREHOUSES)}
        self.movements = 0

    def teardown(self) -> None:
        if hasattr(self, "close"):
            self.close()

    # -- helpers ------------------------------------------------------------------------------------------

    def _run(self, op: Callable[[Any], Any], expected_error: str | None) -> Any:
        """Runs `op` in one write transaction; the refusal (code) must be the one the model predicts."""
        try:
            with self.c.db.write() as conn:
                result = op(conn)
        except DomainError as exc:
            assert expected_error is not None, f"refused with {exc.code}: {exc.message}"
            assert exc.code == expected_error, (exc.code, expected_error)
            return None
        assert expected_error is None, f"accepted, but the model expected {expected_error}"
        return result

    def _ids(self, p: int, w: int) -> tuple[int, int]:
        return self.products[p], self.warehouses[w]

    # -- rules --------------------------------------------------------------------------------------------

    @rule(p=products_, w=warehouses_, q=quantities)
    def receive(self, p: int, w: int, q: int) -> None:
        error = "invalid_quantity" if q <= 0 else None
        self._run(lambda conn: ledger.receive(conn, *self._ids(p, w), q, MOVE), error)
        if error is None:
            self.model[p, w].on_hand += q
            self.movements += 1

    @rule(p=products_, w=warehouses_, delta=st.integers(-12, 12))
    def adjust(self, p: int, w: int, delta: int) -> None:
        level = self.model[p, w]
        error = ("invalid_quantity" if delta == 0
                 else "below_reserved" if level.on_hand + delta < level.reserved else None)
        self._run(lambda conn: ledger.adjust(conn, *self._ids(p, w), delta, MOVE), error)
        if error is None:
            level.on_hand += delta
            self.movements += 1

    @rule(p=products_, w=warehouses_, counted=st.integers(-1, 20))
    def count(self, p: int, w: int, counted: int) -> None:
        level = self.model[p, w]
        error = ("invalid_quantity" if counted < 0
                 else "below_reserved" if counted < level.reserved else None)
        delta = self._run(lambda conn: ledger.count(conn, *self._ids(p, w), counted, MOVE), error)
        if error is None:
            assert delta == counted - level.on_hand
            if delta:
                self.movements += 1
            level.on_hand = counted

    @rule(p=products_, source=warehouses_, q=quantities)
    def transfer(self, p: int, source: int, q: int) -> None:
        target = 1 - source
        src, dst = self.model[p, source], self.model[p, target]
        # Only free stock moves: not reserved, not safety stock.
        free = src.on_hand - src.reserved - src.safety
        error = "invalid_quantity" if q <= 0 else "insufficient_stock" if free < q else None
        self._run(lambda conn: ledger.transfer(conn, self.products[p], self.warehouses[source],
                                               self.warehouses[target], q, MOVE), error)
        if error is None:
            src.on_hand -= q
            dst.on_hand += q
            self.movements += 2

    @rule(p=products_, w=warehouses_, safety=st.integers(-1, 8))
    def set_safety(self, p: int, w: int, safety: int) -> None:
        error = "invalid_quantity" if safety < 0 else None
        self._run(lambda conn: ledger.set_safety(conn, *self._ids(p, w), safety, NOW), error)
        if error is None:
            self.model[p, w].safety = safety

    @rule(p=products_, w=warehouses_, q=quantities)
    def reserve(self, p: int, w: int, q: int) -> None:
        level = self.model[p, w]
        atp = level.on_hand - level.reserved - level.safety
        with self.c.db.read() as conn:
            assert ledger.available(conn, *self._ids(p, w)) == max(0, atp)
        got = self._run(lambda conn: ledger.try_reserve(conn, *self._ids(p, w), q, MOVE),
                        "invalid_quantity" if q <= 0 else None)
        if q <= 0:
            return
        assert got is (atp >= q), f"try_reserve({q}) returned {got} with ATP {atp} ({level.as_tuple()})"
        if got:
            level.reserved += q
            self.movements += 1

    @rule(takes=st.lists(st.tuples(products_, warehouses_, st.integers(1, 6)), min_size=1, max_size=4))
    def reserve_batch(self, takes: list[tuple[int, int, int]]) -> None:
        """A batch of reservations as order intake books them: all or nothing, one UPDATE per balance."""
        totals: dict[tuple[int, int], int] = {}
        for p, w, q in takes:
            totals[p, w] = totals.get((p, w), 0) + q
        fits = all(self.model[key].on_hand - self.model[key].reserved - self.model[key].safety >= units
                   for key, units in totals.items())
        self._run(lambda conn: ledger.reserve_many(conn, [(*self._ids(p, w), q, MOVE) for p, w, q in takes]),
                  None if fits else "insufficient_stock")
        if fits:
            for key, units in totals.items():
                self.model[key].reserved += units
            self.movements += len(takes)

    @rule(p=products_, w=warehouses_, q=quantities)
    def release(self, p: int, w: int, q: int) -> None:
        level = self.model[p, w]
        error = "invalid_quantity" if q <= 0 else "not_reserved" if level.reserved < q else None
        self._run(lambda conn: ledger.release(conn, *self._ids(p, w), q, MOVE), error)
        if error is None:
            level.reserved -= q
            self.movements += 1

    @rule(p=products_, w=warehouses_, q=quantities)
    def ship(self, p: int, w: int, q: int) -> None:
        level = self.model[p, w]
        error = "invalid_quantity" if q <= 0 else "not_reserved" if level.reserved < q else None
        self._run(lambda conn: ledger.ship(conn, *self._ids(p, w), q, MOVE), error)
        if error is None:
            level.reserved -= q
            level.on_hand -= q
            self.movements += 1

    # -- invariants ---------------------------------------------------------------------------------------

    @invariant()
    def database_matches_model_and_ledger(self) -> None:
        if not hasattr(self, "c"):
            return
        with self.c.db.read() as conn:
            rows = {(r.product_id, r.warehouse_id): (r.on_hand, r.reserved, r.safety) for r in conn.execute(
                select(stock_levels.c.product_id, stock_levels.c.warehouse_id, stock_levels.c.on_hand,
                       stock_levels.c.reserved, stock_levels.c.safety))}
            movements = conn.execute(select(func.count()).select_from(stock_movements).where(
                stock_movements.c.product_id.in_(self.products))).scalar_one()
            differences = ledger.verify(conn)  # every balance in the database, earlier examples' too
        for (p, w), level in self.model.items():
            on_hand, reserved, safety = rows.get(self._ids(p, w), (0, 0, 0))
            assert 0 <= reserved <= on_hand, (p, w, on_hand, reserved)
            assert 0 <= level.reserved <= level.on_hand, (p, w, level.as_tuple())
            assert (on_hand, reserved, safety) == level.as_tuple(), (p, w)
        assert movements == self.movements
        assert differences == []


def _sqlite_opener(template: Path) -> Callable[[], tuple[Container, Callable[[], None]]]:
    def open_container() -> tuple[Container, Callable[[], None]]:
        folder = tempfile.mkdtemp()
        db_file = Path(folder) / "ledger.db"
        shutil.copy(template, db_file)
        c = build(Settings(database_url=f"sqlite:///{db_file}", relay_enabled=False, auto_migrate=False),
                  clock=FixedClock(NOW))

        def close() -> None:
            c.db.dispose()
            shutil.rmtree(folder, ignore_errors=True)

        return c, close

    return open_container


def _pg_opener(c: Container) -> Callable[[], tuple[Container, Callable[[], None]]]:
    _truncate_pg(c)  # once: examples share the database (and one engine), each with its own products

    def open_container() -> tuple[Container, Callable[[], None]]:
        return c, lambda: None

    return open_container


def test_random_stock_operations_keep_balances_model_and_ledger_in_step(backend: str,
                                                                        request: pytest.FixtureRequest) -> None:
    pg: Container | None = None
    if backend == "sqlite":
        LedgerMachine.open_container = staticmethod(_sqlite_opener(request.getfixturevalue("sqlite_template")))
    else:
        pg = build(Settings(database_url=request.getfixturevalue("pg_database"), relay_enabled=False,
                            auto_migrate=False), clock=FixedClock(NOW))
        LedgerMachine.open_container = staticmethod(_pg_opener(pg))
    # PostgreSQL commits cost more than SQLite ones here; fewer examples keep it a few seconds.
    LedgerMachine.TestCase.settings = settings(
        max_examples=30 if backend == "sqlite" else 12, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    try:
        LedgerMachine.TestCase().runTest()
    finally:
        if pg is not None:
            pg.db.dispose()


def test_a_transfer_out_keeps_safety_stock(sqlite_template: Path) -> None:
    c, close = _sqlite_opener(sqlite_template)()
    try:
        with c.db.write() as conn:
            product = add_product(conn, at=NOW, sku="P-S")
            source = add_warehouse(conn, at=NOW, code="W-A")
            target = add_warehouse(conn, at=NOW, code="W-B")
            ledger.receive(conn, product, source, 10, MOVE)
            ledger.set_safety(conn, product, source, 4, NOW)
        with pytest.raises(DomainError) as refused, c.db.write() as conn:
            ledger.transfer(conn, product, source, target, 8, MOVE)  # only 6 are free of safety stock
        assert refused.value.code == "insufficient_stock"
    finally:
        close()
