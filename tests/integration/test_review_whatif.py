"""What-if on a real database: a rule set evaluated over the orders of a period, each with its history as it was
when it was placed, compared with what its latest review decided; nothing is written."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from conveyor.orders import handlers
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft, order_number
from conveyor.review import rulesets, whatif
from conveyor.review.store import RuleSet, draft_rule_set
from conveyor.review.tables import order_reviews, review_rule_sets
from conveyor.review.whatif import what_if
from conveyor.testing.factories import SAMPLE_ADDRESS
from tests.conftest import NOW

SINCE = NOW - timedelta(days=30)


def place(container: Any, customer: str, price: str, at: datetime) -> int:
    container.clock.set(at)
    draft = OrderDraft(channel="api", customer=customer, currency="EUR", ship_to=SAMPLE_ADDRESS,
                       lines=(LineDraft("SKU-1", 1, Decimal(price)),))
    order_id = handlers.place_order(PlaceOrder(draft=draft, actor="user:t@x"), uow=container.uow(),
                                    config=container.lifecycle).order_id
    container.clock.set(NOW)
    return order_id


def reviewed(container: Any, order_id: int, *decisions: bool) -> None:
    """Review rows for the order, oldest first: the last one is what happened."""
    with container.db.write() as conn:
        for i, approved in enumerate(decisions):
            conn.execute(insert(order_reviews).values(order_id=order_id, at=NOW + timedelta(seconds=i),
                                                      trigger="intake", rule_set_id=99, approved=approved,
                                                      results=[], micros=10))


def draft_with(container: Any, *rules: dict[str, Any]) -> RuleSet:
    for fields in rules:
        rulesets.add_rule(fields, "user:t@x", uow=container.uow())
    with container.db.read() as conn:
        found = draft_rule_set(conn)
    assert found is not None
    return found


def run(container: Any, rule_set: RuleSet, **kw: Any) -> whatif.WhatIfReport:
    with container.db.read() as conn:
        return what_if(conn, rule_set, since=SINCE, **kw)


LARGE = {"name": "Large orders", "kind": "order_value", "params": {"threshold": "500.00"}}
DUPLICATES = {"name": "Duplicates", "kind": "probable_duplicate", "priority": 10}


@pytest.fixture
def orders(container: Any, seeded: dict[str, Any]) -> dict[str, int]:
    return {
        "old": place(container, "C-001", "2000.00", NOW - timedelta(days=40)),   # before the period
        "small": place(container, "C-001", "50.00", NOW - timedelta(days=10)),
        "large": place(container, "C-002", "1500.00", NOW - timedelta(days=9)),
        "medium": place(container, "C-001", "700.00", NOW - timedelta(days=8)),
        "tiny": place(container, "C-002", "20.00", NOW - timedelta(days=1)),
    }


def test_a_rule_set_holding_large_orders_counts_and_lists_them(container, orders):
    reviewed(container, orders["large"], False, True)  # held at first, approved on review again: approved
    reviewed(container, orders["medium"], False)
    reviewed(container, orders["tiny"], True)
    rule_set = draft_with(container, LARGE, DUPLICATES)
    report = run(container, rule_set)

    assert (report.evaluated, report.would_approve, report.would_hold) == (4, 2, 2)
    assert (report.actually_approved, report.actually_held, report.not_reviewed) == (2, 1, 1)
    assert report.holds_by_reason == (("order_value", 2),)
    assert [(r.label, r.fired, r.errors) for r in report.rules] == [("R2 v1", 0, 0), ("R1 v1", 2, 0)]
    assert [o.order_id for o in report.orders] == [orders["tiny"], orders["medium"], orders["large"],
                                                   orders["small"]]  # newest first; the old one is out
    large = report.orders[2]
    assert (large.number, large.customer_account, large.customer_name, large.total_minor, large.currency) == (
        order_number(orders["large"]), "C-002", "Jansen Horeca", 150_000, "EUR")
    assert (large.would, large.reasons, large.actual, large.changed) == ("hold", ("order_value",), "approved", True)
    assert [h.label for h in large.holds] == ["R1 v1"] and "1,500.00" in large.holds[0].message
    assert [(o.order_id, o.would, o.actual) for o in report.orders if o.order_id != orders["large"]] == [
        (orders["tiny"], "approve", "approved"), (orders["medium"], "hold", "held"),
        (orders["small"], "approve", "not reviewed")]
    assert [o.order_id for o in report.changed] == [orders["large"]]
    with container.db.read() as conn:  # nothing written
        assert conn.execute(select(func.count()).select_from(order_reviews)).scalar_one() == 4
        assert conn.execute(select(func.count()).select_from(review_rule_sets)).scalar_one() == 1


def test_history_is_as_of_each_orders_own_time(container, seeded):
    early = place(container, "C-002", "10.00", NOW - timedelta(days=40))  # before the period: still history
    first = place(container, "C-001", "10.00", NOW - timedelta(days=10))
    second = place(container, "C-001", "10.00", NOW - timedelta(days=5))
    c2 = place(container, "C-002", "10.00", NOW - timedelta(days=3))
    third = place(container, "C-001", "10.00", NOW - timedelta(days=2))
    rule_set = draft_with(container, {"name": "First orders", "kind": "first_order", "params": {"threshold": "0"},
                                      "outcome": "check", "check": "call the customer"})
    report = run(container, rule_set)
    held = {o.order_id for o in report.orders if not o.would_approve}
    assert held == {first}  # today every customer has history; at the time only C-001's first order was a first
    assert {o.order_id for o in report.orders} == {first, second, c2, third} and early not in held
    assert report.holds_by_reason == (("check", 1),)


def test_orders_are_read_in_pages_and_the_newest_kept_within_the_limit(container, orders, monkeypatch):
    rule_set = draft_with(container, LARGE)
    whole = run(container, rule_set)
    monkeypatch.setattr(whatif, "PAGE", 2)
    paged = run(container, rule_set)
    assert paged == whole
    limited = run(container, rule_set, limit=2)
    assert limited.truncated and not whole.truncated
    assert [o.order_id for o in limited.orders] == [orders["tiny"], orders["medium"]]
    assert limited.holds_by_reason == (("order_value", 1),)


def test_switched_off_rules_are_not_counted_and_an_empty_period_is_empty(container, orders):
    rule_set = draft_with(container, {**LARGE, "enabled": False})
    report = run(container, rule_set)
    assert (report.evaluated, report.would_hold, report.rules) == (4, 0, ())
    with container.db.read() as conn:
        none = what_if(conn, rule_set, since=NOW + timedelta(days=1))
    assert (none.evaluated, none.orders, none.changed, none.truncated) == (0, (), (), False)


def test_the_what_if_api_answers_with_the_report(client, auth, container, orders):
    reviewed(container, orders["large"], True)
    draft_with(container, LARGE)
    response = client.post("/api/v1/review/what-if", json={"days": 30, "rule_set": "draft", "orders_limit": 2},
                           headers=auth("manager"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["evaluated"], body["would_hold"], body["changed_count"], len(body["orders"])) == (4, 2, 1, 2)
    assert body["holds_by_reason"] == [{"reason": "order_value", "orders": 2}]
    assert body["rules"] == [{"rule_no": 1, "label": "R1 v1", "name": "Large orders", "fired": 2, "errors": 0}]
    changed = body["changed"][0]
    assert (changed["number"], changed["total"], changed["would"], changed["actual"], changed["reasons"]) == (
        order_number(orders["large"]), "1500.00", "hold", "approved", ["order_value"])
    assert client.post("/api/v1/review/what-if", json={"days": 0}, headers=auth("manager")).status_code == 422
    missing = client.post("/api/v1/review/what-if", json={"rule_set": "published"}, headers=auth("manager"))
    assert (missing.status_code, missing.json()["code"]) == (404, "rule_set_not_found")
