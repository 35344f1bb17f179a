"""Sales channels over the API: create, list, search, page, read, change; refusals with codes and fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from conveyor.channels.tables import channels

URL = "/api/v1/channels"
SHOP = {"code": "shopify-nl", "name": "Shopify NL", "kind": "shopify", "default_currency": "EUR"}


def channel_count(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(channels)).scalar_one())


def test_a_manager_creates_a_channel_and_reads_it_back(client, auth):
    created = client.post(URL, json=SHOP, headers=auth("manager"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["code"], body["kind"], body["default_currency"], body["active"]) == (
        "shopify-nl", "shopify", "EUR", True)
    assert client.get(f"{URL}/{body['id']}", headers=auth("customer_service")).json() == body


def test_the_list_searches_code_and_name_and_pages_by_id(client, auth):
    client.post(URL, json=SHOP, headers=auth("manager"))
    found = client.get(URL, params={"q": "shop"}, headers=auth("manager")).json()["items"]
    assert [c["code"] for c in found] == ["webshop", "shopify-nl"]
    first = client.get(URL, params={"limit": 2}, headers=auth("manager")).json()
    assert [c["code"] for c in first["items"]] == ["api", "webshop"]
    second = client.get(URL, params={"limit": 2, "after": first["next_after"]}, headers=auth("manager")).json()
    assert [c["code"] for c in second["items"]] == ["shopify-nl"] and second["next_after"] is None


def test_patch_changes_only_the_fields_sent(client, auth, seeded):
    url = f"{URL}/{seeded['channels']['webshop']}"
    changed = client.patch(url, json={"active": False, "default_currency": "GBP"}, headers=auth("admin"))
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["active"], body["default_currency"], body["name"], body["kind"]) == (
        False, "GBP", "Web shop", "webshop")


def test_a_channel_code_is_unique(client, auth, seeded, container):
    before = channel_count(container)
    duplicate = client.post(URL, json={**SHOP, "code": "api"}, headers=auth("manager"))
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "code_taken"
    assert [e["field"] for e in duplicate.json()["errors"]] == ["code"]
    renamed = client.patch(f"{URL}/{seeded['channels']['webshop']}", json={"code": "api"}, headers=auth("manager"))
    assert renamed.status_code == 409
    assert channel_count(container) == before


def test_bad_input_reports_every_problem_with_its_field(client, auth, container):
    before = channel_count(container)
    response = client.post(URL, json={"code": "Web Shop", "name": "x", "kind": "fax", "default_currency": "EURO"},
                           headers=auth("manager"))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_code"
    assert {(e["code"], e["field"]) for e in body["errors"]} == {
        ("invalid_code", "code"), ("invalid_kind", "kind"), ("invalid_currency", "default_currency")}
    assert channel_count(container) == before


def test_a_one_letter_code_is_too_short(client, auth):
    response = client.post(URL, json={**SHOP, "code": "a"}, headers=auth("manager"))
    assert response.status_code == 422 and response.json()["code"] == "invalid_code"


def test_an_unknown_channel_is_not_found(client, auth):
    for response in (client.get(f"{URL}/424242", headers=auth("manager")),
                     client.patch(f"{URL}/424242", json={"name": "x"}, headers=auth("manager"))):
        assert response.status_code == 404
        assert response.json()["code"] == "channel_not_found"


def test_customer_service_reads_channels_but_cannot_create_them(client, auth, container):
    before = channel_count(container)
    assert client.get(URL, headers=auth("customer_service")).status_code == 200
    assert client.post(URL, json=SHOP, headers=auth("customer_service")).status_code == 403
    assert client.get(URL, headers=auth("warehouse")).status_code == 403
    assert channel_count(container) == before


def test_the_shortage_policy_is_set_changed_and_cleared(client, auth):
    created = client.post(URL, json={**SHOP, "shortage_policy": "backorder"}, headers=auth("manager"))
    assert created.status_code == 201, created.text
    assert created.json()["shortage_policy"] == "backorder"
    url = f"{URL}/{created.json()['id']}"
    changed = client.patch(url, json={"shortage_policy": "reject"}, headers=auth("manager"))
    assert changed.status_code == 200 and changed.json()["shortage_policy"] == "reject"
    kept = client.patch(url, json={"name": "Shopify Nederland"}, headers=auth("manager"))
    assert kept.json()["shortage_policy"] == "reject"
    cleared = client.patch(url, json={"shortage_policy": None}, headers=auth("manager"))
    assert cleared.status_code == 200 and cleared.json()["shortage_policy"] is None
    assert client.get(url, headers=auth("manager")).json()["shortage_policy"] is None


def test_an_unknown_shortage_policy_is_refused_with_its_field(client, auth, seeded, container):
    before = channel_count(container)
    created = client.post(URL, json={**SHOP, "shortage_policy": "wait"}, headers=auth("manager"))
    assert created.status_code == 422
    assert [(e["code"], e["field"]) for e in created.json()["errors"]] == [
        ("invalid_shortage_policy", "shortage_policy")]
    patched = client.patch(f"{URL}/{seeded['channels']['webshop']}", json={"shortage_policy": "HOLD"},
                           headers=auth("manager"))
    assert patched.status_code == 422 and patched.json()["code"] == "invalid_shortage_policy"
    assert channel_count(container) == before
