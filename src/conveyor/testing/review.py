"""Review rules and held orders for tests and demos: a published rule set written straight into the tables (as
publishing would leave it), and orders placed through the real intake so the rules hold them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, update

from conveyor.bootstrap import Container
from conveyor.orders import handlers
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.review.tables import review_rule_sets, review_rules

# A rule set most tests can use: a veto on large orders, a named check on mid-sized ones, and an address rule.
ORDER_VALUE_VETO: dict[str, Any] = {
    "rule_no": 3, "version": 2, "name": "Large order", "kind": "order_value", "params": {"threshold": "500.00"},
    "outcome": "hold", "reason": "order_value", "check_name": None, "priority": 10}
CALL_CHECK: dict[str, Any] = {
    "rule_no": 5, "version": 1, "name": "Mid-sized order", "kind": "order_value", "params": {"threshold": "200.00"},
    "outcome": "check", "reason": "check", "check_name": "Call the customer", "priority": 20}
PHONE_NEEDED: dict[str, Any] = {
    "rule_no": 7, "version": 1, "name": "Carrier needs a phone", "kind": "address_fields",
    "params": {"fields": ["phone"], "countries": []}, "outcome": "hold", "reason": "address", "check_name": None,
    "priority": 30}
STANDARD = (ORDER_VALUE_VETO, CALL_CHECK, PHONE_NEEDED)

ADDRESS = {"name": "Anna de Vries", "line1": "Prinsengracht 263", "city": "Amsterdam", "postal_code": "1016 GV",
           "country": "NL", "phone": "+31 20 555 0101"}


def publish_rules(container: Container, rules: Sequence[Mapping[str, Any]] = STANDARD, *,
                  by: str = "user:manager@test.example") -> int:
    """Retires any published rule set, publishes one with `rules` and drops the process's cached copy."""
    at = container.clock.now()
    with container.db.write() as conn:
        conn.execute(update(review_rule_sets).where(review_rule_sets.c.status == "published").values(
            status="retired"))
        rule_set_id = int(conn.execute(insert(review_rule_sets).values(
            status="published", note="test rules", created_at=at, created_by=by, published_at=at,
            published_by=by).returning(review_rule_sets.c.id)).scalar_one())
        conn.execute(insert(review_rules), [
            {"rule_set_id": rule_set_id, "enabled": True, "check_name": None, "priority": 100, **rule}
            for rule in rules])
    container.review_rules.invalidate()
    return rule_set_id


def place(container: Container, *, unit_price: str = "10.00", quantity: int = 1, sku: str = "SKU-1",
          customer: str = "C-001", ship_to: Mapping[str, Any] | None = None, external_id: str | None = None,
          actor: str = "system:test") -> int:
    """Places one order through intake with the published rules; its id."""
    draft = OrderDraft(channel="api", customer=customer, currency="EUR", external_id=external_id,
                       ship_to=dict(ship_to or ADDRESS), lines=(LineDraft(sku, quantity, Decimal(unit_price)),))
    placed = handlers.place_order(PlaceOrder(draft=draft, actor=actor), uow=container.uow(),
                                  config=container.lifecycle, rules=container.review_rules)
    return placed.order_id
