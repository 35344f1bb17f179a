"""Stock over the API on SQLite and PostgreSQL: the list, one SKU, every booking, ASNs, CSV uploads (all or
nothing, errors naming the line), the ledger check and who may write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from conveyor.inventory import ledger
from conveyor.inventory.ledger import Move
from conveyor.inventory.tables import stock_levels, stock_movements
from conveyor.platform.outbox import outbox
from conveyor.testing.factories import STOCK_PER_SKU, add_warehouse

STOCK = "/api/v1/stock"


def with_stock_routes(app: FastAPI) -> FastAPI:
    """Until app.py lists the inventory routers, include them here (once)."""
    from conveyor.inventory import api, views

    paths = {getattr(route, "path", "") for route in app.routes}
    if STOCK not in paths:
        app.include_router(api.router)
    if "/stock" not in paths:
        app.include_router(views.router)
    return app


@pytest.fixture
def api(container: Any, seeded: dict[str, Any]) -> Iterator[TestClient]:
    from conveyor.app import create_app

    with TestClient(with_stock_routes(create_app(container=container))) as client:
        yield client


def sku(api: TestClient, auth: Any, code: str = "SKU-1") -> dict[str, Any]:
    r = api.get(f"{STOCK}/{code}", headers=auth("warehouse"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def at(stock: dict[str, Any], warehouse: str = "RTM") -> dict[str, Any]:
    return next(w for w in stock["warehouses"] if w["warehouse"] == warehouse)


def movement_count(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(stock_movements)).scalar_one())


def on_hand(container: Any, product_id: int) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.sum(stock_levels.c.on_hand))
                                .where(stock_levels.c.product_id == product_id)).scalar_one())


def test_the_list_shows_every_sku_with_available_to_promise(api, auth):
    r = api.get(STOCK, headers=auth("warehouse"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["sku"] for i in items] == [f"SKU-{n}" for n in range(1, 6)]
    assert items[0] | {"product_id": 0, "warehouse_id": 0} == {
        "product_id": 0, "sku": "SKU-1", "name": "Test product 1", "warehouse_id": 0, "warehouse": "RTM",
        "on_hand": STOCK_PER_SKU, "reserved": 0, "safety": 0, "available": STOCK_PER_SKU, "incoming": 0}
    assert r.json()["next_after"] is None


def test_the_list_filters_by_text_warehouse_and_shortage(api, auth, container, seeded):
    headers = auth("warehouse")
    assert [i["sku"] for i in api.get(STOCK, params={"q": "product 3"}, headers=headers).json()["items"]] == ["SKU-3"]
    assert len(api.get(STOCK, params={"warehouse": "RTM"}, headers=headers).json()["items"]) == 5
    assert api.get(STOCK, params={"short_only": True}, headers=headers).json()["items"] == []
    with container.db.write() as conn:
        ledger.set_safety(conn, seeded["products"]["SKU-2"], seeded["warehouse"], 600, container.clock.now())
        ledger.try_reserve(conn, seeded["products"]["SKU-2"], seeded["warehouse"], 400,
                           Move(actor="system:test", at=container.clock.now(), reference="hold:1"))
    short = api.get(STOCK, params={"short_only": True}, headers=headers).json()["items"]
    assert [(i["sku"], i["reserved"], i["safety"], i["available"]) for i in short] == [("SKU-2", 400, 600, 0)]
    unknown = api.get(STOCK, params={"warehouse": "NOPE"}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "warehouse"


def test_the_list_pages_by_product_and_warehouse(api, auth, container, seeded):
    with container.db.write() as conn:
        second = add_warehouse(conn, at=container.clock.now(), code="AMS")
        ledger.ensure_levels(conn, [(p, second) for p in seeded["products"].values()], container.clock.now())
    seen: list[tuple[str, str]] = []
    after = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 3} | ({"after": after} if after else {})
        page = api.get(STOCK, params=params, headers=auth("warehouse")).json()
        seen += [(i["sku"], i["warehouse"]) for i in page["items"]]
        if not (after := page["next_after"]):
            break
    assert len(seen) == len(set(seen)) == 10
    by_warehouse = api.get(STOCK, params={"warehouse": "AMS", "limit": 2}, headers=auth("warehouse")).json()
    rest = api.get(STOCK, params={"warehouse": "AMS", "after": by_warehouse["next_after"]},
                   headers=auth("warehouse")).json()
    assert [i["sku"] for i in by_warehouse["items"] + rest["items"]] == [f"SKU-{n}" for n in range(1, 6)]
    assert api.get(STOCK, params={"after": "x:1"}, headers=auth("warehouse")).status_code == 422


def test_one_sku_shows_every_warehouse_totals_and_movements(api, auth):
    stock = sku(api, auth)
    assert stock["totals"] == {"on_hand": STOCK_PER_SKU, "reserved": 0, "safety": 0, "available": STOCK_PER_SKU,
                               "incoming": 0}
    assert [(m["kind"], m["on_hand_delta"], m["reference"]) for m in stock["movements"]] == [
        ("receipt", STOCK_PER_SKU, "receipt:seed")]
    missing = api.get(f"{STOCK}/NOPE", headers=auth("warehouse"))
    assert missing.status_code == 404 and missing.json()["code"] == "product_not_found"


def test_a_receipt_adds_stock_with_its_reference(api, auth, container):
    r = api.post(f"{STOCK}/receipts", json={"sku": "SKU-1", "warehouse": "RTM", "quantity": 25,
                                             "reference": "DN-4711"}, headers=auth("manager"))
    assert r.status_code == 200, r.text
    assert at(r.json())["on_hand"] == STOCK_PER_SKU + 25
    latest = r.json()["movements"][0]
    assert (latest["kind"], latest["reference"], latest["actor"]) == ("receipt", "receipt:DN-4711",
                                                                      "user:manager@test.example")
    with container.db.read() as conn:  # so waiting backorders fill after the request
        assert conn.execute(select(outbox.c.event)).scalars().all() == ["stock.received"]


@pytest.mark.parametrize("body, field, code", [
    ({"sku": "NOPE", "warehouse": "RTM"}, "sku", "unknown_sku"),
    ({"sku": "SKU-1", "warehouse": "NOPE"}, "warehouse", "unknown_warehouse"),
    ({"sku": "SKU-1", "warehouse": "RTM", "quantity": 0}, "quantity", "greater_than_equal"),
])
def test_a_receipt_for_an_unknown_sku_or_warehouse_is_refused_with_its_field(api, auth, container, body, field,
                                                                              code):
    before = movement_count(container)
    r = api.post(f"{STOCK}/receipts", json={"quantity": 5, "reference": "DN-1"} | body, headers=auth("manager"))
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["errors"][0]["field"]) == (code, field)
    assert movement_count(container) == before


def test_an_asn_raises_incoming_and_the_receipt_with_its_reference_books_it(api, auth):
    headers = auth("manager")
    asn = api.post(f"{STOCK}/receipts", json={"sku": "SKU-1", "warehouse": "RTM", "quantity": 100,
                                               "reference": "ASN-9", "asn": True}, headers=headers)
    assert asn.status_code == 200, asn.text
    assert (at(asn.json())["on_hand"], at(asn.json())["incoming"]) == (STOCK_PER_SKU, 100)
    assert asn.json()["movements"][0]["kind"] == "asn"
    other = api.post(f"{STOCK}/receipts", json={"sku": "SKU-1", "warehouse": "RTM", "quantity": 5,
                                                 "reference": "DN-OTHER"}, headers=headers)
    assert at(other.json())["incoming"] == 100
    part = api.post(f"{STOCK}/receipts", json={"sku": "SKU-1", "warehouse": "RTM", "quantity": 60,
                                                "reference": "ASN-9"}, headers=headers)
    assert (at(part.json())["on_hand"], at(part.json())["incoming"]) == (STOCK_PER_SKU + 65, 40)
    rest = api.post(f"{STOCK}/receipts", json={"sku": "SKU-1", "warehouse": "RTM", "quantity": 70,
                                                "reference": "ASN-9"}, headers=headers)
    assert (at(rest.json())["on_hand"], at(rest.json())["incoming"]) == (STOCK_PER_SKU + 135, 0)
    assert api.get(f"{STOCK}/verify", headers=headers).json() == {"ok": True, "differences": []}


def test_an_adjustment_needs_a_reason_and_cannot_go_below_reserved(api, auth, container, seeded):
    headers = auth("manager")
    r = api.post(f"{STOCK}/adjustments", json={"sku": "SKU-1", "warehouse": "RTM", "delta": -3,
                                                "reason": "damaged pallet"}, headers=headers)
    assert r.status_code == 200, r.text
    assert at(r.json())["on_hand"] == STOCK_PER_SKU - 3
    assert r.json()["movements"][0]["reason"] == "damaged pallet"
    with container.db.write() as conn:
        ledger.try_reserve(conn, seeded["products"]["SKU-1"], seeded["warehouse"], 990,
                           Move(actor="system:test", at=container.clock.now(), reference="hold:1"))
    below = api.post(f"{STOCK}/adjustments", json={"sku": "SKU-1", "warehouse": "RTM", "delta": -10,
                                                    "reason": "lost"}, headers=headers)
    assert below.status_code == 409 and below.json()["code"] == "below_reserved"
    no_reason = api.post(f"{STOCK}/adjustments", json={"sku": "SKU-1", "warehouse": "RTM", "delta": 1,
                                                        "reason": " "}, headers=headers)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"


def test_a_count_sets_on_hand_and_books_the_difference(api, auth):
    r = api.post(f"{STOCK}/counts", json={"sku": "SKU-1", "warehouse": "RTM", "counted": 990,
                                           "reference": "CC-1"}, headers=auth("manager"))
    assert r.status_code == 200, r.text
    assert at(r.json())["on_hand"] == 990
    assert (r.json()["movements"][0]["kind"], r.json()["movements"][0]["on_hand_delta"]) == ("count", -10)


def test_a_transfer_moves_free_stock_and_refuses_more_than_is_free(api, auth, container):
    with container.db.write() as conn:
        add_warehouse(conn, at=container.clock.now(), code="AMS")
    headers = auth("manager")
    r = api.post(f"{STOCK}/transfers", json={"sku": "SKU-1", "from_warehouse": "RTM", "to_warehouse": "AMS",
                                              "quantity": 300}, headers=headers)
    assert r.status_code == 200, r.text
    assert (at(r.json())["on_hand"], at(r.json(), "AMS")["on_hand"]) == (STOCK_PER_SKU - 300, 300)
    assert r.json()["totals"]["on_hand"] == STOCK_PER_SKU
    too_much = api.post(f"{STOCK}/transfers", json={"sku": "SKU-1", "from_warehouse": "AMS",
                                                     "to_warehouse": "RTM", "quantity": 301}, headers=headers)
    assert too_much.status_code == 409 and too_much.json()["code"] == "insufficient_stock"
    same = api.post(f"{STOCK}/transfers", json={"sku": "SKU-1", "from_warehouse": "RTM", "to_warehouse": "RTM",
                                                 "quantity": 1}, headers=headers)
    assert same.status_code == 422 and same.json()["code"] == "same_warehouse"
    unknown = api.post(f"{STOCK}/transfers", json={"sku": "SKU-1", "from_warehouse": "RTM",
                                                    "to_warehouse": "XXX", "quantity": 1}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "to_warehouse"


def test_safety_stock_lowers_available_to_promise(api, auth):
    r = api.put(f"{STOCK}/safety", json={"sku": "SKU-1", "warehouse": "RTM", "safety": 1200},
                headers=auth("manager"))
    assert r.status_code == 200, r.text
    assert (at(r.json())["safety"], at(r.json())["available"]) == (1200, 0)
    negative = api.put(f"{STOCK}/safety", json={"sku": "SKU-1", "warehouse": "RTM", "safety": -1},
                       headers=auth("manager"))
    assert negative.status_code == 422


def test_verify_lists_a_balance_that_disagrees_with_its_ledger(api, auth, container, seeded):
    assert api.get(f"{STOCK}/verify", headers=auth("warehouse")).json() == {"ok": True, "differences": []}
    with container.db.write() as conn:  # a balance changed behind the ledger's back
        conn.execute(update(stock_levels).where(stock_levels.c.product_id == seeded["products"]["SKU-4"])
                     .values(on_hand=7))
    r = api.get(f"{STOCK}/verify", headers=auth("warehouse")).json()
    assert r["ok"] is False
    assert r["differences"] == [{"sku": "SKU-4", "warehouse": "RTM", "on_hand": 7,
                                 "on_hand_from_ledger": STOCK_PER_SKU, "reserved": 0, "reserved_from_ledger": 0}]


@pytest.mark.parametrize("method, path, body", [
    ("post", "/receipts", {"sku": "SKU-1", "warehouse": "RTM", "quantity": 1, "reference": "R"}),
    ("post", "/adjustments", {"sku": "SKU-1", "warehouse": "RTM", "delta": 1, "reason": "found"}),
    ("post", "/counts", {"sku": "SKU-1", "warehouse": "RTM", "counted": 1, "reference": "R"}),
    ("post", "/transfers", {"sku": "SKU-1", "from_warehouse": "RTM", "to_warehouse": "RTM", "quantity": 1}),
    ("put", "/safety", {"sku": "SKU-1", "warehouse": "RTM", "safety": 1}),
])
def test_a_role_without_warehouse_write_may_read_but_not_book(api, auth, container, method, path, body):
    headers = auth("customer_service")
    assert api.get(STOCK, headers=headers).status_code == 200
    r = api.request(method.upper(), f"{STOCK}{path}", json=body, headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    csv = api.post(f"{STOCK}/receipts/csv", content="sku,warehouse,quantity,reference\nSKU-1,RTM,1,R\n",
                   headers=headers | {"Content-Type": "text/csv"})
    assert csv.status_code == 403
    assert api.get(STOCK).status_code == 401


def test_a_csv_of_receipts_is_booked_in_one_go(api, auth, container, seeded):
    body = "sku,warehouse,quantity,reference\r\nSKU-1,RTM,10,DN-1\r\n\r\n SKU-2 , RTM , 20 , DN-1 \r\n"
    r = api.post(f"{STOCK}/receipts/csv", content=body.encode(), headers=auth("manager") | {
        "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"kind": "receipts", "rows": 2}
    assert on_hand(container, seeded["products"]["SKU-1"]) == STOCK_PER_SKU + 10
    assert on_hand(container, seeded["products"]["SKU-2"]) == STOCK_PER_SKU + 20


@pytest.mark.parametrize("kind, text", [
    ("adjustments", "sku,warehouse,delta,reason\nSKU-1,RTM,-4,broken\n"),
    ("counts", "sku,warehouse,counted,reference\nSKU-1,RTM,996,CC-7\n"),
])
def test_a_csv_file_can_be_sent_as_a_multipart_upload(api, auth, container, seeded, kind, text):
    r = api.post(f"{STOCK}/{kind}/csv", files={"file": ("stock.csv", text.encode(), "text/csv")},
                 headers=auth("manager"))
    assert r.status_code == 200, r.text
    assert on_hand(container, seeded["products"]["SKU-1"]) == STOCK_PER_SKU - 4


def test_a_csv_with_one_bad_line_writes_nothing_and_names_the_line(api, auth, container, seeded):
    before = movement_count(container)
    body = ("sku,warehouse,quantity,reference\n"
            "SKU-1,RTM,10,DN-1\n"
            "SKU-2,RTM,10,DN-1\n"
            "NOPE,RTM,10,DN-1\n"
            "SKU-3,RTM,ten,DN-1\n")
    r = api.post(f"{STOCK}/receipts/csv", content=body, headers=auth("manager") | {"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    messages = [e["message"] for e in r.json()["errors"]]
    assert messages[0] == "line 5: invalid_number: quantity 'ten': " + messages[0].split(": ", 3)[3]
    assert r.json()["errors"][0]["field"] == "lines.5.quantity"
    assert movement_count(container) == before
    only_unknown = body.replace("SKU-3,RTM,ten", "SKU-3,RTM,1")
    r = api.post(f"{STOCK}/receipts/csv", content=only_unknown, headers=auth("manager") | {
        "Content-Type": "text/csv"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == "line 4: unknown_sku: no product has the SKU 'NOPE'"
    assert "nothing was imported" in r.json()["detail"]
    assert movement_count(container) == before
    assert on_hand(container, seeded["products"]["SKU-1"]) == STOCK_PER_SKU


def test_a_csv_line_the_ledger_refuses_rolls_back_the_whole_file(api, auth, container, seeded):
    with container.db.write() as conn:
        add_warehouse(conn, at=container.clock.now(), code="AMS")
    before = movement_count(container)
    body = ("sku,from_warehouse,to_warehouse,quantity\n"
            "SKU-1,RTM,AMS,100\n"
            "SKU-1,AMS,RTM,101\n")
    r = api.post(f"{STOCK}/transfers/csv", content=body, headers=auth("manager") | {"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message"].startswith("line 3: insufficient_stock: ")
    assert movement_count(container) == before


@pytest.mark.parametrize("body, first", [
    ("sku,warehouse,qty,reference\nSKU-1,RTM,1,R\n", "line 1: missing_column: the header has no 'quantity' column"),
    ("", "file: empty_file: no header line; expected sku,warehouse,quantity,reference"),
    ("sku,warehouse,quantity,reference\n", "file: no_rows: the file has a header but no rows"),
])
def test_a_csv_with_the_wrong_shape_is_refused(api, auth, body, first):
    r = api.post(f"{STOCK}/receipts/csv", content=body, headers=auth("manager") | {"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message"] == first
    bad_bytes = api.post(f"{STOCK}/receipts/csv", content=b"\xff\xfe\x00", headers=auth("manager") | {
        "Content-Type": "text/csv"})
    assert bad_bytes.status_code == 422 and bad_bytes.json()["code"] == "invalid_encoding"
