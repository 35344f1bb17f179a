"""Review inside the intake transaction: good orders are approved and reserved untouched, the ones a rule stops
go on hold with the reason, an exception-queue case and no stock taken (unless their channel reserves first),
and every result is on the timeline with rule ids and versions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from conveyor.channels.tables import channels
from conveyor.inventory import ledger
from conveyor.inventory.tables import reservations
from conveyor.kernel.errors import Conflict
from conveyor.orders import handlers
from conveyor.orders.commands import MoveOrder, PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.orders.tables import order_timeline, orders
from conveyor.platform.outbox import outbox
from conveyor.review.decide import continue_after_review
from conveyor.review.tables import order_holds, order_reviews, review_cases
from conveyor.testing.factories import SAMPLE_ADDRESS
from conveyor.testing.review import publish_rules


def publish(container: Any, *rules: dict[str, Any]) -> int:
    """A published rule set with these rules (kind, params, outcome, reason...), numbered R1, R2, ..."""
    return publish_rules(container, [dict(
        rule_no=no, version=rule.get("version", 1), name=rule.get("name", f"rule {no}"), kind=rule["kind"],
        params=rule.get("params", {}), outcome=rule.get("outcome", "hold"), reason=rule.get("reason", "other"),
        check_name=rule.get("check"), priority=rule.get("priority", 10 * no), enabled=rule.get("enabled", True))
        for no, rule in enumerate(rules, start=1)])


BIG = {"kind": "order_value", "params": {"threshold": "100.00"}, "reason": "order_value", "name": "Big orders"}


def place(container: Any, lines: list[tuple[str, int]], *, price: str = "2.50", customer: str = "C-001",
          channel: str = "api", **kw: Any) -> Any:
    draft = OrderDraft(channel=channel, customer=customer, currency="EUR", ship_to=kw.pop("ship_to", SAMPLE_ADDRESS),
                       lines=tuple(LineDraft(s, q, Decimal(price)) for s, q in lines), **kw)
    return handlers.place_order(PlaceOrder(draft=draft, actor="user:t@x"), uow=container.uow(),
                                config=container.lifecycle, rules=container.review_rules)


def read(container: Any, order_id: int) -> dict[str, Any]:
    with container.db.read() as conn:
        order = conn.execute(select(orders).where(orders.c.id == order_id)).one()
        timeline = conn.execute(select(order_timeline).where(order_timeline.c.order_id == order_id)
                                .order_by(order_timeline.c.id)).all()
        reserved = conn.execute(select(func.coalesce(func.sum(reservations.c.quantity), 0))
                                .where(reservations.c.order_id == order_id,
                                       reservations.c.status == "active")).scalar_one()
        holds = conn.execute(select(order_holds).where(order_holds.c.order_id == order_id)).all()
        case = conn.execute(select(review_cases).where(review_cases.c.order_id == order_id)).first()
        reviews = conn.execute(select(order_reviews).where(order_reviews.c.order_id == order_id)).all()
        problems = ledger.verify(conn)
    return dict(order=order, timeline=timeline, reserved=int(reserved), holds=holds, case=case, reviews=reviews,
                problems=problems)


def test_without_a_published_rule_set_orders_wait_in_received_for_a_person(container, seeded):
    placed = place(container, [("SKU-1", 1)])
    got = read(container, placed.order_id)
    assert got["order"].stage == "received" and got["reviews"] == [] and got["reserved"] == 1


def test_a_good_order_is_approved_and_reserved_untouched_with_every_step_on_the_timeline(container, seeded):
    set_id = publish(container, BIG, {"kind": "country_mismatch", "reason": "fraud"})
    placed = place(container, [("SKU-1", 2)])
    got = read(container, placed.order_id)
    assert got["order"].stage == "reserved" and got["reserved"] == 2 and got["case"] is None
    steps = [(t.kind, t.action, t.to_stage) for t in got["timeline"]]
    assert steps == [("created", None, "received"), ("transition", "review", "under_review"),
                     ("decision", None, None), ("transition", "approve", "approved"), ("decision", None, None),
                     ("transition", "reserve", "reserved")]
    review = got["timeline"][2]
    assert review.actor == "system:review" and f"rule set {set_id}" in review.reason
    assert review.data["review"]["results"] == [[1, 1, "passed"], [2, 1, "passed"]]
    assert got["reviews"][0].approved and got["reviews"][0].rule_set_id == set_id
    assert placed.stored is not None and placed.stored.order["stage"] == "reserved"  # the API answers from it


def test_an_order_a_rule_stops_is_held_with_the_reason_a_case_and_no_stock_taken(container, seeded):
    publish(container, BIG)
    placed = place(container, [("SKU-1", 3)], price="50.00")
    got = read(container, placed.order_id)
    order = got["order"]
    assert (order.stage, order.held_from) == ("on_hold", "under_review")
    assert got["reserved"] == 0 and got["problems"] == []
    [hold] = got["holds"]
    assert (hold.reason, hold.rule_no, hold.rule_version, hold.outcome) == ("order_value", 1, 1, "hold")
    assert "150.00" in hold.message
    case = got["case"]
    assert (case.status, case.reason, case.role) == ("open", "order_value", "customer_service")
    assert case.due_at is not None and case.due_at > case.opened_at
    held = got["timeline"][-1]
    assert (held.action, held.actor) == ("hold", "system:review") and "R1 v1" in held.reason


def test_an_approved_held_order_gets_its_stock_when_a_person_lets_it_go_on(container, seeded):
    publish(container, BIG)
    placed = place(container, [("SKU-1", 3)], price="50.00")
    uow = container.uow()
    with uow:
        after = continue_after_review(uow, placed.order_id, actor="user:boss@x", reason="known customer",
                                      lifecycle=container.lifecycle.get(uow.conn))
    assert after.stage.value == "reserved"
    got = read(container, placed.order_id)
    assert got["reserved"] == 3 and got["problems"] == []


def test_a_channel_that_reserves_before_review_holds_the_stock_of_held_orders(container, seeded):
    publish(container, BIG)
    with container.db.write() as conn:
        conn.execute(update(channels).where(channels.c.code == "api").values(reserve_before_review=True))
    placed = place(container, [("SKU-1", 3)], price="50.00")
    got = read(container, placed.order_id)
    assert got["order"].stage == "on_hold" and got["reserved"] == 3


def test_a_rule_that_errors_holds_the_order_and_never_approves_it(container, seeded):
    publish(container, {"kind": "order_value", "params": {"threshold": "not money"}, "reason": "order_value"},
            {"kind": "order_value", "params": {"threshold": "0"}, "outcome": "approve", "priority": 50})
    placed = place(container, [("SKU-1", 1)])
    got = read(container, placed.order_id)
    assert got["order"].stage == "on_hold"
    assert [h.reason for h in got["holds"]] == ["rule_error"]
    assert got["case"].role == "manager"


def test_an_approve_rule_above_the_others_lets_its_orders_through(container, seeded):
    publish(container, {"kind": "condition", "outcome": "approve", "reason": "other", "priority": 1,
                        "params": {"match": "all", "clauses": [{"fact": "customer.account", "op": "eq",
                                                                 "value": "C-001"}]}}, BIG)
    assert read(container, place(container, [("SKU-1", 3)], price="50.00").order_id)["order"].stage == "reserved"
    held = place(container, [("SKU-1", 3)], price="50.00", customer="C-002")
    assert read(container, held.order_id)["order"].stage == "on_hold"


def test_the_duplicate_rule_decides_about_probable_duplicates(container, seeded):
    publish(container, {"kind": "probable_duplicate", "reason": "duplicate"})
    first = place(container, [("SKU-1", 1)], external_id="WEB-1")
    container.duplicate_window_hours = 24
    draft = OrderDraft(channel="api", customer="C-001", currency="EUR", ship_to=SAMPLE_ADDRESS, external_id="WEB-2",
                       lines=(LineDraft("SKU-1", 1, Decimal("2.50")),))
    second = handlers.place_order(PlaceOrder(draft=draft, actor="user:t@x"), uow=container.uow(),
                                  config=container.lifecycle, rules=container.review_rules,
                                  duplicate_window=timedelta(hours=24))
    assert read(container, first.order_id)["order"].stage == "reserved"
    got = read(container, second.order_id)
    assert got["order"].stage == "on_hold" and [h.reason for h in got["holds"]] == ["duplicate"]
    assert f"SO-{first.order_id:06d}" in got["holds"][0].message


def test_velocity_counts_the_customers_earlier_orders_of_the_same_batch(container, seeded):
    publish(container, {"kind": "velocity", "params": {"max_orders": 2, "hours": 1, "per": "customer"},
                        "reason": "fraud"})
    draft = OrderDraft(channel="api", customer="C-001", currency="EUR", ship_to=SAMPLE_ADDRESS,
                       lines=(LineDraft("SKU-1", 1, Decimal("2.50")),))
    out = handlers.place_orders([PlaceOrder(draft=draft, actor="user:t@x") for _ in range(4)], uow=container.uow(),
                                config=container.lifecycle, rules=container.review_rules)
    stages = [read(container, o.order_id)["order"].stage for o in out]
    assert stages == ["reserved", "reserved", "on_hold", "on_hold"]


def test_the_generic_release_cannot_bypass_the_exception_queue(container, seeded):
    publish(container, BIG)
    placed = place(container, [("SKU-1", 3)], price="50.00")
    try:
        handlers.move_order(MoveOrder(order_id=placed.order_id, action="release", actor="user:cs@x"),
                            uow=container.uow(), config=container.lifecycle)
    except Conflict as exc:
        assert exc.code == "review_case_open"
    else:
        raise AssertionError("released around the queue")
    handlers.move_order(MoveOrder(order_id=placed.order_id, action="cancel", actor="user:cs@x", reason="fraud"),
                        uow=container.uow(), config=container.lifecycle)
    got = read(container, placed.order_id)
    assert got["order"].stage == "cancelled" and got["case"].status == "closed"
    assert got["case"].resolution == "cancelled" and all(h.cleared_at is not None for h in got["holds"])


def test_approved_orders_publish_their_stage_change(container, seeded):
    publish(container, BIG)
    placed = place(container, [("SKU-1", 1)])
    with container.db.read() as conn:
        events = conn.execute(select(outbox.c.event).where(outbox.c.key == str(placed.order_id))
                              .order_by(outbox.c.id)).scalars().all()
    assert events == ["order.placed", "order.stage_changed"]


def test_a_manager_sets_a_channel_to_reserve_before_review_through_the_api(client, auth, container, seeded):
    url = f"/api/v1/channels/{seeded['channels']['api']}"
    answer = client.patch(url, json={"reserve_before_review": True}, headers=auth("manager"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["reserve_before_review"] is True
    bad = client.patch(url, json={"reserve_before_review": "sometimes"}, headers=auth("manager"))
    assert bad.status_code == 422


def test_what_if_facts_see_the_exposure_as_it_stood_when_each_order_was_placed(container, seeded):
    from conveyor.review.catalogue import FactNeeds
    from conveyor.review.facts import facts_for_orders

    first = place(container, [("SKU-1", 4)], price="10.00")   # 40.00, open when the second arrives
    container.clock.advance(timedelta(hours=1))
    second = place(container, [("SKU-1", 1)], price="10.00")
    container.clock.advance(timedelta(hours=1))
    handlers.move_order(MoveOrder(order_id=first.order_id, action="cancel", actor="user:t@x", reason="changed mind"),
                        uow=container.uow(), config=container.lifecycle)
    with container.db.read() as conn:
        facts = facts_for_orders(conn, [first.order_id, second.order_id], FactNeeds(exposure=True))
    assert facts[first.order_id].history.open_exposure_minor == 0
    assert facts[second.order_id].history.open_exposure_minor == 4000  # the first was still open then
