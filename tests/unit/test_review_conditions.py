"""A manager's own conditions: which clauses may be saved (with the field at fault when not), what each operator
means, and "any line" facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conveyor.kernel.errors import ProblemCollector, ValidationFailed
from conveyor.review import conditions
from conveyor.review.catalogue import check_rule
from conveyor.review.conditions import FACTS, OPS, check_clauses, clause_met, describe
from conveyor.review.model import CustomerFacts, HistoryFacts, LineFacts, OrderFacts

AT = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


def order(**changes: Any) -> OrderFacts:
    customer = CustomerFacts(id=1, account="C-001", name="Acme", rating="B", payment_terms="net30",
                             credit_limit_minor=500_000, currency="USD", created_at=AT - timedelta(days=45))
    values: dict[str, Any] = {
        "at": AT, "channel": "web", "currency": "EUR", "total_minor": 50_000,
        "lines": (LineFacts(1, "SKU-1", 2, 20_000), LineFacts(2, "MED-1", 30, 30_000, regulated=True)),
        "ship_to": {"country": "DE", "postal_code": "10115", "city": "Berlin"}, "bill_to": {"country": "NL"},
        "address_key": "k", "customer": customer,
        "history": HistoryFacts(previous_orders=4, open_exposure_minor=120_000),
        "shipping_service": "Express", "tags": ("VIP", "b2b")}
    return OrderFacts(**(values | changes))


def clause(fact: str, op: str, value: Any) -> dict[str, Any]:
    """A clause as check_clauses normalises it."""
    problems = ProblemCollector()
    [checked] = check_clauses([{"fact": fact, "op": op, "value": value}], problems, "clauses")
    assert not problems.problems, problems.problems
    return checked


def holds(fact: str, op: str, value: Any, facts: OrderFacts | None = None) -> bool:
    return clause_met(clause(fact, op, value), facts or order())


def problems_of(clauses: Any) -> set[tuple[str, str | None]]:
    problems = ProblemCollector()
    check_clauses(clauses, problems, "params.clauses")
    return {(p.code, p.field) for p in problems.problems}


# What may be saved -------------------------------------------------------------------------------------------

def test_every_fact_has_operators_a_label_and_a_getter_that_works_on_an_order():
    assert len(FACTS) >= 22
    for name, (type_, label, getter) in FACTS.items():
        assert OPS[type_] and label, name
        getter(order())


def test_an_unknown_fact_or_operator_is_reported_at_its_clause():
    assert problems_of([{"fact": "order.total", "op": "ge", "value": "1"},
                        {"fact": "order.mood", "op": "eq", "value": "x"},
                        {"fact": "order.total", "op": "contains", "value": "1"},
                        {"fact": "order.tags", "op": "gt", "value": "x"}]) == {
        ("unknown_fact", "params.clauses.1.fact"), ("invalid_operator", "params.clauses.2.op"),
        ("invalid_operator", "params.clauses.3.op")}


@pytest.mark.parametrize(("fact", "op", "value"), [
    ("order.total", "ge", "lots"),
    ("order.total", "ge", "-5"),
    ("order.total", "ge", "1.0001"),
    ("order.total", "ge", True),
    ("order.lines", "gt", "two"),
    ("order.lines", "gt", 2.5),
    ("order.channel", "eq", 5),
    ("order.channel", "in", "x" * 0),
    ("order.channel", "in", [1, 2]),
    ("order.channel", "contains", "  "),
    ("order.tags", "in", {"vip": True}),
    ("line.regulated", "is", "perhaps"),
    ("line.regulated", "is", None),
])
def test_a_value_of_the_wrong_type_is_reported_at_the_clauses_value(fact, op, value):
    problems = problems_of([{"fact": fact, "op": op, "value": value}])
    assert len(problems) == 1
    [(code, path)] = problems
    assert path == "params.clauses.0.value" and code in ("invalid_value", "required")


def test_country_values_must_be_country_codes():
    assert problems_of([{"fact": "ship_to.country", "op": "in", "value": ["cu", "XX"]}]) == {
        ("invalid_country", "params.clauses.0.value")}
    assert clause("ship_to.country", "in", ["cu", "ir", "CU"])["value"] == ["CU", "IR"]


def test_missing_parts_of_a_clause_are_required():
    assert problems_of([{"value": 1}]) == {("required", "params.clauses.0.fact"), ("required", "params.clauses.0.op")}
    assert problems_of(["order.total >= 5"]) == {("invalid_clause", "params.clauses.0")}


def test_a_condition_has_one_to_twenty_clauses():
    assert problems_of([]) == {("required", "params.clauses")}
    assert problems_of(None) == {("required", "params.clauses")}
    one = {"fact": "order.lines", "op": "ge", "value": 1}
    assert problems_of([one] * 20) == set()
    assert problems_of([one] * 21) == {("too_many_clauses", "params.clauses")}


def test_values_are_normalised():
    assert clause("order.total", "ge", 500)["value"] == "500.00"
    assert clause("order.lines", "ge", " 3 ")["value"] == 3
    assert clause("line.regulated", "is", "true")["value"] is True
    assert clause("order.channel", "in", "web, shop ,Web")["value"] == ["web", "shop"]
    assert clause("order.shipping_service", "eq", "  ")["value"] == ""   # "no service" is a value


def test_check_rule_reports_every_clauses_problems_with_full_paths():
    with pytest.raises(ValidationFailed) as failed:
        check_rule(name="x", kind="condition", outcome="hold", reason=None, check=None, priority=1, params={
            "match": "all", "clauses": [{"fact": "order.total", "op": "ge", "value": "1"},
                                        {"fact": "order.total", "op": "ge", "value": "x"},
                                        {"fact": "nope", "op": "eq", "value": 1}]})
    assert {(p.code, p.field) for p in failed.value.problems} == {
        ("invalid_value", "params.clauses.1.value"), ("unknown_fact", "params.clauses.2.fact")}


# What each operator means ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("op", "value", "expected"), [
    ("eq", "500", True), ("eq", "500.01", False), ("ne", "500", False), ("ne", "499.99", True),
    ("gt", "499.99", True), ("gt", "500", False), ("ge", "500", True), ("ge", "500.01", False),
    ("lt", "500.01", True), ("lt", "500", False), ("le", "500", True), ("le", "499.99", False),
])
def test_money_comparisons_are_exact_to_the_minor_unit(op, value, expected):
    assert holds("order.total", op, value) is expected


def test_money_is_read_in_the_facts_own_currency():
    yen = order(currency="JPY", total_minor=500)
    assert holds("order.total", "ge", "500", yen)
    assert not holds("order.total", "ge", "500.5", yen)
    assert holds("customer.credit_limit", "eq", "5000", order(currency="JPY"))   # customer's USD
    assert holds("customer.open_exposure", "gt", "1199.99")


@pytest.mark.parametrize(("fact", "op", "value", "expected"), [
    ("order.lines", "eq", 2, True), ("order.units", "ge", 32, True), ("order.units", "gt", 32, False),
    ("customer.previous_orders", "lt", 5, True), ("customer.age_days", "eq", 45, True),
    ("customer.age_days", "le", 44, False), ("order.lines", "ne", 2, False),
])
def test_whole_number_comparisons(fact, op, value, expected):
    assert holds(fact, op, value) is expected


@pytest.mark.parametrize(("fact", "op", "value", "expected"), [
    ("order.channel", "eq", "WEB", True), ("order.channel", "ne", "Web", False),
    ("order.shipping_service", "eq", "express", True), ("order.currency", "in", ["usd", "eur"], True),
    ("order.currency", "not_in", ["usd", "eur"], False), ("ship_to.postal_code", "starts_with", "101", True),
    ("ship_to.postal_code", "starts_with", "01", False), ("ship_to.city", "contains", "ERL", True),
    ("customer.account", "contains", "002", False), ("bill_to.country", "eq", "nl", True),
    ("customer.rating", "in", ["A", "b"], True), ("customer.payment_terms", "not_in", ["prepaid"], True),
])
def test_text_comparisons_ignore_case(fact, op, value, expected):
    assert holds(fact, op, value) is expected


def test_a_missing_shipping_service_is_the_empty_text():
    assert holds("order.shipping_service", "eq", "", order(shipping_service=None))
    assert not holds("order.shipping_service", "in", ["express"], order(shipping_service=None))


@pytest.mark.parametrize(("fact", "op", "value", "expected"), [
    ("order.tags", "contains", "vip", True), ("order.tags", "contains", "vi", False),
    ("order.tags", "not_contains", "probable-duplicate", True), ("order.tags", "not_contains", "B2B", False),
    ("order.tags", "in", ["wholesale", "b2b"], True), ("order.tags", "in", ["wholesale"], False),
    ("line.sku", "contains", "med-1", True), ("line.sku", "not_contains", "MED-1", False),
    ("line.sku", "in", ["MED-1", "MED-2"], True), ("line.sku", "in", ["MED-2"], False),
])
def test_list_facts_look_for_elements(fact, op, value, expected):
    assert holds(fact, op, value) is expected


# "Any line" facts --------------------------------------------------------------------------------------------

def test_a_line_fact_is_met_when_any_line_meets_it():
    assert holds("line.quantity", "ge", 30)        # line 2 has 30
    assert holds("line.quantity", "lt", 3)         # line 1 has 2
    assert not holds("line.quantity", "gt", 30)
    assert holds("line.quantity", "ne", 2)         # some line has another quantity
    assert holds("line.regulated", "is", True)
    assert not holds("line.regulated", "is", False)     # "no line is regulated" is false here
    assert holds("line.hazardous", "is", False)
    assert not holds("line.cold_chain", "is", True)


def test_an_order_without_lines_meets_no_line_clause():
    empty = order(lines=())
    assert not holds("line.quantity", "ge", 0, empty)
    assert not holds("line.sku", "contains", "SKU-1", empty)
    assert holds("line.regulated", "is", False, empty)


# Words -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fact", "op", "value", "words"), [
    ("order.total", "ge", "500", "order total ≥ 500.00"),
    ("order.total", "lt", "12500", "order total < 12,500.00"),
    ("order.lines", "ne", 3, "number of lines ≠ 3"),
    ("ship_to.country", "in", ["CU", "IR"], "ship-to country is one of CU, IR"),
    ("order.channel", "eq", "web", "sales channel = “web”"),
    ("order.tags", "not_contains", "vip", "order tags does not contain “vip”"),
    ("line.regulated", "is", True, "a line is regulated"),
    ("line.regulated", "is", False, "no line is regulated"),
])
def test_a_clause_reads_as_words(fact, op, value, words):
    assert describe(clause(fact, op, value)) == words


def test_an_unknown_fact_at_evaluation_is_an_error_not_a_pass():
    with pytest.raises(KeyError):
        clause_met({"fact": "order.mood", "op": "eq", "value": "happy"}, order())
    with pytest.raises(ValueError):
        conditions.compile_clause({"fact": "order.total", "op": "contains", "value": "1"})
