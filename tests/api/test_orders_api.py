"""The order API on SQLite and PostgreSQL: placing, idempotency, bad input, lifecycle moves, lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from conveyor.orders.tables import order_lines, order_timeline, orders
from conveyor.platform.outbox import outbox

ADDRESS = {"name": "Anna de Vries", "line1": "Prinsengracht 263", "city": "Amsterdam",
           "postal_code": "1016 GV", "country": "NL"}


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": "C-001", "currency": "EUR", "ship_to": ADDRESS,
        "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"},
                  {"sku": "SKU-2", "quantity": 1, "unit_price": "5.00", "discount": "1.00", "tax": "0.84"}],
        "shipping": "4.95",
    }
    body.update(overrides)
    return body


def counts(container: Any) -> tuple[int, int, int, int]:
    with container.db.read() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
                     for t in (orders, order_lines, order_timeline, outbox))


def test_placing_an_order_computes_totals_and_starts_it_received(client, auth, container):
    r = client.post("/api/v1/orders", json=order_body(external_id="WEB-1"), headers=auth("customer_service"))
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["number"].startswith("SO-")
    assert order["stage"] == "received"
    assert order["totals"] == {"subtotal": "30.00", "discount": "1.00", "tax": "0.84", "shipping": "4.95",
                               "total": "34.79"}
    assert [line["total"] for line in order["lines"]] == ["25.00", "4.84"]
    assert [(line["held"], line["missing"]) for line in order["lines"]] == [
        ([{"warehouse": "RTM", "quantity": 2, "status": "active"}], 0),
        ([{"warehouse": "RTM", "quantity": 1, "status": "active"}], 0)]
    assert order["sla"]["owner_role"] == "customer_service"
    assert order["sla"]["due_at"] is not None and order["sla"]["breached"] is False
    assert [t["kind"] for t in order["timeline"]] == ["created", "decision"]
    assert order["timeline"][1]["reason"] == "Stock reserved: line 1: 2 at RTM; line 2: 1 at RTM"
    assert r.headers["location"] == f"/api/v1/orders/{order['id']}"
    assert counts(container) == (1, 2, 2, 1)  # the OrderPlaced event is in the outbox


def test_a_repeated_idempotency_key_returns_the_same_order(client, auth, container):
    headers = {**auth("manager"), "Idempotency-Key": "abc-123"}
    first = client.post("/api/v1/orders", json=order_body(), headers=headers)
    again = client.post("/api/v1/orders", json=order_body(), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert counts(container)[0] == 1


def test_an_idempotency_key_reused_for_another_body_is_refused(client, auth):
    headers = {**auth("manager"), "Idempotency-Key": "k-1"}
    assert client.post("/api/v1/orders", json=order_body(), headers=headers).status_code == 201
    r = client.post("/api/v1/orders", json=order_body(notes="different"), headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"


def test_the_same_channel_and_external_id_returns_the_existing_order(client, auth, container):
    first = client.post("/api/v1/orders", json=order_body(external_id="X-9"), headers=auth("manager"))
    again = client.post("/api/v1/orders", json=order_body(external_id="X-9"), headers=auth("admin"))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other_channel = client.post("/api/v1/orders", json=order_body(external_id="X-9", channel="webshop"),
                                headers=auth("manager"))
    assert other_channel.status_code == 201
    assert counts(container)[0] == 2


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"lines": []}, "order_has_no_lines", "lines"),
    ({"lines": [{"sku": "SKU-1", "quantity": -3, "unit_price": "1.00"}]}, "invalid_quantity", "lines.0.quantity"),
    ({"lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "1"},
                {"sku": "NOPE", "quantity": 1, "unit_price": "1"}]}, "unknown_sku", "lines.1.sku"),
    ({"ship_to": {**ADDRESS, "country": "XX"}}, "invalid_country", "ship_to.country"),
    ({"ship_to": {**ADDRESS, "postal_code": "ABCDE"}}, "invalid_postal_code", "ship_to.postal_code"),
    ({"ship_to": {k: v for k, v in ADDRESS.items() if k != "line1"}}, "required", "ship_to.line1"),
    ({"currency": "EUX"}, "unknown_currency", "currency"),
    ({"lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "1.005"}]}, "invalid_amount",
     "lines.0.unit_price"),
    ({"customer": "C-404"}, "unknown_customer", "customer"),
    ({"channel": "telex"}, "unknown_channel", "channel"),
    ({"lines": [{"sku": "SKU-1", "quantity": "many", "unit_price": "1"}]}, "int_parsing", "lines.0.quantity"),
    ({"unexpected": 1}, "extra_forbidden", "unexpected"),
])
def test_bad_input_gets_a_code_and_field_path_and_writes_nothing(client, auth, container, change, code, field):
    r = client.post("/api/v1/orders", json=order_body(**change), headers=auth("manager"))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == code
    assert field in [e["field"] for e in problem["errors"]]
    assert counts(container) == (0, 0, 0, 0)


def test_a_body_that_is_not_json_gets_400(client, auth, container):
    r = client.post("/api/v1/orders", content=b"{not json", headers={**auth("manager"),
                                                                      "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_json"
    assert counts(container) == (0, 0, 0, 0)


def test_every_problem_is_reported_at_once(client, auth):
    body = order_body(currency="EUR", lines=[{"sku": "NOPE", "quantity": 0, "unit_price": "1"}],
                      ship_to={**ADDRESS, "country": "ZZ"})
    fields = {e["field"] for e in client.post("/api/v1/orders", json=body, headers=auth("manager")).json()["errors"]}
    assert {"lines.0.quantity", "lines.0.sku", "ship_to.country"} <= fields


def _place(client, auth, **kw) -> dict[str, Any]:
    r = client.post("/api/v1/orders", json=order_body(**kw), headers=auth("manager"))
    assert r.status_code == 201, r.text
    return r.json()


def test_an_order_walks_the_whole_lifecycle_and_every_step_is_on_its_timeline(client, auth):
    order = _place(client, auth)
    for action, role in [("review", "customer_service"), ("approve", "customer_service"),
                         ("reserve", "warehouse"), ("pick", "warehouse"), ("pack", "warehouse"),
                         ("ship", "warehouse"), ("deliver", "warehouse"), ("close", "finance")]:
        r = client.post(f"/api/v1/orders/{order['id']}/{action}", json={}, headers=auth(role))
        assert r.status_code == 200, (action, r.text)
    final = r.json()
    assert final["stage"] == "closed" and final["allowed_actions"] == []
    stages = [t["to_stage"] for t in final["timeline"] if t["to_stage"]]
    assert stages == ["received", "under_review", "approved", "reserved", "picking", "packed", "shipped",
                      "delivered", "closed"]
    assert all(t["actor"].startswith("user:") for t in final["timeline"] if t["kind"] == "transition")


def test_cannot_ship_an_unapproved_order(client, auth):
    order = _place(client, auth)
    r = client.post(f"/api/v1/orders/{order['id']}/ship", json={}, headers=auth("warehouse"))
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition"
    assert "received" in r.json()["detail"].lower()


def test_holding_needs_a_reason_and_release_returns_to_the_held_stage(client, auth):
    order = _place(client, auth)
    client.post(f"/api/v1/orders/{order['id']}/review", json={}, headers=auth("manager"))
    no_reason = client.post(f"/api/v1/orders/{order['id']}/hold", json={}, headers=auth("manager"))
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    held = client.post(f"/api/v1/orders/{order['id']}/hold", json={"reason": "address check"},
                       headers=auth("manager")).json()
    assert held["stage"] == "on_hold" and held["held_from"] == "under_review"
    assert held["timeline"][-1]["reason"] == "address check"
    released = client.post(f"/api/v1/orders/{order['id']}/release", json={}, headers=auth("manager")).json()
    assert released["stage"] == "under_review"


def test_a_role_without_the_permission_cannot_move_an_order(client, auth):
    order = _place(client, auth)
    r = client.post(f"/api/v1/orders/{order['id']}/review", json={}, headers=auth("warehouse"))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_customers_see_and_place_only_their_own_orders(client, auth):
    mine = _place(client, auth, customer="C-001")
    theirs = _place(client, auth, customer="C-002")
    assert client.get(f"/api/v1/orders/{mine['id']}", headers=auth("customer")).status_code == 200
    assert client.get(f"/api/v1/orders/{theirs['id']}", headers=auth("customer")).status_code == 404
    listed = client.get("/api/v1/orders", headers=auth("customer")).json()["items"]
    assert [o["id"] for o in listed] == [mine["id"]]
    r = client.post("/api/v1/orders", json=order_body(customer="C-002"), headers=auth("customer"))
    assert r.status_code == 403 and r.json()["code"] == "forbidden_customer"


def test_the_order_list_filters_searches_and_pages_by_keyset(client, auth, container):
    ids = []
    for i in range(7):
        container.clock.advance(timedelta(minutes=1))
        ids.append(_place(client, auth, external_id=f"EXT-{i}", customer="C-001" if i % 2 else "C-002")["id"])
    h = auth("manager")
    page1 = client.get("/api/v1/orders", params={"limit": 3}, headers=h).json()
    assert [o["id"] for o in page1["items"]] == ids[::-1][:3]
    page2 = client.get("/api/v1/orders", params={"limit": 3, "cursor": page1["next_cursor"]}, headers=h).json()
    page3 = client.get("/api/v1/orders", params={"limit": 3, "cursor": page2["next_cursor"]}, headers=h).json()
    assert [o["id"] for o in page2["items"] + page3["items"]] == ids[::-1][3:]
    assert page3["next_cursor"] is None
    assert [o["id"] for o in client.get("/api/v1/orders", params={"q": "EXT-3"}, headers=h).json()["items"]] == [ids[3]]
    number = f"SO-{ids[5]:06d}"
    assert [o["id"] for o in client.get("/api/v1/orders", params={"q": number}, headers=h).json()["items"]] == [ids[5]]
    by_customer = client.get("/api/v1/orders", params={"customer": "C-001"}, headers=h).json()["items"]
    assert len(by_customer) == 3
    client.post(f"/api/v1/orders/{ids[0]}/review", json={}, headers=h)
    staged = client.get("/api/v1/orders", params={"stage": "under_review"}, headers=h).json()["items"]
    assert [o["id"] for o in staged] == [ids[0]]
    day = container.clock.now().date().isoformat()
    assert len(client.get("/api/v1/orders", params={"created_from": day, "created_to": day},
                          headers=h).json()["items"]) == 7
    bad = client.get("/api/v1/orders", params={"cursor": "garbage"}, headers=h)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"


def test_orders_past_their_sla_show_as_breached_on_the_board(client, auth, container):
    order = _place(client, auth)
    board = {c["stage"]: c for c in client.get("/api/v1/board", headers=auth("manager")).json()}
    assert board["received"]["count"] == 1 and board["received"]["breached"] == 0
    container.clock.advance(timedelta(days=3))
    board = {c["stage"]: c for c in client.get("/api/v1/board", headers=auth("manager")).json()}
    assert board["received"]["breached"] == 1
    detail = client.get(f"/api/v1/orders/{order['id']}", headers=auth("manager")).json()
    assert detail["sla"]["breached"] is True and detail["sla"]["business_seconds_left"] < 0


def test_a_manager_changes_a_stage_sla_and_open_orders_follow(client, auth):
    order = _place(client, auth)
    before = client.get(f"/api/v1/orders/{order['id']}", headers=auth("manager")).json()["sla"]["due_at"]
    r = client.put("/api/v1/lifecycle/stages/received", json={"owner_role": "manager", "sla_hours": 4},
                   headers=auth("manager"))
    assert r.status_code == 200, r.text
    stage = next(s for s in r.json()["stages"] if s["stage"] == "received")
    assert stage["owner_role"] == "manager" and stage["sla_hours"] == 4
    after = client.get(f"/api/v1/orders/{order['id']}", headers=auth("manager")).json()["sla"]
    assert after["owner_role"] == "manager" and after["due_at"] != before
    forbidden = client.put("/api/v1/lifecycle/stages/received", json={"owner_role": "manager", "sla_hours": 4},
                           headers=auth("warehouse"))
    assert forbidden.status_code == 403
    bad = client.put("/api/v1/lifecycle/stages/received", json={"owner_role": "pilot", "sla_hours": -1},
                     headers=auth("manager"))
    assert bad.status_code == 422 and {"owner_role", "sla_hours"} <= {e["field"] for e in bad.json()["errors"]}


def test_the_business_calendar_is_configurable(client, auth):
    body = {"timezone": "Europe/Amsterdam", "working_days": [1, 2, 3, 4, 5], "opens": "08:30", "closes": "17:00",
            "holidays": [{"day": "2026-12-25", "name": "Christmas"}]}
    r = client.put("/api/v1/lifecycle/calendar", json=body, headers=auth("manager"))
    assert r.status_code == 200, r.text
    assert r.json()["holidays"] == [{"day": "2026-12-25", "name": "Christmas"}]
    lifecycle = client.get("/api/v1/lifecycle", headers=auth("warehouse")).json()
    assert lifecycle["calendar"]["timezone"] == "Europe/Amsterdam"
    assert {"from_stage": "received", "action": "review", "to_stage": "under_review"} in lifecycle["moves"]
    bad = client.put("/api/v1/lifecycle/calendar", json={**body, "timezone": "Mars/Olympus"},
                     headers=auth("manager"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "timezone"


@pytest.mark.parametrize("policy", ["complete", "backorder", "hold"])
def test_the_answer_to_placing_is_the_order_as_stored(client, auth, container, policy):
    """The POST answer is built from the rows as written (or read back after a hold): it must equal a GET."""
    from sqlalchemy import update

    from conveyor.customers.tables import customers

    if policy != "complete":
        with container.db.write() as conn:
            conn.execute(update(customers).values(shortage_policy=policy))
    quantity = 2 if policy == "complete" else 1500  # 1000 units of SKU-1 in stock
    body = order_body(external_id=f"AS-STORED-{policy}", notes="ring twice", tags=["b2b"],
                      requested_delivery_date="2026-12-01",
                      lines=[{"sku": "SKU-1", "quantity": quantity, "unit_price": "1.00"},
                             {"sku": "SKU-3", "quantity": 1, "unit_price": "2.00"}])
    posted = client.post("/api/v1/orders", json=body, headers=auth("manager"))
    assert posted.status_code == 201, posted.text
    fetched = client.get(posted.headers["location"], headers=auth("manager"))
    assert posted.json() == fetched.json()
    expected_stage = {"complete": "received", "backorder": "received", "hold": "on_hold"}[policy]
    assert posted.json()["stage"] == expected_stage
    assert posted.json()["lines"][0]["missing"] == (0 if policy == "complete" else 500)
