"""The rules of reference data, without a database: products, customers, warehouses and channels."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor.catalog.domain import (
    check_gtin,
    check_product,
    gtin_check_digit,
    gtin_equivalents,
    is_valid_gtin,
    parse_flag,
    parse_whole_number,
)
from conveyor.channels.domain import check_channel
from conveyor.customers.domain import check_customer
from conveyor.kernel.errors import ProblemCollector, ValidationFailed
from conveyor.warehouses.domain import check_warehouse, is_timezone


def problems_of(check: Any, data: dict[str, Any]) -> set[tuple[str, str | None]]:
    with pytest.raises(ValidationFailed) as failed:
        check(data)
    return {(p.code, p.field) for p in failed.value.problems}


# Products ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("gtin", [
    "4006381333931",   # EAN-13 (GTIN-13), the textbook example
    "5901234123457",   # EAN-13
    "036000291452",    # UPC-A (GTIN-12)
    "96385074",        # EAN-8 (GTIN-8)
    "73513537",        # EAN-8
    "10012345678902",  # GTIN-14 (a case of 0012345678905)
])
def test_real_gtins_pass_the_check_digit(gtin):
    assert is_valid_gtin(gtin)


@pytest.mark.parametrize("gtin", [
    "4006381333932",   # last digit changed
    "036000291453",
    "96385075",
    "4006381333913",   # two digits swapped
    "400638133393",    # 12 digits but not a valid UPC
    "40063813339",     # 11 digits: no such GTIN length
    "400638133393a",
    "",
])
def test_wrong_or_malformed_gtins_fail(gtin):
    assert not is_valid_gtin(gtin)


def test_a_gtin_problem_says_what_the_check_digit_should_be():
    problems = ProblemCollector()
    check_gtin("4006381333932", problems)
    assert [(p.code, p.field) for p in problems.problems] == [("invalid_gtin", "gtin")]
    assert "expected 1" in problems.problems[0].message


@given(st.text(alphabet="0123456789", min_size=7, max_size=7) | st.text(alphabet="0123456789", min_size=11,
                                                                             max_size=13))
def test_appending_the_computed_check_digit_makes_a_valid_gtin(body):
    assert is_valid_gtin(body + str(gtin_check_digit(body)))


def test_the_same_item_number_is_found_in_all_its_lengths():
    assert set(gtin_equivalents("036000291452")) == {"036000291452", "0036000291452", "00036000291452"}
    assert gtin_equivalents("4006381333931") == ["4006381333931", "04006381333931"]
    assert gtin_equivalents("10012345678902") == ["10012345678902"]


@pytest.mark.parametrize("sku", ["SKU-1", "a", "FLOUR/25KG", "x_y.z", "A" * 64])
def test_skus_may_use_letters_digits_and_separators(sku):
    assert check_product({"sku": sku, "name": "n"})["sku"] == sku


@pytest.mark.parametrize("sku", ["has space", "A" * 65, "émile", "semi;colon"])
def test_other_skus_are_refused(sku):
    assert problems_of(check_product, {"sku": sku, "name": "n"}) == {("invalid_sku", "sku")}


def test_weights_and_sizes_cannot_be_negative_and_every_problem_is_reported():
    data = {"sku": "S", "name": "", "weight_g": -1, "length_mm": 0, "width_mm": -2, "height_mm": 3}
    assert problems_of(check_product, data) == {
        ("required", "name"), ("negative_value", "weight_g"), ("negative_value", "width_mm")}


def test_csv_cells_parse_to_flags_and_whole_numbers():
    problems = ProblemCollector()
    assert [parse_flag(v, problems, "f") for v in ("true", "Yes", "1", "", "no", "FALSE")] == [
        True, True, True, False, False, False]
    assert parse_whole_number(" 250 ", problems, "weight_g") == 250
    assert parse_whole_number("", problems, "weight_g") is None
    assert not problems.problems
    parse_flag("maybe", problems, "hazardous")
    parse_whole_number("2.5", problems, "weight_g")
    assert [(p.code, p.field) for p in problems.problems] == [
        ("invalid_boolean", "hazardous"), ("invalid_integer", "weight_g")]


# Customers -----------------------------------------------------------------------------------------------

ADDRESS = {"kind": "shipping", "is_default": True, "name": "A", "line1": "Damrak 1", "city": "Amsterdam",
           "postal_code": "1012 LG", "country": "NL"}
CUSTOMER = {"account": "C-1", "name": "Bos", "credit_limit": "5000.00", "currency": "EUR", "credit_rating": "B",
            "payment_terms": "net30"}


def test_a_credit_limit_is_stored_in_minor_units_of_its_currency():
    assert check_customer(CUSTOMER).fields["credit_limit_minor"] == 500_000
    assert check_customer({**CUSTOMER, "credit_limit": "5000", "currency": "JPY"}).fields[
        "credit_limit_minor"] == 5000
    assert check_customer({**CUSTOMER, "credit_limit": "1.250", "currency": "KWD"}).fields[
        "credit_limit_minor"] == 1250


@pytest.mark.parametrize(("changes", "expected"), [
    ({"credit_limit": "12.345"}, ("invalid_amount", "credit_limit")),
    ({"credit_limit": "lots"}, ("invalid_amount", "credit_limit")),
    ({"credit_limit": "-1.00"}, ("negative_value", "credit_limit")),
    ({"credit_limit": "100000000000000.00"}, ("out_of_range", "credit_limit")),
    ({"currency": "XYZ"}, ("invalid_currency", "currency")),
    ({"credit_rating": "F"}, ("invalid_credit_rating", "credit_rating")),
    ({"payment_terms": "net45"}, ("invalid_payment_terms", "payment_terms")),
    ({"account": "C 1"}, ("invalid_account", "account")),
    ({"email": "nobody"}, ("invalid_email", "email")),
])
def test_credit_terms_and_account_rules(changes, expected):
    assert problems_of(check_customer, {**CUSTOMER, **changes}) == {expected}


@pytest.mark.parametrize("rating", ["A", "B", "C", "D", "E"])
def test_credit_ratings_run_from_a_to_e(rating):
    assert check_customer({**CUSTOMER, "credit_rating": rating}).fields["credit_rating"] == rating


def test_address_problems_carry_their_list_position():
    addresses = [ADDRESS, {**ADDRESS, "postal_code": "ABC"}, {**ADDRESS, "kind": "office", "is_default": False}]
    assert problems_of(check_customer, {**CUSTOMER, "addresses": addresses}) == {
        ("invalid_postal_code", "addresses.1.postal_code"), ("duplicate_default", "addresses.1.is_default"),
        ("invalid_address_kind", "addresses.2.kind")}


def test_lists_that_are_not_given_are_left_alone():
    record = check_customer(CUSTOMER)
    assert record.contacts is None and record.addresses is None
    record = check_customer({**CUSTOMER, "contacts": [], "addresses": [ADDRESS]})
    assert record.contacts == [] and record.addresses is not None
    assert record.addresses[0]["postal_code"] == "1012 LG"


def test_a_contact_needs_a_name():
    assert problems_of(check_customer, {**CUSTOMER, "contacts": [{"name": " ", "email": "a@b.example"}]}) == {
        ("required", "contacts.0.name")}


# Warehouses ----------------------------------------------------------------------------------------------

WAREHOUSE = {"code": "RTM", "name": "Rotterdam", "line1": "Havenweg 1", "city": "Rotterdam",
             "postal_code": "3011 AA", "country": "NL", "latitude": 51.9, "longitude": 4.5, "priority": 10,
             "timezone": "Europe/Amsterdam"}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"latitude": 90.5}, ("invalid_latitude", "latitude")),
    ({"latitude": -91}, ("invalid_latitude", "latitude")),
    ({"longitude": 180.01}, ("invalid_longitude", "longitude")),
    ({"longitude": None}, ("incomplete_coordinates", "longitude")),
    ({"timezone": "Europe/Atlantis"}, ("invalid_timezone", "timezone")),
    ({"timezone": "../etc/passwd"}, ("invalid_timezone", "timezone")),
    ({"priority": -1}, ("out_of_range", "priority")),
    ({"postal_code": "30110"}, ("invalid_postal_code", "postal_code")),
    ({"code": ""}, ("required", "code")),
    ({"code": "R" * 17}, ("invalid_code", "code")),
])
def test_warehouse_rules(changes, expected):
    assert problems_of(check_warehouse, {**WAREHOUSE, **changes}) == {expected}


def test_the_edges_of_the_map_and_real_time_zones_are_accepted():
    clean = check_warehouse({**WAREHOUSE, "latitude": -90, "longitude": 180, "timezone": "America/New_York"})
    assert (clean["latitude"], clean["longitude"]) == (-90.0, 180.0)
    assert is_timezone("UTC") and is_timezone("Asia/Kolkata") and not is_timezone("CET+1")


# Channels ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["api", "webshop-nl", "edi_x12", "b2", "0-shop"])
def test_channel_codes_are_url_safe(code):
    assert check_channel({"code": code, "name": "n", "kind": "api", "default_currency": "EUR"})["code"] == code


@pytest.mark.parametrize("code", ["a", "Shop", "-shop", "web shop", "x" * 33])
def test_other_channel_codes_are_refused(code):
    assert problems_of(check_channel, {"code": code, "name": "n", "kind": "api", "default_currency": "EUR"}) == {
        ("invalid_code", "code")}


@pytest.mark.parametrize("kind", ["api", "webshop", "shopify", "woocommerce", "amazon", "edi_x12", "edifact",
                                  "csv", "phone"])
def test_every_known_channel_kind_is_accepted(kind):
    assert check_channel({"code": "c1", "name": "n", "kind": kind, "default_currency": "usd"})["kind"] == kind


def test_an_unknown_kind_and_currency_are_both_reported():
    assert problems_of(check_channel, {"code": "c1", "name": "n", "kind": "fax", "default_currency": "EUX"}) == {
        ("invalid_kind", "kind"), ("invalid_currency", "default_currency")}
