"""Products over the API: create, list, search, page, read, change; refusals with codes and field paths."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from conveyor.catalog.tables import products

URL = "/api/v1/products"
FLOUR = {"sku": "FLOUR/25KG", "name": "Bread flour 25 kg", "gtin": "4006381333931", "weight_g": 25000,
         "length_mm": 600, "width_mm": 400, "height_mm": 120, "cold_chain": False}


def product_count(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(products)).scalar_one())


def fields_of(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def test_a_manager_creates_a_product_and_reads_it_back_by_id_and_sku(client, auth):
    created = client.post(URL, json=FLOUR, headers=auth("manager"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["sku"] == "FLOUR/25KG" and body["gtin"] == "4006381333931" and body["active"] is True
    assert created.headers["location"] == f"{URL}/{body['id']}"
    assert client.get(f"{URL}/{body['id']}", headers=auth("warehouse")).json() == body
    assert client.get(f"{URL}/by-sku/FLOUR/25KG", headers=auth("customer")).json() == body


def test_the_list_searches_sku_name_and_gtin(client, auth):
    client.post(URL, json=FLOUR, headers=auth("manager"))
    def skus(q: str) -> list[str]:
        response = client.get(URL, params={"q": q}, headers=auth("manager"))
        assert response.status_code == 200
        return [p["sku"] for p in response.json()["items"]]

    assert skus("flour") == ["FLOUR/25KG"]
    assert skus("4006381") == ["FLOUR/25KG"]
    assert skus("sku-3") == ["SKU-3"]
    assert skus("Test product") == ["SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5"]
    assert skus("%") == []  # taken literally, not as a wildcard


def test_pages_follow_next_after_until_the_last_page(client, auth):
    seen, after = [], None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"after": after} if after else {})}
        page = client.get(URL, params=params, headers=auth("manager")).json()
        seen += [p["sku"] for p in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == [f"SKU-{i}" for i in range(1, 6)]
    assert client.get(URL, params={"limit": 201}, headers=auth("manager")).status_code == 422


def test_patch_changes_only_the_fields_sent_and_null_clears_an_optional_one(client, auth):
    product = client.post(URL, json=FLOUR, headers=auth("manager")).json()
    changed = client.patch(f"{URL}/{product['id']}", json={"weight_g": 24800, "gtin": None, "cold_chain": True},
                           headers=auth("admin"))
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["weight_g"], body["gtin"], body["cold_chain"]) == (24800, None, True)
    assert body["name"] == FLOUR["name"] and body["length_mm"] == 600


def test_a_duplicate_sku_is_refused_and_nothing_is_written(client, auth, container):
    before = product_count(container)
    response = client.post(URL, json={**FLOUR, "sku": "SKU-1"}, headers=auth("manager"))
    assert response.status_code == 409
    assert response.json()["code"] == "sku_taken"
    assert fields_of(response) == {"sku"}
    assert product_count(container) == before


def test_a_gtin_is_unique_whatever_its_length(client, auth):
    assert client.post(URL, json={**FLOUR, "gtin": "036000291452"}, headers=auth("manager")).status_code == 201
    again = client.post(URL, json={**FLOUR, "sku": "OTHER", "gtin": "0036000291452"}, headers=auth("manager"))
    assert again.status_code == 409
    assert again.json()["code"] == "gtin_taken"


def test_renaming_a_sku_to_one_in_use_is_refused(client, auth, seeded):
    response = client.patch(f"{URL}/{seeded['products']['SKU-2']}", json={"sku": "SKU-1"},
                            headers=auth("manager"))
    assert response.status_code == 409
    assert response.json()["code"] == "sku_taken"


def test_bad_input_reports_every_problem_with_its_field(client, auth, container):
    before = product_count(container)
    response = client.post(URL, json={**FLOUR, "sku": "bad sku!", "gtin": "4006381333932", "weight_g": -1,
                                      "height_mm": -5}, headers=auth("manager"))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_sku"
    assert {(e["code"], e["field"]) for e in body["errors"]} == {
        ("invalid_sku", "sku"), ("invalid_gtin", "gtin"), ("negative_value", "weight_g"),
        ("negative_value", "height_mm")}
    assert product_count(container) == before


def test_missing_and_unknown_fields_are_refused(client, auth):
    missing = client.post(URL, json={"sku": "X-1"}, headers=auth("manager"))
    assert missing.status_code == 422
    assert missing.json()["code"] == "required" and fields_of(missing) == {"name"}
    unknown = client.post(URL, json={**FLOUR, "colour": "white"}, headers=auth("manager"))
    assert unknown.status_code == 422 and fields_of(unknown) == {"colour"}


def test_a_patch_cannot_blank_a_required_field(client, auth, seeded, container):
    response = client.patch(f"{URL}/{seeded['products']['SKU-1']}", json={"name": " ", "gtin": "123"},
                            headers=auth("manager"))
    assert response.status_code == 422
    assert {(e["code"], e["field"]) for e in response.json()["errors"]} == {
        ("required", "name"), ("invalid_gtin", "gtin")}
    with container.db.read() as conn:
        assert conn.execute(select(products.c.name).where(products.c.sku == "SKU-1")).scalar() == "Test product 1"


def test_an_unknown_product_is_not_found(client, auth):
    for response in (client.get(f"{URL}/999999", headers=auth("manager")),
                     client.patch(f"{URL}/999999", json={"name": "x"}, headers=auth("manager")),
                     client.get(f"{URL}/by-sku/NOPE", headers=auth("manager"))):
        assert response.status_code == 404
        assert response.json()["code"] == "product_not_found"


def test_warehouse_staff_read_products_but_cannot_create_or_change_them(client, auth, seeded, container):
    before = product_count(container)
    assert client.get(URL, headers=auth("warehouse")).status_code == 200
    assert client.post(URL, json=FLOUR, headers=auth("warehouse")).status_code == 403
    patch = client.patch(f"{URL}/{seeded['products']['SKU-1']}", json={"name": "x"}, headers=auth("warehouse"))
    assert patch.status_code == 403 and patch.json()["code"] == "forbidden"
    assert product_count(container) == before


def test_without_a_token_the_api_answers_401(client):
    assert client.get(URL).status_code == 401
