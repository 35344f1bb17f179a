"""The holds API: /api/v1/reservations places, reads and releases holds for carts and quotes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conveyor.app import ROUTER_MODULES, create_app
from conveyor.inventory import holds_api
from conveyor.inventory.sweeper import sweep_once
from conveyor.testing.factories import STOCK_PER_SKU

URL = "/api/v1/reservations"


@pytest.fixture
def api(container: Any, seeded: dict[str, Any]) -> Iterator[TestClient]:
    app = create_app(container=container)
    if "conveyor.inventory.holds_api" not in ROUTER_MODULES:  # until app.py lists the module
        app.include_router(holds_api.router)
    with TestClient(app) as test_client:
        yield test_client


def _body(**overrides: Any) -> dict[str, Any]:
    return {"reference": "cart-123", "ttl_seconds": 900, "lines": [{"sku": "SKU-1", "quantity": 2}], **overrides}


def test_a_hold_is_placed_read_and_released(api, auth, container):
    placed = api.post(URL, json=_body(lines=[{"sku": "SKU-2", "quantity": 1}, {"sku": "SKU-1", "quantity": 2}]),
                      headers=auth("manager"))
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert placed.headers["location"] == f"{URL}/cart-123"
    assert body["reference"] == "cart-123" and body["status"] == "active"
    assert body["lines"] == [{"line": 1, "sku": "SKU-2", "warehouse": "RTM", "quantity": 1},
                             {"line": 2, "sku": "SKU-1", "warehouse": "RTM", "quantity": 2}]
    expected = container.clock.now() + timedelta(seconds=900)
    assert body["expires_at"].replace("Z", "+00:00") == expected.isoformat()

    read = api.get(f"{URL}/cart-123", headers=auth("manager"))
    assert read.status_code == 200 and read.json() == body

    released = api.delete(f"{URL}/cart-123", headers=auth("manager"))
    assert released.status_code == 204 and released.content == b""
    after = api.get(f"{URL}/cart-123", headers=auth("manager")).json()
    assert after["status"] == "released" and {line["quantity"] for line in after["lines"]} == {0}
    assert api.delete(f"{URL}/cart-123", headers=auth("manager")).status_code == 204, "releasing again is harmless"


def test_placing_the_same_reference_again_answers_200_with_the_existing_hold(api, auth):
    first = api.post(URL, json=_body(), headers=auth("manager"))
    again = api.post(URL, json=_body(lines=[{"sku": "SKU-1", "quantity": 9}]), headers=auth("manager"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


def test_a_short_line_refuses_the_whole_hold_with_409(api, auth):
    response = api.post(URL, json=_body(lines=[{"sku": "SKU-1", "quantity": 1},
                                               {"sku": "SKU-2", "quantity": STOCK_PER_SKU + 1}]),
                        headers=auth("manager"))
    assert response.status_code == 409
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "insufficient_stock"
    assert [e["field"] for e in problem["errors"]] == ["lines.1.quantity"]
    assert api.get(f"{URL}/cart-123", headers=auth("manager")).status_code == 404


def test_unknown_skus_and_bad_input_are_422_with_field_paths(api, auth):
    unknown = api.post(URL, json=_body(lines=[{"sku": "SKU-1", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]),
                       headers=auth("manager"))
    assert unknown.status_code == 422
    assert [(e["code"], e["field"]) for e in unknown.json()["errors"]] == [("unknown_sku", "lines.1.sku")]
    for body, field in [(_body(ttl_seconds=0), "ttl_seconds"), (_body(ttl_seconds=604801), "ttl_seconds"),
                        (_body(lines=[]), "lines"), (_body(reference="a b"), "reference"),
                        (_body(lines=[{"sku": "SKU-1", "quantity": 0}]), "lines.0.quantity")]:
        response = api.post(URL, json=body, headers=auth("manager"))
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    assert api.post(URL, json=_body(ttl_seconds=604800), headers=auth("manager")).status_code == 201


def test_an_unknown_reference_is_404(api, auth):
    for method in ("get", "delete"):
        response = getattr(api, method)(f"{URL}/nothing-here", headers=auth("manager"))
        assert response.status_code == 404 and response.json()["code"] == "hold_not_found"


def test_the_warehouse_role_may_not_hold_stock(api, auth):
    assert api.post(URL, json=_body(), headers=auth("manager")).status_code == 201
    for method, path, kwargs in [("post", URL, {"json": _body()}), ("get", f"{URL}/cart-123", {}),
                                 ("delete", f"{URL}/cart-123", {})]:
        response = getattr(api, method)(path, headers=auth("warehouse"), **kwargs)
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert api.post(URL, json=_body()).status_code == 401


def test_customers_see_and_release_only_their_own_holds(api, auth):
    assert api.post(URL, json=_body(), headers=auth("manager")).status_code == 201
    assert api.get(f"{URL}/cart-123", headers=auth("customer")).status_code == 404
    assert api.delete(f"{URL}/cart-123", headers=auth("customer")).status_code == 404
    taken = api.post(URL, json=_body(), headers=auth("customer"))
    assert taken.status_code == 409 and taken.json()["code"] == "reference_taken"
    own = api.post(URL, json=_body(reference="my-cart"), headers=auth("customer"))
    assert own.status_code == 201
    assert api.get(f"{URL}/my-cart", headers=auth("customer")).status_code == 200


def test_an_expired_hold_reads_as_expired_after_the_sweep(api, auth, container):
    assert api.post(URL, json=_body(ttl_seconds=60), headers=auth("manager")).status_code == 201
    container.clock.advance(timedelta(seconds=61))
    assert sweep_once(container) == 1
    assert api.get(f"{URL}/cart-123", headers=auth("manager")).json()["status"] == "expired"


def test_the_routes_are_documented(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert set(paths[URL]) == {"post"}
    assert set(paths[URL + "/{reference}"]) == {"get", "delete"}
    assert {"401", "403", "409", "422"} <= set(paths[URL]["post"]["responses"])
