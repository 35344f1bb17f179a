"""The phone-order screen, driven like a browser: sign in through the form, ask the typeaheads what htmx asks,
post the form as the page posts it. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import insert, update

from conveyor.catalog.tables import products
from conveyor.channels.tables import channels
from conveyor.customers.tables import customer_addresses, customer_contacts, customers
from conveyor.inventory import ledger
from conveyor.testing.factories import STOCK_PER_SKU, add_channel, add_customer, add_product, add_warehouse
from conveyor.warehouses.tables import warehouses
from tests.api.test_order_pages import csrf_of, sign_in

HTMX = {"HX-Request": "true"}
STAFF_WHO_TAKE_ORDERS = ["admin", "manager", "customer_service"]
NOT_FOR = ["finance", "warehouse", "customer", "partner"]


def open_form(client: Any) -> tuple[str, str]:
    """The phone-order page's CSRF token and its form key."""
    r = client.get("/orders/phone")
    assert r.status_code == 200, r.text
    key = re.search(r'name="form_key" value="([^"]+)"', r.text)
    assert key, "the form carries no key"
    return csrf_of(r.text), key.group(1)


def order_form(csrf: str, key: str, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "csrf_token": csrf, "form_key": key, "customer": "C-001", "channel": "webshop",
        "sku": ["SKU-1", "SKU-2"], "quantity": ["3", "1"], "unit_price": ["12.50", "5"],
        "requested_delivery_date": "2026-11-27", "notes": "Call before delivery",
        "q": "",  # the two search boxes are in the form too; the server ignores them
    }
    form.update(overrides)
    return form


def post(client: Any, form: dict[str, Any]) -> Any:
    return client.post("/orders/phone", data=form, follow_redirects=False)


def lines_of(page: str) -> list[str]:
    """The HTML of each order line on the page (not the empty one in the <template>)."""
    body = page.split('id="lines"', 1)[1].split('id="line-template"', 1)[0]
    return body.split('<div class="phone-line"')[1:]


def suggestions(client: Any, kind: str, q: str) -> str:
    r = client.get(f"/orders/phone/{kind}", params={"q": q}, headers=HTMX)
    assert r.status_code == 200, r.text
    assert "<html" not in r.text
    return r.text


def accounts(fragment: str) -> list[str]:
    return re.findall(r'role="option"[^>]*\n?\s*data-account="([^"]+)"', fragment)


def skus(fragment: str) -> list[str]:
    return re.findall(r'role="option"[^>]*\n?\s*data-sku="([^"]+)"', fragment)


# -- who may use it -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF_WHO_TAKE_ORDERS)
def test_the_screen_opens_for_staff_who_take_orders(client, role):
    sign_in(client, role)
    r = client.get("/orders/phone")
    assert r.status_code == 200
    page = r.text
    assert "<h1>Phone order</h1>" in page
    assert re.search(r'<input id="customer-q"[^>]*autofocus', page, re.S), "the customer box has the cursor"
    assert 'hx-get="/orders/phone/customers"' in page and 'hx-get="/orders/phone/items"' in page
    assert '<a href="/orders/phone"' in page  # the nav entry
    assert 'href="/static/phone.css"' in page


@pytest.mark.parametrize("role", NOT_FOR)
def test_roles_that_do_not_take_orders_for_customers_are_refused(client, auth, role):
    sign_in(client, role)
    assert client.get("/orders/phone").status_code == 403
    assert client.get("/orders/phone/customers", params={"q": "C-0"}).status_code == 403
    assert client.get("/orders/phone/items", params={"q": "SKU"}).status_code == 403
    assert '<a href="/orders/phone"' not in client.get("/orders").text
    api = client.post("/orders/phone", data={"customer": "C-001"}, follow_redirects=False,
                      headers={**auth(role), "Accept": "application/json"})
    assert api.status_code == 403 and api.json()["code"] == "forbidden"


def test_without_a_phone_channel_every_active_channel_is_offered(client):
    sign_in(client, "customer_service")
    page = client.get("/orders/phone").text
    assert '<option value="api"' in page and '<option value="webshop"' in page
    assert "There is no phone channel yet" in page


def test_a_phone_channel_is_offered_alone_and_chosen(client, container):
    with container.db.write() as conn:
        add_channel(conn, at=container.clock.now(), code="phone", kind="phone", name="Phone orders")
    sign_in(client, "customer_service")
    page = client.get("/orders/phone").text
    assert '<option value="phone" selected>' in page
    assert '<option value="webshop"' not in page and "There is no phone channel yet" not in page


def test_with_no_active_channel_the_screen_says_so_and_cannot_save(client, container):
    with container.db.write() as conn:
        conn.execute(update(channels).values(active=False))
    sign_in(client, "customer_service")
    page = client.get("/orders/phone").text
    assert "There is no active channel to place an order through" in page
    assert re.search(r'<button type="submit" id="save-order"\s+disabled', page)


# -- the typeaheads -------------------------------------------------------------------------------------


def test_customers_are_found_by_account_name_email_and_phone(client, container):
    at = container.clock.now()
    with container.db.write() as conn:
        c3 = add_customer(conn, at=at, account="C-003", name="Koffiebar Smit")
        conn.execute(update(customers).where(customers.c.id == c3).values(phone="+31 20 555 0123"))
        c4 = add_customer(conn, at=at, account="C-004", name="Hotel Weber")
        conn.execute(insert(customer_contacts).values(customer_id=c4, name="Greta Weber", email="greta@hotel.example",
                                                      phone="06-1234 5678"))
        add_customer(conn, at=at, account="C-0010", name="Aardbei Café")
        gone = add_customer(conn, at=at, account="C-005", name="Bakkerij Gesloten")
        conn.execute(update(customers).where(customers.c.id == gone).values(active=False))
    sign_in(client, "customer_service")

    assert accounts(suggestions(client, "customers", "c-002")) == ["C-002"]
    assert accounts(suggestions(client, "customers", "bakkerij")) == ["C-001"]  # not the inactive one
    assert accounts(suggestions(client, "customers", "C-001@EXAMPLE")) == ["C-001"]
    assert accounts(suggestions(client, "customers", "20-555 01")) == ["C-003"]  # spaces and dashes ignored
    assert accounts(suggestions(client, "customers", "020 555 0123")) == ["C-003"]  # the national form too
    assert accounts(suggestions(client, "customers", "0612345678")) == ["C-004"]  # a contact's phone
    assert accounts(suggestions(client, "customers", "greta@")) == ["C-004"]
    assert accounts(suggestions(client, "customers", "C-00")) == ["C-0010", "C-001", "C-004", "C-002", "C-003"]
    assert accounts(suggestions(client, "customers", "c-001")) == ["C-001", "C-0010"]  # the exact account first
    assert "No active customer matches “nobody”" in suggestions(client, "customers", "nobody")
    assert accounts(suggestions(client, "customers", "")) == []

    found = suggestions(client, "customers", "De Vries")
    assert "Ships to Prinsengracht 263, 1016 GV Amsterdam, NL" in found
    assert "c-001@example.com" in found and 'data-currency="EUR"' in found
    assert "☎ +31 20 555 0123" in suggestions(client, "customers", "Smit")


def test_a_customer_without_a_default_shipping_address_says_so(client, container):
    with container.db.write() as conn:
        cid = add_customer(conn, at=container.clock.now(), account="C-009", name="Nieuwe Klant")
        conn.execute(customer_addresses.delete().where(customer_addresses.c.customer_id == cid,
                                                       customer_addresses.c.kind == "shipping"))
    sign_in(client, "customer_service")
    found = suggestions(client, "customers", "nieuwe")
    assert "No default shipping address" in found and 'data-has-address="0"' in found


def test_items_are_found_by_name_sku_and_gtin_with_what_can_be_promised(client, container, auth):
    at = container.clock.now()
    with container.db.write() as conn:
        add_product(conn, at=at, sku="AB-12", name="Oat milk barista 1 l", gtin="8712345678906")
        add_product(conn, at=at, sku="AB-1", name="Oat milk 1 l")
        add_product(conn, at=at, sku="OLD-1", name="Oat milk discontinued", active=False)
    order = client.post("/api/v1/orders", headers=auth("manager"), json={
        "channel": "webshop", "customer": "C-001", "currency": "EUR",
        "ship_to": {"name": "A", "line1": "B 1", "city": "Amsterdam", "postal_code": "1016 GV", "country": "NL"},
        "lines": [{"sku": "SKU-3", "quantity": 40, "unit_price": "1.00"}]})
    assert order.status_code == 201, order.text
    sign_in(client, "customer_service")

    by_name = suggestions(client, "items", "test product 3")
    assert skus(by_name) == ["SKU-3"]
    assert f"{STOCK_PER_SKU - 40} available" in by_name and f"RTM {STOCK_PER_SKU - 40}" in by_name
    assert skus(suggestions(client, "items", "SKU-2")) == ["SKU-2"]
    assert skus(suggestions(client, "items", "8712345678906")) == ["AB-12"]
    assert skus(suggestions(client, "items", "AB-1")) == ["AB-1", "AB-12"]  # the exact SKU first
    assert skus(suggestions(client, "items", "oat milk")) == ["AB-12", "AB-1"]  # not the discontinued one
    none_left = suggestions(client, "items", "AB-1")
    assert "none available" in none_left  # no stock anywhere
    assert "No product for sale matches “zzz”" in suggestions(client, "items", "zzz")


def test_stock_in_an_inactive_warehouse_or_held_as_safety_is_not_promised(client, container):
    at = container.clock.now()
    with container.db.write() as conn:
        product = add_product(conn, at=at, sku="TEA-1", name="Green tea Sencha")
        main = add_warehouse(conn, at=at, code="VNL", priority=10)
        closed = add_warehouse(conn, at=at, code="OLD", priority=20)
        move = ledger.Move(actor="system:test", at=at, reference="receipt:test")
        ledger.receive(conn, product, main, 50, move)
        ledger.receive(conn, product, closed, 70, move)
        ledger.set_safety(conn, product, main, 5, at)
        conn.execute(update(warehouses).where(warehouses.c.id == closed).values(active=False))
    sign_in(client, "customer_service")
    found = suggestions(client, "items", "sencha")
    assert "45 available" in found and "VNL 45" in found and "OLD" not in found


# -- placing the order ----------------------------------------------------------------------------------


def test_a_phone_order_is_placed_with_its_stock_reserved(client, auth):
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(csrf, key))
    assert r.status_code == 303, r.text
    order_id = int(r.headers["location"].rsplit("/", 1)[1])

    page = client.get(r.headers["location"]).text
    assert "De Vries Bakkerij" in page and "webshop" in page
    assert "3 at RTM" in page and "1 at RTM" in page  # reserved as it was placed
    assert "42.50 EUR" in page and "Prinsengracht 263" in page and "Call before delivery" in page
    assert "2026-11-27" in page

    order = client.get(f"/api/v1/orders/{order_id}", headers=auth("manager")).json()
    assert order["channel"] == "webshop" and order["customer"]["account"] == "C-001"
    assert order["currency"] == "EUR" and order["stage"] == "received"
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in order["lines"]] == [
        ("SKU-1", 3, "12.50"), ("SKU-2", 1, "5.00")]
    assert order["ship_to"]["line1"] == "Prinsengracht 263"  # the customer's default shipping address
    assert order["requested_delivery_date"] == "2026-11-27"
    stock = client.get("/api/v1/stock/SKU-1", headers=auth("manager")).json()
    assert stock["totals"]["reserved"] == 3


def test_saving_the_same_form_twice_places_one_order(client, auth):
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    first = post(client, order_form(csrf, key))
    again = post(client, order_form(csrf, key))  # a double click, or the form sent again
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(client.get("/api/v1/orders", headers=auth("manager")).json()["items"]) == 1

    changed = post(client, order_form(csrf, key, quantity=["4", "1"]))  # Back, changed, saved again
    assert changed.status_code == 422
    assert "already saved as an order" in html.unescape(changed.text)
    fresh = re.search(r'name="form_key" value="([^"]+)"', changed.text)
    assert fresh and fresh.group(1) != key  # saving again places it as another order
    assert post(client, order_form(csrf, fresh.group(1), quantity=["4", "1"])).status_code == 303


def test_a_typed_address_a_decimal_comma_and_the_customers_currency(client, container, auth):
    with container.db.write() as conn:
        add_customer(conn, at=container.clock.now(), account="C-GB", name="Tea Rooms Ltd", currency="GBP")
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(
        csrf, key, customer="C-GB", sku=["SKU-4"], quantity=["2"], unit_price=["7,25"], ship_elsewhere="on",
        ship_to_name="Tea Rooms Ltd", ship_to_line1="1 High Street", ship_to_city="Bath",
        ship_to_postal_code="ba1 1aa", ship_to_country="gb", ship_to_phone="+44 1225 000000"))
    assert r.status_code == 303, r.text
    order = client.get(f"/api/v1/orders/{r.headers['location'].rsplit('/', 1)[1]}", headers=auth("manager")).json()
    assert order["currency"] == "GBP" and order["totals"]["total"] == "14.50"
    assert order["ship_to"]["city"] == "Bath" and order["ship_to"]["postal_code"] == "BA1 1AA"
    assert order["ship_to"]["country"] == "GB"


def test_a_bad_form_comes_back_with_every_field_kept_and_each_problem_at_its_line(client):
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(csrf, key, sku=["SKU-1", "NOPE-1", "SKU-3"], quantity=["2", "1", "1"],
                                unit_price=["12.50", "5", "2.345"], ship_elsewhere="on", ship_to_name="Anna",
                                ship_to_line1="Damrak 1", ship_to_city="Amsterdam", ship_to_postal_code="12345",
                                ship_to_country="NL"))
    assert r.status_code == 422
    page = html.unescape(r.text)
    assert "Please correct the fields marked below" in page
    first, second, third = lines_of(page)
    assert "error-list" not in first.replace('class="line-short error-list" hidden', "")
    assert 'value="SKU-1"' in first and 'value="2"' in first and 'value="12.50"' in first
    assert "no product with SKU 'NOPE-1'" in second and 'value="NOPE-1"' in second and "Unknown product" in second
    assert "EUR amounts have at most 2 decimals" in third and 'value="2.345"' in third
    assert "'12345' is not a valid postal code for NL" in page
    assert re.search(r'id="f-ship_to_postal_code"[^>]*value="12345"', page)
    assert 'value="Damrak 1"' in page and "Call before delivery" in page and 'value="2026-11-27"' in page
    assert re.search(r'id="ship-elsewhere"[^>]*\n?\s*checked', page)
    assert 'id="customer-account" value="C-001"' in page and "De Vries Bakkerij" in page  # the chosen customer
    assert '<option value="webshop" selected>' in page
    assert f'name="form_key" value="{key}"' in page


def test_what_cannot_even_be_read_is_reported_together_with_the_rest(client):
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(csrf, key, customer="", sku=["SKU-1", "SKU-2"], quantity=["0", "two"],
                                unit_price=["", "abc"], requested_delivery_date="2026-11-01"))
    assert r.status_code == 422
    page = html.unescape(r.text)
    assert "choose the customer" in page
    first, second = lines_of(page)
    assert "quantity must be at least 1" in first and "type the unit price" in first
    assert "'two' is not a whole number" in second and "'abc' is not an amount" in second
    assert 'value="two"' in second and 'value="abc"' in second
    assert "the requested delivery date is in the past" in page


def test_an_order_without_lines_or_with_an_unknown_customer_is_refused(client):
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(csrf, key, sku=[], quantity=[], unit_price=[]))
    assert r.status_code == 422 and "an order needs at least one line" in html.unescape(r.text)
    r = post(client, order_form(csrf, key, customer="C-999"))
    assert r.status_code == 422 and "no active customer with account 'C-999'" in html.unescape(r.text)


def test_a_customer_without_a_default_address_needs_one_typed(client, container):
    with container.db.write() as conn:
        cid = add_customer(conn, at=container.clock.now(), account="C-009", name="Nieuwe Klant")
        conn.execute(customer_addresses.delete().where(customer_addresses.c.customer_id == cid))
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(csrf, key, customer="C-009"))
    assert r.status_code == 422
    assert "this customer has no default shipping address" in html.unescape(r.text)
    assert re.search(r'id="ship-elsewhere"[^>]*\n?\s*checked', r.text)  # open to type one


def test_a_refused_default_address_opens_for_editing(client, container):
    with container.db.write() as conn:
        conn.execute(update(customer_addresses).where(customer_addresses.c.kind == "shipping")
                     .values(postal_code="99"))
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(csrf, key))
    assert r.status_code == 422
    page = html.unescape(r.text)
    assert re.search(r'id="f-ship_to_postal_code"[^>]*value="99"', page)
    assert re.search(r'id="f-ship_to_line1"[^>]*value="Prinsengracht 263"', page)
    assert "is not a valid postal code for NL" in page


def test_short_stock_under_a_reject_policy_is_explained_at_the_line(client, container, auth):
    with container.db.write() as conn:
        conn.execute(update(customers).where(customers.c.account == "C-002").values(shortage_policy="reject"))
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(csrf, key, customer="C-002", sku=["SKU-1", "SKU-2"],
                                quantity=["2", str(STOCK_PER_SKU + 5)], unit_price=["1", "2"]))
    assert r.status_code == 409
    page = html.unescape(r.text)
    assert "Not enough stock: line 2 SKU-2: 5 short" in page and "rejected when stock is short" in page
    first, second = lines_of(page)
    assert "not available" not in first
    assert "5 of SKU-2 not available" in second and f'value="{STOCK_PER_SKU + 5}"' in second
    assert f"{STOCK_PER_SKU} available" in second  # what can be promised, shown on the line
    assert client.get("/api/v1/orders", headers=auth("manager")).json()["items"] == []
    assert client.get("/api/v1/stock/SKU-1", headers=auth("manager")).json()["totals"]["reserved"] == 0


def test_short_stock_under_the_default_policy_places_the_order_on_hold(client, auth):
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(csrf, key, sku=["SKU-5"], quantity=[str(STOCK_PER_SKU + 1)], unit_price=["1"]))
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "On hold" in page and "1 short" in page


def test_inactive_products_are_refused(client, container):
    with container.db.write() as conn:
        conn.execute(update(products).where(products.c.sku == "SKU-2").values(active=False))
    sign_in(client, "customer_service")
    csrf, key = open_form(client)
    r = post(client, order_form(csrf, key))
    assert r.status_code == 422
    assert "product 'SKU-2' is not sold any more" in lines_of(html.unescape(r.text))[1]
