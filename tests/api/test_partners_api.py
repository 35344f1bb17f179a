"""Trading partners over the API: profiles on EDI channels, their item mappings, refusals with codes and field
paths, and what capture then reads (profiles.load_profiles)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from conveyor.channels.partners.domain import normalise_partner_id
from conveyor.channels.partners.profiles import load_profiles
from conveyor.channels.tables import partner_items, trading_partners
from conveyor.testing.factories import add_channel

X12 = "/api/v1/channels/edi-acme/partners"
EDIFACT = "/api/v1/channels/edi-eu/partners"
ACME = {"partner_id": "zz:acme ", "name": "ACME Retail", "customer": "C-001", "documents": ["997", "855"],
        "units": {"cs": 12, "PL": 480}}


@pytest.fixture
def edi(container: Any, seeded: dict[str, Any]) -> dict[str, int]:
    with container.db.write() as conn:
        at = container.clock.now()
        return {"edi-acme": add_channel(conn, at=at, code="edi-acme", kind="edi_x12"),
                "edi-eu": add_channel(conn, at=at, code="edi-eu", kind="edifact")}


def counts(container: Any) -> tuple[int, int]:
    with container.db.read() as conn:
        return (int(conn.execute(select(func.count()).select_from(trading_partners)).scalar_one()),
                int(conn.execute(select(func.count()).select_from(partner_items)).scalar_one()))


def add_acme(client: Any, auth: Any, **overrides: Any) -> dict[str, Any]:
    response = client.post(X12, json={**ACME, **overrides}, headers=auth("manager"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_manager_adds_a_partner_stored_normalised_and_reads_it_back(client, auth, edi):
    created = client.post(X12, json=ACME, headers=auth("manager"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["channel"], body["partner_id"], body["customer"], body["customer_name"]) == (
        "edi-acme", "ZZ:ACME", "C-001", "De Vries Bakkerij")
    assert (body["documents"], body["units"], body["our_id"], body["active"], body["item_count"]) == (
        ["997", "855"], {"CS": 12, "PL": 480}, None, True, 0)
    assert created.headers["location"] == f"{X12}/ZZ:ACME"
    for spelling in ("ZZ:ACME", "ZZ%3AACME", "zz:acme", "%20zz%20:%20acme"):
        read = client.get(f"{X12}/{spelling}", headers=auth("customer_service"))
        assert read.status_code == 200, (spelling, read.text)
        assert read.json() == body
    listed = client.get(X12, headers=auth("customer_service")).json()
    assert [p["partner_id"] for p in listed["items"]] == ["ZZ:ACME"] and listed["next_after"] is None


def test_partner_ids_are_normalised_one_way():
    for text, expected in ((" zz : acme ", "ZZ:ACME"), ("14:5412345000013", "14:5412345000013"),
                           ("zz:Acme Corp  ", "ZZ:ACME CORP"), ("5412345000013", "5412345000013")):
        assert normalise_partner_id(text) == expected


def test_an_edifact_partner_may_have_no_qualifier_but_an_x12_partner_must(client, auth, edi):
    gln = client.post(EDIFACT, json={"partner_id": "5412345000013", "name": "Carrefour", "customer": "C-002",
                                     "documents": ["contrl", "ORDRSP", "CONTRL"]}, headers=auth("manager"))
    assert gln.status_code == 201, gln.text
    assert gln.json()["partner_id"] == "5412345000013" and gln.json()["documents"] == ["CONTRL", "ORDRSP"]
    bare = client.post(X12, json={**ACME, "partner_id": "ACME"}, headers=auth("manager"))
    assert bare.status_code == 422
    assert [(e["code"], e["field"]) for e in bare.json()["errors"]] == [("invalid_partner_id", "partner_id")]


def test_bad_input_reports_every_problem_with_its_field_path(client, auth, edi, container):
    before = counts(container)
    response = client.post(X12, json={
        "partner_id": "ZZ:AC/ME", "name": " ", "customer": "NOBODY", "our_id": "a:b:c",
        "documents": ["997", "ORDRSP", "850"], "units": {"CASE": 12, "PK": 0, "EA": 6, "BX": 2_000_000}},
        headers=auth("manager"))
    assert response.status_code == 422
    body = response.json()
    assert {(e["code"], e["field"]) for e in body["errors"]} == {
        ("invalid_partner_id", "partner_id"), ("required", "name"), ("invalid_partner_id", "our_id"),
        ("invalid_document", "documents.1"), ("invalid_document", "documents.2"),
        ("invalid_unit", "units.CASE"), ("invalid_eaches", "units.PK"), ("each_unit", "units.EA"),
        ("invalid_eaches", "units.BX"), ("unknown_customer", "customer")}
    assert "ORDRSP is an EDIFACT document" in next(e["message"] for e in body["errors"]
                                                     if e["field"] == "documents.1")
    unknown = client.post(X12, json={**ACME, "customer": "NOBODY"}, headers=auth("manager"))
    assert unknown.status_code == 422
    assert [(e["code"], e["field"]) for e in unknown.json()["errors"]] == [("unknown_customer", "customer")]
    typed = client.post(X12, json={**ACME, "units": {"CS": "twelve"}}, headers=auth("manager"))
    assert typed.status_code == 422 and typed.json()["errors"][0]["field"] == "units.CS"
    assert counts(container) == before


def test_partners_belong_to_edi_channels_only(client, auth, edi, container):
    response = client.post("/api/v1/channels/webshop/partners", json=ACME, headers=auth("manager"))
    assert response.status_code == 422
    assert ("not_edi_channel", "channel") in {(e["code"], e["field"]) for e in response.json()["errors"]}
    assert counts(container) == (0, 0)


def test_a_partner_id_is_unique_per_channel(client, auth, edi, container):
    add_acme(client, auth)
    again = client.post(X12, json={**ACME, "partner_id": "ZZ:Acme", "name": "Again"}, headers=auth("manager"))
    assert again.status_code == 409
    assert again.json()["code"] == "partner_taken" and again.json()["errors"][0]["field"] == "partner_id"
    elsewhere = client.post(EDIFACT, json={**ACME, "documents": []}, headers=auth("manager"))
    assert elsewhere.status_code == 201, elsewhere.text
    assert counts(container) == (2, 0)


def test_patch_changes_only_the_fields_sent(client, auth, edi):
    add_acme(client, auth, our_id="zz:us")
    url = f"{X12}/ZZ:ACME"
    changed = client.patch(url, json={"customer": "C-002", "documents": ["997", "856", "810"],
                                      "units": {"PL": 480}}, headers=auth("admin"))
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["customer"], body["documents"], body["units"], body["name"], body["our_id"]) == (
        "C-002", ["997", "856", "810"], {"PL": 480}, "ACME Retail", "ZZ:US")
    cleared = client.patch(url, json={"our_id": None, "active": False}, headers=auth("admin")).json()
    assert (cleared["our_id"], cleared["active"], cleared["customer"]) == (None, False, "C-002")
    refused = client.patch(url, json={"documents": ["DESADV"], "name": None}, headers=auth("admin"))
    assert refused.status_code == 422
    assert {(e["code"], e["field"]) for e in refused.json()["errors"]} == {
        ("invalid_document", "documents.0"), ("required", "name")}
    assert client.patch(url, json={"partner_id": "ZZ:OTHER"}, headers=auth("admin")).status_code == 422


def test_the_list_searches_and_pages(client, auth, edi):
    add_acme(client, auth)
    add_acme(client, auth, partner_id="ZZ:BETA", name="Beta Stores", customer="C-002")
    add_acme(client, auth, partner_id="01:123456789", name="Gamma", active=False)
    found = client.get(X12, params={"q": "beta"}, headers=auth("manager")).json()["items"]
    assert [p["partner_id"] for p in found] == ["ZZ:BETA"]
    by_account = client.get(X12, params={"q": "C-002"}, headers=auth("manager")).json()["items"]
    assert [p["name"] for p in by_account] == ["Beta Stores"]
    inactive = client.get(X12, params={"active": False}, headers=auth("manager")).json()["items"]
    assert [p["name"] for p in inactive] == ["Gamma"]
    first = client.get(X12, params={"limit": 2}, headers=auth("manager")).json()
    second = client.get(X12, params={"limit": 2, "after": first["next_after"]}, headers=auth("manager")).json()
    assert [p["name"] for p in first["items"] + second["items"]] == ["ACME Retail", "Beta Stores", "Gamma"]
    assert second["next_after"] is None


def test_items_are_merged_replaced_and_removed(client, auth, edi, container):
    add_acme(client, auth)
    items = f"{X12}/ZZ%3AACME/items"
    merged = client.put(items, json={"items": [{"buyer_item": "ACME-1", "sku": "SKU-1"},
                                               {"buyer_item": " 05412345000020 ", "sku": "SKU-2"},
                                               {"buyer_item": "AB/12", "sku": "SKU-3"}]}, headers=auth("manager"))
    assert merged.status_code == 200, merged.text
    assert merged.json() == {"added": 3, "changed": 0, "unchanged": 0, "removed": 0, "total": 3}
    again = client.put(items, json={"items": [{"buyer_item": "ACME-1", "sku": "SKU-4"},
                                              {"buyer_item": "AB/12", "sku": "SKU-3"},
                                              {"buyer_item": "ACME-9", "sku": "SKU-5"}]}, headers=auth("manager"))
    assert again.json() == {"added": 1, "changed": 1, "unchanged": 1, "removed": 0, "total": 4}
    listed = client.get(items, headers=auth("customer_service")).json()
    assert [(i["buyer_item"], i["sku"]) for i in listed["items"]] == [
        ("ACME-1", "SKU-4"), ("05412345000020", "SKU-2"), ("AB/12", "SKU-3"), ("ACME-9", "SKU-5")]
    assert [i["sku"] for i in client.get(items, params={"q": "acme"}, headers=auth("manager")).json()["items"]] == [
        "SKU-4", "SKU-5"]
    assert client.get(f"{X12}/ZZ:ACME", headers=auth("manager")).json()["item_count"] == 4
    removed = client.delete(f"{items}/AB%2F12", headers=auth("manager"))
    assert removed.status_code == 204, removed.text
    gone = client.delete(f"{items}/AB%2F12", headers=auth("manager"))
    assert gone.status_code == 404 and gone.json()["code"] == "partner_item_not_found"
    replaced = client.put(items, json={"items": [{"buyer_item": "ACME-9", "sku": "SKU-5"}], "replace": True},
                          headers=auth("manager"))
    assert replaced.json() == {"added": 0, "changed": 0, "unchanged": 1, "removed": 2, "total": 1}
    assert counts(container) == (1, 1)


def test_an_unknown_sku_is_refused_with_the_items_path_and_nothing_is_written(client, auth, edi, container):
    add_acme(client, auth)
    items = f"{X12}/ZZ:ACME/items"
    response = client.put(items, json={"items": [
        {"buyer_item": "ACME-1", "sku": "SKU-1"}, {"buyer_item": "ACME-2", "sku": "NOPE"},
        {"buyer_item": "ACME-1", "sku": "SKU-2"}, {"buyer_item": "", "sku": "SKU-3"}]}, headers=auth("manager"))
    assert response.status_code == 422
    assert {(e["code"], e["field"]) for e in response.json()["errors"]} == {
        ("unknown_sku", "items.1.sku"), ("duplicate_buyer_item", "items.2.buyer_item"),
        ("required", "items.3.buyer_item")}
    unknown = client.put(items, json={"items": [{"buyer_item": "ACME-1", "sku": "SKU-1"},
                                                {"buyer_item": "ACME-2", "sku": "NOPE"}]}, headers=auth("manager"))
    assert unknown.status_code == 422
    assert [(e["code"], e["field"]) for e in unknown.json()["errors"]] == [("unknown_sku", "items.1.sku")]
    assert counts(container) == (1, 0)


def test_unknown_channels_partners_and_ids_are_not_found(client, auth, edi):
    add_acme(client, auth)
    for response, code in [
        (client.get("/api/v1/channels/nope/partners", headers=auth("manager")), "channel_not_found"),
        (client.get("/api/v1/channels/NO%20PE/partners", headers=auth("manager")), "channel_not_found"),
        (client.get(f"{X12}/ZZ:NOBODY", headers=auth("manager")), "partner_not_found"),
        (client.get(f"{X12}/a:b:c", headers=auth("manager")), "partner_not_found"),
        (client.get(f"{EDIFACT}/ZZ:ACME", headers=auth("manager")), "partner_not_found"),
        (client.patch(f"{X12}/ZZ:NOBODY", json={"name": "x"}, headers=auth("manager")), "partner_not_found"),
        (client.put(f"{X12}/ZZ:NOBODY/items", json={"items": []}, headers=auth("manager")), "partner_not_found"),
        (client.delete(f"{X12}/ZZ:ACME/items/X%00", headers=auth("manager")), "partner_item_not_found"),
    ]:
        assert response.status_code == 404, response.text
        assert response.json()["code"] == code


def test_reads_need_channel_read_and_writes_channel_write(client, auth, edi, container):
    add_acme(client, auth)
    assert client.get(X12, headers=auth("finance")).status_code == 200
    assert client.get(f"{X12}/ZZ:ACME/items", headers=auth("customer_service")).status_code == 200
    assert client.get(X12, headers=auth("warehouse")).status_code == 403
    assert client.post(X12, json={**ACME, "partner_id": "ZZ:X"}, headers=auth("customer_service")).status_code == 403
    assert client.put(f"{X12}/ZZ:ACME/items", json={"items": [{"buyer_item": "A", "sku": "SKU-1"}]},
                      headers=auth("finance")).status_code == 403
    assert client.get(X12).status_code == 401
    assert counts(container) == (1, 0)


def test_capture_reads_the_profile_as_it_was_set_up(client, auth, edi, container):
    add_acme(client, auth)
    client.put(f"{X12}/ZZ:ACME/items", json={"items": [{"buyer_item": "ACME-1", "sku": "SKU-1"}]},
               headers=auth("manager"))
    add_acme(client, auth, partner_id="ZZ:GONE", active=False)
    with container.db.read() as conn:
        profiles = load_profiles(conn, edi["edi-acme"])
    assert list(profiles) == ["ZZ:ACME"]
    profile = profiles[normalise_partner_id(" zz:acme")]
    assert (profile.customer_account, profile.items, profile.documents) == ("C-001", {"ACME-1": "SKU-1"},
                                                                            ("997", "855"))
    assert profile.eaches("cs") == Decimal(12) and profile.eaches("EA") == Decimal(1) and profile.eaches("BX") is None
    assert profile.expects("855") and not profile.expects("856")


def test_the_partner_routes_answer_as_their_openapi_document_says(tmp_path):
    """The contract test's generated requests find no EDI channel; these happy paths are checked the same way
    (schemathesis: status codes, content types, headers and bodies against /openapi.json)."""
    from tests.api.test_openapi_contract import _make_world, _send

    world = _make_world(tmp_path)
    try:
        with world.container.db.write() as conn:
            add_channel(conn, at=world.container.clock.now(), code="edi-acme", kind="edi_x12")
        base = "/api/v1/channels/{code}/partners"
        one = base + "/{partner_id}"
        code = {"code": "edi-acme"}
        both = {**code, "partner_id": "ZZ:ACME"}
        assert _send(world, f"POST {base}", path_parameters=code, body=ACME).status_code == 201
        assert _send(world, f"POST {base}", path_parameters=code, body=ACME).status_code == 409
        assert _send(world, f"GET {base}", path_parameters=code, query={"q": "acme"}).status_code == 200
        assert _send(world, f"GET {one}", path_parameters=both).status_code == 200
        assert _send(world, f"PATCH {one}", path_parameters=both, body={"units": {"CS": 24}}).status_code == 200
        assert _send(world, f"PATCH {one}", path_parameters=both, body={"documents": ["X"]}).status_code == 422
        put = _send(world, f"PUT {one}/items", path_parameters=both,
                    body={"items": [{"buyer_item": "A/1", "sku": "SKU-1"}]})
        assert put.status_code == 200 and put.json()["added"] == 1
        unknown = _send(world, f"PUT {one}/items", path_parameters=both,
                        body={"items": [{"buyer_item": "A/2", "sku": "NOPE"}]})
        assert unknown.status_code == 422
        assert _send(world, f"GET {one}/items", path_parameters=both).status_code == 200
        deleted = _send(world, f"DELETE {one}/items/{{buyer_item}}", path_parameters={**both, "buyer_item": "A/1"})
        assert deleted.status_code == 204
    finally:
        world.container.db.dispose()
