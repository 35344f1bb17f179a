"""The trading-partner screens, signed in through the browser flow: from the channel page to its partners,
creating and editing a profile, and managing item mappings (one at a time, or a pasted list)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from conveyor.catalog.tables import products
from conveyor.channels.tables import partner_items, trading_partners
from conveyor.testing.factories import add_channel
from tests.api.test_reference_pages import HTML, csrf_token, page, sign_in


@pytest.fixture
def edi(container: Any, seeded: dict[str, Any]) -> int:
    with container.db.write() as conn:
        return add_channel(conn, at=container.clock.now(), code="edi-acme", kind="edi_x12")


def partner_row(container: Any) -> Any:
    with container.db.read() as conn:
        return conn.execute(select(trading_partners)).one()


def mappings(container: Any) -> list[tuple[str, str]]:
    with container.db.read() as conn:
        return [tuple(r) for r in conn.execute(
            select(partner_items.c.buyer_item, products.c.sku)
            .join(products, products.c.id == partner_items.c.product_id).order_by(partner_items.c.id))]


def create(client: Any, edi: int, token: str, **fields: str) -> str:
    created = client.post(f"/channels/{edi}/partners/new", follow_redirects=False, data={
        "csrf_token": token, "partner_id": "zz:acme", "name": "ACME Retail", "customer": "C-001",
        "document_997": "on", "document_855": "on", "units": "CS=12\npl = 480", "active": "on", **fields})
    assert created.status_code == 303, created.text
    return str(created.headers["location"].split("?")[0])


def test_an_edi_channel_page_leads_to_its_partners_and_others_do_not(client, edi, seeded):
    sign_in(client, "manager")
    html = page(client, f"/channels/{edi}")
    assert 'id="trading-partners"' in html and f'href="/channels/{edi}/partners"' in html
    assert 'id="trading-partners"' not in page(client, f"/channels/{seeded['channels']['webshop']}")
    listing = page(client, f"/channels/{edi}/partners")
    assert "No trading partners" in listing and f'href="/channels/{edi}/partners/new"' in listing
    webshop = page(client, f"/channels/{seeded['channels']['webshop']}/partners")
    assert "belong to EDI channels" in webshop and "/partners/new" not in webshop


def test_a_partner_is_created_and_its_profile_edited(client, container, edi):
    sign_in(client, "manager")
    form = page(client, f"/channels/{edi}/partners/new")
    assert 'name="document_997"' in form and 'name="document_ORDRSP"' not in form
    assert '<option value="C-002">' in form  # the account picker
    url = create(client, edi, csrf_token(form))
    html = page(client, url)
    assert "ZZ:ACME" in html and "Item mappings" in html and "CS=12\nPL=480" in html
    assert re.search(r'name="document_855"[^>]*checked', html)
    row = partner_row(container)
    assert (row.partner_id, row.documents, row.units, row.our_id) == ("ZZ:ACME", ["997", "855"],
                                                                      {"CS": 12, "PL": 480}, None)
    saved = client.post(url, follow_redirects=False, data={
        "csrf_token": csrf_token(html), "name": "ACME Retail US", "customer": "C-002", "our_id": "zz:us",
        "document_856": "on", "units": "CS=24"})
    assert saved.status_code == 303, saved.text
    row = partner_row(container)
    assert (row.name, row.documents, row.units, row.our_id, row.active, row.partner_id) == (
        "ACME Retail US", ["856"], {"CS": 24}, "ZZ:US", False, "ZZ:ACME")
    assert "ZZ:ACME" in page(client, f"/channels/{edi}/partners")


def test_a_bad_profile_comes_back_with_each_message_next_to_its_field(client, container, edi):
    sign_in(client, "manager")
    token = csrf_token(page(client, f"/channels/{edi}/partners/new"))
    response = client.post(f"/channels/{edi}/partners/new", headers=HTML, data={
        "csrf_token": token, "partner_id": "ACME", "name": "ACME", "customer": "C-999", "units": "CS=12\nEA=6\nPK"})
    assert response.status_code == 422
    html = response.text
    for field in ("partner_id", "customer", "units"):
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', html), field
    assert "CS=12\nEA=6\nPK" in html and 'value="ACME"' in html  # what was typed is kept
    fixed = client.post(f"/channels/{edi}/partners/new", headers=HTML, data={
        "csrf_token": token, "partner_id": "ZZ:ACME", "name": "ACME", "customer": "C-999", "units": "CS=twelve"})
    assert fixed.status_code == 422 and 'id="err-units"' in fixed.text and 'id="err-customer"' in fixed.text
    with container.db.read() as conn:
        assert conn.execute(select(trading_partners.c.id)).first() is None


def test_item_mappings_are_added_pasted_and_removed(client, container, edi):
    sign_in(client, "manager")
    token = csrf_token(page(client, f"/channels/{edi}/partners/new"))
    url = create(client, edi, token)
    added = client.post(f"{url}/items", follow_redirects=False,
                        data={"csrf_token": token, "buyer_item": "ACME-1", "sku": "SKU-1"})
    assert added.status_code == 303, added.text
    assert "Mapping saved." in page(client, added.headers["location"])
    unknown = client.post(f"{url}/items", headers=HTML, data={"csrf_token": token, "buyer_item": "ACME-2",
                                                              "sku": "NOPE"})
    assert unknown.status_code == 422
    assert re.search(r'id="f-item-sku"[^>]*value="NOPE"[^>]*aria-invalid="true"', unknown.text)
    assert 'id="err-item-sku"' in unknown.text
    pasted = client.post(f"{url}/items/paste", follow_redirects=False, data={
        "csrf_token": token, "csv": "buyer_item,sku\nACME-1,SKU-2\n\n05412345000020;x\nACME-3,SKU-3\n"})
    assert pasted.status_code == 422  # the semicolon line has one cell: nothing is saved
    assert "line 4: invalid_row" in pasted.text and "ACME-3,SKU-3" in pasted.text
    assert mappings(container) == [("ACME-1", "SKU-1")]
    pasted = client.post(f"{url}/items/paste", follow_redirects=False, data={
        "csrf_token": token, "csv": "ACME-1\tSKU-2\n05412345000020\tSKU-4\nACME-3\tNOPE\n"})
    assert pasted.status_code == 422 and "line 3: unknown_sku" in pasted.text
    pasted = client.post(f"{url}/items/paste", follow_redirects=False, data={
        "csrf_token": token, "csv": "ACME-1,SKU-2\n05412345000020,SKU-4\n"})
    assert pasted.status_code == 303, pasted.text
    html = page(client, pasted.headers["location"])
    assert "1 added, 1 changed, 0 unchanged, 0 removed" in html and "05412345000020" in html
    assert mappings(container) == [("ACME-1", "SKU-2"), ("05412345000020", "SKU-4")]
    removed = client.post(f"{url}/items/remove", follow_redirects=False,
                          data={"csrf_token": token, "buyer_item": "ACME-1"})
    assert removed.status_code == 303
    replaced = client.post(f"{url}/items/paste", follow_redirects=False,
                           data={"csrf_token": token, "csv": "B-1,SKU-5", "replace": "on"})
    assert replaced.status_code == 303
    assert mappings(container) == [("B-1", "SKU-5")]
    assert "ACME-1" not in page(client, url)


def test_readers_see_the_profile_without_write_controls(client, container, edi):
    sign_in(client, "manager")
    url = create(client, edi, csrf_token(page(client, f"/channels/{edi}/partners/new")))
    client.post("/logout", data={"csrf_token": csrf_token(page(client, url))})
    sign_in(client, "customer_service")
    html = page(client, url)
    assert "<fieldset disabled>" in html and "Add mapping" not in html and "Create partner" not in html
    assert "/partners/new" not in page(client, f"/channels/{edi}/partners")
    assert client.get(f"/channels/{edi}/partners/new", headers=HTML).status_code == 403
    refused = client.post(f"{url}/items", headers=HTML, data={"csrf_token": csrf_token(html), "buyer_item": "X",
                                                              "sku": "SKU-1"})
    assert refused.status_code == 403
    assert mappings(container) == []


def test_a_partner_of_another_channel_is_not_found(client, container, edi, seeded):
    sign_in(client, "manager")
    url = create(client, edi, csrf_token(page(client, f"/channels/{edi}/partners/new")))
    partner_pk = url.rsplit("/", 1)[1]
    other = f"/channels/{seeded['channels']['webshop']}/partners/{partner_pk}"
    assert client.get(other, headers=HTML).status_code == 404
    assert client.get(f"/channels/{edi}/partners/999999", headers=HTML).status_code == 404
