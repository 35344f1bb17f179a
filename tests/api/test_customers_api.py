"""Customers over the API: accounts with credit terms, contacts and addresses; refusals with field paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from conveyor.customers.tables import customer_addresses, customer_contacts, customers

URL = "/api/v1/customers"
SHIP_TO = {"kind": "shipping", "is_default": True, "name": "Bakkerij Bos", "line1": "Oudegracht 12",
           "city": "Utrecht", "postal_code": "3511 ap", "country": "NL"}
BOS = {
    "account": "C-100", "name": "Bakkerij Bos", "email": "inkoop@bos.example", "credit_limit": "5000.00",
    "currency": "EUR", "credit_rating": "A", "payment_terms": "net30",
    "contacts": [{"name": "Piet Bos", "email": "piet@bos.example", "role": "purchasing"}],
    "addresses": [SHIP_TO, {**SHIP_TO, "kind": "billing", "line1": "Postbus 99", "postal_code": "3500 AA"}],
}


def counts(container: Any) -> tuple[int, ...]:
    with container.db.read() as conn:
        return tuple(int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                     for t in (customers, customer_contacts, customer_addresses))


@contextmanager
def statements(container: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(container.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(container.db.engine, "before_cursor_execute", record)


def test_a_customer_is_created_with_contacts_addresses_and_credit_terms(client, auth, container):
    created = client.post(URL, json=BOS, headers=auth("customer_service"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["credit_limit"], body["currency"], body["credit_rating"], body["payment_terms"]) == (
        "5000.00", "EUR", "A", "net30")
    assert [c["name"] for c in body["contacts"]] == ["Piet Bos"]
    assert [(a["kind"], a["postal_code"], a["is_default"]) for a in body["addresses"]] == [
        ("shipping", "3511 AP", True), ("billing", "3500 AA", True)]
    assert client.get(f"{URL}/{body['id']}", headers=auth("manager")).json() == body
    with container.db.read() as conn:
        assert conn.execute(select(customers.c.credit_limit_minor).where(
            customers.c.id == body["id"])).scalar() == 500_000


def test_money_follows_the_currency_minor_units(client, auth):
    yen = client.post(URL, json={**BOS, "credit_limit": "750000", "currency": "JPY"}, headers=auth("finance"))
    assert yen.status_code == 201 and yen.json()["credit_limit"] == "750000"
    cents = client.post(URL, json={**BOS, "account": "C-101", "credit_limit": "10.5", "currency": "JPY"},
                        headers=auth("finance"))
    assert cents.status_code == 422
    assert [(e["code"], e["field"]) for e in cents.json()["errors"]] == [("invalid_amount", "credit_limit")]


def test_the_list_searches_account_name_and_email_with_addresses(client, auth):
    client.post(URL, json=BOS, headers=auth("manager"))

    def accounts(q: str) -> list[str]:
        return [c["account"] for c in client.get(URL, params={"q": q}, headers=auth("manager")).json()["items"]]

    assert accounts("c-00") == ["C-001", "C-002"]
    assert accounts("bakkerij") == ["C-001", "C-100"]
    assert accounts("bos.example") == ["C-100"]
    first = client.get(URL, params={"limit": 1}, headers=auth("manager")).json()
    assert len(first["items"][0]["addresses"]) == 2 and first["next_after"] == first["items"][0]["id"]


def test_a_page_runs_the_same_number_of_queries_whatever_its_size(client, auth, container):
    headers = auth("manager")
    client.get(URL, headers=headers)  # warm up
    with statements(container) as small:
        assert len(client.get(URL, headers=headers).json()["items"]) == 2
    for i in range(6):
        client.post(URL, json={**BOS, "account": f"C-2{i}"}, headers=headers)
    with statements(container) as large:
        assert len(client.get(URL, headers=headers).json()["items"]) == 8
    assert len(large) == len(small)


def test_patch_changes_credit_terms_and_replaces_only_the_lists_sent(client, auth):
    customer = client.post(URL, json=BOS, headers=auth("manager")).json()
    changed = client.patch(f"{URL}/{customer['id']}", headers=auth("finance"), json={
        "credit_limit": "7500.50", "payment_terms": "net60", "addresses": [{**SHIP_TO, "city": "Zeist",
                                                                             "postal_code": "3701 AA"}]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["credit_limit"], body["payment_terms"], body["credit_rating"]) == ("7500.50", "net60", "A")
    assert [(a["kind"], a["city"]) for a in body["addresses"]] == [("shipping", "Zeist")]
    assert [c["name"] for c in body["contacts"]] == ["Piet Bos"]


def test_a_new_currency_keeps_the_credit_limit_amount(client, auth, seeded):
    changed = client.patch(f"{URL}/{seeded['customers']['C-001']}", json={"currency": "USD"},
                           headers=auth("manager"))
    assert changed.status_code == 200
    assert (changed.json()["credit_limit"], changed.json()["currency"]) == ("5000.00", "USD")


def test_an_account_number_is_unique(client, auth, container, seeded):
    before = counts(container)
    response = client.post(URL, json={**BOS, "account": "C-001"}, headers=auth("manager"))
    assert response.status_code == 409
    assert response.json()["code"] == "account_taken"
    assert [e["field"] for e in response.json()["errors"]] == ["account"]
    renamed = client.patch(f"{URL}/{seeded['customers']['C-002']}", json={"account": "C-001"},
                           headers=auth("manager"))
    assert renamed.status_code == 409
    assert counts(container) == before


def test_bad_input_reports_every_problem_with_its_field_path(client, auth, container):
    before = counts(container)
    bad = {**BOS, "credit_rating": "F", "payment_terms": "net90", "currency": "EURO",
           "contacts": [{"name": "Piet", "email": "not-an-email"}],
           "addresses": [{**SHIP_TO, "postal_code": "1234"}, {**SHIP_TO, "country": "XX"}]}
    response = client.post(URL, json=bad, headers=auth("manager"))
    assert response.status_code == 422
    assert {(e["code"], e["field"]) for e in response.json()["errors"]} == {
        ("invalid_credit_rating", "credit_rating"), ("invalid_payment_terms", "payment_terms"),
        ("invalid_currency", "currency"), ("invalid_email", "contacts.0.email"),
        ("invalid_postal_code", "addresses.0.postal_code"), ("invalid_country", "addresses.1.country"),
        ("duplicate_default", "addresses.1.is_default")}
    assert counts(container) == before


def test_missing_address_fields_are_reported_by_path(client, auth):
    response = client.post(URL, json={**BOS, "addresses": [{"kind": "home", "name": "x", "city": "Utrecht",
                                                             "country": "NL"}]}, headers=auth("manager"))
    assert response.status_code == 422
    assert {(e["code"], e["field"]) for e in response.json()["errors"]} == {("required", "addresses.0.line1")}
    kind = client.post(URL, json={**BOS, "addresses": [{**SHIP_TO, "kind": "home"}]}, headers=auth("manager"))
    assert [(e["code"], e["field"]) for e in kind.json()["errors"]] == [("invalid_address_kind", "addresses.0.kind")]


def test_an_unknown_customer_is_not_found(client, auth):
    response = client.get(f"{URL}/999", headers=auth("manager"))
    assert response.status_code == 404 and response.json()["code"] == "customer_not_found"


def test_warehouse_staff_cannot_see_or_create_customers(client, auth, container):
    before = counts(container)
    assert client.post(URL, json=BOS, headers=auth("warehouse")).status_code == 403
    assert client.get(URL, headers=auth("warehouse")).status_code == 403
    assert counts(container) == before


def test_the_shortage_policy_is_set_changed_and_cleared(client, auth):
    created = client.post(URL, json={**BOS, "shortage_policy": "reject"}, headers=auth("manager"))
    assert created.status_code == 201, created.text
    assert created.json()["shortage_policy"] == "reject"
    url = f"{URL}/{created.json()['id']}"
    changed = client.patch(url, json={"shortage_policy": "backorder"}, headers=auth("manager"))
    assert changed.status_code == 200 and changed.json()["shortage_policy"] == "backorder"
    kept = client.patch(url, json={"payment_terms": "net60"}, headers=auth("manager"))
    assert kept.json()["shortage_policy"] == "backorder"
    cleared = client.patch(url, json={"shortage_policy": None}, headers=auth("manager"))
    assert cleared.status_code == 200 and cleared.json()["shortage_policy"] is None
    assert client.get(url, headers=auth("manager")).json()["shortage_policy"] is None


def test_an_unknown_shortage_policy_is_refused_with_its_field(client, auth, seeded, container):
    before = counts(container)
    created = client.post(URL, json={**BOS, "shortage_policy": "cancel"}, headers=auth("manager"))
    assert created.status_code == 422
    assert [(e["code"], e["field"]) for e in created.json()["errors"]] == [
        ("invalid_shortage_policy", "shortage_policy")]
    patched = client.patch(f"{URL}/{seeded['customers']['C-001']}", json={"shortage_policy": "later"},
                           headers=auth("manager"))
    assert patched.status_code == 422 and patched.json()["code"] == "invalid_shortage_policy"
    assert counts(container) == before
