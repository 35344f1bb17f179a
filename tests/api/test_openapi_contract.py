"""The published API contract: every operation in `/openapi.json` answers as the document says.

Three parts:
- schemathesis generates requests (valid and invalid) for every operation and sends them, as an admin
  with an API token, to an app on one SQLite database per test module (seed_basics plus a few orders, so
  reads and lifecycle moves find real rows). Checks: no 5xx, documented status codes, content types and
  headers, response bodies valid against their schemas.
- a walk through the happy paths with known-good bodies (generated order bodies almost never name a real
  customer, SKU and postal code, so the generator alone rarely sees a 201), validated the same way.
- the document itself: every /api/v1 route is in it, documents its 401/403/422 answers as problem+json,
  and /docs serves HTML.

Known product issues are listed under "known product issues" below: the generated cases tolerate exactly
those deviations on the named operations, and dedicated tests pin each one as `xfail(strict=True)`, so a
fix shows up as an XPASS failure that asks for the marker to go.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conveyor.app import create_app
from conveyor.bootstrap import Container, build
from conveyor.identity import service as identity
from conveyor.identity.deps import Authenticated, PublicRoute, Requirement
from conveyor.kernel.clock import FixedClock
from conveyor.orders import handlers
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.platform.migrations import upgrade
from conveyor.settings import Settings
from conveyor.testing.factories import seed_basics
from tests.conftest import NOW

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
PROBLEM_JSON = "application/problem+json"
ADDRESS = {"name": "Anna de Vries", "line1": "Prinsengracht 263", "city": "Amsterdam",
           "postal_code": "1016 GV", "country": "NL"}

# --- known product issues (reported, not hidden) ----------------------------------------------------------
# An integer id beyond 64 bits (`GET /api/v1/orders/9223372036854775808`, or `{"ids": [2**63]}` to
#    /api/v1/outbox/replay) reaches the database driver: SQLite raises OverflowError and the client gets
#    500 text/plain "Internal Server Error". Routes that declare their ids with bounds (`Path(ge=1,
#    le=2**63 - 1)`: catalog, customers, warehouses, channels) answer 422; the orders, identity and outbox
#    routes declare a plain `int`. Generated cases skip out-of-range ids on those unbounded routes only;
#    test_an_id_beyond_64_bits_is_refused_not_a_server_error pins the bug there as a strict xfail (and
#    checks the bounded routes for real).
BEYOND_64_BITS = (
    "KNOWN ISSUE: this route declares its integer id without bounds, and an id >= 2**63 reaches the "
    "database: OverflowError, HTTP 500"
)
INT64 = range(-(2**63), 2**63)


def _settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, relay_enabled=False, auto_migrate=False, log_level="WARNING")


def _document_app() -> FastAPI:
    """An app only to read the contract from at collection time: building it connects to no database."""
    return create_app(container=build(_settings("sqlite:///:memory:")))


# Loaded at module level so each operation is its own test item (and xdist spreads them). A fixture-built
# schema (`schemathesis.pytest.from_fixture`) does not work here: schemathesis 4.32.5's lazy loader sets
# `Node._nodeid`, which pytest 9.2 no longer has. The requests go to `world.app` (below), one per module.
DOCUMENT_APP = _document_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", DOCUMENT_APP)


class World:
    def __init__(self, container: Container, ids: dict[str, Any], token_id: int, token: str) -> None:
        self.container = container
        self.ids = ids
        self.token_id = token_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.app = create_app(container=container)


def _place_orders(c: Container, n: int) -> None:
    for i in range(n):
        draft = OrderDraft(channel="api", customer="C-001" if i % 2 else "C-002", currency="EUR",
                           lines=(LineDraft("SKU-1", 2, Decimal("12.50")),), ship_to=ADDRESS,
                           external_id=f"CONTRACT-{i}", shipping=Decimal("4.95"))
        handlers.place_order(PlaceOrder(draft=draft, actor="system:test"), uow=c.uow(), config=c.lifecycle)


def _make_world(directory: Path) -> World:
    c = build(_settings(f"sqlite:///{directory / 'conveyor.db'}"), clock=FixedClock(NOW))
    upgrade(c.db)
    with c.db.write() as conn:
        ids = seed_basics(conn, at=NOW)
        token = identity.create_token(conn, user_id=ids["users"]["admin"], name="contract", at=NOW)
    _place_orders(c, 6)
    return World(c, ids, token.id, token.token)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = _make_world(tmp_path_factory.mktemp("contract"))
    yield w
    w.container.db.dispose()


def _validate(case: Any, world: World) -> Any:
    """Sends the case to the world's app and runs CHECKS."""
    response = case.call(app=world.app, headers=world.headers)
    case.validate_response(response, checks=CHECKS, headers=world.headers)
    return response


def _would_lock_us_out(case: Any, world: World) -> bool:
    """Revoking the test's own token or demoting/deactivating its own admin would turn every later request
    into a 401/403 that proves nothing; such cases are left out (every other id is fair game)."""
    params = case.path_parameters or {}

    def same(value: Any, target: int) -> bool:  # negative testing sends ids as text too: "01" is still 1
        try:
            return int(str(value).strip()) == target
        except ValueError:
            return False

    if case.operation.path == "/api/v1/tokens/{token_id}" and same(params.get("token_id"), world.token_id):
        return True
    return case.operation.path == "/api/v1/users/{user_id}" and same(params.get("user_id"),
                                                                      world.ids["users"]["admin"])


def _integer_schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every integer (sub)schema in a parameter or body schema, following local $refs."""
    if isinstance(node, dict):
        if "$ref" in node:
            yield from _integer_schemas(schema.raw_schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
            return
        if node.get("type") == "integer":
            yield node
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, []):
                yield from _integer_schemas(sub)
        yield from _integer_schemas(node.get("items"))


def _id_schemas(op: dict[str, Any]) -> list[dict[str, Any]]:
    """The integer ids an operation takes: path parameters, and a body's `ids` list (outbox replay)."""
    found = [s for p in op.get("parameters", []) if p.get("in") == "path" for s in _integer_schemas(p["schema"])]
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    for candidate in [body, *body.get("anyOf", [])]:  # an optional body is anyOf [{$ref}, null]
        if "$ref" in candidate:
            candidate = schema.raw_schema["components"]["schemas"][candidate["$ref"].rsplit("/", 1)[1]]
        found += _integer_schemas(candidate.get("properties", {}).get("ids"))
    return found


_OPERATIONS = [(f"{method.upper()} {path}", op) for path, ops in schema.raw_schema["paths"].items()
               for method, op in ops.items()]
ID_ROUTES = sorted(label for label, op in _OPERATIONS if _id_schemas(op))
# A maximum of 2**63 - 1 may be rendered as the float 2**63 (FastAPI does so in request bodies); the test
# below sends 2**63 to every id route anyway, so a wrongly trusted bound would still be caught there.
UNBOUNDED_ID_ROUTES = {label for label, op in _OPERATIONS
                       if any(s.get("maximum", 2**64) > 2**63 for s in _id_schemas(op))}


def _beyond_64_bits(case: Any) -> bool:
    """An out-of-range integer id sent to a route that does not bound it (the known issue above)."""
    if case.operation.label not in UNBOUNDED_ID_ROUTES:
        return False
    values = list((case.path_parameters or {}).values())
    if isinstance(case.body, dict) and isinstance(case.body.get("ids"), list):
        values += case.body["ids"]
    return any(isinstance(v, int) and not isinstance(v, bool) and v not in INT64 for v in values)


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_every_operation_honours_its_contract(case: Any, world: World) -> None:
    if _would_lock_us_out(case, world) or _beyond_64_bits(case):  # the latter: see BEYOND_64_BITS
        return
    _validate(case, world)


# --- the happy paths, with bodies that name real rows ---------------------------------------------------

@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[World]:
    """Its own database: the generated requests above may have deactivated the channel or customer."""
    w = _make_world(tmp_path)
    yield w
    w.container.db.dispose()


def _order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": "C-001", "currency": "EUR", "ship_to": ADDRESS,
        "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"},
                  {"sku": "SKU-2", "quantity": 1, "unit_price": "5.00", "discount": "1.00", "tax": "0.84"}],
        "shipping": "4.95", "tags": ["b2b"], "requested_delivery_date": "2026-11-25",
    }
    body.update(overrides)
    return body


def _send(world: World, label: str, **kwargs: Any) -> Any:
    method, path = label.split(" ", 1)
    return _validate(schema[path][method].Case(**kwargs), world)


def test_placing_and_moving_an_order_answers_as_documented(fresh: World) -> None:
    created = _send(fresh, "POST /api/v1/orders", body=_order_body(external_id="HAPPY-1"),
                    headers={"Idempotency-Key": "happy-1"})
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    replay = _send(fresh, "POST /api/v1/orders", body=_order_body(external_id="HAPPY-1"),
                   headers={"Idempotency-Key": "happy-1"})
    assert replay.status_code == 200 and replay.json()["id"] == order_id
    no_postcode = _send(fresh, "POST /api/v1/orders", body=_order_body(
        ship_to={"name": "Fatima", "line1": "Sheikh Zayed Road 1", "city": "Dubai", "country": "AE"}))
    assert no_postcode.status_code == 201, no_postcode.text

    steps = [("review", None), ("hold", {"reason": "address check"}), ("release", {}), ("approve", None),
             ("reserve", {}), ("pick", {}), ("pack", {}), ("ship", {}), ("deliver", {}), ("close", {})]
    for action, body in steps:
        kwargs: dict[str, Any] = {"path_parameters": {"order_id": order_id}}
        if body is not None:
            kwargs["body"] = body
        r = _send(fresh, f"POST /api/v1/orders/{{order_id}}/{action}", **kwargs)
        assert r.status_code == 200, (action, r.text)
    again = _send(fresh, "POST /api/v1/orders/{order_id}/review", path_parameters={"order_id": order_id},
                  body={})
    assert again.status_code == 409
    cancelled = _send(fresh, "POST /api/v1/orders/{order_id}/cancel",
                      path_parameters={"order_id": no_postcode.json()["id"]}, body={"reason": "test"})
    assert cancelled.status_code == 200, cancelled.text

    detail = _send(fresh, "GET /api/v1/orders/{order_id}", path_parameters={"order_id": order_id})
    assert detail.status_code == 200 and detail.json()["stage"] == "closed"
    page = _send(fresh, "GET /api/v1/orders", query={"limit": 2})
    assert page.status_code == 200 and page.json()["next_cursor"]
    _send(fresh, "GET /api/v1/orders", query={"cursor": page.json()["next_cursor"], "limit": 2})
    for query in ({"stage": "received", "channel": "api", "customer": "C-002"}, {"q": "HAPPY-1"},
                  {"breached": True, "created_from": "2026-11-01", "created_to": "2026-11-30"}):
        assert _send(fresh, "GET /api/v1/orders", query=query).status_code == 200
    assert _send(fresh, "GET /api/v1/board").status_code == 200


def test_reference_data_and_lifecycle_answer_as_documented(fresh: World) -> None:
    created: dict[str, Any] = {}
    for label, body in [
        ("POST /api/v1/products", {"sku": "HAPPY-1", "name": "Happy product", "gtin": "4006381333931",
                                   "weight_g": 250}),
        ("POST /api/v1/channels", {"code": "happy", "name": "Happy shop", "kind": "webshop"}),
        ("POST /api/v1/customers", {"account": "C-HAPPY", "name": "Happy customer", "credit_limit": "100.00"}),
        ("POST /api/v1/warehouses", {"code": "HAP", "name": "Happy warehouse", "line1": "Havenweg 2",
                                     "city": "Rotterdam", "postal_code": "3011 AB", "country": "NL"}),
        ("POST /api/v1/tokens", {"name": "happy", "scopes": ["order:read"]}),
        ("POST /api/v1/users", {"email": "happy@test.example", "name": "Happy", "password": "long-enough-1",
                                "role": "finance"}),
    ]:
        r = _send(fresh, label, body=body)
        assert r.status_code == 201, (label, r.text)
        created[label] = r.json()["id"]
    for label, param, body in [
        ("PATCH /api/v1/products/{product_id}", "POST /api/v1/products", {"name": "Renamed"}),
        ("PATCH /api/v1/channels/{channel_id}", "POST /api/v1/channels", {"name": "Renamed"}),
        ("PATCH /api/v1/customers/{customer_id}", "POST /api/v1/customers", {"name": "Renamed"}),
        ("PATCH /api/v1/warehouses/{warehouse_id}", "POST /api/v1/warehouses", {"name": "Renamed"}),
        ("PATCH /api/v1/users/{user_id}", "POST /api/v1/users", {"name": "Renamed"}),
    ]:
        name = label.split("{")[1].rstrip("}")
        r = _send(fresh, label, path_parameters={name: created[param]}, body=body)
        assert r.status_code == 200, (label, r.text)
    for label, params in [
        ("GET /api/v1/products/{product_id}", {"product_id": created["POST /api/v1/products"]}),
        ("GET /api/v1/products/by-sku/{sku}", {"sku": "SKU-1"}),
        ("GET /api/v1/channels/{channel_id}", {"channel_id": created["POST /api/v1/channels"]}),
        ("GET /api/v1/customers/{customer_id}", {"customer_id": created["POST /api/v1/customers"]}),
        ("GET /api/v1/warehouses/{warehouse_id}", {"warehouse_id": created["POST /api/v1/warehouses"]}),
    ]:
        assert _send(fresh, label, path_parameters=params).status_code == 200, label
    for label in ("GET /api/v1/products", "GET /api/v1/channels", "GET /api/v1/customers", "GET /api/v1/warehouses",
                  "GET /api/v1/me", "GET /api/v1/tokens", "GET /api/v1/users", "GET /api/v1/lifecycle",
                  "GET /api/v1/outbox", "GET /healthz"):
        assert _send(fresh, label).status_code == 200, label
    revoked = _send(fresh, "DELETE /api/v1/tokens/{token_id}",
                    path_parameters={"token_id": created["POST /api/v1/tokens"]})
    assert revoked.status_code == 204
    stage = _send(fresh, "PUT /api/v1/lifecycle/stages/{stage}", path_parameters={"stage": "under_review"},
                  body={"owner_role": "customer_service", "sla_hours": 6, "label": "Under review"})
    assert stage.status_code == 200, stage.text
    calendar = _send(fresh, "PUT /api/v1/lifecycle/calendar", body={
        "timezone": "Europe/Amsterdam", "working_days": [1, 2, 3, 4, 5], "opens": "08:30", "closes": "17:30",
        "holidays": [{"day": "2026-12-25", "name": "Christmas"}]})
    assert calendar.status_code == 200, calendar.text
    assert _send(fresh, "POST /api/v1/outbox/replay", body={}).status_code == 200


@pytest.mark.parametrize("label", [
    pytest.param(label, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=BEYOND_64_BITS))
    if label in UNBOUNDED_ID_ROUTES else label
    for label in ID_ROUTES])
def test_an_id_beyond_64_bits_is_refused_not_a_server_error(world: World, label: str) -> None:
    method, path = label.split(" ", 1)
    url = re.sub(r"\{[^}]+\}", str(2**63), path)
    body = {"ids": [2**63]} if path.endswith("/replay") else ({"name": "x"} if method == "PATCH" else None)
    with TestClient(world.app, raise_server_exceptions=False) as client:
        r = client.request(method, url, json=body, headers=world.headers)
    assert r.status_code in (404, 422), f"{label} with id 2**63 -> {r.status_code} {r.text[:100]}"


# --- the document itself ----------------------------------------------------------------------------------

def _access(route: Any) -> str | None:
    """'permission', 'signed_in' or 'public': the access rule in the route's dependency tree."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        for dep in getattr(node, "dependencies", None) or []:
            if isinstance(dep.call, Requirement | Authenticated | PublicRoute):
                found.append(dep.call)
            walk(dep)

    walk(getattr(route, "dependant", None))
    if any(isinstance(d, Requirement) for d in found):
        return "permission"
    if any(isinstance(d, Authenticated) for d in found):
        return "signed_in"
    return "public" if any(isinstance(d, PublicRoute) for d in found) else None


def _document_path(path: str) -> str:
    """`{sku:path}` in a route is `{sku}` in the document."""
    return re.sub(r"{(\w+):\w+}", r"{\1}", path)



def _api_routes(app: FastAPI) -> dict[str, str | None]:
    """'METHOD /path' -> access, for every /api/v1 route meant for the document."""
    iterate: Callable[[Any], Any] | None = getattr(fastapi_routing, "iter_route_contexts", None)
    routes = iterate(app.routes) if iterate else app.routes
    return {f"{method} {_document_path(route.path)}": _access(route)
            for route in routes if getattr(route, "path", "").startswith("/api/v1")
            and getattr(route, "include_in_schema", False)
            for method in sorted(getattr(route, "methods", None) or ()) if method not in ("HEAD", "OPTIONS")}


API_ROUTES = _api_routes(DOCUMENT_APP)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with TestClient(DOCUMENT_APP) as client:
        r = client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def test_docs_page_is_html() -> None:
    with TestClient(DOCUMENT_APP) as client:
        r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in r.text


def test_every_api_route_is_in_the_document(document: dict[str, Any]) -> None:
    documented = {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops}
    assert len(API_ROUTES) >= 30, "the route walk found suspiciously few /api/v1 routes"
    assert sorted(set(API_ROUTES) - documented) == []
    assert all(API_ROUTES.values()), f"routes without an access rule: {[k for k, v in API_ROUTES.items() if not v]}"


def _expected_errors(label: str, access: str | None, operation: dict[str, Any]) -> set[str]:
    method = label.split(" ", 1)[0]
    expected = set()
    if access in ("permission", "signed_in"):
        expected.add("401")
    if access == "permission" or (access == "signed_in" and method != "GET"):  # signed_in: CSRF refusals
        expected.add("403")
    if operation.get("parameters") or operation.get("requestBody"):
        expected.add("422")
    return expected


@pytest.mark.parametrize("label", sorted(API_ROUTES))
def test_each_route_documents_its_problem_responses(document: dict[str, Any], label: str) -> None:
    method, path = label.split(" ", 1)
    operation = document["paths"][path][method.lower()]
    responses = operation.get("responses", {})
    missing = _expected_errors(label, API_ROUTES[label], operation) - set(responses)
    assert not missing, f"{label} does not document {sorted(missing)}"
    not_problems = [status for status, response in responses.items()
                    if status.startswith("4") and PROBLEM_JSON not in response.get("content", {})]
    assert not not_problems, f"{label}: these error responses are not documented as {PROBLEM_JSON}: {not_problems}"
