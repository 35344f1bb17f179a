"""Shortage policies set through the reference-data API decide what order intake does when stock is short:
the customer's policy first, else the channel's, else hold."""

from __future__ import annotations

from typing import Any

from tests.api.test_reference_pages import HTML, csrf_token, page, sign_in

ADDRESS = {"name": "Anna de Vries", "line1": "Prinsengracht 263", "city": "Amsterdam",
           "postal_code": "1016 GV", "country": "NL"}


def too_much(external_id: str) -> dict[str, Any]:
    """An order on the api channel for more than the 1000 units seeded of SKU-1."""
    return {"customer": "C-001", "channel": "api", "currency": "EUR", "ship_to": ADDRESS,
            "external_id": external_id, "lines": [{"sku": "SKU-1", "quantity": 1200, "unit_price": "1.00"}]}


def test_the_customer_and_channel_policies_set_through_the_api_decide_intake(client, auth, seeded):
    customer_url = f"/api/v1/customers/{seeded['customers']['C-001']}"
    channel_url = f"/api/v1/channels/{seeded['channels']['api']}"

    set_reject = client.patch(customer_url, json={"shortage_policy": "reject"}, headers=auth("manager"))
    assert set_reject.status_code == 200, set_reject.text
    refused = client.post("/api/v1/orders", json=too_much("SHORT-1"), headers=auth("manager"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "insufficient_stock"

    assert client.patch(channel_url, json={"shortage_policy": "backorder"},
                        headers=auth("manager")).status_code == 200
    assert client.patch(customer_url, json={"shortage_policy": None}, headers=auth("manager")).status_code == 200
    accepted = client.post("/api/v1/orders", json=too_much("SHORT-2"), headers=auth("manager"))
    assert accepted.status_code == 201, accepted.text
    order = accepted.json()
    assert order["stage"] == "received"
    assert order["lines"][0]["missing"] == 200


def test_the_policies_are_shown_and_edited_on_the_forms(client, seeded):
    sign_in(client, "admin")
    channel_url = f"/channels/{seeded['channels']['webshop']}"
    html = page(client, channel_url)
    assert '<option value="" selected>Default (hold)</option>' in html
    form = {"csrf_token": csrf_token(html), "code": "webshop", "name": "Web shop", "kind": "webshop",
            "default_currency": "EUR", "active": "on"}
    saved = client.post(channel_url, data={**form, "shortage_policy": "backorder"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert '<option value="backorder" selected>Ship what is there, backorder the rest</option>' in page(
        client, channel_url)
    bad = client.post(channel_url, data={**form, "shortage_policy": "later"}, headers=HTML)
    assert bad.status_code == 422 and 'id="err-shortage_policy"' in bad.text

    customer_html = page(client, "/customers/new")
    assert '<option value="" selected>Channel&#39;s policy</option>' in customer_html
    created = client.post("/customers/new", follow_redirects=False, data={
        "csrf_token": csrf_token(customer_html), "account": "C-400", "name": "Eetcafe Zuid", "credit_limit": "0",
        "currency": "EUR", "credit_rating": "B", "payment_terms": "prepaid", "shortage_policy": "reject",
        "active": "on"})
    assert created.status_code == 303, created.text
    assert '<option value="reject" selected>Reject the order</option>' in page(client, created.headers["location"])
