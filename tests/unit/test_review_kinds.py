"""The built-in review rule kinds, as business rules: when each one is met (and so holds the order), where its
boundaries are, and the rules a manager may save (catalogue.check_rule)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from conveyor.kernel.errors import ValidationFailed
from conveyor.review import kinds
from conveyor.review.catalogue import KINDS, check_rule, fact_needs, rule_from_fields, standard_rules
from conveyor.review.model import (
    CustomerFacts,
    HistoryFacts,
    Licence,
    LineFacts,
    OrderFacts,
    Outcome,
    Reason,
    Rule,
    RuleKind,
)

AT = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def customer(**changes: Any) -> CustomerFacts:
    values: dict[str, Any] = {
        "id": 1, "account": "C-001", "name": "Acme", "rating": "B", "payment_terms": "net30",
        "credit_limit_minor": 1_000_000, "currency": "EUR", "created_at": AT - timedelta(days=400)}
    return CustomerFacts(**(values | changes))


def line(line_no: int = 1, sku: str = "SKU-1", quantity: int = 1, **changes: Any) -> LineFacts:
    return LineFacts(line_no=line_no, sku=sku, quantity=quantity, total_minor=changes.pop("total_minor", 1000),
                     **changes)


def address(**changes: Any) -> dict[str, Any]:
    values = {"name": "Ann Smith", "company": None, "line1": "Hauptstraße 1", "line2": None, "city": "Berlin",
              "postal_code": "10115", "country": "DE", "region": None, "phone": "+49 30 1234", "email": None}
    return values | changes


def order(**changes: Any) -> OrderFacts:
    """An ordinary order from a long-standing customer; each test changes what it is about."""
    values: dict[str, Any] = {
        "at": AT, "channel": "web", "currency": "EUR", "total_minor": 10_000, "lines": (line(),),
        "ship_to": address(), "bill_to": address(), "address_key": "home", "customer": customer(),
        "history": HistoryFacts(previous_orders=10, previous_total_minor=100_000, previous_in_currency=10),
        "shipping_service": "express"}
    return OrderFacts(**(values | changes))


def rule(kind: RuleKind, outcome: str = "hold", **params: Any) -> Rule:
    """A rule as a manager would save it: through check_rule, with a fresh rule number."""
    fields = check_rule(name=f"{kind} rule", kind=kind.value, params=params, outcome=outcome, reason=None,
                        check="call the customer" if outcome == "check" else None, priority=10)
    return rule_from_fields(next(_numbers), 1, True, fields)


def met(kind: RuleKind, facts: OrderFacts, **params: Any) -> bool:
    return kinds.CHECKS[kind](rule(kind, **params), facts)[0]


def message(kind: RuleKind, facts: OrderFacts, **params: Any) -> str:
    return kinds.CHECKS[kind](rule(kind, **params), facts)[1]


def problems_of(**fields: Any) -> set[tuple[str, str | None]]:
    arguments = {"name": "A rule", "kind": "order_value", "params": {"threshold": "100"}, "outcome": "hold",
                 "reason": None, "check": None, "priority": 10} | fields
    with pytest.raises(ValidationFailed) as failed:
        check_rule(**arguments)
    return {(p.code, p.field) for p in failed.value.problems}


def test_every_kind_has_a_check_and_a_catalogue_entry():
    assert set(kinds.CHECKS) == set(RuleKind) == set(KINDS)
    for info in KINDS.values():
        assert info.label and info.description and info.group


# Credit limit ------------------------------------------------------------------------------------------------

def credit(exposure: int, total: int, limit: int = 1_000_000, **changes: Any) -> OrderFacts:
    return order(total_minor=total, history=HistoryFacts(open_exposure_minor=exposure),
                 customer=customer(credit_limit_minor=limit, **changes))


def test_exposure_plus_order_exactly_at_the_credit_limit_passes():
    assert not met(RuleKind.CREDIT_LIMIT, credit(920_000, 80_000))


def test_one_cent_over_the_credit_limit_holds_and_says_by_how_much():
    facts = credit(920_000, 150_000)
    assert met(RuleKind.CREDIT_LIMIT, credit(920_000, 80_001))
    assert message(RuleKind.CREDIT_LIMIT, facts) == (
        "open exposure 9,200.00 + this order 1,500.00 EUR exceeds credit limit 10,000.00 EUR")


def test_within_the_credit_limit_the_message_says_so():
    assert message(RuleKind.CREDIT_LIMIT, credit(0, 10_000)).startswith("within credit limit: ")


def test_an_allowance_lets_orders_go_that_far_over_the_limit():
    assert not met(RuleKind.CREDIT_LIMIT, credit(1_000_000, 100_000), allowance_percent=10)
    assert met(RuleKind.CREDIT_LIMIT, credit(1_000_000, 100_001), allowance_percent=10)
    assert "+ 10% allowance" in message(RuleKind.CREDIT_LIMIT, credit(1_000_000, 100_001), allowance_percent=10)


def test_a_prepaid_customer_never_exceeds_a_credit_limit():
    assert not met(RuleKind.CREDIT_LIMIT, credit(50_000_000, 10_000_000, limit=0, payment_terms="prepaid"))


def test_a_customer_without_credit_on_net_terms_is_held_for_any_order():
    assert met(RuleKind.CREDIT_LIMIT, credit(0, 1, limit=0))
    assert not met(RuleKind.CREDIT_LIMIT, credit(0, 0, limit=0))


def test_an_order_in_another_currency_is_compared_as_is_and_the_message_says_so():
    facts = order(currency="USD", total_minor=80_001, history=HistoryFacts(open_exposure_minor=920_000),
                  customer=customer(currency="EUR"))
    assert met(RuleKind.CREDIT_LIMIT, facts)
    text = message(RuleKind.CREDIT_LIMIT, facts)
    assert "9,200.00 EUR" in text and "800.01 USD" in text and "without conversion" in text


# Credit rating -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rating", "held"), [("A", False), ("B", False), ("C", False), ("D", True), ("E", True)])
def test_a_rating_worse_than_the_worst_allowed_holds(rating, held):
    assert met(RuleKind.CREDIT_RATING, order(customer=customer(rating=rating))) is held


def test_the_worst_allowed_rating_is_a_parameter():
    assert not met(RuleKind.CREDIT_RATING, order(customer=customer(rating="E")), worst_allowed="E")
    assert met(RuleKind.CREDIT_RATING, order(customer=customer(rating="B")), worst_allowed="a")


def test_listed_payment_terms_hold_whatever_the_rating():
    assert met(RuleKind.CREDIT_RATING, order(customer=customer(rating="A", payment_terms="net60")), terms=["net60"])
    assert not met(RuleKind.CREDIT_RATING, order(customer=customer(payment_terms="net30")), terms=["net60"])


def test_an_unknown_rating_is_treated_as_failing():
    assert met(RuleKind.CREDIT_RATING, order(customer=customer(rating="?")))


# Order value and quantity ------------------------------------------------------------------------------------

def test_an_order_at_the_threshold_is_held_one_cent_under_is_not():
    assert met(RuleKind.ORDER_VALUE, order(total_minor=100_000), threshold="1000")
    assert not met(RuleKind.ORDER_VALUE, order(total_minor=99_999), threshold="1000")
    assert message(RuleKind.ORDER_VALUE, order(total_minor=250_000), threshold="1000") == (
        "order total 2,500.00 EUR is at or over 1,000.00 EUR")


def test_the_threshold_is_read_in_the_orders_currency():
    assert met(RuleKind.ORDER_VALUE, order(currency="JPY", total_minor=1000), threshold="1000")
    assert not met(RuleKind.ORDER_VALUE, order(currency="JPY", total_minor=999), threshold="1000")
    assert met(RuleKind.ORDER_VALUE, order(currency="BHD", total_minor=1_000_000), threshold="1000")


def test_a_threshold_finer_than_the_currency_compares_exactly():
    # 1000.50 yen: 1000 yen is under it, 1001 yen over it.
    assert not met(RuleKind.ORDER_VALUE, order(currency="JPY", total_minor=1000), threshold="1000.50")
    assert met(RuleKind.ORDER_VALUE, order(currency="JPY", total_minor=1001), threshold="1000.50")


def test_units_on_the_order_at_the_limit_hold():
    lines = (line(1, quantity=6), line(2, "SKU-2", quantity=4))
    assert met(RuleKind.ORDER_QUANTITY, order(lines=lines), max_units=10)
    assert not met(RuleKind.ORDER_QUANTITY, order(lines=lines), max_units=11)


def test_units_on_one_line_at_the_limit_hold_and_the_line_is_named():
    lines = (line(1, quantity=4), line(2, "SKU-2", quantity=5), line(3, "SKU-3", quantity=4))
    assert met(RuleKind.ORDER_QUANTITY, order(lines=lines), max_line_units=5)
    assert "line 2 (SKU-2: 5)" in message(RuleKind.ORDER_QUANTITY, order(lines=lines), max_line_units=5)
    assert not met(RuleKind.ORDER_QUANTITY, order(lines=lines), max_line_units=6)


def test_a_quantity_rule_needs_at_least_one_limit():
    assert ("invalid_param", "params.max_units") in problems_of(kind="order_quantity", params={})


# First and unusual orders ------------------------------------------------------------------------------------

def first(total: int, previous: int = 0) -> OrderFacts:
    return order(total_minor=total, history=HistoryFacts(previous_orders=previous))


def test_a_first_order_at_the_threshold_needs_a_check():
    assert met(RuleKind.FIRST_ORDER, first(100_000), threshold="1000.00")
    assert not met(RuleKind.FIRST_ORDER, first(99_999), threshold="1000.00")


def test_a_second_order_is_not_a_first_order():
    assert not met(RuleKind.FIRST_ORDER, first(10_000_000, previous=1), threshold="1000.00")


def test_without_a_threshold_every_first_order_is_met():
    assert met(RuleKind.FIRST_ORDER, first(0))


def unusual(total: int, previous_in_currency: int, average: int = 10_000) -> OrderFacts:
    return order(total_minor=total, history=HistoryFacts(
        previous_orders=previous_in_currency + 2, previous_in_currency=previous_in_currency,
        previous_total_minor=average * previous_in_currency))


def test_an_order_over_five_times_the_average_is_unusual():
    assert not met(RuleKind.UNUSUAL_ORDER, unusual(50_000, 3))
    assert met(RuleKind.UNUSUAL_ORDER, unusual(50_001, 3))
    assert "over 5× the customer's average 100.00 EUR (3 orders)" in message(RuleKind.UNUSUAL_ORDER,
                                                                           unusual(50_001, 3))


def test_too_little_history_in_the_currency_is_never_unusual():
    assert not met(RuleKind.UNUSUAL_ORDER, unusual(10_000_000, 2))
    assert not met(RuleKind.UNUSUAL_ORDER, unusual(10_000_000, 0))
    assert met(RuleKind.UNUSUAL_ORDER, unusual(20_001, 1), factor=2, min_history=1)


# Address fields, postal codes, PO boxes ----------------------------------------------------------------------

@pytest.mark.parametrize("phone", [None, "", "   "])
def test_a_ship_to_without_a_phone_is_held(phone):
    assert met(RuleKind.ADDRESS_FIELDS, order(ship_to=address(phone=phone)))


def test_a_ship_to_with_the_fields_passes():
    assert not met(RuleKind.ADDRESS_FIELDS, order(ship_to=address(region="BE")), fields=["phone", "region"])
    assert message(RuleKind.ADDRESS_FIELDS, order(ship_to=address(phone=None)), fields=["phone", "region"]) == (
        "ship-to address has no phone, region")


def test_address_fields_apply_to_the_listed_countries_only():
    us = address(country="us", postal_code="10001", phone=None)
    assert met(RuleKind.ADDRESS_FIELDS, order(ship_to=us), countries=["US"])
    assert not met(RuleKind.ADDRESS_FIELDS, order(ship_to=address(phone=None)), countries=["US"])


@pytest.mark.parametrize(("country", "postal_code", "held"), [
    ("DE", "10115", False),
    ("DE", "1011", True),
    ("DE", "", True),
    ("NL", "1234 ab", False),        # case-insensitive
    ("NL", " 1234   AB ", False),    # spacing normalised
    ("NL", "1234", True),
    ("GB", "SW1A 1AA", False),
    ("HK", "", False),               # no postal codes there
    ("BR", "01310-100", False),      # no built-in format: the generic check
    ("BR", "!!", True),
])
def test_postal_codes_are_checked_against_the_countrys_format(country, postal_code, held):
    assert met(RuleKind.POSTAL_CODE, order(ship_to=address(country=country, postal_code=postal_code))) is held


def test_a_managers_pattern_replaces_the_built_in_format_for_its_country():
    facts = order(ship_to=address(country="BR", postal_code="01310100"))
    assert met(RuleKind.POSTAL_CODE, facts, patterns={"br": r"\d{5}-\d{3}"})
    assert not met(RuleKind.POSTAL_CODE, order(ship_to=address(postal_code="10115")), patterns={"BR": r"\d{8}"})
    assert met(RuleKind.POSTAL_CODE, order(ship_to=address(postal_code="10115")), patterns={"DE": r"\d{4}"})


@pytest.mark.parametrize("line1", [
    "PO Box 12", "P.O. Box 77", "p o box 5", "PO-Box 4", "POBox 9", "GPO Box 1", "POB 12", "P.O.B. 12",
    "Post Office Box 9", "Post Box No. 12", "Postfach 1234", "Boîte postale 45", "Boite Postale 3", "BP 12",
    "B.P. 12", "Apartado 123", "Apartado de Correos 5", "Apdo. 7", "Postbus 100", "Casilla de Correo 3",
])
def test_po_box_spellings_are_recognised(line1):
    assert kinds.PO_BOX.search(line1)
    assert met(RuleKind.PO_BOX, order(ship_to=address(line1=line1)))


@pytest.mark.parametrize("line1", [
    "Bp Avenue 12", "Boxhagener Straße 5", "12 Post Office Road", "Postfachstraße 3", "Pobrezna 5",
    "Apartment 4B", "Shipbox Lane 4", "Hobbs Place 2", "Bpost Centre 1", "Box Hill Road 4", "Rue de la Poste 1",
])
def test_streets_that_only_look_like_po_boxes_are_not(line1):
    assert not kinds.PO_BOX.search(line1)
    assert not met(RuleKind.PO_BOX, order(ship_to=address(line1=line1)))


def test_a_po_box_on_the_second_line_counts():
    assert met(RuleKind.PO_BOX, order(ship_to=address(line2="PO Box 5")))


def test_a_po_box_holds_only_with_the_listed_services():
    box = address(line1="PO Box 12")
    services = ["ground", "ups-ground"]
    assert met(RuleKind.PO_BOX, order(ship_to=box, shipping_service="UPS-Ground"), services=services)
    assert not met(RuleKind.PO_BOX, order(ship_to=box, shipping_service="express"), services=services)
    assert not met(RuleKind.PO_BOX, order(ship_to=box, shipping_service=None), services=services)
    assert met(RuleKind.PO_BOX, order(ship_to=box, shipping_service=None))


# New ship-to, velocity, countries, new customers --------------------------------------------------------------

def test_a_ship_to_the_customer_has_used_passes():
    assert not met(RuleKind.NEW_SHIP_TO, order(customer=customer(known_address_keys=frozenset({"home"}))))


def test_a_new_ship_to_is_held():
    facts = order(customer=customer(known_address_keys=frozenset({"office"})))
    assert met(RuleKind.NEW_SHIP_TO, facts)


def test_a_customer_without_known_addresses_is_held_and_told_why():
    assert met(RuleKind.NEW_SHIP_TO, order())
    assert message(RuleKind.NEW_SHIP_TO, order()) == "new ship-to: the customer has no known address yet"


def test_a_new_ship_to_under_the_minimum_passes():
    assert not met(RuleKind.NEW_SHIP_TO, order(total_minor=49_999), min_total="500")
    assert met(RuleKind.NEW_SHIP_TO, order(total_minor=50_000), min_total="500")


def recent(*minutes_ago: float, per: str = "customer") -> OrderFacts:
    stamps = tuple(AT - timedelta(minutes=m) for m in minutes_ago)
    history = HistoryFacts(recent_customer_orders=stamps) if per == "customer" else \
        HistoryFacts(recent_address_orders=stamps)
    return order(history=history)


def test_exactly_the_allowed_number_of_orders_within_the_hour_passes():
    assert not met(RuleKind.VELOCITY, recent(1, 10, 20, 59), max_orders=5)   # four earlier + this one


def test_one_more_order_within_the_hour_is_held():
    assert met(RuleKind.VELOCITY, recent(1, 10, 20, 30, 59), max_orders=5)
    assert message(RuleKind.VELOCITY, recent(1, 10, 20, 30, 59), max_orders=5) == (
        "6 orders from this customer within 1 hour, this one included (at most 5)")


def test_orders_outside_the_window_do_not_count():
    # exactly an hour ago is outside; an order "after" this one (clock skew) is not counted either
    assert not met(RuleKind.VELOCITY, recent(60, 60, 61, 120, -5), max_orders=1)
    assert met(RuleKind.VELOCITY, recent(59.9), max_orders=1)
    assert met(RuleKind.VELOCITY, recent(119), max_orders=1, hours=2)


def test_velocity_per_address_counts_orders_to_the_ship_to():
    assert met(RuleKind.VELOCITY, recent(5, per="address"), max_orders=1, per="address")
    assert not met(RuleKind.VELOCITY, recent(5, per="address"), max_orders=1, per="customer")


def test_different_billing_and_shipping_countries_are_held():
    assert met(RuleKind.COUNTRY_MISMATCH, order(bill_to=address(country="NL")))
    assert message(RuleKind.COUNTRY_MISMATCH, order(bill_to=address(country="NL"))) == "billed to NL, shipped to DE"
    assert not met(RuleKind.COUNTRY_MISMATCH, order(bill_to=address(country="de")))
    assert not met(RuleKind.COUNTRY_MISMATCH, order(bill_to={}))


def young(days: float, total: int) -> OrderFacts:
    return order(total_minor=total, customer=customer(created_at=AT - timedelta(days=days)))


def test_a_new_customer_with_a_large_order_is_held():
    assert met(RuleKind.NEW_CUSTOMER_HIGH_VALUE, young(29, 200_000), days=30, threshold="2000.00")
    assert met(RuleKind.NEW_CUSTOMER_HIGH_VALUE, young(29.99, 200_000), days=30, threshold="2000.00")


def test_a_customer_of_exactly_the_given_days_is_not_new():
    assert not met(RuleKind.NEW_CUSTOMER_HIGH_VALUE, young(30, 10_000_000), days=30, threshold="2000.00")


def test_a_new_customer_under_the_threshold_passes():
    assert not met(RuleKind.NEW_CUSTOMER_HIGH_VALUE, young(1, 199_999), days=30, threshold="2000.00")
    assert met(RuleKind.NEW_CUSTOMER_HIGH_VALUE, young(1, 100_000))     # default: 1000.00 within 30 days


# Licences, cold chain, export ----------------------------------------------------------------------------------

def regulated(*licences: Licence, skus: tuple[str, ...] = ("MED-1",)) -> OrderFacts:
    lines = (line(1, "PLAIN"),) + tuple(line(i + 2, sku, regulated=True) for i, sku in enumerate(skus))
    return order(lines=lines, customer=customer(licences=licences))


def test_regulated_items_without_a_licence_are_held_and_named():
    facts = regulated(skus=("MED-1", "MED-2"))
    assert met(RuleKind.LICENCE, facts)
    assert message(RuleKind.LICENCE, facts) == "regulated items MED-1, MED-2 without a valid licence on 2025-03-04"


def test_an_order_without_regulated_items_needs_no_licence():
    assert not met(RuleKind.LICENCE, order())


def test_a_licence_valid_until_the_order_date_still_counts():
    assert not met(RuleKind.LICENCE, regulated(Licence("pharmacy", "L-1", valid_until=date(2025, 3, 4))))


def test_a_licence_that_ended_the_day_before_the_order_does_not():
    assert met(RuleKind.LICENCE, regulated(Licence("pharmacy", "L-1", valid_until=date(2025, 3, 3))))


def test_a_licence_starting_after_the_order_date_does_not_count():
    assert not met(RuleKind.LICENCE, regulated(Licence("pharmacy", "L-1", valid_from=date(2025, 3, 4))))
    assert met(RuleKind.LICENCE, regulated(Licence("pharmacy", "L-1", valid_from=date(2025, 3, 5))))


def test_a_rule_may_ask_for_a_kind_of_licence():
    alcohol = Licence("alcohol", "A-1")
    assert met(RuleKind.LICENCE, regulated(alcohol), licence_kind="pharmacy")
    assert not met(RuleKind.LICENCE, regulated(alcohol, Licence("Pharmacy", "P-1")), licence_kind="pharmacy")
    assert not met(RuleKind.LICENCE, regulated(alcohol))


def chilled(service: str | None) -> OrderFacts:
    return order(lines=(line(1, "FISH-1", cold_chain=True), line(2, "BOOK")), shipping_service=service)


@pytest.mark.parametrize(("service", "held"), [
    ("chilled", False), ("Cold-Chain", False), ("ground", True), (None, True), ("", True)])
def test_cold_chain_items_need_a_temperature_controlled_service(service, held):
    assert met(RuleKind.COLD_CHAIN, chilled(service)) is held


def test_the_cold_chain_message_names_the_items():
    assert "FISH-1" in message(RuleKind.COLD_CHAIN, chilled("ground"))
    assert not met(RuleKind.COLD_CHAIN, order(shipping_service=None))


def test_shipping_to_a_restricted_country_is_held():
    assert met(RuleKind.EXPORT_RESTRICTION, order(ship_to=address(country="cu")), countries=["CU", "IR"])
    assert not met(RuleKind.EXPORT_RESTRICTION, order(), countries=["CU", "IR"])


@pytest.mark.parametrize("applies_to", ["regulated", "hazardous"])
def test_a_restriction_may_apply_only_to_regulated_or_hazardous_items(applies_to):
    to_cuba = address(country="CU")
    assert not met(RuleKind.EXPORT_RESTRICTION, order(ship_to=to_cuba), countries=["CU"], applies_to=applies_to)
    facts = order(ship_to=to_cuba, lines=(line(1, "X-1", **{applies_to: True}),))
    assert met(RuleKind.EXPORT_RESTRICTION, facts, countries=["CU"], applies_to=applies_to)


# Duplicates and conditions ---------------------------------------------------------------------------------

def test_a_probable_duplicate_is_held_naming_the_earlier_order():
    assert message(RuleKind.PROBABLE_DUPLICATE, order(duplicate_of=123)) == "probable duplicate of SO-000123"
    assert met(RuleKind.PROBABLE_DUPLICATE, order(tags=("probable-duplicate",)))
    assert not met(RuleKind.PROBABLE_DUPLICATE, order(tags=("vip",)))


def test_a_condition_rule_is_met_when_its_clauses_are():
    clauses = [{"fact": "order.total", "op": "ge", "value": "100"}, {"fact": "order.channel", "op": "eq",
                                                                     "value": "WEB"}]
    assert met(RuleKind.CONDITION, order(total_minor=10_000), clauses=clauses)
    assert not met(RuleKind.CONDITION, order(total_minor=9_999), clauses=clauses)


def test_a_rule_changed_under_the_same_number_and_version_is_not_served_stale_params():
    # Previews evaluate unsaved edits under the saved rule's number: the preparation cache must notice.
    base = rule(RuleKind.EXPORT_RESTRICTION, countries=["CU"])
    facts = order(ship_to=address(country="IR"))
    assert not kinds.export_restriction(base, facts)[0]
    changed = Rule(base.rule_no, base.version, base.name, base.kind, {"countries": ["IR"], "applies_to": "all"},
                   base.outcome, base.reason)
    assert kinds.export_restriction(changed, facts)[0]


# Checking rules (catalogue.check_rule) -----------------------------------------------------------------------

def test_check_rule_fills_defaults_and_normalises():
    fields = check_rule(name="  Velocity  ", kind="velocity", params={"max_orders": "3"}, outcome="HOLD",
                        reason=None, check="ignored", priority=5)
    assert fields == {"name": "Velocity", "kind": "velocity", "params": {"max_orders": 3, "hours": 1,
                                                                          "per": "customer"},
                      "outcome": "hold", "reason": "fraud", "check": None, "priority": 5}


def test_check_rule_normalises_money_countries_lists_and_patterns():
    fields = check_rule(name="x", kind=" Order_Value ", params={"threshold": 1000}, outcome="hold",
                        reason="OTHER", check=None, priority=0)
    assert (fields["kind"], fields["reason"], fields["params"]) == ("order_value", "other", {"threshold": "1000.00"})
    assert check_rule(name="x", kind="export_restriction", params={"countries": [" cu", "IR", "cu"]},
                      outcome="hold", reason=None, check=None, priority=0)["params"] == {
        "countries": ["CU", "IR"], "applies_to": "all"}
    assert check_rule(name="x", kind="po_box", params={"services": "ground, Ground ,express,"}, outcome="hold",
                      reason=None, check=None, priority=0)["params"] == {"services": ["ground", "express"]}
    assert check_rule(name="x", kind="postal_code", params={"patterns": {"nl": r" \d{4} ?[A-Z]{2} "}},
                      outcome="hold", reason=None, check=None, priority=0)["params"] == {
        "patterns": {"NL": r"\d{4} ?[A-Z]{2}"}}
    assert check_rule(name="x", kind="first_order", params={"threshold": "12.5"}, outcome="approve",
                      reason=None, check=None, priority=0)["params"] == {"threshold": "12.50"}


def test_check_rule_reports_every_problem_with_its_path():
    problems = problems_of(name=" ", kind="order_value", params={"threshold": "lots", "colour": "red"},
                           outcome="maybe", reason="rule_error", priority=5000)
    assert problems == {("required", "name"), ("invalid_param", "params.threshold"),
                        ("unknown_param", "params.colour"), ("invalid_outcome", "outcome"),
                        ("invalid_reason", "reason"), ("invalid_priority", "priority")}


def test_an_unknown_kind_is_reported_with_the_other_problems():
    assert problems_of(kind="astrology", name="x" * 121) == {("unknown_kind", "kind"), ("invalid_name", "name")}


@pytest.mark.parametrize(("params", "problem"), [
    ({}, ("required", "params.threshold")),
    ({"threshold": "-1"}, ("invalid_param", "params.threshold")),
    ({"threshold": "1.2345"}, ("invalid_param", "params.threshold")),
    ({"threshold": "1,000.00"}, ("invalid_param", "params.threshold")),
    ({"threshold": True}, ("invalid_param", "params.threshold")),
    ({"threshold": "NaN"}, ("invalid_param", "params.threshold")),
])
def test_money_params_must_be_plain_non_negative_amounts(params, problem):
    assert problem in problems_of(kind="order_value", params=params)


@pytest.mark.parametrize(("kind", "params", "problem"), [
    ("velocity", {"hours": 0}, ("invalid_param", "params.hours")),
    ("velocity", {"hours": 721}, ("invalid_param", "params.hours")),
    ("velocity", {"per": "planet"}, ("invalid_param", "params.per")),
    ("velocity", {"max_orders": 2.5}, ("invalid_param", "params.max_orders")),
    ("credit_rating", {"worst_allowed": "F"}, ("invalid_param", "params.worst_allowed")),
    ("credit_rating", {"terms": ["net90"]}, ("invalid_param", "params.terms.0")),
    ("address_fields", {"fields": ["phone", "shoe size"]}, ("invalid_param", "params.fields.1")),
    ("address_fields", {"fields": []}, ("required", "params.fields")),
    ("export_restriction", {"countries": ["CU", "XX"]}, ("invalid_country", "params.countries.1")),
    ("export_restriction", {}, ("required", "params.countries")),
    ("cold_chain", {"services": []}, ("required", "params.services")),
    ("cold_chain", {"services": "chilled"}, None),
    ("postal_code", {"patterns": {"NL": "(unclosed"}}, ("invalid_pattern", "params.patterns.NL")),
    ("postal_code", {"patterns": {"XX": r"\d+"}}, ("invalid_country", "params.patterns.XX")),
    ("postal_code", {"patterns": ["NL"]}, ("invalid_param", "params.patterns")),
    ("licence", {"licence_kind": 5}, ("invalid_param", "params.licence_kind")),
    ("condition", {"clauses": []}, ("required", "params.clauses")),
    ("condition", {"match": "most", "clauses": [{"fact": "order.total", "op": "ge", "value": "1"}]},
     ("invalid_param", "params.match")),
])
def test_kind_params_are_checked(kind, params, problem):
    if problem is None:
        check_rule(name="x", kind=kind, params=params, outcome="hold", reason=None, check=None, priority=0)
    else:
        assert problem in problems_of(kind=kind, params=params)


def test_a_check_outcome_needs_the_checks_name():
    assert ("check_required", "check") in problems_of(outcome="check", check="  ")
    assert ("invalid_check", "check") in problems_of(outcome="check", check="x" * 121)
    fields = check_rule(name="x", kind="first_order", params=None, outcome="check", reason=None,
                        check=" call the customer ", priority=0)
    assert fields["check"] == "call the customer"
    assert fields["params"] == {"threshold": "0.00"}


def test_system_reasons_cannot_be_chosen_and_the_kinds_reason_is_the_default():
    assert ("invalid_reason", "reason") in problems_of(reason="prepayment")
    assert ("invalid_reason", "reason") in problems_of(reason="whim")
    assert check_rule(name="x", kind="licence", params={}, outcome="hold", reason="",
                      check=None, priority=0)["reason"] == "compliance"


def test_priority_is_a_whole_number_within_a_thousand_either_way():
    assert ("invalid_priority", "priority") in problems_of(priority=True)
    assert ("invalid_priority", "priority") in problems_of(priority=-1001)
    check_rule(name="x", kind="country_mismatch", params=None, outcome="approve", reason=None, check=None,
               priority=-1000)


def test_params_must_be_an_object():
    assert ("invalid_params", "params") in problems_of(params=["threshold"])


def test_rule_from_fields_builds_the_rule_a_check_returned():
    fields = check_rule(name="First", kind="first_order", params={}, outcome="check", reason=None,
                        check="call", priority=3)
    built = rule_from_fields(7, 2, False, fields)
    assert built == Rule(7, 2, "First", RuleKind.FIRST_ORDER, {"threshold": "0.00"}, Outcome.CHECK,
                         Reason.ORDER_VALUE.value, 3, False, "call")
    stored = {k: v for k, v in fields.items() if k != "check"} | {"check_name": "call"}
    assert rule_from_fields(7, 2, False, stored) == built


# The standard rule set and what the fact loader reads -------------------------------------------------------

def test_the_standard_rules_all_pass_check_rule_and_keep_their_meaning():
    rules = standard_rules()
    assert [r["priority"] for r in rules] == list(range(10, 130, 10))
    assert {r["kind"] for r in rules} == set(RuleKind) - {RuleKind.ORDER_VALUE, RuleKind.ORDER_QUANTITY,
                                                          RuleKind.ADDRESS_FIELDS, RuleKind.POSTAL_CODE,
                                                          RuleKind.NEW_SHIP_TO, RuleKind.CONDITION}
    for raw in rules:
        arguments = {k: v for k, v in raw.items() if k != "enabled"}
        assert raw["enabled"] is True
        fields = check_rule(**arguments)
        assert fields["params"] == check_rule(**fields)["params"]   # normalised: checking again changes nothing
    first_order = next(r for r in rules if r["kind"] == "first_order")
    assert (first_order["outcome"], first_order["check"]) == ("check", "confirm first order with the customer")


def test_fact_needs_reads_only_what_enabled_rules_need():
    velocity = rule(RuleKind.VELOCITY, hours=24)
    per_address = rule(RuleKind.VELOCITY, hours=3, per="address")
    history_clause = rule(RuleKind.CONDITION,
                          clauses=[{"fact": "customer.previous_orders", "op": "lt", "value": 2}])
    assert fact_needs([]) == fact_needs([rule(RuleKind.ORDER_VALUE, threshold="1")])
    needs = fact_needs([velocity, rule(RuleKind.VELOCITY, hours=2), per_address, history_clause,
                        rule(RuleKind.NEW_SHIP_TO), rule(RuleKind.LICENCE), rule(RuleKind.CREDIT_LIMIT)])
    assert (needs.customer_hours, needs.address_hours) == (24, 3)
    assert needs.history and needs.exposure and needs.known_addresses and needs.licences
    disabled = Rule(1, 1, "off", RuleKind.FIRST_ORDER, {}, Outcome.HOLD, "other", enabled=False)
    assert not fact_needs([disabled]).history
    for kind in (RuleKind.FIRST_ORDER, RuleKind.UNUSUAL_ORDER, RuleKind.NEW_CUSTOMER_HIGH_VALUE):
        assert fact_needs([rule(kind)]).history
