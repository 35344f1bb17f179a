"""Every route declares who may call it, and the declaration is what the running app enforces.

The walk is generic: a route added tomorrow is checked without touching this file. A route must carry
`Require(Permission.X)`, `SignedIn` or `Public` (identity.deps); then every role is sent to it with a
bearer token and must be let through exactly when its role grants the permission.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.testclient import TestClient
from starlette.routing import Mount

from conveyor.app import create_app
from conveyor.identity.deps import Authenticated, PublicRoute, Requirement
from conveyor.identity.permissions import ROLE_PERMISSIONS, Permission, Role
from conveyor.settings import Settings

# FastAPI's own documentation routes are open by design; static files need no sign-in.
FRAMEWORK_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
STATIC_MOUNT = "/static"
# Machine endpoints answer in JSON even to a browser (see platform.problems.wants_html).
MACHINE_PATHS = {"/metrics", "/healthz"}
CHECKED_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
DUMMY_PATH_VALUE = "999999"  # parses as an int and as a string; names nothing that exists
REFUSALS = {"not_authenticated", "forbidden", "csrf_failed"}

# Only the sqlite backend: the permission layer does not depend on the database.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@dataclass(frozen=True)
class Access:
    kind: str  # "public", "signed_in" or "permission"
    permissions: frozenset[Permission] = frozenset()

    def allows(self, role: Role) -> bool:
        return self.permissions <= ROLE_PERMISSIONS[role]

    def __str__(self) -> str:
        return self.kind if self.kind != "permission" else ", ".join(sorted(p.value for p in self.permissions))


@dataclass(frozen=True)
class Endpoint:
    path: str
    method: str
    access: Access | None
    in_schema: bool

    @property
    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", DUMMY_PATH_VALUE, self.path)

    @property
    def is_html(self) -> bool:
        return not self.in_schema and not self.path.startswith("/api/") and self.path not in MACHINE_PATHS

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _declared_access(dependant: Any) -> Access | None:
    """The requirement found anywhere in the route's dependency tree (route, router or parameter level)."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        for dep in getattr(node, "dependencies", None) or []:
            if isinstance(dep.call, Requirement | Authenticated | PublicRoute):
                found.append(dep.call)
            walk(dep)

    walk(dependant)
    permissions = frozenset(d.permission for d in found if isinstance(d, Requirement))
    if permissions:
        return Access("permission", permissions)
    if any(isinstance(d, Authenticated) for d in found):
        return Access("signed_in")
    if any(isinstance(d, PublicRoute) for d in found):
        return Access("public")
    return None


def _routes(app: FastAPI) -> Iterator[Any]:
    # FastAPI 0.165 keeps included routers nested in app.routes; iter_route_contexts flattens them
    # with the router-level prefix and dependencies applied.
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    yield from (iterate(app.routes) if iterate else app.routes)


def endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for route in _routes(app):
        path = getattr(route, "path", "")
        original = getattr(route, "original_route", route)
        if path in FRAMEWORK_PATHS or (isinstance(original, Mount) and path == STATIC_MOUNT):
            continue
        dependant = getattr(route, "dependant", None)
        access = _declared_access(dependant) if dependant is not None else None
        methods = getattr(route, "methods", None) or {"GET"}
        for method in sorted(set(methods) & CHECKED_METHODS):
            found.append(Endpoint(path, method, access, bool(getattr(route, "include_in_schema", False))))
    return found


def _bare_app() -> FastAPI:
    return create_app(Settings(database_url="sqlite://", relay_enabled=False, auto_migrate=False))


def _code(response: Any) -> str | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    body = response.json()
    return body.get("code") if isinstance(body, dict) else None


def test_every_route_declares_who_may_call_it() -> None:
    app = _bare_app()
    found = endpoints(app)
    undeclared = [str(e) for e in found if e.access is None]
    assert not undeclared, (
        "these routes declare no access rule; add dependencies=[Require(Permission.X)], SignedIn or Public: "
        + ", ".join(undeclared))
    assert len(found) >= 10, "the walk found suspiciously few routes"


def test_the_walk_reads_the_declarations_it_is_meant_to_find() -> None:
    by_route = {(e.method, e.path): e.access for e in endpoints(_bare_app())}
    assert by_route[("GET", "/healthz")] == Access("public")
    assert by_route[("GET", "/api/v1/me")] == Access("signed_in")
    assert by_route[("GET", "/metrics")] == Access("permission", frozenset({Permission.OPS_READ}))
    assert by_route[("POST", "/api/v1/outbox/replay")] == Access("permission", frozenset({Permission.OPS_MANAGE}))
    assert by_route[("POST", "/users")] == Access("permission", frozenset({Permission.USER_MANAGE}))


@sqlite_only
def test_each_role_is_let_through_exactly_where_its_permissions_allow(
        client: TestClient, auth: Any) -> None:
    caller = TestClient(client.app, raise_server_exceptions=False)
    problems: list[str] = []
    crashes: list[str] = []
    for endpoint in endpoints(client.app):
        assert endpoint.access is not None, f"{endpoint} declares no access rule"
        for role in Role:
            response = caller.request(endpoint.method, endpoint.url, headers=auth(role.value), json={},
                                      follow_redirects=False)
            code = _code(response)
            seen = f"{endpoint} as {role.value} (needs {endpoint.access}): {response.status_code} {code}"
            if response.status_code >= 500:
                crashes.append(seen)
            if endpoint.access.kind == "public":
                if code in REFUSALS:
                    problems.append(f"{seen}, but the route is public")
            elif endpoint.access.allows(role):
                if response.status_code in (401, 403):
                    problems.append(f"{seen}, expected to be let through")
            elif response.status_code != 403 or code != "forbidden":
                problems.append(f"{seen}, expected 403 forbidden")
    if crashes:  # not a permission failure, but worth a look: a dummy request should give 404 or 422
        warnings.warn("server errors on dummy requests:\n" + "\n".join(crashes), stacklevel=1)
    assert not problems, "\n".join(problems)


@sqlite_only
def test_callers_without_credentials_are_turned_away(client: TestClient) -> None:
    anonymous = TestClient(client.app, raise_server_exceptions=False)
    problems: list[str] = []
    for endpoint in endpoints(client.app):
        if endpoint.access is None or endpoint.access.kind == "public":
            continue
        response = anonymous.request(endpoint.method, endpoint.url, json={}, follow_redirects=False)
        if response.status_code != 401 or _code(response) != "not_authenticated":
            problems.append(f"{endpoint} without credentials: {response.status_code} {_code(response)}, "
                            "expected 401 not_authenticated")
        if endpoint.is_html:
            page = anonymous.request(endpoint.method, endpoint.url, headers={"Accept": "text/html"},
                                     follow_redirects=False)
            location = page.headers.get("location", "")
            if page.status_code != 303 or not location.startswith("/login"):
                problems.append(f"{endpoint} from a browser without a session: {page.status_code} "
                                f"-> {location!r}, expected a 303 redirect to /login")
    assert not problems, "\n".join(problems)
