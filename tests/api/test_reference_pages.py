"""The reference-data screens, signed in through the browser flow: lists, live search, forms, CSRF."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from conveyor.catalog.tables import products
from conveyor.channels.tables import channels
from conveyor.customers.tables import customer_addresses, customers
from conveyor.testing.factories import TEST_PASSWORD, add_product
from conveyor.warehouses.tables import warehouses

HTML = {"Accept": "text/html"}


def sign_in(client: Any, role: str) -> None:
    response = client.post("/login", data={"email": f"{role}@test.example", "password": TEST_PASSWORD,
                                           "next": "/products"}, follow_redirects=False)
    assert response.status_code == 303, response.text


def csrf_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "the page has no csrf-token meta tag"
    return match.group(1)


def page(client: Any, url: str) -> str:
    response = client.get(url, headers=HTML)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return str(response.text)


def test_a_manager_sees_every_list_with_its_create_button(client):
    sign_in(client, "manager")
    assert "SKU-3" in (html := page(client, "/products")) and 'href="/products/new"' in html
    assert 'hx-trigger="input changed delay:300ms' in html and 'class="table-scroll"' in html
    assert "C-002" in (html := page(client, "/customers")) and 'href="/customers/new"' in html
    assert "RTM" in (html := page(client, "/warehouses")) and 'href="/warehouses/new"' in html
    assert "webshop" in (html := page(client, "/channels")) and 'href="/channels/new"' in html


def test_live_search_answers_with_only_the_rows(client):
    sign_in(client, "manager")
    response = client.get("/products", params={"q": "SKU-3"},
                          headers={"HX-Request": "true", "HX-Target": "product-results"})
    assert response.status_code == 200
    assert "<html" not in response.text and "<tbody>" in response.text
    assert "SKU-3" in response.text and "SKU-1" not in response.text


def test_a_long_list_has_a_next_page_link(client, container):
    with container.db.write() as conn:
        for i in range(50):
            add_product(conn, at=container.clock.now(), sku=f"BULK-{i:02}")
    sign_in(client, "manager")
    html = page(client, "/products")
    link = re.search(r'href="(/products\?after=\d+)">Next page', html)
    assert link and "BULK-44" in html and "BULK-45" not in html
    assert "BULK-45" in page(client, link.group(1))


def test_a_product_is_created_and_edited_through_the_forms(client, container):
    sign_in(client, "manager")
    form = page(client, "/products/new")
    assert 'name="weight_g"' in form and 'inputmode="numeric"' in form  # a number pad on phones
    token = csrf_token(form)
    created = client.post("/products/new", data={
        "csrf_token": token, "sku": "OIL-5L", "name": "Sunflower oil 5 l", "gtin": "5901234123457",
        "weight_g": "4600", "active": "on"}, follow_redirects=False)
    assert created.status_code == 303, created.text
    edit_url = created.headers["location"].split("?")[0]
    html = page(client, edit_url)
    assert 'value="OIL-5L"' in html and 'value="5901234123457"' in html
    saved = client.post(edit_url, data={"csrf_token": token, "sku": "OIL-5L", "name": "Sunflower oil, 5 litre",
                                        "weight_g": "4650", "cold_chain": "on"}, follow_redirects=False)
    assert saved.status_code == 303
    with container.db.read() as conn:
        row = conn.execute(select(products).where(products.c.sku == "OIL-5L")).one()
    assert (row.name, row.weight_g, row.gtin, row.cold_chain, row.active) == (
        "Sunflower oil, 5 litre", 4650, None, True, False)


def test_a_bad_form_comes_back_with_the_message_next_to_the_field(client, container):
    sign_in(client, "manager")
    token = csrf_token(page(client, "/products/new"))
    response = client.post("/products/new", headers=HTML, data={
        "csrf_token": token, "sku": "OIL 5L", "name": "Oil", "gtin": "5901234123458", "weight_g": "heavy"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert re.search(r'name="gtin"[^>]*aria-invalid="true"', html)
    assert 'id="err-gtin"' in html and "wrong check digit" in html
    assert 'id="err-sku"' in html and 'id="err-weight_g"' in html
    assert 'value="OIL 5L"' in html  # what was typed is kept
    with container.db.read() as conn:
        assert conn.execute(select(products.c.id).where(products.c.name == "Oil")).first() is None


def test_a_duplicate_sku_is_shown_on_the_form(client):
    sign_in(client, "manager")
    token = csrf_token(page(client, "/products/new"))
    response = client.post("/products/new", data={"csrf_token": token, "sku": "SKU-1", "name": "Again"})
    assert response.status_code == 422 and 'id="err-sku"' in response.text
    assert "already used" in response.text


def test_a_post_without_the_csrf_token_is_refused(client, container):
    sign_in(client, "manager")
    page(client, "/channels/new")
    response = client.post("/channels/new", data={"code": "sneaky", "name": "Sneaky", "kind": "api",
                                                  "default_currency": "EUR", "active": "on"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    with container.db.read() as conn:
        assert conn.execute(select(channels.c.id).where(channels.c.code == "sneaky")).first() is None


def test_a_customer_is_created_with_addresses_and_its_terms_edited(client, container):
    sign_in(client, "customer_service")
    token = csrf_token(page(client, "/customers/new"))
    address = {"name": "Eetcafe Noord", "line1": "Noorderstraat 1", "postal_code": "9711 AA", "city": "Groningen",
               "country": "NL"}
    created = client.post("/customers/new", follow_redirects=False, data={
        "csrf_token": token, "account": "C-300", "name": "Eetcafe Noord", "credit_limit": "2500",
        "currency": "EUR", "credit_rating": "C", "payment_terms": "net15", "active": "on",
        **{f"shipping_{k}": v for k, v in address.items()}})
    assert created.status_code == 303, created.text
    url = created.headers["location"].split("?")[0]
    html = page(client, url)
    assert "Noorderstraat 1" in html and 'value="2500.00"' in html and "All addresses" in html
    bad = client.post(url, headers=HTML, data={
        "csrf_token": token, "account": "C-300", "name": "Eetcafe Noord", "credit_limit": "2500.00",
        "currency": "EUR", "credit_rating": "C", "payment_terms": "net15", "active": "on",
        **{f"shipping_{k}": v for k, v in address.items()},
        **{f"billing_{k}": v for k, v in {**address, "postal_code": "97111"}.items()}})
    assert bad.status_code == 422
    assert re.search(r'name="billing_postal_code"[^>]*aria-invalid="true"', bad.text)
    saved = client.post(url, follow_redirects=False, data={
        "csrf_token": token, "account": "C-300", "name": "Eetcafe Noord", "credit_limit": "4000.00",
        "currency": "EUR", "credit_rating": "B", "payment_terms": "net30", "active": "on",
        **{f"shipping_{k}": v for k, v in address.items()},
        **{f"billing_{k}": v for k, v in {**address, "line1": "Postbus 5"}.items()}})
    assert saved.status_code == 303, saved.text
    with container.db.read() as conn:
        customer = conn.execute(select(customers).where(customers.c.account == "C-300")).one()
        kinds = conn.execute(select(customer_addresses.c.kind, customer_addresses.c.line1).where(
            customer_addresses.c.customer_id == customer.id).order_by(customer_addresses.c.id)).all()
    assert (customer.credit_limit_minor, customer.credit_rating, customer.payment_terms) == (400_000, "B", "net30")
    assert [tuple(k) for k in kinds] == [("shipping", "Noorderstraat 1"), ("billing", "Postbus 5")]


def test_warehouses_and_channels_are_created_through_the_forms(client, container):
    sign_in(client, "admin")
    token = csrf_token(page(client, "/warehouses/new"))
    created = client.post("/warehouses/new", follow_redirects=False, data={
        "csrf_token": token, "code": "GRQ", "name": "Groningen", "line1": "Industrieweg 2", "city": "Groningen",
        "postal_code": "9700 AB", "country": "NL", "priority": "50", "timezone": "Europe/Amsterdam",
        "active": "on"})
    assert created.status_code == 303, created.text
    bad = client.post("/warehouses/new", headers=HTML, data={
        "csrf_token": token, "code": "GRQ2", "name": "x", "line1": "y", "city": "z", "postal_code": "9700 AB",
        "country": "NL", "timezone": "Mars/Base", "latitude": "95", "longitude": "5"})
    assert bad.status_code == 422 and 'id="err-timezone"' in bad.text and 'id="err-latitude"' in bad.text
    channel = client.post("/channels/new", follow_redirects=False, data={
        "csrf_token": token, "code": "phone-orders", "name": "Phone", "kind": "phone", "default_currency": "eur",
        "active": "on"})
    assert channel.status_code == 303, channel.text
    with container.db.read() as conn:
        assert conn.execute(select(warehouses.c.priority).where(warehouses.c.code == "GRQ")).scalar() == 50
        assert conn.execute(select(channels.c.default_currency).where(
            channels.c.code == "phone-orders")).scalar() == "EUR"


def test_write_buttons_show_only_with_the_write_permission(client):
    sign_in(client, "warehouse")
    html = page(client, "/products")
    assert "SKU-1" in html and 'href="/products/new"' not in html
    product_html = page(client, "/products/1")
    assert "<fieldset disabled>" in product_html and "Save" not in product_html
    assert client.get("/products/new", headers=HTML).status_code == 403
    assert client.get("/customers", headers=HTML).status_code == 403
