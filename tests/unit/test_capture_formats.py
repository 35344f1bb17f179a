"""Telling a document's format from its first bytes: tiny samples of our own, then the shared corpus of real
documents (read from ../shared/corpus, never copied into the project; skipped with a reason when absent)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conveyor.channels.capture.formats import FORMATS, HEAD_SIZE, UnknownFormat, detect_format

CORPUS = Path(os.environ.get("CONVEYOR_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))

X12 = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261118*1000*U*00401*000000001*0*P*>~"
SHOPIFY = {"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469", "financial_status": "paid",
           "line_items": [{"id": 1, "variant_id": 39072856, "sku": "IPOD2008PINK", "quantity": 1}]}
WOO = {"id": 727, "number": "727", "billing": {"first_name": "John"}, "shipping": {"first_name": "John"},
       "line_items": [{"id": 315, "product_id": 93, "variation_id": 0, "quantity": 2, "sku": ""}]}
WOO_LEGACY = {"order": {"id": 645, "order_number": 645, "billing_address": {}, "shipping_address": {},
                        "line_items": [{"id": 504, "product_id": 99, "quantity": 1}]}}
AMAZON = {"payload": {"AmazonOrderId": "902-1845936-5435065", "OrderStatus": "Unshipped"}}
AMAZON_PAIR = {"order": {"id": "902-1845936-5435065"}, "items": [{"sku": "S1"}]}


@pytest.mark.parametrize(("name", "head", "expected"), [
    ("orders.csv", b"order_id,sku,quantity\nA1,S1,1\n", "csv"),
    ("orders.txt", b"\xef\xbb\xbforder_id;sku;quantity\n", "csv"),
    ("orders.csv", "order_id\tsku\tquantity\n".encode("utf-16"), "csv"),
    ("orders.csv", "order_id,sku,quantity\nA1,café,1\n".encode("cp1252"), "csv"),
    ("orders.csv", "order_id,notes\nA1,café\n".encode()[:-2], "csv"),  # a head that cuts a character in two
    ("orders.xlsx", b"PK\x03\x04\x14\x00\x06\x00", "xlsx"),
    ("po.x12", X12, "x12"),
    ("po.edi", b"\xef\xbb\xbf\r\n  " + X12, "x12"),
    ("po.edi", "ISA*00*".encode("cp037"), "x12"),
    ("order.edi", b"UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER+261118:1000+1'", "edifact"),
    ("order.edi", b"UNB+UNOA:2+SENDER+RECEIVER+261118:1000+1'", "edifact"),
    ("order.edi", b"UNH+1+ORDERS:D:96A:UN'", "edifact"),
    ("webhook.json", json.dumps(SHOPIFY).encode(), "shopify"),
    ("orders.json", json.dumps({"orders": [SHOPIFY]}).encode(), "shopify"),
    ("order.json", json.dumps(WOO).encode(), "woocommerce"),
    ("orders.json", json.dumps([WOO, WOO]).encode(), "woocommerce"),
    ("legacy.json", json.dumps(WOO_LEGACY).encode(), "woocommerce"),
    ("amazon.json", json.dumps(AMAZON).encode(), "amazon"),
    ("amazon.json", json.dumps(AMAZON_PAIR).encode(), "amazon"),
    ("cut.json", json.dumps({"orders": [SHOPIFY] * 50}).encode()[:300], "shopify"),
    ("cut.json", json.dumps([WOO] * 50).encode()[:250], "woocommerce"),
    ("misnamed.csv", X12, "x12"),
])
def test_formats_are_told_by_content(name: str, head: bytes, expected: str) -> None:
    assert expected in FORMATS
    assert detect_format(name, head) == expected


@pytest.mark.parametrize(("name", "head", "message"), [
    ("empty.csv", b"", "empty.csv: the file is empty"),
    ("/uploads/old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "old.xls: an Excel 97-2003 workbook (.xls)"),
    ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.png: binary content (starting 89 50 4e 47"),
    ("feed.xml", b'<?xml version="1.0"?><orders/>', "feed.xml: XML or HTML, which no order adapter reads"),
    ("refunds.json", b'{"refunds": [{"id": 1, "amount": "3.00"}]}',
     "refunds.json: JSON, but not an order from Shopify, WooCommerce or Amazon (keys: refunds)"),
    ("line_items.json", b'{"line_items": [{"product_id": 1}]}', "line_items.json: JSON, but not an order"),
])
def test_unknown_content_is_refused_with_what_was_seen(name: str, head: bytes, message: str) -> None:
    with pytest.raises(UnknownFormat) as caught:
        detect_format(name, head)
    assert str(caught.value).startswith(message)


# -- the shared corpus of real documents -------------------------------------------------------------------------

# Files the adapters do not read, and why they are refused.
NOT_ORDERS = {
    "marketplace/shopify/shopify_python_api__shipping_zones.json": "shipping zones, not orders",
    "marketplace/shopify/shopify_python_api__transactions.json": "payment transactions, not orders",
    "marketplace/woocommerce/woocommerce-docs__legacy-v3_orders__view-list-of-order-statuses.json": "status names",
    "marketplace/amazon/amazon-sp__mcf-v1-getFulfillmentOrder.json": "Multi-Channel Fulfillment, no AmazonOrderId",
    "marketplace/amazon/amazon-sp__mcf-v1-getFulfillmentOrder-cancelled.json": "Multi-Channel Fulfillment",
    "marketplace/amazon/amazon-sp__mcf-v2-getOrder.json": "Multi-Channel Fulfillment",
    "marketplace/amazon/amazon-sp__mcf-v2-listOrders.json": "Multi-Channel Fulfillment",
    "marketplace/amazon/amazon-sp__shipping-guru__get_order_response.json": "a shipping service's order",
    "marketplace/amazon/amazon-sp__vendororders-getPurchaseOrder.json": "Vendor Central purchase orders",
    "marketplace/amazon/amazon-sp__vendororders-getPurchaseOrders.json": "Vendor Central purchase orders",
    "marketplace/amazon/amazon-sp__vendororders-getPurchaseOrdersStatus.json": "Vendor Central statuses",
    "marketplace/amazon/amazon-sp__vendorshipments-getShipmentDetails.json": "Vendor Central shipments",
    "x12/856/EdiEngine__856.Crossdock.OK.json": "a parser's JSON rendering of an 856",
}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".md" and p.name != "LICENSE.txt")


def expected_format(relative: str) -> str | None:
    """None: refused."""
    if relative in NOT_ORDERS or relative.startswith("carrier/"):
        return None
    top, kind = relative.split("/")[:2]
    return {"x12": "x12", "edifact": "edifact", "dataset": "csv"}.get(top) or kind


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is not at {CORPUS} (set CONVEYOR_CORPUS)")
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_documents_are_told_by_their_first_64_kib(path: Path) -> None:
    relative = path.relative_to(CORPUS).as_posix()
    expected = expected_format(relative)
    head = path.read_bytes()[:HEAD_SIZE]
    if expected is None:
        with pytest.raises(UnknownFormat):
            detect_format(str(path), head)
    else:
        assert detect_format(str(path), head) == expected
        assert detect_format(str(path), head[:4096]) == expected  # a shorter head tells the same


def test_the_corpus_is_there_or_its_absence_is_explained() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS} (set CONVEYOR_CORPUS)")
    assert len(corpus_files()) > 100
