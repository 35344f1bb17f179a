"""Real Shopify, WooCommerce and Amazon documents written by others, read from the shared corpus (never copied).

Conformance: every order in the corpus becomes a CapturedOrder with as many lines as the document has items,
and the quantities and prices the JSON says (read here independently, with the json module); documents that
are not orders are ignored. Then a fuzz run mutates the real JSON (keys deleted, values replaced by wrong
types, nulls, huge numbers, odd text) and checks that capture never raises: every input gives orders,
rejections or ignored pieces.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.channels.capture.amazon import capture_amazon, capture_amazon_document
from conveyor.channels.capture.model import Captured, CapturedOrder, Ignored, Rejected
from conveyor.channels.capture.shopify import capture_shopify
from conveyor.channels.capture.woocommerce import IGNORED_STATUSES, capture_woocommerce

CORPUS = Path(os.environ.get("CONVEYOR_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
MARKETPLACE = CORPUS / "marketplace"
if not MARKETPLACE.is_dir():
    pytest.skip(f"the shared corpus of real marketplace documents is not at {MARKETPLACE} (set CONVEYOR_CORPUS "
                "to its folder)", allow_module_level=True)

SHOPIFY = sorted((MARKETPLACE / "shopify").glob("*.json"))
WOOCOMMERCE = sorted((MARKETPLACE / "woocommerce").glob("*.json"))
AMAZON = sorted((MARKETPLACE / "amazon").glob("*.json"))
SHOPIFY_ORDER_FILES = {"shopify_python_api__order.json", "shopify_python_api__orders.json"}
D = Decimal


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def amazon(part: str) -> Any:
    return read(MARKETPLACE / "amazon" / f"amazon-sp__orders-{part}.json")


def test_the_corpus_has_documents_of_each_marketplace() -> None:
    assert len(SHOPIFY) >= 10 and len(WOOCOMMERCE) >= 12 and len(AMAZON) >= 15
    assert {path.name for path in SHOPIFY} >= SHOPIFY_ORDER_FILES


# --- Shopify ------------------------------------------------------------------------------------------------

def shopify_orders(document: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(document, dict) and "order" in document:
        return [("order", document["order"])]
    if isinstance(document, dict) and "orders" in document:
        return [(f"orders[{i}]", order) for i, order in enumerate(document["orders"])]
    return []


@pytest.mark.parametrize("path", SHOPIFY, ids=lambda p: p.name)
def test_shopify_corpus(path: Path) -> None:
    document = read(path)
    results = list(capture_shopify(path.read_bytes(), name=path.name))
    assert results
    orders = shopify_orders(document)
    if path.name not in SHOPIFY_ORDER_FILES:
        assert not orders
        assert all(isinstance(result, Ignored) for result in results), results
        return
    assert len(results) == len(orders)
    for result, (json_path, order) in zip(results, orders, strict=True):
        if "line_items" not in order:
            # orders.json (a trimmed test fixture) has an order without line_items: nothing can be imported
            assert isinstance(result, Rejected), result
            assert result.where == f"{path.name}: {json_path}.line_items"
            assert result.external_id == str(order["id"])
            continue
        assert isinstance(result, CapturedOrder), result
        assert result.external_id == str(order["id"])
        assert result.where == f"{path.name}: {json_path}"
        assert len(result.lines) == len(order["line_items"])
        for line, item in zip(result.lines, order["line_items"], strict=True):
            assert line.quantity == item["quantity"]
            assert line.unit_price == D(item["price"])
            assert line.item.sku == (item["sku"] or None)
            assert line.line_ref == str(item["id"])
        assert result.shipping == sum((D(s["price"]) for s in order.get("shipping_lines", [])), D(0))
        assert result.currency == order["currency"]
        assert result.ship_to is not None and result.ship_to["country"] == order["shipping_address"]["country_code"]


# --- WooCommerce --------------------------------------------------------------------------------------------

def woo_orders(document: Any) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(JSON path, order, deleted) for every order object in a WooCommerce document."""
    if isinstance(document, list):
        for index, order in enumerate(document):
            yield f"[{index}]", order, False
    elif "line_items" in document:
        yield "", document, False
    elif "order" in document:
        yield "order", document["order"], False
    elif "orders" in document:
        for index, order in enumerate(document["orders"]):
            yield f"orders[{index}]", order, False
    else:
        for key in ("create", "update", "delete"):
            for index, order in enumerate(document.get(key, [])):
                yield f"{key}[{index}]", order, key == "delete"


@pytest.mark.parametrize("path", WOOCOMMERCE, ids=lambda p: p.name)
def test_woocommerce_corpus(path: Path) -> None:
    document = read(path)
    results = list(capture_woocommerce(path.read_bytes(), name=path.name))
    orders = list(woo_orders(document))
    if not orders:
        assert [type(result) for result in results] == [Ignored], results
        return
    assert len(results) == len(orders)
    for result, (json_path, order, deleted) in zip(results, orders, strict=True):
        assert result.where == (f"{path.name}: {json_path}" if json_path else path.name)
        if deleted or order["status"] in IGNORED_STATUSES:
            assert isinstance(result, Ignored), result
            continue
        assert isinstance(result, CapturedOrder), result
        assert result.external_id == str(order["id"])
        assert len(result.lines) == len(order["line_items"])
        for line, item in zip(result.lines, order["line_items"], strict=True):
            assert line.quantity == item["quantity"]
            assert line.unit_price is not None
            assert line.unit_price * line.quantity == D(item["subtotal"])  # the corpus prices divide evenly
            assert line.unit_price == D(str(item["price"]))
            assert line.unit_price * line.quantity - line.discount == D(item["total"])
            assert line.tax == D(item["total_tax"])
            assert line.line_ref == str(item["id"])
        assert result.shipping == sum((D(s["total"]) for s in order["shipping_lines"]), D(0))
        billing = order["billing"] if "billing" in order else order["billing_address"]
        assert result.customer.email == billing["email"]


def test_woocommerce_corpus_covers_the_interesting_cases() -> None:
    statuses = {order["status"] for path in WOOCOMMERCE for _, order, _ in woo_orders(read(path))}
    assert {"processing", "completed", "pending", "on-hold"} <= statuses


# --- Amazon -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", AMAZON, ids=lambda p: p.name)
def test_amazon_corpus_documents_alone_are_never_orders(path: Path) -> None:
    results = list(capture_amazon_document(path.read_bytes(), name=path.name))
    assert len(results) == 1
    result = results[0]
    if path.name.startswith(("amazon-sp__orders-getOrder.", "amazon-sp__orders-getOrderItems.",
                             "amazon-sp__easyship-orders-getOrder.")):
        # an order header (or its items) without the other half: incomplete, nothing imported
        assert isinstance(result, Rejected) and result.code == "incomplete_order", result
    else:
        assert isinstance(result, Ignored), result


def test_amazon_corpus_responses_belong_to_different_orders() -> None:
    # The sample responses come from unrelated orders (123-4567890-1234567 vs 701-3922379-8329033, USD vs BRL):
    # combined as they are, capture refuses to mix them.
    results = list(capture_amazon(amazon("getOrder"), amazon("getOrderItems"), amazon("getOrderAddress"),
                                  amazon("getOrderBuyerInfo"), name="combined"))
    assert len(results) == 1 and isinstance(results[0], Rejected)
    assert results[0].code == "mismatched_documents" and results[0].where == "combined: items.payload.AmazonOrderId"


def aligned_amazon_order() -> dict[str, Any]:
    """The corpus responses, with the order header made to name the items' order and currency (in memory)."""
    order, items = amazon("getOrder"), amazon("getOrderItems")
    order["payload"]["AmazonOrderId"] = items["payload"]["AmazonOrderId"]
    order["payload"]["OrderTotal"]["CurrencyCode"] = items["payload"]["OrderItems"][0]["ItemPrice"]["CurrencyCode"]
    address, buyer = amazon("getOrderAddress"), amazon("getOrderBuyerInfo")
    address["payload"]["AmazonOrderId"] = buyer["payload"]["AmazonOrderId"] = items["payload"]["AmazonOrderId"]
    return {"order": order, "items": items, "address": address, "buyer": buyer}


def test_amazon_corpus_order_with_its_items() -> None:
    combined = aligned_amazon_order()
    results = list(capture_amazon_document(json.dumps(combined).encode(), name="combined.json"))
    assert len(results) == 1 and isinstance(results[0], CapturedOrder), results
    captured = results[0]
    items = [item for item in combined["items"]["payload"]["OrderItems"] if item["QuantityOrdered"] > 0]
    assert captured.external_id == combined["items"]["payload"]["AmazonOrderId"]
    assert len(captured.lines) == len(items)
    for line, item in zip(captured.lines, items, strict=True):
        assert line.quantity == item["QuantityOrdered"]
        assert line.item.sku == item["SellerSKU"] and line.item.buyer_item == item["ASIN"]
        assert line.unit_price is not None
        rounding = line.discount - D(item["PromotionDiscount"]["Amount"])
        assert line.unit_price * line.quantity - rounding == D(item["ItemPrice"]["Amount"])
        assert line.tax == D(item["ItemTax"]["Amount"]) - D(item["PromotionDiscountTax"]["Amount"])
    assert captured.shipping == sum((D(i["ShippingPrice"]["Amount"]) - D(i["ShippingDiscount"]["Amount"])
                                     for i in items), D(0))
    address = combined["address"]["payload"]["ShippingAddress"]
    assert captured.ship_to == {"name": address["Name"], "line1": address["AddressLine1"],
                                "line2": address["AddressLine2"], "city": address["City"],
                                "region": address["StateOrRegion"], "postal_code": address["PostalCode"],
                                "country": address["CountryCode"]}
    assert captured.customer.email == combined["buyer"]["payload"]["BuyerEmail"]
    assert captured.extra["purchase_order"] == combined["buyer"]["payload"]["PurchaseOrderNumber"]


# --- Fuzz: mutated real documents never make capture raise ----------------------------------------------------

Capture = Callable[[object], list[Captured]]
CAPTURES: dict[str, Capture] = {
    "shopify": lambda data: list(capture_shopify(data, name="fuzz")),
    "woocommerce": lambda data: list(capture_woocommerce(data, name="fuzz")),
    "amazon": lambda data: list(capture_amazon_document(data, name="fuzz")),
}
SEEDS: list[tuple[str, Any]] = (
    [("shopify", read(path)) for path in SHOPIFY]
    + [("woocommerce", read(path)) for path in WOOCOMMERCE]
    + [("amazon", read(path)) for path in AMAZON]
    + [("amazon", aligned_amazon_order())]
)
ODD_VALUES: list[Any] = [
    None, "", " ", "abc", "1,50", "-1", "NaN", "1e999999999", "0.0000000000001", "9" * 400, 0, -1, 1.5, 2**63,
    10**30, -(10**30), 1e308, float("nan"), float("inf"), True, False, [], {}, [None], {"a": None}, "\u0000\udcff",
    "2024-13-45T25:61:00", "#1001",
]


def locations(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(node, dict):
        for key, value in node.items():
            yield from locations(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from locations(value, (*here, index))


def mutate(document: Any, where: tuple[Any, ...], action: str, value: Any) -> Any:
    if not where:
        return value
    parent = document
    for step in where[:-1]:
        parent = parent[step]
    if action == "delete":
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    return document


def check(results: list[Captured]) -> None:
    assert results, "every input gives at least one order, rejection or ignored piece"
    for result in results:
        assert isinstance(result, CapturedOrder | Rejected | Ignored)
        if isinstance(result, CapturedOrder):
            assert result.lines and result.external_id
            for line in result.lines:
                assert line.quantity > 0 and line.quantity == line.quantity.to_integral_value()
                for number in (line.unit_price, line.discount, line.tax):
                    assert number is None or (isinstance(number, Decimal) and number.is_finite())
            assert result.shipping.is_finite()
        else:
            assert result.reason and result.where.startswith("fuzz")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_corpus_documents_never_raise(data: st.DataObject) -> None:
    platform, seed = data.draw(st.sampled_from(SEEDS), label="seed")
    document = copy.deepcopy(seed)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        spots = list(locations(document))
        where = data.draw(st.sampled_from(spots), label="where")
        action = "replace" if not where else data.draw(st.sampled_from(["delete", "replace"]), label="action")
        document = mutate(document, where, action, copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES))))
    check(CAPTURES[platform](document))  # as parsed JSON
    try:
        raw = json.dumps(document).encode("utf-8", "surrogatepass")
    except ValueError:
        return
    check(CAPTURES[platform](raw))  # as the bytes a webhook would carry


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_damaged_bytes_never_raise(data: st.DataObject) -> None:
    platform, seed = data.draw(st.sampled_from(SEEDS), label="seed")
    raw = bytearray(json.dumps(seed).encode())
    for _ in range(data.draw(st.integers(1, 8), label="damages")):
        position = data.draw(st.integers(0, len(raw) - 1), label="position")
        raw[position] = data.draw(st.integers(0, 255), label="byte")
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw)), label="length")]
    check(CAPTURES[platform](bytes(raw)))
