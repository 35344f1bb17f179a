"""Customer licences (regulated products need one valid on the order date): the rules without a database,
then the API under /api/v1/customers/{account}/licences and the Licences section of the customer page.

The clock stands at NOW (2026-11-18): a licence is valid from its first to its last day, both included."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from conveyor.customers.domain import check_licence, licence_status
from conveyor.customers.tables import customer_licences
from conveyor.identity import service as identity
from conveyor.identity.permissions import ROLE_PERMISSIONS, Permission, Role
from conveyor.kernel.errors import ValidationFailed
from tests.api.test_reference_pages import HTML, csrf_token, page, sign_in

URL = "/api/v1/customers"
PHARMACY = {"kind": "pharmacy", "number": "NL-APO-2026-0042", "valid_from": "2026-01-01",
            "valid_until": "2027-12-31"}


def licences_url(account: str = "C-001") -> str:
    return f"{URL}/{account}/licences"


def count(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(customer_licences)).scalar_one())


def problems(response: Any) -> set[tuple[str, str | None]]:
    return {(e["code"], e["field"]) for e in response.json()["errors"]}


# The rules ------------------------------------------------------------------------------------------------

def test_a_licence_is_cleaned_up_to_store():
    assert check_licence({"kind": " Pharmacy ", "number": " A-1 ", "valid_from": "2026-01-01",
                          "valid_until": date(2026, 1, 1)}) == {
        "kind": "pharmacy", "number": "A-1", "valid_from": date(2026, 1, 1), "valid_until": date(2026, 1, 1)}
    assert check_licence({"kind": "alcohol_b-2", "number": "7", "valid_from": "", "valid_until": None}) == {
        "kind": "alcohol_b-2", "number": "7", "valid_from": None, "valid_until": None}


@pytest.mark.parametrize(("data", "expected"), [
    ({}, {("required", "kind"), ("required", "number")}),
    ({"kind": "  ", "number": " "}, {("required", "kind"), ("required", "number")}),
    ({"kind": "wine & spirits", "number": "1"}, {("invalid_licence_kind", "kind")}),
    ({"kind": "k" * 41, "number": "n" * 61}, {("invalid_licence_kind", "kind"), ("too_long", "number")}),
    ({"kind": "alcohol", "number": "1", "valid_from": "2026-02-30", "valid_until": "31-12-2026"},
     {("invalid_date", "valid_from"), ("invalid_date", "valid_until")}),
    ({"kind": "alcohol", "number": "1", "valid_from": "2026-06-02", "valid_until": "2026-06-01"},
     {("invalid_period", "valid_until")}),
])
def test_every_problem_of_a_licence_is_reported_with_its_field(data, expected):
    with pytest.raises(ValidationFailed) as failed:
        check_licence(data)
    assert {(p.code, p.field) for p in failed.value.problems} == expected


@pytest.mark.parametrize(("valid_from", "valid_until", "status"), [
    (None, None, "valid"),
    (date(2026, 11, 18), date(2026, 11, 18), "valid"),  # one day, today: both ends count
    (date(2026, 11, 19), None, "not_yet_valid"),
    (None, date(2026, 11, 17), "expired"),
])
def test_the_status_counts_both_ends_of_the_period(valid_from, valid_until, status):
    assert licence_status(valid_from, valid_until, date(2026, 11, 18)) == status


# The API --------------------------------------------------------------------------------------------------

def test_a_licence_is_recorded_listed_and_shown_with_the_customer(client, auth, seeded):
    created = client.post(licences_url(), json={**PHARMACY, "kind": "Pharmacy"}, headers=auth("customer_service"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in ("kind", "number", "valid_from", "valid_until", "status", "valid_today",
                                 "created_by")} == {
        "kind": "pharmacy", "number": "NL-APO-2026-0042", "valid_from": "2026-01-01", "valid_until": "2027-12-31",
        "status": "valid", "valid_today": True, "created_by": "user:customer_service@test.example"}
    assert body["created_at"].startswith("2026-11-18T10:00")
    listed = client.get(licences_url(), headers=auth("manager"))
    assert listed.status_code == 200 and listed.json() == [body]
    customer = client.get(f"{URL}/{seeded['customers']['C-001']}", headers=auth("manager")).json()
    assert customer["licences"] == [body]
    other = client.get(f"{URL}/{seeded['customers']['C-002']}", headers=auth("manager")).json()
    assert other["licences"] == [] and client.get(licences_url("C-002"), headers=auth("manager")).json() == []


def test_each_licence_says_whether_it_is_valid_today(client, auth):
    for kind, period in [("alcohol", {"valid_until": "2026-11-17"}), ("tobacco", {"valid_from": "2026-11-19"}),
                         ("pharmacy", {"valid_from": "2026-11-18", "valid_until": "2026-11-18"}),
                         ("chemicals", {})]:
        response = client.post(licences_url(), json={"kind": kind, "number": f"{kind}-1", **period},
                               headers=auth("manager"))
        assert response.status_code == 201, response.text
    listed = client.get(licences_url(), headers=auth("manager")).json()
    assert [(x["kind"], x["status"], x["valid_today"]) for x in listed] == [
        ("alcohol", "expired", False), ("chemicals", "valid", True), ("pharmacy", "valid", True),
        ("tobacco", "not_yet_valid", False)]


def test_a_licence_is_removed_only_through_its_own_customer(client, auth, container):
    licence = client.post(licences_url(), json=PHARMACY, headers=auth("manager")).json()
    elsewhere = client.delete(f"{licences_url('C-002')}/{licence['id']}", headers=auth("manager"))
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == "licence_not_found"
    assert count(container) == 1
    removed = client.delete(f"{licences_url()}/{licence['id']}", headers=auth("finance"))
    assert removed.status_code == 204 and removed.content == b""
    assert client.get(licences_url(), headers=auth("manager")).json() == []
    again = client.delete(f"{licences_url()}/{licence['id']}", headers=auth("finance"))
    assert again.status_code == 404 and again.json()["code"] == "licence_not_found"


def test_bad_licences_are_refused_with_every_field_path_and_nothing_is_written(client, auth, container):
    bad = client.post(licences_url(), json={"kind": "wine & spirits", "number": "n" * 61,
                                            "valid_from": "2027-01-01", "valid_until": "2026-12-31"},
                      headers=auth("manager"))
    assert bad.status_code == 422
    assert problems(bad) == {("invalid_licence_kind", "kind"), ("too_long", "number"),
                             ("invalid_period", "valid_until")}
    missing = client.post(licences_url(), json={"valid_from": "2026-13-01"}, headers=auth("manager"))
    assert missing.status_code == 422
    assert {field for _, field in problems(missing)} == {"kind", "number", "valid_from"}
    assert ("required", "kind") in problems(missing)
    extra = client.post(licences_url(), json={**PHARMACY, "issuer": "CBG"}, headers=auth("manager"))
    assert extra.status_code == 422 and {field for _, field in problems(extra)} == {"issuer"}
    assert count(container) == 0


def test_the_same_licence_twice_is_a_conflict(client, auth, container):
    assert client.post(licences_url(), json=PHARMACY, headers=auth("manager")).status_code == 201
    again = client.post(licences_url(), json={**PHARMACY, "kind": "PHARMACY"}, headers=auth("manager"))
    assert again.status_code == 409 and again.json()["code"] == "licence_exists"
    renewed = client.post(licences_url(), json={**PHARMACY, "valid_from": "2028-01-01", "valid_until": None},
                          headers=auth("manager"))
    assert renewed.status_code == 201, renewed.text
    assert count(container) == 2


def test_an_unknown_customer_is_not_found(client, auth, container):
    for response in (client.get(licences_url("C-999"), headers=auth("manager")),
                     client.post(licences_url("C-999"), json=PHARMACY, headers=auth("manager")),
                     client.delete(f"{licences_url('C-999')}/1", headers=auth("manager")),
                     client.get(licences_url("not an account!"), headers=auth("manager"))):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "customer_not_found"
        assert problems(response) == {("customer_not_found", "account")}
    assert count(container) == 0


def test_an_account_with_a_slash_is_found_as_is_or_url_encoded(client, auth):
    created = client.post(URL, json={"account": "C/100", "name": "Apotheek Slash"}, headers=auth("manager"))
    assert created.status_code == 201, created.text
    assert client.post(licences_url("C/100"), json=PHARMACY, headers=auth("manager")).status_code == 201
    listed = client.get(licences_url("C%2F100"), headers=auth("manager"))
    assert listed.status_code == 200 and [x["number"] for x in listed.json()] == [PHARMACY["number"]]


def test_reading_needs_customer_read_and_changing_needs_customer_write(client, auth, container, seeded):
    licence = client.post(licences_url(), json=PHARMACY, headers=auth("manager")).json()
    for role in ("warehouse", "customer", "partner"):
        assert client.get(licences_url(), headers=auth(role)).status_code == 403
        refused = client.post(licences_url(), json=PHARMACY, headers=auth(role))
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert client.delete(f"{licences_url()}/{licence['id']}", headers=auth(role)).status_code == 403
    with container.db.write() as conn:  # a manager's token limited to reading customers
        token = identity.create_token(conn, user_id=seeded["users"]["manager"], name="read only",
                                      scopes=[Permission.CUSTOMER_READ.value], at=container.clock.now())
    read_only = {"Authorization": f"Bearer {token.token}"}
    assert client.get(licences_url(), headers=read_only).status_code == 200
    assert client.post(licences_url(), json=PHARMACY, headers=read_only).status_code == 403
    assert client.delete(f"{licences_url()}/{licence['id']}", headers=read_only).status_code == 403
    assert count(container) == 1


def test_the_licence_routes_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths[f"{URL}/{{account}}/licences"]) == {"get", "post"}
    assert set(paths[f"{URL}/{{account}}/licences/{{licence_id}}"]) == {"delete"}
    assert "licences" in client.get("/openapi.json").json()["components"]["schemas"]["CustomerOut"]["required"]


# The customer page ----------------------------------------------------------------------------------------

def test_the_customer_page_lists_licences_and_adds_and_removes_them(client, container, seeded):
    customer_id = seeded["customers"]["C-001"]
    sign_in(client, "customer_service")
    html = page(client, f"/customers/{customer_id}")
    assert 'id="licences"' in html and "No licences." in html
    assert f'action="/customers/{customer_id}/licences"' in html
    token = csrf_token(html)
    added = client.post(f"/customers/{customer_id}/licences", follow_redirects=False, data={
        "csrf_token": token, "kind": "Alcohol", "number": "SHV-77", "valid_from": "2025-01-01",
        "valid_until": "2026-11-17"})
    assert added.status_code == 303, added.text
    assert added.headers["location"] == f"/customers/{customer_id}?licence=added#licences"
    html = page(client, f"/customers/{customer_id}?licence=added")
    assert "Licence added." in html and "SHV-77" in html and "2026-11-17" in html
    assert '<span class="badge breached">expired</span>' in html
    client.post(f"/customers/{customer_id}/licences", data={"csrf_token": token, "kind": "pharmacy",
                                                            "number": "APO-1", "valid_from": ""})
    html = page(client, f"/customers/{customer_id}")
    assert '<span class="badge ok">valid</span>' in html and "no end" in html
    with container.db.read() as conn:
        rows = conn.execute(select(customer_licences.c.id, customer_licences.c.kind, customer_licences.c.created_by)
                            .order_by(customer_licences.c.id)).all()
    assert [(r.kind, r.created_by) for r in rows] == [("alcohol", "user:customer_service@test.example"),
                                                      ("pharmacy", "user:customer_service@test.example")]
    remove = f"/customers/{customer_id}/licences/{rows[0].id}/remove"
    assert f'action="{remove}"' in html
    assert client.post(remove, data={}).status_code == 403  # no CSRF token
    removed = client.post(remove, data={"csrf_token": token}, follow_redirects=False)
    assert removed.status_code == 303 and removed.headers["location"].endswith("?licence=removed#licences")
    html = page(client, f"/customers/{customer_id}?licence=removed")
    assert "Licence removed." in html and "SHV-77" not in html and "APO-1" in html


def test_a_bad_licence_comes_back_with_the_messages_next_to_the_fields(client, container, seeded):
    customer_id = seeded["customers"]["C-001"]
    sign_in(client, "manager")
    token = csrf_token(page(client, f"/customers/{customer_id}"))
    response = client.post(f"/customers/{customer_id}/licences", headers=HTML, data={
        "csrf_token": token, "kind": "wine & spirits", "number": "W-1", "valid_from": "2026-12-01",
        "valid_until": "2026-11-01"})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert 'id="err-licence-kind"' in html and 'id="err-licence-valid_until"' in html
    assert 'id="err-licence-number"' not in html
    assert 'value="wine &amp; spirits"' in html and 'value="W-1"' in html  # what was typed is kept
    assert 'value="De Vries Bakkerij"' in html  # the rest of the page is still there
    assert count(container) == 0


def test_the_licence_controls_show_only_with_customer_write(client, auth, monkeypatch, seeded):
    customer_id = seeded["customers"]["C-001"]
    client.post(licences_url(), json=PHARMACY, headers=auth("manager"))
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.FINANCE,
                        ROLE_PERMISSIONS[Role.FINANCE] - {Permission.CUSTOMER_WRITE})
    sign_in(client, "finance")
    html = page(client, f"/customers/{customer_id}")
    assert PHARMACY["number"] in html and '<span class="badge ok">valid</span>' in html
    assert f'action="/customers/{customer_id}/licences"' not in html and "/remove" not in html
    assert "Add licence" not in html
    token = csrf_token(html)
    refused = client.post(f"/customers/{customer_id}/licences", headers=HTML,
                          data={"csrf_token": token, "kind": "alcohol", "number": "X"})
    assert refused.status_code == 403


def test_an_unknown_customer_or_licence_on_the_page_is_not_found(client, seeded):
    sign_in(client, "manager")
    token = csrf_token(page(client, f"/customers/{seeded['customers']['C-001']}"))
    assert client.post("/customers/999/licences", headers=HTML,
                       data={"csrf_token": token, "kind": "alcohol", "number": "1"}).status_code == 404
    assert client.post(f"/customers/{seeded['customers']['C-001']}/licences/999/remove", headers=HTML,
                       data={"csrf_token": token}).status_code == 404
