"""The exception queue over HTTP: the JSON routes (problems with codes and field paths, permissions, OpenAPI) and
the screens driven like a browser (sign in, read the CSRF token, submit the forms). SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from conveyor.testing.factories import TEST_PASSWORD
from conveyor.testing.review import ADDRESS, publish_rules

NO_PHONE = {k: v for k, v in ADDRESS.items() if k != "phone"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def rules(container: Any, seeded: dict[str, Any]) -> int:
    return publish_rules(container)


def place(client: Any, auth: Any, unit_price: str = "10.00", ship_to: dict[str, Any] | None = None) -> int:
    body = {"customer": "C-001", "currency": "EUR", "ship_to": ship_to or ADDRESS,
            "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": unit_price}]}
    r = client.post("/api/v1/orders", json=body, headers=auth("manager"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code, body
    return body


def test_the_queue_lists_held_orders_with_their_groups(client, auth, rules):
    big = place(client, auth, "600.00")
    nophone = place(client, auth, ship_to=NO_PHONE)
    place(client, auth)  # passes every rule
    r = client.get("/api/v1/review/queue", headers=auth("customer_service"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["breached"]) == (2, 0)
    assert {g["reason"]: g["count"] for g in body["groups"]} == {"order_value": 1, "address": 1}
    assert [i["order_id"] for i in body["items"]] == [big, nophone]
    first = body["items"][0]
    assert first["number"] == f"SO-{big:06d}" and first["total"] == "600.00" and first["stage"] == "on_hold"
    assert first["reasons"] == ["order_value", "check"]
    assert [(h["label"], h["veto"]) for h in first["holds"]] == [("R3 v2", True), ("R5 v1", False)]
    assert first["business_seconds_left"] == 4 * 3600 and first["breached"] is False
    only = client.get("/api/v1/review/queue", params={"reason": "address"}, headers=auth("manager")).json()
    assert [i["order_id"] for i in only["items"]] == [nophone]
    problem(client.get("/api/v1/review/queue", params={"cursor": "nonsense"}, headers=auth("manager")),
            422, "invalid_cursor")

    case = client.get(f"/api/v1/review/cases/{big}", headers=auth("manager")).json()
    assert case["needs_override"] is True and case["case"]["status"] == "open"
    assert [(r["label"], r["status"]) for r in case["reviews"][0]["results"]] == [
        ("R3 v2", "held"), ("R5 v1", "check"), ("R7 v1", "passed")]
    problem(client.get("/api/v1/review/cases/999999", headers=auth("manager")), 404, "order_not_found")


def test_approve_refusals_are_problems_with_codes(client, auth, rules):
    big = place(client, auth, "600.00")
    url = f"/api/v1/review/cases/{big}/approve"
    body = problem(client.post(url, json={}, headers=auth("manager")), 422, "reason_required")
    assert body["errors"][0]["field"] == "comment"
    body = problem(client.post(url, json={"comment": "ok"}, headers=auth("customer_service")), 403,
                   "override_not_allowed")
    assert "R3 v2" in body["detail"]
    problem(client.post(url, json={"comment": "ok"}, headers=auth("warehouse")), 403, "forbidden")
    problem(client.post(url, json={"comment": "x", "extra": 1}, headers=auth("manager")), 422, "extra_forbidden")
    r = client.post(url, json={"comment": "Regular customer, confirmed"}, headers=auth("finance"))
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "reserved" and r.json()["case_open"] is False
    problem(client.post(url, json={"comment": "again"}, headers=auth("manager")), 409, "case_closed")
    panel = client.get(f"/api/v1/orders/{big}/review", headers=auth("warehouse")).json()
    assert panel["released_by"] == "user:finance@test.example" and panel["case"]["resolution"] == "approved"
    assert panel["latest"]["approved"] is False and panel["open_holds"] == []
    assert {h["label"] for h in panel["cleared_holds"]} == {"R3 v2", "R5 v1"}
    problem(client.get(f"/api/v1/orders/{big}/review", headers=auth("customer")), 403, "forbidden")


def test_checks_address_prepayment_assign_and_cancel_over_the_api(client, auth, rules):
    mid = place(client, auth, "250.00")
    nophone = place(client, auth, ship_to=NO_PHONE)
    hold = client.get(f"/api/v1/review/cases/{mid}", headers=auth("manager")).json()["open_holds"][0]
    r = client.post(f"/api/v1/review/cases/{mid}/checks/{hold['id']}", json={"comment": "called"},
                    headers=auth("customer_service"))
    assert r.status_code == 200 and r.json()["stage"] == "reserved", r.text

    url = f"/api/v1/review/cases/{nophone}/address"
    body = problem(client.post(url, json={"ship_to": {**NO_PHONE, "postal_code": "XYZ"}},
                               headers=auth("customer_service")), 422, "invalid_postal_code")
    assert [e["field"] for e in body["errors"]] == ["ship_to.postal_code"]
    body = problem(client.post(url, json={"ship_to": {"name": "A"}}, headers=auth("customer_service")), 422,
                   "required")
    assert {e["field"] for e in body["errors"]} >= {"ship_to.line1", "ship_to.city", "ship_to.country"}

    r = client.post(f"/api/v1/review/cases/{nophone}/assign", json={"assignee": "me"}, headers=auth("manager"))
    assert r.status_code == 200 and "manager@test.example" in r.json()["message"], r.text
    mine = client.get("/api/v1/review/queue", params={"assignee": "me"}, headers=auth("manager")).json()
    assert [i["order_id"] for i in mine["items"]] == [nophone]
    problem(client.post(f"/api/v1/review/cases/{nophone}/assign", json={"assignee": "ghost@x"},
                        headers=auth("manager")), 422, "unknown_assignee")

    r = client.post(f"/api/v1/review/cases/{nophone}/prepayment", json={"comment": "first order"},
                    headers=auth("customer_service"))
    assert r.status_code == 200, r.text
    case = client.get(f"/api/v1/review/cases/{nophone}", headers=auth("manager")).json()["case"]
    assert (case["waiting_for"], case["role"]) == ("prepayment", "finance")
    problem(client.post(f"/api/v1/review/cases/{nophone}/prepayment", json={}, headers=auth("customer_service")),
            409, "prepayment_requested")

    r = client.post(url, json={"ship_to": ADDRESS, "comment": "phone from the customer"},
                    headers=auth("customer_service"))
    assert r.status_code == 200 and r.json()["case_open"] is True, r.text  # the prepayment hold stays

    problem(client.post(f"/api/v1/review/cases/{nophone}/cancel", json={"reason": "x"},
                        headers=auth("finance")), 403, "forbidden")
    problem(client.post(f"/api/v1/review/cases/{nophone}/cancel", json={}, headers=auth("customer_service")),
            422, "reason_required")
    r = client.post(f"/api/v1/review/cases/{nophone}/cancel", json={"reason": "customer will not prepay"},
                    headers=auth("customer_service"))
    assert r.status_code == 200 and r.json()["stage"] == "cancelled", r.text
    assert client.get("/api/v1/review/queue", headers=auth("manager")).json()["total"] == 0


def test_bulk_reports_each_order(client, auth, rules):
    a, veto = place(client, auth, "250.00"), place(client, auth, "600.00")
    r = client.post("/api/v1/review/bulk", json={"action": "approve", "order_ids": [a, veto, 999999],
                                                 "comment": "batch of calls"}, headers=auth("customer_service"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["done"], body["failed"]) == (1, 2)
    assert [(o["order_id"], o["ok"], o["code"]) for o in body["outcomes"]] == [
        (a, True, None), (veto, False, "override_not_allowed"), (999999, False, "order_not_found")]
    problem(client.post("/api/v1/review/bulk", json={"action": "approve", "order_ids": [veto]},
                        headers=auth("manager")), 422, "reason_required")
    problem(client.post("/api/v1/review/bulk", json={"action": "cancel", "order_ids": [veto], "reason": "x"},
                        headers=auth("finance")), 403, "forbidden")
    problem(client.post("/api/v1/review/bulk", json={"action": "approve", "order_ids": []},
                        headers=auth("manager")), 422, "too_short")
    r = client.post("/api/v1/review/bulk", json={"action": "assign", "order_ids": [veto], "role": "finance"},
                    headers=auth("manager"))
    assert r.json()["outcomes"][0]["ok"] is True
    case = client.get(f"/api/v1/review/cases/{veto}", headers=auth("manager")).json()["case"]
    assert (case["role"], case["assignee"]) == ("finance", None)


def test_the_routes_are_in_the_openapi_document_with_their_permissions(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in [("/api/v1/review/queue", "get"), ("/api/v1/review/cases/{order_id}", "get"),
                         ("/api/v1/review/cases/{order_id}/approve", "post"),
                         ("/api/v1/review/cases/{order_id}/checks/{hold_id}", "post"),
                         ("/api/v1/review/cases/{order_id}/address", "post"),
                         ("/api/v1/review/cases/{order_id}/prepayment", "post"),
                         ("/api/v1/review/cases/{order_id}/cancel", "post"),
                         ("/api/v1/review/cases/{order_id}/assign", "post"), ("/api/v1/review/bulk", "post"),
                         ("/api/v1/orders/{order_id}/review", "get")]:
        operation = paths[path][method]
        assert "review" in operation["tags"]
        for status in ("401", "403", "422"):
            assert "application/problem+json" in operation["responses"][status]["content"], (path, status)
    assert "409" in paths["/api/v1/review/cases/{order_id}/approve"]["post"]["responses"]


# -- the screens ------------------------------------------------------------------------------------------


def sign_in(client: Any, role: str) -> str:
    client.cookies.clear()
    r = client.post("/login", data={"email": f"{role}@test.example", "password": TEST_PASSWORD, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    client.headers.update(BROWSER)
    page = client.get("/review/queue").text
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match
    return match.group(1)


def test_the_queue_page_shows_groups_clocks_and_the_bulk_bar(client, auth, rules):
    big = place(client, auth, "600.00")
    mid = place(client, auth, "250.00")
    token = sign_in(client, "customer_service")
    page = client.get("/review/queue").text
    assert re.search(r'href="/review/queue"[^>]*>Exceptions</a>', page)  # the navigation entry
    assert 'data-reason="order_value"' in page and 'data-reason="check"' in page
    assert f'href="/review/cases/{big}"' in page and "4h 0m left" in page
    assert 'value="approve"' in page and 'value="cancel"' in page  # customer service may cancel
    partial = client.get("/review/queue?reason=check", headers={"HX-Request": "true"}).text
    assert "<html" not in partial and f'href="/review/cases/{mid}"' in partial
    assert f'href="/review/cases/{big}"' not in partial

    r = client.post("/review/bulk", data={"csrf_token": token, "action": "approve", "order_ids": [str(big), str(mid)],
                                          "comment": "called both"})
    assert r.status_code == 200
    text = html.unescape(r.text)
    assert "1 done" in text and "1 not done" in text and "override_not_allowed" in text


def test_the_case_page_disables_approval_over_a_veto_without_the_permission(client, auth, rules):
    big = place(client, auth, "600.00")
    token = sign_in(client, "customer_service")
    page = client.get(f"/review/cases/{big}").text
    assert "Approving overrides" in page and "review:override" in page
    assert re.search(r'<button type="submit" disabled aria-disabled="true"', page)
    assert "R3 v2" in page and "Large order" in page and "Record check" in page
    assert 'value="Prinsengracht 263"' in page  # the address form is prefilled
    r = client.post(f"/review/cases/{big}/approve", data={"csrf_token": token, "comment": "try"},
                    follow_redirects=False)
    assert r.status_code == 403 and "review:override" in html.unescape(r.text)

    token = sign_in(client, "manager")
    page = client.get(f"/review/cases/{big}").text
    approve_form = page.split('id="approve"')[1].split("</form>")[0]
    assert "It is recorded as an override" in page and "disabled" not in approve_form
    r = client.post(f"/review/cases/{big}/approve", data={"csrf_token": token, "comment": ""}, follow_redirects=False)
    assert r.status_code == 422 and "a comment is required" in r.text
    r = client.post(f"/review/cases/{big}/approve", data={"csrf_token": token, "comment": "fair order"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/review/queue?closed={big}"
    queue_page = html.unescape(client.get(r.headers["location"]).text)
    assert f"SO-{big:06d}" in queue_page and "Approved" in queue_page and "Reserved" in queue_page
    order_page = html.unescape(client.get(f"/orders/{big}").text)
    assert 'id="review-title"' in order_page and "R3 v2" in order_page
    assert "Released:" in order_page and "manager@test.example" in order_page and "fair order" in order_page


def test_the_case_page_forms_for_checks_address_and_assignment(client, auth, rules):
    nophone = place(client, auth, ship_to=NO_PHONE)
    token = sign_in(client, "customer_service")
    bad = {**NO_PHONE, "postal_code": "XYZ", "csrf_token": token}
    r = client.post(f"/review/cases/{nophone}/address", data=bad, follow_redirects=False)
    assert r.status_code == 422 and "not a valid postal code" in html.unescape(r.text)
    assert 'value="XYZ"' in r.text  # the form comes back as typed
    r = client.post(f"/review/cases/{nophone}/assign", data={"csrf_token": token, "assign": "role:finance"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=assign")
    assert "Assignment saved." in client.get(r.headers["location"]).text
    r = client.post(f"/review/cases/{nophone}/address", data={**ADDRESS, "csrf_token": token, "comment": "phoned"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/review/queue?closed={nophone}"
    assert "Rules pass now" in client.get(r.headers["location"]).text
