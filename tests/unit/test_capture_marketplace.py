"""Shopify, WooCommerce and Amazon adapters on small documents written for these tests, and webhook signatures."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from conveyor.channels.capture.amazon import capture_amazon, capture_amazon_document
from conveyor.channels.capture.model import Captured, CapturedOrder, Control, Ignored, Rejected
from conveyor.channels.capture.shopify import capture_shopify
from conveyor.channels.capture.signatures import (
    is_woocommerce_ping,
    sign_shopify,
    sign_woocommerce,
    verify,
    verify_shopify,
    verify_woocommerce,
    webhook_headers,
)
from conveyor.channels.capture.woocommerce import capture_woocommerce

D = Decimal


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def only(results: list[Captured]) -> Captured:
    assert len(results) == 1, results
    return results[0]


def order_of(results: list[Captured]) -> CapturedOrder:
    result = only(results)
    assert isinstance(result, CapturedOrder), result
    return result


# --- Shopify ------------------------------------------------------------------------------------------------

def shopify_order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": 820982911946154500,
        "name": "#1001",
        "order_number": 1001,
        "email": "ada@example.com",
        "phone": "+31201234567",
        "created_at": "2024-03-01T10:15:00+01:00",
        "currency": "EUR",
        "financial_status": "paid",
        "taxes_included": False,
        "note": "Leave at the back door",
        "total_price": "62.85",
        "total_discounts": "5.50",
        "discount_codes": [{"code": "SPRING", "amount": "5.50", "type": "fixed_amount"}],
        "customer": {"id": 115310627314723950, "email": "ada@example.com", "first_name": "Ada",
                     "last_name": "Lovelace", "phone": "+31612345678"},
        "billing_address": {"first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace",
                            "company": "Engines BV", "address1": "Damrak 1", "address2": "", "city": "Amsterdam",
                            "province": "North Holland", "province_code": "NH", "zip": "1012 LG",
                            "country": "Netherlands", "country_code": "NL", "phone": "+31201234567"},
        "shipping_address": {"first_name": "Charles", "last_name": "Babbage", "name": "Charles Babbage",
                             "company": None, "address1": "Keizersgracht 2", "address2": "3rd floor",
                             "city": "Amsterdam", "province": None, "province_code": None, "zip": "1015 CJ",
                             "country": "Netherlands", "country_code": "nl", "phone": None},
        "line_items": [
            {"id": 466157049, "variant_id": 39072856, "sku": "WIDGET-RED", "title": "Widget",
             "variant_title": "red", "name": "Widget - red", "quantity": 2, "price": "19.90",
             "discount_allocations": [{"amount": "3.00", "discount_application_index": 0},
                                      {"amount": "0.50", "discount_application_index": 1}],
             "tax_lines": [{"title": "BTW", "price": "7.73", "rate": 0.21}]},
            {"id": 518995019, "variant_id": None, "sku": "", "title": "Gift wrap", "variant_title": None,
             "quantity": 1, "price": "2.50", "total_discount": "0.00", "tax_lines": []},
        ],
        "shipping_lines": [
            {"title": "Standard", "price": "6.95", "discount_allocations": [{"amount": "2.00"}],
             "tax_lines": [{"price": "1.04"}]},
            {"title": "Insurance", "price": "1.00"},
        ],
    }
    order.update(changes)
    return order


def test_shopify_maps_every_field() -> None:
    captured = order_of(list(capture_shopify(body(shopify_order()), name="webhook", delivery_id="b54557e4",
                                             shop="acme.myshopify.com")))
    assert captured.external_id == "820982911946154500"
    assert captured.customer.email == "ada@example.com"
    assert captured.customer.name == "Ada Lovelace"
    assert captured.customer.phone == "+31612345678"
    assert captured.customer.account is None
    assert captured.currency == "EUR"
    assert captured.bill_to == {"name": "Ada Lovelace", "company": "Engines BV", "line1": "Damrak 1",
                                "city": "Amsterdam", "region": "NH", "postal_code": "1012 LG", "country": "NL",
                                "phone": "+31201234567"}
    assert captured.ship_to == {"name": "Charles Babbage", "line1": "Keizersgracht 2", "line2": "3rd floor",
                                "city": "Amsterdam", "postal_code": "1015 CJ", "country": "NL"}
    first, second = captured.lines
    assert (first.item.sku, first.item.buyer_item, first.item.description) == ("WIDGET-RED", "39072856",
                                                                               "Widget - red")
    assert (first.quantity, first.unit_price, first.discount, first.tax) == (D(2), D("19.90"), D("3.50"),
                                                                             D("7.73"))
    assert (first.line_ref, first.where) == ("466157049", "line_items[0]")
    assert (second.item.sku, second.item.buyer_item, second.item.description) == (None, None, "Gift wrap")
    assert (second.quantity, second.unit_price, second.discount, second.tax) == (D(1), D("2.50"), D(0), D(0))
    assert captured.shipping == D("5.95")  # 6.95 - 2.00 + 1.00
    assert captured.notes == "Leave at the back door"
    assert captured.ordered_at == datetime(2024, 3, 1, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    assert captured.tags == ("shopify:1001",)
    assert captured.where == "webhook"
    assert captured.control == Control(standard="shopify", sender="acme.myshopify.com", delivery_id="b54557e4")
    assert captured.extra["name"] == "#1001"
    assert captured.extra["customer_id"] == "115310627314723950"
    assert captured.extra["document_total"] == D("62.85")
    assert captured.extra["shipping_tax"] == D("1.04")
    assert captured.extra["discount_codes"] == ("SPRING",)
    assert "unallocated_discount" not in captured.extra  # 3.50 on lines + 2.00 on shipping = 5.50


def test_shopify_amounts_are_exact_decimals() -> None:
    order = shopify_order(line_items=[{"id": 1, "sku": "A", "quantity": 3, "price": "0.10",
                                       "tax_lines": [{"price": "0.01"}, {"price": "0.02"}]}], shipping_lines=[])
    line = order_of(list(capture_shopify(body(order), name="w"))).lines[0]
    assert str(line.unit_price) == "0.10" and str(line.tax) == "0.03"
    order["line_items"][0]["price"] = 0.1  # a caller that parsed the JSON with floats already
    line = order_of(list(capture_shopify(order, name="w"))).lines[0]
    assert line.unit_price == D("0.1") and isinstance(line.unit_price, Decimal)


def test_shopify_discount_not_allocated_to_lines_is_kept_aside() -> None:
    order = shopify_order(total_discounts="15.50")
    captured = order_of(list(capture_shopify(body(order), name="w")))
    assert captured.extra["unallocated_discount"] == D("10.00")
    assert [line.discount for line in captured.lines] == [D("3.50"), D(0)]  # nothing spread by guesswork


def test_shopify_prices_with_tax_included_carry_no_line_tax() -> None:
    captured = order_of(list(capture_shopify(body(shopify_order(taxes_included=True)), name="w")))
    assert [line.tax for line in captured.lines] == [D(0), D(0)]
    assert captured.extra["taxes_included"] is True
    assert captured.extra["included_tax"] == D("8.77")  # 7.73 on the line + 1.04 on shipping


def test_shopify_accepts_every_wrapper() -> None:
    order = shopify_order()
    cases: list[tuple[object, list[str]]] = [
        (body(order), ["f.json"]),
        (json.dumps(order), ["f.json"]),
        (order, ["f.json"]),
        (body({"order": order}), ["f.json: order"]),
        (body({"orders": [order, order]}), ["f.json: orders[0]", "f.json: orders[1]"]),
        (body([order]), ["f.json: [0]"]),
        (b"\xef\xbb\xbf" + body(order), ["f.json"]),
    ]
    for data, wheres in cases:
        results = list(capture_shopify(data, name="f.json"))
        assert [r.where for r in results] == wheres
        assert all(isinstance(r, CapturedOrder) for r in results)
    lines = order_of(list(capture_shopify(body({"orders": [order]}), name="f"))).lines
    assert [line.where for line in lines] == ["orders[0].line_items[0]", "orders[0].line_items[1]"]


def test_shopify_cancelled_order_is_ignored() -> None:
    order = shopify_order(cancelled_at="2024-03-02T09:00:00+01:00", cancel_reason="customer")
    result = only(list(capture_shopify(body(order), name="w")))
    assert isinstance(result, Ignored)
    assert "cancelled" in result.reason and "customer" in result.reason


@pytest.mark.parametrize("document", [
    {"refund": {"id": 1, "order_id": 2, "refund_line_items": []}},
    {"fulfillment": {"id": 1, "order_id": 2, "line_items": [{"id": 3, "quantity": 1}]}},
    {"draft_order": {"id": 1, "line_items": [{"quantity": 1, "price": "1.00"}]}},
    {"shipping_zones": []},
    {"id": 1, "order_id": 2, "refund_line_items": [], "transactions": []},  # refunds/create body
    {"id": 1, "order_id": 2, "tracking_number": "1Z", "line_items": [{"id": 3, "quantity": 1}]},
    {"id": 1, "invoice_url": "https://x", "line_items": [{"quantity": 1}], "status": "open"},
    {"id": 4503},  # orders/delete body
])
def test_shopify_documents_that_are_not_orders_are_ignored(document: object) -> None:
    result = only(list(capture_shopify(body(document), name="w")))
    assert isinstance(result, Ignored) and result.reason


def test_shopify_transactions_list_is_ignored_item_by_item() -> None:
    transactions = [{"id": 1, "order_id": 2, "kind": "sale", "amount": "1.00"},
                    {"id": 3, "order_id": 2, "kind": "refund", "amount": "1.00"}]
    results = list(capture_shopify(body(transactions), name="t.json"))
    assert [(type(r), r.where) for r in results] == [(Ignored, "t.json: [0]"), (Ignored, "t.json: [1]")]


def test_shopify_topic_without_an_order_is_ignored_unread() -> None:
    result = only(list(capture_shopify(b"not even json", name="w", topic="products/update")))
    assert isinstance(result, Ignored) and "products/update" in result.reason
    assert isinstance(only(list(capture_shopify(body(shopify_order()), name="w", topic="orders/create"))),
                      CapturedOrder)


@pytest.mark.parametrize(("change", "where", "code"), [
    (lambda o: o.pop("id"), "f: orders[1].id", "missing_field"),
    (lambda o: o.pop("line_items"), "f: orders[1].line_items", "missing_field"),
    (lambda o: o.update(line_items=[]), "f: orders[1].line_items", "missing_field"),
    (lambda o: o["line_items"][1].update(quantity="two"), "f: orders[1].line_items[1].quantity", "invalid_field"),
    (lambda o: o["line_items"][1].update(quantity=0), "f: orders[1].line_items[1].quantity", "invalid_field"),
    (lambda o: o["line_items"][1].update(quantity=1.5), "f: orders[1].line_items[1].quantity", "invalid_field"),
    (lambda o: o["line_items"][0].update(price="19,90"), "f: orders[1].line_items[0].price", "invalid_field"),
    (lambda o: o["line_items"][0].update(price="-1.00"), "f: orders[1].line_items[0].price", "invalid_field"),
    (lambda o: o["line_items"][0].update(price="1e999"), "f: orders[1].line_items[0].price", "invalid_field"),
    (lambda o: o["line_items"][0]["discount_allocations"][1].pop("amount"),
     "f: orders[1].line_items[0].discount_allocations[1].amount", "missing_field"),
    (lambda o: o.update(shipping_address=["Damrak 1"]), "f: orders[1].shipping_address", "invalid_field"),
    (lambda o: o.update(created_at="yesterday"), "f: orders[1].created_at", "invalid_field"),
    (lambda o: o.update(taxes_included="no"), "f: orders[1].taxes_included", "invalid_field"),
])
def test_shopify_broken_order_is_rejected_with_its_path(change: Any, where: str, code: str) -> None:
    good, broken = shopify_order(id=1), shopify_order(id=2)
    change(broken)
    results = list(capture_shopify(body({"orders": [good, broken]}), name="f"))
    assert isinstance(results[0], CapturedOrder)  # a sound order next to a broken one is still captured
    rejected = results[1]
    assert isinstance(rejected, Rejected), rejected
    assert (rejected.where, rejected.code) == (where, code)
    assert rejected.reason
    if where != "f: orders[1].id":
        assert rejected.external_id == "2"


@pytest.mark.parametrize(("data", "code"), [
    (b'{"order": {"id": 1,', "invalid_json"),
    (b"", "invalid_json"),
    (b"\xff\xfe\x00", "invalid_json"),
    (b'{"id": 1, "line_items": [{"quantity": 1, "price": NaN}]}', "invalid_json"),
    (b"42", "invalid_document"),
    (b'{"orders": {"id": 1}}', "invalid_field"),
])
def test_shopify_unreadable_document_is_rejected(data: bytes, code: str) -> None:
    result = only(list(capture_shopify(data, name="f.json")))
    assert isinstance(result, Rejected) and result.code == code and result.where.startswith("f.json")


# --- WooCommerce --------------------------------------------------------------------------------------------

def woo_order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": 727,
        "number": "WC-2024-0042",
        "status": "processing",
        "currency": "EUR",
        "date_created": "2024-03-01T11:15:00",
        "date_created_gmt": "2024-03-01T10:15:00",
        "discount_total": "4.00",
        "shipping_total": "4.95",
        "shipping_tax": "1.04",
        "total": "51.05",
        "customer_id": 26,
        "customer_note": "Ring twice",
        "payment_method": "ideal",
        "billing": {"first_name": "Ada", "last_name": "Lovelace", "company": "Engines BV",
                    "address_1": "Damrak 1", "address_2": "", "city": "Amsterdam", "state": "NH",
                    "postcode": "1012 LG", "country": "NL", "email": "ada@example.com", "phone": "+31201234567"},
        "shipping": {"first_name": "Charles", "last_name": "Babbage", "company": "", "address_1": "Keizersgracht 2",
                     "address_2": "3rd floor", "city": "Amsterdam", "state": "", "postcode": "1015 CJ",
                     "country": "NL", "phone": ""},
        "line_items": [
            {"id": 315, "name": "Widget &ndash; red", "product_id": 93, "variation_id": 94, "quantity": 2,
             "subtotal": "20.00", "subtotal_tax": "4.20", "total": "16.00", "total_tax": "3.36",
             "sku": "WIDGET-RED", "price": 8},
            {"id": 316, "name": "Manual", "product_id": 22, "variation_id": 0, "quantity": 3,
             "subtotal": "10.00", "total": "10.00", "total_tax": "2.10", "sku": "", "price": 3.3333333333333335},
        ],
        "shipping_lines": [{"id": 317, "method_title": "Flat rate", "total": "4.95", "total_tax": "1.04"}],
        "fee_lines": [{"id": 318, "name": "Handling", "total": "1.50", "total_tax": "0.00"}],
        "coupon_lines": [{"id": 319, "code": "spring", "discount": "4.00"}],
    }
    order.update(changes)
    return order


def test_woocommerce_maps_every_field() -> None:
    captured = order_of(list(capture_woocommerce(body(woo_order()), name="webhook", delivery_id="1234",
                                                 shop="https://shop.example.com/")))
    assert captured.external_id == "727"
    assert (captured.customer.email, captured.customer.name, captured.customer.phone) == (
        "ada@example.com", "Ada Lovelace", "+31201234567")
    assert captured.currency == "EUR"
    assert captured.bill_to == {"name": "Ada Lovelace", "company": "Engines BV", "line1": "Damrak 1",
                                "city": "Amsterdam", "region": "NH", "postal_code": "1012 LG", "country": "NL",
                                "phone": "+31201234567"}
    assert captured.ship_to == {"name": "Charles Babbage", "line1": "Keizersgracht 2", "line2": "3rd floor",
                                "city": "Amsterdam", "postal_code": "1015 CJ", "country": "NL"}
    first, second = captured.lines
    assert (first.item.sku, first.item.buyer_item, first.item.description) == ("WIDGET-RED", "94", "Widget – red")
    assert (first.quantity, first.unit_price, first.discount, first.tax) == (D(2), D("10.00"), D("4.00"), D("3.36"))
    assert (first.line_ref, first.where) == ("315", "line_items[0]")
    # 10.00 for 3 does not divide: the unit price is rounded up and the rounding becomes discount
    assert (second.item.sku, second.item.buyer_item) == (None, "22")
    assert (second.quantity, second.unit_price, second.discount, second.tax) == (D(3), D("3.34"), D("0.02"),
                                                                                 D("2.10"))
    assert second.unit_price is not None
    assert second.unit_price * second.quantity - second.discount == D("10.00")
    assert captured.shipping == D("4.95")
    assert captured.notes == "Ring twice"
    assert captured.ordered_at == datetime(2024, 3, 1, 10, 15, tzinfo=UTC)
    assert captured.tags == ("woocommerce:WC-2024-0042",)
    assert captured.control == Control(standard="woocommerce", sender="https://shop.example.com/",
                                       delivery_id="1234")
    assert captured.extra["number"] == "WC-2024-0042"
    assert captured.extra["customer_id"] == "26"
    assert captured.extra["shipping_tax"] == D("1.04")
    assert captured.extra["fees"] == D("1.50")
    assert captured.extra["discount_codes"] == ("spring",)
    assert captured.extra["document_total"] == D("51.05")
    assert "unallocated_discount" not in captured.extra


def test_woocommerce_number_equal_to_id_gives_no_tag_and_empty_shipping_gives_no_ship_to() -> None:
    empty = {key: "" for key in ("first_name", "last_name", "company", "address_1", "address_2", "city",
                                 "state", "postcode", "country")}
    captured = order_of(list(capture_woocommerce(body(woo_order(number="727", shipping=empty)), name="w")))
    assert captured.tags == ()
    assert captured.ship_to is None


def test_woocommerce_discount_not_on_lines_is_kept_aside() -> None:
    captured = order_of(list(capture_woocommerce(body(woo_order(discount_total="9.00")), name="w")))
    assert captured.extra["unallocated_discount"] == D("5.00")


def test_woocommerce_legacy_v3_wrapper() -> None:
    legacy = {"order": {
        "id": 645, "order_number": 645, "created_at": "2015-01-26T20:00:21Z", "status": "on-hold",
        "currency": "USD", "total": "79.87", "total_discount": "0.00", "shipping_tax": "0.50", "note": "Thanks",
        "billing_address": {"first_name": "John", "last_name": "Doe", "address_1": "969 Market",
                            "city": "San Francisco", "state": "CA", "postcode": "94103", "country": "US",
                            "email": "john.doe@example.com", "phone": "(555) 555-5555"},
        "shipping_address": {"first_name": "John", "last_name": "Doe", "address_1": "969 Market",
                             "city": "San Francisco", "state": "CA", "postcode": "94103", "country": "US"},
        "line_items": [{"id": 504, "subtotal": "43.98", "total": "43.98", "total_tax": "4.40", "price": "21.99",
                        "quantity": 2, "name": "Premium Quality", "product_id": 546, "sku": ""}],
        "shipping_lines": [{"id": 506, "method_id": "flat_rate", "total": "10.00"}],
    }}
    captured = order_of(list(capture_woocommerce(body(legacy), name="legacy.json")))
    assert captured.where == "legacy.json: order"
    assert captured.external_id == "645" and captured.notes == "Thanks"
    assert captured.customer.email == "john.doe@example.com"
    assert captured.ship_to is not None and captured.ship_to["region"] == "CA"
    assert captured.ordered_at == datetime(2015, 1, 26, 20, 0, 21, tzinfo=UTC)
    line = captured.lines[0]
    assert (line.quantity, line.unit_price, line.discount, line.tax) == (D(2), D("21.99"), D("0.00"), D("4.40"))
    assert captured.shipping == D("10.00") and captured.extra["shipping_tax"] == D("0.50")
    results = list(capture_woocommerce(body({"orders": [legacy["order"], legacy["order"]]}), name="l"))
    assert [r.where for r in results] == ["l: orders[0]", "l: orders[1]"]


def test_woocommerce_line_without_subtotal_uses_price() -> None:
    order = woo_order(line_items=[{"id": 1, "quantity": 2, "price": 4.5, "sku": "A"}])
    line = order_of(list(capture_woocommerce(body(order), name="w"))).lines[0]
    assert (line.unit_price, line.discount) == (D("4.5"), D(0))


@pytest.mark.parametrize("status", ["cancelled", "refunded", "failed", "trash", "pending", "checkout-draft"])
def test_woocommerce_statuses_that_are_not_orders_to_ship_are_ignored(status: str) -> None:
    result = only(list(capture_woocommerce(body(woo_order(status=status)), name="w")))
    assert isinstance(result, Ignored) and "727" in result.reason


@pytest.mark.parametrize("status", ["processing", "on-hold", "completed"])
def test_woocommerce_statuses_that_are_captured(status: str) -> None:
    assert isinstance(only(list(capture_woocommerce(body(woo_order(status=status)), name="w"))), CapturedOrder)


def test_woocommerce_batch_response() -> None:
    batch = {"create": [woo_order(id=1)], "update": [woo_order(id=2)], "delete": [woo_order(id=3)]}
    results = list(capture_woocommerce(body(batch), name="b"))
    assert [(type(r), r.where) for r in results] == [
        (CapturedOrder, "b: create[0]"), (CapturedOrder, "b: update[0]"), (Ignored, "b: delete[0]")]


@pytest.mark.parametrize("document", [
    {"id": 727},  # order.deleted body
    {"id": 1, "date_created": "2024-01-01T00:00:00", "amount": "5.00", "reason": "", "refunded_by": 1,
     "line_items": [{"id": 2, "quantity": -1}]},
    {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}},
    {"order_statuses": {"pending": "Pending Payment"}},
    {"id": 0, "error": {"code": "woocommerce_rest_invalid_id", "message": "Invalid ID."}},
    {"id": 5, "email": "a@example.com", "username": "a", "billing": {}, "shipping": {}},  # a customer
])
def test_woocommerce_documents_that_are_not_orders_are_ignored(document: object) -> None:
    result = only(list(capture_woocommerce(body(document), name="w")))
    assert isinstance(result, Ignored) and result.reason


def test_woocommerce_topic_without_an_order_is_ignored() -> None:
    for topic in ("order.deleted", "product.updated", "action.woocommerce_add_to_cart"):
        result = only(list(capture_woocommerce(body({"id": 1}), name="w", topic=topic)))
        assert isinstance(result, Ignored) and topic in result.reason


@pytest.mark.parametrize(("change", "where"), [
    (lambda o: o.pop("id"), "w: [0].id"),
    (lambda o: o.update(line_items=None), "w: [0].line_items"),
    (lambda o: o["line_items"][0].update(quantity=-2), "w: [0].line_items[0].quantity"),
    (lambda o: o["line_items"][0].update(total="abc"), "w: [0].line_items[0].total"),
    (lambda o: o["line_items"][1].update(sku={"a": 1}), "w: [0].line_items[1].sku"),
    (lambda o: o.update(billing="Ada"), "w: [0].billing"),
    (lambda o: o["shipping_lines"][0].update(total=[1]), "w: [0].shipping_lines[0].total"),
    (lambda o: o.update(date_created_gmt="01/03/2024"), "w: [0].date_created_gmt"),
])
def test_woocommerce_broken_order_is_rejected_with_its_path(change: Any, where: str) -> None:
    order = woo_order()
    change(order)
    result = only(list(capture_woocommerce(body([order]), name="w")))
    assert isinstance(result, Rejected), result
    assert result.where == where and result.reason


# --- Amazon -------------------------------------------------------------------------------------------------

def money(value: str, currency: str = "USD") -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": value}


AMAZON_ORDER: dict[str, Any] = {"payload": {
    "AmazonOrderId": "113-0000001-0000001", "SellerOrderId": "S-1", "PurchaseDate": "2024-03-01T09:15:00Z",
    "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN", "SalesChannel": "Amazon.com",
    "MarketplaceId": "ATVPDKIKX0DER", "OrderTotal": money("61.47"), "IsBusinessOrder": True, "IsPrime": False,
}}
AMAZON_ITEMS: dict[str, Any] = {"payload": {"AmazonOrderId": "113-0000001-0000001", "OrderItems": [
    {"OrderItemId": "11111", "ASIN": "B000000001", "SellerSKU": "WIDGET-RED", "Title": "Widget, red",
     "QuantityOrdered": 3, "ItemPrice": money("50.00"), "ItemTax": money("4.00"),
     "PromotionDiscount": money("5.00"), "PromotionDiscountTax": money("0.40"), "ShippingPrice": money("6.00"),
     "ShippingDiscount": money("1.00"), "ShippingTax": money("0.48"), "ShippingDiscountTax": money("0.08")},
    {"OrderItemId": "22222", "ASIN": "B000000002", "SellerSKU": "GONE", "QuantityOrdered": 0,
     "ItemPrice": money("0.00")},
    {"OrderItemId": "33333", "ASIN": "B000000003", "Title": "No SKU", "QuantityOrdered": 1,
     "ItemPrice": money("7.99"), "ShippingPrice": money("0.00")},
]}}
AMAZON_ADDRESS: dict[str, Any] = {"payload": {"AmazonOrderId": "113-0000001-0000001", "ShippingAddress": {
    "Name": "Grace Hopper", "CompanyName": "Navy", "AddressLine1": "1 Main St", "AddressLine2": "Bldg 2",
    "AddressLine3": "Room 3", "City": "Arlington", "StateOrRegion": "VA", "PostalCode": "22202",
    "CountryCode": "US", "Phone": "+1 555 0100", "AddressType": "Commercial"}}}
AMAZON_BUYER: dict[str, Any] = {"payload": {
    "AmazonOrderId": "113-0000001-0000001", "BuyerEmail": "x1@marketplace.amazon.com", "BuyerName": "Grace Hopper",
    "PurchaseOrderNumber": "PO-7"}}


def test_amazon_maps_every_field() -> None:
    captured = order_of(list(capture_amazon(AMAZON_ORDER, AMAZON_ITEMS, AMAZON_ADDRESS, AMAZON_BUYER,
                                            name="amazon.json")))
    assert captured.external_id == "113-0000001-0000001"
    assert captured.currency == "USD"
    assert (captured.customer.email, captured.customer.name, captured.customer.phone) == (
        "x1@marketplace.amazon.com", "Grace Hopper", "+1 555 0100")
    assert captured.ship_to == {"name": "Grace Hopper", "company": "Navy", "line1": "1 Main St",
                                "line2": "Bldg 2, Room 3", "city": "Arlington", "region": "VA",
                                "postal_code": "22202", "country": "US", "phone": "+1 555 0100"}
    assert captured.bill_to is None
    first, second = captured.lines  # the item with QuantityOrdered 0 was cancelled
    assert (first.item.sku, first.item.buyer_item, first.item.description) == ("WIDGET-RED", "B000000001",
                                                                               "Widget, red")
    # ItemPrice 50.00 is the line: 3 x 16.67 = 50.01, so 0.01 rounding joins the 5.00 promotion
    assert (first.quantity, first.unit_price, first.discount, first.tax) == (D(3), D("16.67"), D("5.01"),
                                                                             D("3.60"))
    assert first.unit_price is not None
    assert first.unit_price * first.quantity - (first.discount - D("5.00")) == D("50.00")
    assert (first.line_ref, first.where) == ("11111", "items.payload.OrderItems[0]")
    assert (second.item.sku, second.item.buyer_item, second.quantity, second.unit_price) == (
        None, "B000000003", D(1), D("7.99"))
    assert second.where == "items.payload.OrderItems[2]"
    assert captured.shipping == D("5.00")
    assert captured.ordered_at == datetime(2024, 3, 1, 9, 15, tzinfo=UTC)
    assert captured.control == Control(standard="amazon", sender="ATVPDKIKX0DER")
    assert captured.extra["cancelled_items"] == 1
    assert captured.extra["shipping_tax"] == D("0.40")
    assert captured.extra["purchase_order"] == "PO-7"
    assert captured.extra["seller_order_id"] == "S-1"
    assert captured.extra["document_total"] == D("61.47")
    assert captured.extra["business_order"] is True and "prime" not in captured.extra


def test_amazon_combined_document_and_list() -> None:
    combined: dict[str, Any] = {"order": AMAZON_ORDER, "items": AMAZON_ITEMS, "address": AMAZON_ADDRESS,
                                "buyer": AMAZON_BUYER}
    captured = order_of(list(capture_amazon_document(body(combined), name="a.json")))
    assert captured.where == "a.json" and len(captured.lines) == 2
    second_order = copy.deepcopy(combined)
    for part in second_order.values():
        part["payload"]["AmazonOrderId"] = "113-0000002-0000002"
    results = list(capture_amazon_document(body([combined, second_order]), name="a.json"))
    assert [(r.external_id, r.where) for r in results if isinstance(r, CapturedOrder)] == [
        ("113-0000001-0000001", "a.json: [0]"), ("113-0000002-0000002", "a.json: [1]")]
    assert isinstance(results[1], CapturedOrder)
    assert results[1].lines[0].where == "[1].items.payload.OrderItems[0]"


def test_amazon_responses_without_payload_wrapper_and_items_in_pages() -> None:
    items = AMAZON_ITEMS["payload"]
    page1 = {"payload": {**items, "OrderItems": items["OrderItems"][:1], "NextToken": "abc"}}
    page2 = {"payload": {**items, "OrderItems": items["OrderItems"][1:]}}
    captured = order_of(list(capture_amazon(AMAZON_ORDER["payload"], [page1, page2], name="a")))
    assert [line.line_ref for line in captured.lines] == ["11111", "33333"]
    assert captured.ship_to is None and captured.customer.email is None  # nothing invented
    result = only(list(capture_amazon(AMAZON_ORDER, [page1], name="a")))
    assert isinstance(result, Rejected) and result.code == "incomplete_order"
    assert result.where == "a: items[0].payload.NextToken"


@pytest.mark.parametrize(("changes", "words"), [
    ({"OrderStatus": "Canceled"}, "cancelled"),
    ({"OrderStatus": "Pending"}, "Pending"),
    ({"OrderStatus": "PendingAvailability"}, "pre-order"),
    ({"FulfillmentChannel": "AFN", "OrderStatus": "Shipped"}, "Fulfilled by Amazon"),
])
def test_amazon_orders_not_to_ship_are_ignored(changes: dict[str, str], words: str) -> None:
    order = {"payload": {**AMAZON_ORDER["payload"], **changes}}
    result = only(list(capture_amazon(order, AMAZON_ITEMS, name="a")))
    assert isinstance(result, Ignored) and words in result.reason


def test_amazon_parts_of_another_order_or_currency_are_rejected() -> None:
    result = only(list(capture_amazon(AMAZON_ORDER, AMAZON_ITEMS, {"payload": {"AmazonOrderId": "999"}},
                                      name="a")))
    assert isinstance(result, Rejected) and result.code == "mismatched_documents"
    assert result.where == "a: address.payload.AmazonOrderId" and result.external_id == "113-0000001-0000001"
    items = copy.deepcopy(AMAZON_ITEMS)
    items["payload"]["OrderItems"][2]["ItemPrice"]["CurrencyCode"] = "EUR"
    result = only(list(capture_amazon(AMAZON_ORDER, items, name="a")))
    assert isinstance(result, Rejected)
    assert result.where == "a: items.payload.OrderItems[2].ItemPrice.CurrencyCode" and "EUR" in result.reason
    result = only(list(capture_amazon({"errors": [{"code": "Unauthorized", "message": "Access denied"}]},
                                      AMAZON_ITEMS, name="a")))
    assert isinstance(result, Rejected) and result.code == "amazon_error" and "Access denied" in result.reason


@pytest.mark.parametrize(("document", "kind"), [
    ({"NotificationType": "ORDER_CHANGE", "Payload": {}}, Ignored),
    ({"payload": {"fulfillmentOrder": {"sellerFulfillmentOrderId": "X"}}}, Ignored),
    ({"payload": {"purchaseOrderNumber": "4Z32PABC", "purchaseOrderState": "New"}}, Ignored),
    ({"order": {"orderId": "111-1", "orderItems": []}}, Ignored),
    ({"payload": AMAZON_ADDRESS["payload"]}, Ignored),
    ({"something": "else"}, Ignored),
    (AMAZON_ORDER, Rejected),
    (AMAZON_ITEMS, Rejected),
])
def test_amazon_other_documents(document: object, kind: type) -> None:
    result = only(list(capture_amazon_document(body(document), name="a")))
    assert isinstance(result, kind) and not isinstance(result, CapturedOrder) and result.reason
    if isinstance(result, Rejected):
        assert result.code == "incomplete_order"


# --- Signatures ---------------------------------------------------------------------------------------------

BODY = b'{"id":820982911946154508,"email":"jon@example.com"}'
SECRET = "hush"


def independent_signature(payload: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize(("sign", "check"), [(sign_shopify, verify_shopify), (sign_woocommerce, verify_woocommerce)])
def test_signatures(sign: Any, check: Any) -> None:
    signature = sign(BODY, SECRET)
    assert signature == independent_signature(BODY, SECRET)
    assert check(BODY, signature, SECRET)
    assert check(BODY, f"  {signature}\n", SECRET)  # header whitespace
    assert not check(BODY + b" ", signature, SECRET)  # body changed after signing
    assert not check(BODY, sign(BODY, "other secret"), SECRET)  # forged with another secret
    assert not check(BODY, signature[:-2] + "AA", SECRET)
    assert not check(BODY, None, SECRET)
    assert not check(BODY, "", SECRET)
    assert not check(BODY, "   ", SECRET)
    assert not check(BODY, signature, "")
    assert not check(BODY, sign(BODY, ""), "")  # an empty secret never verifies, even when "signed" with it
    assert not check(BODY, "sïgnature\udcff", SECRET)  # odd text never raises


def test_webhook_headers_and_verify() -> None:
    headers = {"x-shopify-hmac-sha256": sign_shopify(BODY, SECRET), "X-Shopify-Webhook-Id": "b54557e4",
               "X-SHOPIFY-TOPIC": "orders/create", "X-Shopify-Shop-Domain": "acme.myshopify.com"}
    read = webhook_headers("shopify", headers)
    assert (read.delivery_id, read.topic, read.sender) == ("b54557e4", "orders/create", "acme.myshopify.com")
    assert verify("shopify", BODY, headers, SECRET)
    assert not verify("woocommerce", BODY, headers, SECRET)
    woo = {"X-WC-Webhook-Signature": sign_woocommerce(BODY, SECRET), "X-WC-Webhook-Delivery-ID": "88",
           "X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Source": "https://shop.example.com/",
           "X-WC-Webhook-ID": ""}
    read = webhook_headers("woocommerce", woo)
    assert (read.delivery_id, read.topic, read.sender) == ("88", "order.created", "https://shop.example.com/")
    assert verify("woocommerce", BODY, woo, SECRET)
    assert webhook_headers("woocommerce", {"X-WC-Webhook-Topic": " "}).topic is None
    with pytest.raises(ValueError, match="amazon"):
        webhook_headers("amazon", {})


def test_woocommerce_ping() -> None:
    assert is_woocommerce_ping({"User-Agent": "WooCommerce/8.0 Hookshot"}, b"webhook_id=17")
    assert not is_woocommerce_ping({"X-WC-Webhook-Topic": "order.created"}, b"webhook_id=17")
    assert not is_woocommerce_ping({}, BODY)
    assert not is_woocommerce_ping({}, b"webhook_id=17&x=1")
