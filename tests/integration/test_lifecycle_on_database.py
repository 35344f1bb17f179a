"""Random sequences of lifecycle actions through the real handlers and database: the stored order is
always in a legal state, and every stage it ever reached is on its timeline, in order."""

from __future__ import annotations

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from conveyor.bootstrap import build
from conveyor.kernel.clock import FixedClock
from conveyor.kernel.errors import DomainError
from conveyor.orders import handlers
from conveyor.orders.commands import MoveOrder, PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.orders.lifecycle import TERMINAL, Action, LifecycleState, Stage, transition
from conveyor.orders.tables import order_timeline, orders
from conveyor.settings import Settings
from conveyor.testing.factories import SAMPLE_ADDRESS, seed_basics
from tests.conftest import NOW


class LifecycleOnDatabase(RuleBasedStateMachine):
    template: Path

    @initialize()
    def place(self) -> None:
        self.folder = tempfile.mkdtemp()
        db_file = Path(self.folder) / "c.db"
        shutil.copy(self.template, db_file)
        self.c = build(Settings(database_url=f"sqlite:///{db_file}", relay_enabled=False), clock=FixedClock(NOW))
        with self.c.db.write() as conn:
            seed_basics(conn, at=NOW)
        draft = OrderDraft(channel="api", customer="C-001", currency="EUR", ship_to=SAMPLE_ADDRESS,
                           lines=(LineDraft("SKU-1", 1, Decimal("1.00")),))
        self.order_id = handlers.place_order(PlaceOrder(draft=draft, actor="user:t@x"), uow=self.c.uow(),
                                             config=self.c.lifecycle).order_id
        self.model = LifecycleState(Stage.RECEIVED)
        self.reached = [Stage.RECEIVED]

    @rule(action=st.sampled_from(list(Action)), reason=st.sampled_from([None, "", "a reason"]))
    def act(self, action: Action, reason: str | None) -> None:
        try:
            expected = transition(self.model, action, reason=reason)
        except DomainError:
            expected = None
        try:
            handlers.move_order(MoveOrder(order_id=self.order_id, action=action.value, actor="user:t@x",
                                          reason=reason), uow=self.c.uow(), config=self.c.lifecycle)
        except DomainError:
            assert expected is None, f"{action} refused but the state machine allows it from {self.model}"
            return
        assert expected is not None, f"{action} accepted from {self.model}"
        self.model = expected
        self.reached.append(expected.stage)

    @invariant()
    def stored_state_matches_and_timeline_has_every_reached_stage(self) -> None:
        with self.c.db.read() as conn:
            row = conn.execute(select(orders.c.stage, orders.c.held_from, orders.c.stage_due_at)
                               .where(orders.c.id == self.order_id)).one()
            timeline = [r.to_stage for r in conn.execute(
                select(order_timeline.c.to_stage).where(order_timeline.c.order_id == self.order_id,
                                                        order_timeline.c.kind.in_(["created", "transition"]))
                .order_by(order_timeline.c.id))]
        assert row.stage == self.model.stage.value
        assert (row.held_from is not None) == (row.stage == Stage.ON_HOLD.value)
        assert timeline == [s.value for s in self.reached]
        if Stage(row.stage) in TERMINAL:
            assert row.stage_due_at is None

    def teardown(self) -> None:
        if hasattr(self, "c"):
            self.c.db.dispose()
            shutil.rmtree(self.folder, ignore_errors=True)


def test_random_action_sequences_keep_the_stored_lifecycle_legal(sqlite_template: Path) -> None:
    LifecycleOnDatabase.template = sqlite_template
    LifecycleOnDatabase.TestCase.settings = settings(
        max_examples=25, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    LifecycleOnDatabase.TestCase().runTest()
