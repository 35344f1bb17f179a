"""Identity: the caller, API tokens and their scopes, users, sign-in, sessions and CSRF, and the CLI."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conveyor.bootstrap import Container
from conveyor.identity.cli import app as users_cli
from conveyor.identity.cli import permission_matrix_markdown
from conveyor.identity.cli_tokens import app as tokens_cli
from conveyor.identity.permissions import ROLE_PERMISSIONS, Permission, Role
from conveyor.testing.factories import TEST_PASSWORD

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _new_token(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tokens", headers=headers, json={"name": "script", **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _sign_in(client: TestClient, role: str) -> str:
    """Signs in through the login form; returns the page's CSRF token."""
    response = client.post("/login", data={"email": f"{role}@test.example", "password": TEST_PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get("/tokens" if Permission.TOKEN_OWN in ROLE_PERMISSIONS[Role(role)] else "/",
                      headers={"Accept": "text/html"}, follow_redirects=False)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match, "signed-in pages carry the CSRF token"
    return match.group(1)


# -- the caller ------------------------------------------------------------------------------------------

def test_me_tells_callers_who_they_are_and_what_they_may_do(client: TestClient, auth: Any,
                                                            seeded: dict[str, Any]) -> None:
    response = client.get("/api/v1/me", headers=auth("warehouse"))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["email"], body["role"], body["via"]) == (
        seeded["users"]["warehouse"], "warehouse@test.example", "warehouse", "token")
    assert body["permissions"] == [p.value for p in Permission if p in ROLE_PERMISSIONS[Role.WAREHOUSE]]

    customer = client.get("/api/v1/me", headers=auth("customer")).json()
    assert customer["customer_id"] == seeded["customers"]["C-001"]


def test_me_without_credentials_is_401_and_an_unknown_token_too(client: TestClient) -> None:
    for headers in ({}, _bearer("cvt_not-a-token")):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert response.headers["www-authenticate"] == "Bearer"


# -- API tokens --------------------------------------------------------------------------------------------

def test_a_token_is_shown_once_listed_without_its_secret_and_dead_once_revoked(
        client: TestClient, auth: Any) -> None:
    created = _new_token(client, auth("manager"), name="nightly export")
    secret = created["token"]
    assert secret.startswith("cvt_") and secret[4:12] == created["prefix"]
    assert created["scopes"] == sorted(p.value for p in ROLE_PERMISSIONS[Role.MANAGER])
    assert created["active"] is True
    assert client.get("/api/v1/me", headers=_bearer(secret)).json()["email"] == "manager@test.example"

    listed = client.get("/api/v1/tokens", headers=auth("manager")).json()
    mine = next(t for t in listed if t["id"] == created["id"])
    assert mine["name"] == "nightly export"
    assert "token" not in mine and secret not in str(listed)

    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=auth("manager")).status_code == 204
    revoked = client.get("/api/v1/me", headers=_bearer(secret))
    assert (revoked.status_code, revoked.json()["code"]) == (401, "not_authenticated")
    mine = next(t for t in client.get("/api/v1/tokens", headers=auth("manager")).json()
                if t["id"] == created["id"])
    assert mine["active"] is False and mine["revoked_at"]
    again = client.delete(f"/api/v1/tokens/{created['id']}", headers=auth("manager"))
    assert (again.status_code, again.json()["code"]) == (404, "token_not_found")


def test_nobody_lists_or_revokes_someone_elses_tokens(client: TestClient, auth: Any) -> None:
    created = _new_token(client, auth("manager"))
    assert all(t["id"] != created["id"] for t in client.get("/api/v1/tokens", headers=auth("finance")).json())
    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=auth("finance")).status_code == 404
    assert client.get("/api/v1/me", headers=_bearer(created["token"])).status_code == 200


def test_a_token_limited_to_scopes_is_refused_beyond_them(client: TestClient, auth: Any) -> None:
    reader = _new_token(client, auth("manager"), scopes=["order:read"])
    assert reader["scopes"] == ["order:read"]
    assert client.get("/api/v1/me", headers=_bearer(reader["token"])).json()["permissions"] == ["order:read"]
    refused = client.get("/api/v1/tokens", headers=_bearer(reader["token"]))
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert "token:own" in refused.json()["detail"]
    assert client.get("/metrics", headers=_bearer(reader["token"])).status_code == 403


def test_a_scoped_token_cannot_mint_a_broader_one(client: TestClient, auth: Any) -> None:
    minter = _new_token(client, auth("manager"), scopes=["token:own", "order:read"])
    broader = client.post("/api/v1/tokens", headers=_bearer(minter["token"]),
                          json={"name": "escalate", "scopes": ["order:read", "catalog:write"]})
    assert broader.status_code == 422
    assert broader.json()["errors"] == [{"code": "scope_not_granted", "field": "scopes.1",
                                         "message": "you do not have catalog:write yourself"}]
    default = _new_token(client, _bearer(minter["token"]))
    assert default["scopes"] == ["order:read", "token:own"], "no scopes asked: the minting token's own"


def test_scopes_must_be_real_permissions_of_the_role(client: TestClient, auth: Any) -> None:
    response = client.post("/api/v1/tokens", headers=auth("warehouse"),
                           json={"name": "x", "scopes": ["order:read", "user:manage", "teleport"]})
    assert response.status_code == 422
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("scope_not_granted", "scopes.1"), ("unknown_scope", "scopes.2")]


def test_a_token_stops_working_when_it_expires(client: TestClient, auth: Any, container: Container) -> None:
    now = container.clock.now()
    token = _new_token(client, auth("finance"), expires_at=(now + timedelta(hours=1)).isoformat())
    assert client.get("/api/v1/me", headers=_bearer(token["token"])).status_code == 200
    container.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    assert client.get("/api/v1/me", headers=_bearer(token["token"])).status_code == 401
    listed = next(t for t in client.get("/api/v1/tokens", headers=auth("finance")).json()
                  if t["id"] == token["id"])
    assert listed["active"] is False


def test_token_expiry_must_be_an_aware_future_time(client: TestClient, auth: Any, container: Container) -> None:
    naive = client.post("/api/v1/tokens", headers=auth("finance"),
                        json={"name": "x", "expires_at": "2030-01-01T00:00:00"})
    assert (naive.status_code, naive.json()["errors"][0]["field"]) == (422, "expires_at")
    past = (container.clock.now() - timedelta(days=1)).isoformat()
    old = client.post("/api/v1/tokens", headers=auth("finance"), json={"name": "x", "expires_at": past})
    assert (old.status_code, old.json()["code"]) == (422, "in_the_past")


# -- users -----------------------------------------------------------------------------------------------

def test_an_admin_creates_users_linked_to_their_customer_or_channel(client: TestClient, auth: Any,
                                                                    seeded: dict[str, Any]) -> None:
    buyer = client.post("/api/v1/users", headers=auth("admin"), json={
        "email": " Buyer@Example.com ", "name": "Bea Buyer", "password": "long-enough", "role": "customer",
        "customer_account": "C-002"})
    assert buyer.status_code == 201, buyer.text
    assert buyer.json() | {"id": 0, "created_at": ""} == {
        "id": 0, "email": "buyer@example.com", "name": "Bea Buyer", "role": "customer", "active": True,
        "customer_account": "C-002", "channel_code": None, "created_at": "", "last_login_at": None}

    partner = client.post("/api/v1/users", headers=auth("admin"), json={
        "email": "shop@example.com", "password": "long-enough", "role": "partner", "channel_code": "webshop"})
    assert partner.json()["channel_code"] == "webshop"
    assert partner.json()["name"] == "shop@example.com"

    emails = [u["email"] for u in client.get("/api/v1/users", headers=auth("admin")).json()]
    assert {"buyer@example.com", "shop@example.com", "admin@test.example"} <= set(emails)
    buyer_me = client.post("/login", data={"email": "buyer@example.com", "password": "long-enough"},
                           follow_redirects=False)
    assert buyer_me.status_code == 303
    assert client.get("/api/v1/me").json()["customer_id"] == seeded["customers"]["C-002"]


def test_creating_a_user_reports_every_problem_with_its_field(client: TestClient, auth: Any) -> None:
    unknown = client.post("/api/v1/users", headers=auth("admin"), json={
        "email": "x@example.com", "password": "long-enough", "role": "customer", "customer_account": "C-999"})
    assert unknown.status_code == 422
    assert [(e["code"], e["field"]) for e in unknown.json()["errors"]] == [("unknown_customer", "customer_account")]

    missing = client.post("/api/v1/users", headers=auth("admin"), json={
        "email": "x@example.com", "password": "long-enough", "role": "partner", "customer_account": "C-001"})
    assert [(e["code"], e["field"]) for e in missing.json()["errors"]] == [
        ("not_applicable", "customer_account"), ("required", "channel_code")]

    bad = client.post("/api/v1/users", headers=auth("admin"), json={
        "email": "not-an-address", "password": "short", "role": "manager"})
    assert [(e["code"], e["field"]) for e in bad.json()["errors"]] == [
        ("invalid_email", "email"), ("weak_password", "password")]

    role = client.post("/api/v1/users", headers=auth("admin"), json={
        "email": "x@example.com", "password": "long-enough", "role": "overlord"})
    assert (role.status_code, role.json()["errors"][0]["field"]) == (422, "role")

    taken = client.post("/api/v1/users", headers=auth("admin"), json={
        "email": "manager@test.example", "password": "long-enough", "role": "manager"})
    assert (taken.status_code, taken.json()["code"]) == (409, "email_taken")


def test_only_user_managers_manage_users(client: TestClient, auth: Any) -> None:
    for method, path in (("GET", "/api/v1/users"), ("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/1")):
        response = client.request(method, path, headers=auth("manager"), json={})
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_an_admin_changes_a_role_and_deactivation_locks_the_user_out(
        client: TestClient, auth: Any, seeded: dict[str, Any]) -> None:
    user_id = seeded["users"]["customer_service"]
    headers = auth("customer_service")
    assert client.get("/api/v1/me", headers=headers).json()["role"] == "customer_service"

    changed = client.patch(f"/api/v1/users/{user_id}", headers=auth("admin"),
                           json={"role": "finance", "name": "Cas Finance"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["role"], changed.json()["name"]) == ("finance", "Cas Finance")
    assert client.get("/api/v1/me", headers=headers).json()["role"] == "finance"

    off = client.patch(f"/api/v1/users/{user_id}", headers=auth("admin"), json={"active": False})
    assert off.json()["active"] is False
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    bad_login = client.post("/login", data={"email": "customer_service@test.example", "password": TEST_PASSWORD})
    assert bad_login.status_code == 401

    client.patch(f"/api/v1/users/{user_id}", headers=auth("admin"), json={"active": True})
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_password_reset_takes_effect_at_sign_in(client: TestClient, auth: Any, seeded: dict[str, Any]) -> None:
    user_id = seeded["users"]["finance"]
    weak = client.patch(f"/api/v1/users/{user_id}", headers=auth("admin"), json={"password": "short"})
    assert (weak.status_code, weak.json()["errors"][0]["field"]) == (422, "password")
    assert client.patch(f"/api/v1/users/{user_id}", headers=auth("admin"),
                        json={"password": "a-new-secret"}).status_code == 200
    login = {"email": "finance@test.example"}
    assert client.post("/login", data={**login, "password": TEST_PASSWORD}).status_code == 401
    assert client.post("/login", data={**login, "password": "a-new-secret"},
                       follow_redirects=False).status_code == 303


def test_a_customer_user_must_keep_a_customer_account(client: TestClient, auth: Any,
                                                      seeded: dict[str, Any]) -> None:
    response = client.patch(f"/api/v1/users/{seeded['users']['warehouse']}", headers=auth("admin"),
                            json={"role": "customer"})
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"code": "required", "field": "customer_account",
                                            "message": "a customer user needs the customer account they order for"}
    linked = client.patch(f"/api/v1/users/{seeded['users']['warehouse']}", headers=auth("admin"),
                          json={"role": "customer", "customer_account": "C-001"})
    assert linked.json()["customer_account"] == "C-001"
    back = client.patch(f"/api/v1/users/{seeded['users']['warehouse']}", headers=auth("admin"),
                        json={"role": "warehouse"})
    assert back.json()["customer_account"] is None, "staff are not limited to one customer"


def test_the_last_admin_cannot_be_demoted_or_deactivated(client: TestClient, auth: Any,
                                                         seeded: dict[str, Any]) -> None:
    admin_id = seeded["users"]["admin"]
    for change in ({"role": "manager"}, {"active": False}):
        response = client.patch(f"/api/v1/users/{admin_id}", headers=auth("admin"), json=change)
        assert (response.status_code, response.json()["code"]) == (409, "last_admin")
    client.patch(f"/api/v1/users/{seeded['users']['manager']}", headers=auth("admin"), json={"role": "admin"})
    assert client.patch(f"/api/v1/users/{admin_id}", headers=auth("admin"),
                        json={"role": "manager"}).status_code == 200


def test_patching_an_unknown_user_is_404(client: TestClient, auth: Any) -> None:
    response = client.patch("/api/v1/users/999999", headers=auth("admin"), json={"active": False})
    assert (response.status_code, response.json()["code"]) == (404, "user_not_found")


# -- sign-in, sessions and CSRF ------------------------------------------------------------------------------

def test_sign_in_with_the_right_password_sets_a_safe_session_cookie(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text

    response = client.post("/login", data={"email": "manager@test.example", "password": TEST_PASSWORD,
                                           "next": "/ops"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ops"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("conveyor_session=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    me = client.get("/api/v1/me").json()
    assert (me["email"], me["via"]) == ("manager@test.example", "session")


def test_sign_in_with_a_wrong_password_or_unknown_email_is_refused_alike(client: TestClient) -> None:
    for email, password in (("manager@test.example", "wrong-password"), ("nobody@test.example", TEST_PASSWORD)):
        response = client.post("/login", data={"email": email, "password": password}, follow_redirects=False)
        assert response.status_code == 401
        assert "Email or password is wrong." in response.text
        assert "set-cookie" not in response.headers
    assert client.get("/api/v1/me").status_code == 401


def test_sign_in_never_redirects_off_site(client: TestClient) -> None:
    response = client.post("/login", data={"email": "manager@test.example", "password": TEST_PASSWORD,
                                           "next": "https://evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_a_session_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    csrf = _sign_in(client, "manager")
    refused = client.post("/api/v1/tokens", json={"name": "from the browser"})
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    forged = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "guess"})
    assert forged.status_code == 403
    allowed = client.post("/api/v1/tokens", json={"name": "from the browser"}, headers={"X-CSRF-Token": csrf})
    assert allowed.status_code == 201
    form_without = client.post("/tokens", data={"name": "x", "scopes": ["order:read"]})
    assert (form_without.status_code, form_without.json()["code"]) == (403, "csrf_failed")


def test_sign_out_ends_the_session(client: TestClient) -> None:
    csrf = _sign_in(client, "finance")
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    client.cookies.clear()
    assert client.get("/api/v1/me").status_code == 401


# -- pages -----------------------------------------------------------------------------------------------

def test_the_tokens_page_creates_a_token_shows_it_once_and_revokes_it(client: TestClient) -> None:
    csrf = _sign_in(client, "warehouse")
    page = client.get("/tokens", headers={"Accept": "text/html"})
    assert page.status_code == 200
    for scope in ROLE_PERMISSIONS[Role.WAREHOUSE]:
        assert f'value="{scope.value}"' in page.text
    assert 'value="user:manage"' not in page.text, "only scopes the role has are offered"

    created = client.post("/tokens", data={"csrf_token": csrf, "name": "scanner 3",
                                           "scopes": ["order:read", "order:fulfil"], "expires_days": "30"})
    assert created.status_code == 201
    secret = re.search(r'value="(cvt_[^"]+)"', created.text)
    assert secret, "the new token is on the page"
    assert "cannot show it again" in created.text
    me = client.get("/api/v1/me", headers=_bearer(secret.group(1))).json()
    assert me["permissions"] == ["order:read", "order:fulfil"]

    again = client.get("/tokens", headers={"Accept": "text/html"})
    assert secret.group(1) not in again.text and "scanner 3" in again.text
    token_id = re.search(r'action="/tokens/(\d+)/revoke"', again.text).group(1)  # type: ignore[union-attr]
    revoked = client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.get("/api/v1/me", headers=_bearer(secret.group(1))).status_code == 401


def test_the_tokens_page_explains_what_is_wrong(client: TestClient) -> None:
    csrf = _sign_in(client, "warehouse")
    response = client.post("/tokens", data={"csrf_token": csrf, "name": "nothing ticked"})
    assert response.status_code == 422
    assert "tick at least one scope" in response.text


def test_the_users_page_creates_and_deactivates_users(client: TestClient, seeded: dict[str, Any]) -> None:
    csrf = _sign_in(client, "admin")
    page = client.get("/users", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "warehouse@test.example" in page.text
    assert all(f'<option value="{r.value}"' in page.text for r in Role)

    created = client.post("/users", data={"csrf_token": csrf, "email": "new@example.com", "name": "New Person",
                                          "password": "long-enough", "role": "warehouse"},
                          follow_redirects=False)
    assert (created.status_code, created.headers["location"]) == (303, "/users?created=new@example.com")

    wrong = client.post("/users", data={"csrf_token": csrf, "email": "x@example.com", "password": "long-enough",
                                        "role": "customer", "customer_account": "C-404"})
    assert wrong.status_code == 422
    assert "no customer account C-404" in wrong.text
    assert 'value="x@example.com"' in wrong.text, "the form keeps what was typed"

    off = client.post(f"/users/{seeded['users']['finance']}/active", data={"csrf_token": csrf, "active": "false"},
                      follow_redirects=False)
    assert off.status_code == 303
    users = client.get("/api/v1/users", headers={"X-CSRF-Token": csrf}).json()
    assert next(u for u in users if u["email"] == "finance@test.example")["active"] is False


def test_pages_send_browsers_without_a_session_to_sign_in(client: TestClient) -> None:
    for path in ("/tokens", "/users"):
        response = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


# -- CLI -------------------------------------------------------------------------------------------------

@pytest.fixture
def cli(container: Container, seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CONVEYOR_DATABASE_URL", container.settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_users_are_created_and_listed_from_the_command_line(cli: CliRunner) -> None:
    created = cli.invoke(users_cli, ["create", "Ops@Example.com", "--role", "manager", "--name", "Ops",
                                     "--password", "long-enough"])
    assert created.exit_code == 0, created.output
    assert "ops@example.com (manager)" in created.output

    prompted = cli.invoke(users_cli, ["create", "shop@example.com", "--role", "partner", "--channel", "webshop"],
                          input="long-enough\nlong-enough\n")
    assert prompted.exit_code == 0, prompted.output

    listed = cli.invoke(users_cli, ["list"])
    assert listed.exit_code == 0
    assert "ops@example.com" in listed.output and "channel webshop" in listed.output


def test_a_refused_command_prints_the_error_code_and_exits_2(cli: CliRunner) -> None:
    taken = cli.invoke(users_cli, ["create", "admin@test.example", "--role", "admin", "--password", "long-enough"])
    assert taken.exit_code == 2
    assert "error: email_taken: a user with email admin@test.example exists" in taken.stderr
    unknown = cli.invoke(users_cli, ["create", "c@example.com", "--role", "customer", "--password", "long-enough",
                                     "--customer", "C-404"])
    assert unknown.exit_code == 2
    assert "error: unknown_customer: no customer account C-404 (customer_account)" in unknown.stderr


def test_tokens_are_created_listed_and_revoked_from_the_command_line(cli: CliRunner, client: TestClient) -> None:
    created = cli.invoke(tokens_cli, ["create", "--user", "partner@test.example", "--name", "edi",
                                      "--scope", "order:read", "--scope", "order:create", "--expires-days", "90"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("cvt_")
    assert client.get("/api/v1/me", headers=_bearer(secret)).json()["permissions"] == [
        "order:read", "order:create"]

    listed = cli.invoke(tokens_cli, ["list", "--user", "partner@test.example"])
    assert listed.exit_code == 0 and "edi" in listed.output and secret not in listed.output
    token_id = re.search(r"token (\d+) for", created.stderr).group(1)  # type: ignore[union-attr]

    assert cli.invoke(tokens_cli, ["revoke", token_id]).exit_code == 0
    # The CLI is another process: the server trusts a token it has seen for token_cache_seconds (5).
    client.app.state.container.clock.advance(timedelta(seconds=6))  # type: ignore[attr-defined]
    assert client.get("/api/v1/me", headers=_bearer(secret)).status_code == 401
    again = cli.invoke(tokens_cli, ["revoke", token_id])
    assert again.exit_code == 2 and "error: token_not_found" in again.stderr

    beyond = cli.invoke(tokens_cli, ["create", "--user", "partner@test.example", "--scope", "user:manage"])
    assert beyond.exit_code == 2 and "error: scope_not_granted" in beyond.stderr
    nobody = cli.invoke(tokens_cli, ["create", "--user", "nobody@example.com"])
    assert nobody.exit_code == 2 and "error: user_not_found" in nobody.stderr


# -- docs --------------------------------------------------------------------------------------------------

def test_the_access_guide_shows_the_permissions_each_role_really_has() -> None:
    guide = (DOCS / "users-and-access.md").read_text(encoding="utf-8")
    assert permission_matrix_markdown() in guide, (
        "docs/users-and-access.md is out of date: paste the output of `conveyor users roles --markdown`")


def test_a_sign_in_posted_from_another_site_is_refused(client) -> None:
    data = {"email": "manager@test.example", "password": TEST_PASSWORD}
    refused = client.post("/login", data=data, headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert refused.status_code == 403 and "conveyor_session" not in refused.cookies
    same_site = client.post("/login", data=data, headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert same_site.status_code == 303


def test_a_token_records_when_it_was_last_used(client: TestClient, auth: Any, container: Container) -> None:
    token = _new_token(client, auth("finance"))
    listed = next(t for t in client.get("/api/v1/tokens", headers=auth("finance")).json() if t["id"] == token["id"])
    assert listed["last_used_at"] is None
    assert client.get("/api/v1/me", headers=_bearer(token["token"])).status_code == 200
    used_at = container.clock.now()
    container.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    client.get("/api/v1/me", headers=_bearer(token["token"]))  # a new lookup: the cache entry is older than 5 s
    listed = next(t for t in client.get("/api/v1/tokens", headers=auth("finance")).json() if t["id"] == token["id"])
    assert listed["last_used_at"] == (used_at + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
