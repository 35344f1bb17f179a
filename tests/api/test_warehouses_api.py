"""Warehouses over the API: create, list, search, page, read, change; refusals with codes and fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from conveyor.warehouses.tables import warehouses

URL = "/api/v1/warehouses"
VENLO = {"code": "VNL", "name": "Venlo DC", "line1": "Logistiekweg 5", "city": "Venlo", "postal_code": "5928 lj",
         "country": "nl", "latitude": 51.37, "longitude": 6.17, "priority": 20, "timezone": "Europe/Amsterdam"}


def warehouse_count(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(warehouses)).scalar_one())


def test_a_manager_creates_a_warehouse_with_a_normalised_address(client, auth):
    created = client.post(URL, json=VENLO, headers=auth("manager"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["postal_code"], body["country"], body["timezone"], body["priority"]) == (
        "5928 LJ", "NL", "Europe/Amsterdam", 20)
    assert client.get(f"{URL}/{body['id']}", headers=auth("warehouse")).json() == body


def test_the_list_searches_code_and_name_and_pages_by_id(client, auth):
    for i in range(3):
        client.post(URL, json={**VENLO, "code": f"V{i}", "name": f"Venlo {i}"}, headers=auth("manager"))
    found = client.get(URL, params={"q": "venlo"}, headers=auth("warehouse")).json()
    assert [w["code"] for w in found["items"]] == ["V0", "V1", "V2"]
    codes, after = [], None
    while True:
        page = client.get(URL, params={"limit": 3, **({"after": after} if after else {})},
                          headers=auth("warehouse")).json()
        codes += [w["code"] for w in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert codes == ["RTM", "V0", "V1", "V2"]


def test_patch_changes_priority_and_can_clear_the_coordinates(client, auth, seeded):
    url = f"{URL}/{seeded['warehouse']}"
    changed = client.patch(url, json={"priority": 5, "latitude": None, "longitude": None}, headers=auth("admin"))
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["priority"], body["latitude"], body["longitude"], body["code"]) == (5, None, None, "RTM")


def test_a_warehouse_code_is_unique(client, auth, container):
    before = warehouse_count(container)
    response = client.post(URL, json={**VENLO, "code": "RTM"}, headers=auth("manager"))
    assert response.status_code == 409
    assert response.json()["code"] == "code_taken"
    assert warehouse_count(container) == before


def test_bad_input_reports_every_problem_with_its_field(client, auth, container):
    before = warehouse_count(container)
    bad = {**VENLO, "code": "no spaces", "postal_code": "59X", "latitude": 91, "longitude": -181,
           "timezone": "Mars/Olympus_Mons"}
    response = client.post(URL, json=bad, headers=auth("manager"))
    assert response.status_code == 422
    assert {(e["code"], e["field"]) for e in response.json()["errors"]} == {
        ("invalid_code", "code"), ("invalid_postal_code", "postal_code"), ("invalid_latitude", "latitude"),
        ("invalid_longitude", "longitude"), ("invalid_timezone", "timezone")}
    assert warehouse_count(container) == before


def test_coordinates_come_in_pairs_and_the_country_must_exist(client, auth):
    response = client.post(URL, json={**VENLO, "longitude": None, "country": "XX"}, headers=auth("manager"))
    assert response.status_code == 422
    assert {(e["code"], e["field"]) for e in response.json()["errors"]} >= {
        ("incomplete_coordinates", "longitude"), ("invalid_country", "country")}


def test_an_unknown_warehouse_is_not_found(client, auth):
    response = client.patch(f"{URL}/31337", json={"priority": 1}, headers=auth("manager"))
    assert response.status_code == 404
    assert response.json()["code"] == "warehouse_not_found"


def test_customer_service_cannot_create_warehouses(client, auth, container):
    before = warehouse_count(container)
    response = client.post(URL, json=VENLO, headers=auth("customer_service"))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert client.get(URL, headers=auth("customer")).status_code == 403
    assert warehouse_count(container) == before
