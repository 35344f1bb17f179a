"""The phone-order screen in a real browser (Debian's Chromium through Playwright) against a server with demo data:
a clerk finds the customer by part of the name, adds one item by SKU and one by name with the keyboard, sets
quantities and prices, saves, and lands on the new order.

Screenshots go to test-results/screenshots/ like the other browser tests; docs/images/phone-order.png is the
curated copy of phone-order.png that docs/phone-orders.md embeds.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from conveyor.catalog.tables import products
from conveyor.customers.tables import customer_addresses, customers
from conveyor.inventory.tables import stock_levels
from conveyor.warehouses.tables import warehouses
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def clerk(desktop: Any) -> Any:
    return desktop


def a_customer(server: LiveServer) -> tuple[str, str]:
    """(account, name) of a demo customer with a default shipping address and a name no other customer has."""
    with server.container.db.read() as conn:
        rows = conn.execute(
            select(customers.c.account, customers.c.name)
            .join(customer_addresses, customer_addresses.c.customer_id == customers.c.id)
            .where(customer_addresses.c.kind == "shipping", customer_addresses.c.is_default.is_(True),
                   customers.c.active.is_(True))
            .order_by(customers.c.account)).all()
    names = [r.name for r in rows]
    return next((r.account, r.name) for r in rows if " " in r.name and names.count(r.name) == 1)


def items_in_stock(server: LiveServer) -> list[tuple[str, str, int]]:
    """(sku, name, free units) of products with plenty free in active warehouses whose name no other contains."""
    free = stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety
    with server.container.db.read() as conn:
        rows = conn.execute(
            select(products.c.sku, products.c.name, free.label("free"))
            .join(stock_levels, stock_levels.c.product_id == products.c.id)
            .join(warehouses, warehouses.c.id == stock_levels.c.warehouse_id)
            .where(products.c.active.is_(True), warehouses.c.active.is_(True), free > 20)
            .order_by(products.c.id)).all()
        names = list(conn.execute(select(products.c.name)).scalars())
    found: dict[str, tuple[str, str, int]] = {}
    for r in rows:
        if r.sku not in found and sum(r.name.lower() in other.lower() for other in names) == 1:
            found[r.sku] = (r.sku, r.name, int(r.free))
    return list(found.values())


def pick_customer(page: Any, account: str, name: str) -> None:
    box = page.locator("#customer-q")
    expect(box).to_be_focused()  # the screen opens with the cursor in the customer box
    box.press_sequentially(name[:-2].lower(), delay=20)  # part of the name, in any case
    option = page.locator(f"#customer-results [role=option][data-account='{account}']")
    expect(option).to_be_visible()
    option.click()
    expect(page.locator("#customer-card .customer-card")).to_contain_text(account)
    expect(page.locator("#item-q")).to_be_focused()


def add_item(page: Any, text: str, sku: str, quantity: str, price: str, shot: str | None = None) -> None:
    """Types into the item box, checks the item is the highlighted suggestion, and adds it with Enter; then
    types the quantity and the price, each followed by Enter (which leads back to the item box)."""
    box = page.locator("#item-q")
    box.press_sequentially(text, delay=10)
    option = page.locator(f"#item-results [role=option][data-sku='{sku}']")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(option).to_contain_text("available")
    if shot:
        screenshot(page, shot, full_page=False)
    box.press("Enter")
    line = page.locator(f"#lines .phone-line[data-sku='{sku}']")
    expect(line).to_be_visible()
    expect(line.locator("[name=quantity]")).to_be_focused()
    page.keyboard.type(quantity)
    page.keyboard.press("Enter")
    expect(line.locator("[name=unit_price]")).to_be_focused()
    page.keyboard.type(price)
    page.keyboard.press("Enter")
    expect(box).to_be_focused()


def test_a_clerk_takes_a_phone_order_with_the_keyboard(clerk: Any, live_server: LiveServer) -> None:
    account, name = a_customer(live_server)
    (sku_a, _, _), (sku_b, name_b, _) = items_in_stock(live_server)[:2]
    sign_in(clerk, live_server, "customer_service")
    clerk.locator("ul.navlinks.wide a[href='/orders/phone']").click()
    clerk.wait_for_url(re.compile(r"/orders/phone$"))
    expect(clerk.locator("h1")).to_have_text("Phone order")
    expect(clerk.locator("select[name=channel]")).to_have_value("phone")  # the demo's phone channel

    pick_customer(clerk, account, name)
    add_item(clerk, sku_a, sku_a, "3", "12.50")
    add_item(clerk, name_b, sku_b, "2", "4,95", shot="phone-order-suggestions.png")  # a decimal comma is fine
    lines = clerk.locator("#lines .phone-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0).locator(".line-total")).to_have_text("37.50 EUR")
    expect(lines.nth(1).locator(".line-total")).to_have_text("9.90 EUR")
    expect(clerk.locator("#order-total")).to_have_text("47.40 EUR")
    expect(clerk.locator("#order-count")).to_have_text("2 lines, 5 units")

    # A line removed and added again: the running total follows.
    lines.nth(1).locator("[data-action=remove-line]").click()
    expect(clerk.locator("#order-total")).to_have_text("37.50 EUR")
    expect(clerk.locator("#item-q")).to_be_focused()
    add_item(clerk, name_b, sku_b, "2", "4,95")
    clerk.fill("#f-notes", "Deliver to the back entrance")
    clerk.locator("#item-q").focus()
    clerk.evaluate("window.scrollTo(0, 0)")
    screenshot(clerk, "phone-order.png", full_page=False)

    with clerk.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/orders/phone")) as posted:
        clerk.keyboard.press("Control+Enter")
    assert posted.value.status == 303, posted.value.text()
    clerk.wait_for_url(re.compile(r"/orders/\d+$"))
    # The demo publishes the standard review rules: the order is reviewed the moment it is saved.
    expect(clerk.locator("h1")).to_contain_text(re.compile("Reserved|Approved|On hold"))
    facts = clerk.locator("dl.facts").first
    expect(facts).to_contain_text(account)
    expect(facts).to_contain_text("phone")
    rows = clerk.locator("table.striped").first.locator("tbody tr")  # the lines (the review section follows)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(sku_a)
    expect(rows.nth(0)).to_contain_text("at ")  # its stock is reserved in a warehouse
    expect(rows.nth(1)).to_contain_text(sku_b)
    expect(clerk.locator(".order-total")).to_have_text("47.40 EUR")
    expect(clerk.locator("ol.timeline")).to_contain_text("Received via channel phone")


def test_enter_right_after_typing_a_sku_adds_that_item(clerk: Any, live_server: LiveServer) -> None:
    """A barcode scanner types the code and Enter at once, before the search has answered."""
    account, name = a_customer(live_server)
    sku = items_in_stock(live_server)[2][0]
    sign_in(clerk, live_server, "customer_service")
    clerk.goto(f"{live_server.url}/orders/phone")
    pick_customer(clerk, account, name)
    clerk.locator("#item-q").fill(sku)
    clerk.locator("#item-q").press("Enter")
    expect(clerk.locator(f"#lines .phone-line[data-sku='{sku}']")).to_be_visible()
    expect(clerk.locator("#lines .phone-line")).to_have_count(1)


def test_a_refused_order_comes_back_with_everything_typed(clerk: Any, live_server: LiveServer) -> None:
    account, name = a_customer(live_server)
    sku = items_in_stock(live_server)[3][0]
    sign_in(clerk, live_server, "customer_service")
    clerk.goto(f"{live_server.url}/orders/phone")
    pick_customer(clerk, account, name)
    add_item(clerk, sku, sku, "1", "")  # no price typed
    clerk.fill("#f-notes", "Call before delivery")
    clerk.locator("#save-order").click()
    clerk.wait_for_load_state()
    expect(clerk.locator(".phone-problems")).to_be_visible()
    line = clerk.locator(f"#lines .phone-line[data-sku='{sku}']")
    expect(line).to_contain_text("type the unit price")
    expect(line.locator("[name=unit_price]")).to_be_focused()
    expect(clerk.locator("#customer-card")).to_contain_text(account)
    expect(clerk.locator("#f-notes")).to_have_value("Call before delivery")
    screenshot(clerk, "phone-order-refused.png", full_page=False)
    clerk.keyboard.type("7.25")
    expect(clerk.locator("#order-total")).to_have_text("7.25 EUR")
    clerk.locator("#save-order").click()
    clerk.wait_for_url(re.compile(r"/orders/\d+$"))


def test_the_phone_order_screen_fits_a_phone(phone: Any, live_server: LiveServer) -> None:
    account, name = a_customer(live_server)
    (sku_a, _, _), (sku_b, _, _) = items_in_stock(live_server)[4:6]
    sign_in(phone, live_server, "customer_service")
    phone.goto(f"{live_server.url}/orders/phone")
    pick_customer(phone, account, name)
    add_item(phone, sku_a, sku_a, "2", "3.10")
    add_item(phone, sku_b, sku_b, "1", "19.99")
    expect(phone.locator("#order-total")).to_have_text("26.19 EUR")
    overflow = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1] + 1, f"the page scrolls sideways on a phone: {overflow[0]} > {overflow[1]}"
    expect(phone.locator(".phone-savebar button")).to_be_in_viewport()  # Save stays in reach
    phone.locator("#items-title").scroll_into_view_if_needed()
    screenshot(phone, "phone-order-phone.png", full_page=False)  # what the phone shows while adding items
