"""Capture over HTTP: signed web-shop webhooks, document imports, the capture log and channel health."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from conveyor.bootstrap import Container
from conveyor.channels.capture.signatures import sign_shopify, sign_woocommerce
from conveyor.channels.tables import channel_captures, channels
from conveyor.orders.tables import orders
from conveyor.testing.factories import add_channel

SECRET = "shpss_0123456789abcdef"


def shopify_order(order_id: int = 820982911946154500, sku: str = "SKU-1", quantity: int = 2) -> dict[str, Any]:
    address = {"first_name": "Bob", "last_name": "Norman", "address1": "Chestnut Street 92", "city": "Louisville",
               "province_code": "KY", "zip": "40202", "country_code": "US", "phone": "555-625-1199"}
    return {"id": order_id, "name": "#1001", "email": "bob.norman@example.com", "currency": "EUR",
            "created_at": "2026-11-18T09:00:00+01:00", "financial_status": "paid",
            "customer": {"first_name": "Bob", "last_name": "Norman", "email": "bob.norman@example.com"},
            "shipping_address": address, "billing_address": address,
            "line_items": [{"id": 466157049, "sku": sku, "title": "Test product", "quantity": quantity,
                            "price": "19.99", "tax_lines": [], "discount_allocations": []}],
            "shipping_lines": [{"price": "4.95"}]}


def woo_order(order_id: int = 727) -> dict[str, Any]:
    billing = {"first_name": "John", "last_name": "Doe", "address_1": "969 Market", "city": "San Francisco",
               "state": "CA", "postcode": "94103", "country": "US", "email": "john.doe@example.com",
               "phone": "(555) 555-5555"}
    return {"id": order_id, "number": str(order_id), "status": "processing", "currency": "EUR",
            "billing": billing, "shipping": {k: v for k, v in billing.items() if k not in ("email", "phone")},
            "line_items": [{"id": 315, "product_id": 93, "sku": "SKU-2", "name": "Test product 2", "quantity": 3,
                            "price": 2.5, "subtotal": "7.50", "total": "7.50", "total_tax": "0.00"}],
            "shipping_lines": [{"total": "10.00"}]}


@pytest.fixture
def shops(container: Container, seeded: dict[str, Any]) -> None:
    at = container.clock.now()
    with container.db.write() as conn:
        for code, kind in (("shopify-eu", "shopify"), ("woo", "woocommerce")):
            channel = add_channel(conn, at=at, code=code, kind=kind)
            conn.execute(channels.update().where(channels.c.id == channel).values(webhook_secret=SECRET))


def post_shopify(client: Any, body: bytes, *, signature: str | None = None, delivery: str = "b54557e4") -> Any:
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
               "X-Shopify-Shop-Domain": "example.myshopify.com", "X-Shopify-Webhook-Id": delivery}
    if signature is not None:
        headers["X-Shopify-Hmac-SHA256"] = signature
    return client.post("/api/v1/channels/shopify-eu/webhooks", content=body, headers=headers)


def count(container: Container, table: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_signed_shopify_webhook_becomes_an_order_and_a_redelivery_creates_nothing(client, container, shops):
    body = json.dumps(shopify_order()).encode()
    first = post_shopify(client, body, signature=sign_shopify(body, SECRET))
    assert first.status_code == 200, first.text
    [made] = first.json()["orders"]
    assert made["external_id"] == "820982911946154500" and made["units"] == 2 and made["stage"] == "received"
    again = post_shopify(client, body, signature=sign_shopify(body, SECRET))
    assert again.status_code == 200 and again.json()["orders"] == []
    assert again.json()["duplicates"][0]["order_id"] == made["order_id"]
    assert count(container, orders) == 1


@pytest.mark.parametrize("signature", [None, "", "bm90IHRoZSBzaWduYXR1cmU=", sign_shopify(b"{}", SECRET),
                                       sign_shopify(b"x", "another-secret")])
def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(client, container, shops, signature):
    body = json.dumps(shopify_order()).encode()
    answer = post_shopify(client, body, signature=signature)
    assert answer.status_code == 401 and answer.json()["code"] == "invalid_signature"
    assert count(container, orders) == 0 and count(container, channel_captures) == 0


def test_a_channel_without_secret_refuses_every_webhook(client, container, shops):
    with container.db.write() as conn:
        conn.execute(channels.update().where(channels.c.code == "shopify-eu").values(webhook_secret=None))
    body = json.dumps(shopify_order()).encode()
    answer = post_shopify(client, body, signature=sign_shopify(body, SECRET))
    assert answer.status_code == 401 and "no webhook secret" in answer.json()["detail"]


def test_webhooks_go_only_to_shop_channels(client, shops):
    answer = client.post("/api/v1/channels/api/webhooks", content=b"{}")
    assert answer.status_code == 404 and answer.json()["code"] == "unknown_channel"


def test_a_signed_woocommerce_webhook_and_its_ping(client, container, shops):
    body = json.dumps(woo_order()).encode()
    headers = {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Delivery-ID": "1234",
               "X-WC-Webhook-Source": "https://shop.example.com/", "Content-Type": "application/json"}
    answer = client.post("/api/v1/channels/woo/webhooks", content=body,
                         headers={**headers, "X-WC-Webhook-Signature": sign_woocommerce(body, SECRET)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["orders"][0]["units"] == 3
    forged = client.post("/api/v1/channels/woo/webhooks", content=body,
                         headers={**headers, "X-WC-Webhook-Signature": sign_woocommerce(body, "wrong-secret")})
    assert forged.status_code == 401
    ping = client.post("/api/v1/channels/woo/webhooks", content=b"webhook_id=15",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert ping.status_code == 200 and ping.json()["ignored"][0]["reason"].startswith("WooCommerce ping")


def test_a_document_upload_imports_orders_and_a_dry_run_writes_nothing(client, container, shops, auth):
    body = json.dumps({"orders": [shopify_order(1), shopify_order(2, "NOT-IN-CATALOG", 4)]}).encode()
    dry = client.post("/api/v1/channels/shopify-eu/imports?format=shopify&dry_run=true&name=orders.json",
                      content=body, headers=auth("manager"))
    assert dry.status_code == 200, dry.text
    assert dry.json() == {"orders": [
        {"external_id": "1", "lines": 1, "units": 2, "unmapped_lines": 0},
        {"external_id": "2", "lines": 1, "units": 4, "unmapped_lines": 1}],
        "duplicates": [], "rejected": [], "ignored": []}
    assert count(container, orders) == 0
    real = client.post("/api/v1/channels/shopify-eu/imports", files={"file": ("orders.json", body)},
                       headers=auth("manager"))
    assert real.status_code == 200, real.text
    assert [o["stage"] for o in real.json()["orders"]] == ["received", "on_hold"]
    log = client.get("/api/v1/channels/shopify-eu/captures", headers=auth("manager")).json()
    assert log[0]["source"] == "orders.json" and log[0]["orders_created"] == 2


def test_an_unknown_document_is_refused_with_its_field(client, shops, auth):
    answer = client.post("/api/v1/channels/shopify-eu/imports", content=b"\x00\x01\x02 not a document",
                         headers=auth("manager"))
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "format"
    assert client.post("/api/v1/channels/shopify-eu/imports?format=pdf", content=b"x",
                       headers=auth("manager")).status_code == 422
    assert client.post("/api/v1/channels/shopify-eu/imports", content=b"x",
                       headers=auth("warehouse")).status_code == 403


def test_channel_health_shows_last_order_today_and_rejections(client, container, shops, auth):
    good = json.dumps({"orders": [shopify_order(1)]}).encode()
    client.post("/api/v1/channels/shopify-eu/imports?format=shopify", content=good, headers=auth("manager"))
    broken = json.dumps({"orders": [{"id": 5, "line_items": "nope"}]}).encode()
    client.post("/api/v1/channels/shopify-eu/imports?format=shopify&name=bad.json", content=broken,
                headers=auth("manager"))
    health = {h["code"]: h for h in client.get("/api/v1/channels/health", headers=auth("manager")).json()}
    shop = health["shopify-eu"]
    assert shop["orders_today"] == 1 and shop["last_order_at"] is not None and shop["rejected"] == 1
    assert shop["status"] == "warning" and shop["last_problems"][0]["where"].startswith("bad.json")
    assert health["woo"]["status"] == "idle"


def test_the_channel_shows_whether_a_secret_is_set_never_the_secret(client, shops, auth):
    found = client.get("/api/v1/channels?q=shopify", headers=auth("manager")).json()["items"][0]
    assert found["webhook_secret_set"] is True and "webhook_secret" not in found
    made = client.post("/api/v1/channels", json={"code": "shop2", "name": "Shop 2", "kind": "shopify",
                                                 "webhook_secret": "short"}, headers=auth("manager"))
    assert made.status_code == 422 and made.json()["errors"][0]["field"] == "webhook_secret"
