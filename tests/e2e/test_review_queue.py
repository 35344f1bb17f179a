"""The exception queue in a real browser: an order the rules hold shows up under its reason, a manager opens the
case, approves it with a comment, and the order moves on (reserved) and leaves the queue. Also checks that both
screens fit a phone (390 px) without sideways scrolling."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from conveyor.catalog.tables import products
from conveyor.customers.tables import customers
from conveyor.inventory.tables import stock_levels
from conveyor.testing.review import ADDRESS, ORDER_VALUE_VETO, place, publish_rules
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.e2e

IMAGES = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
             "has_touch": True}


def held_order(server: LiveServer, external_id: str) -> int:
    """An order of 600.00 that R3 (order value, a veto) holds, placed through intake with published rules."""
    c = server.container
    publish_rules(c, [ORDER_VALUE_VETO])
    with c.db.read() as conn:
        free = stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety
        sku = conn.execute(select(products.c.sku).join(stock_levels, stock_levels.c.product_id == products.c.id)
                           .order_by(free.desc(), products.c.sku).limit(1)).scalar_one()
        account = conn.execute(select(customers.c.account).order_by(customers.c.account).limit(1)).scalar_one()
    return place(c, unit_price="600.00", sku=sku, customer=account, ship_to=ADDRESS, external_id=external_id,
                 actor="system:e2e")


def number(order_id: int) -> str:
    return f"SO-{order_id:06d}"


def fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_a_manager_approves_a_held_order_from_the_queue(desktop: Any, live_server: LiveServer) -> None:
    order_id = held_order(live_server, "E2E-REVIEW-1")
    page = desktop
    sign_in(page, live_server, "manager")
    page.locator("ul.navlinks.wide a[href='/review/queue']").click()
    page.wait_for_url(re.compile(r"/review/queue$"))
    group = page.locator(".reason-groups a[data-reason='order_value']")
    expect(group).to_be_visible()
    expect(group).to_contain_text("Order value")
    group.click()
    page.wait_for_url(re.compile(r"reason=order_value"))
    row = page.locator(f"table.cases tr[data-order='{order_id}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("R3 v2")
    expect(row).to_contain_text("left")  # the SLA clock
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / "review-queue.png"), full_page=True)

    row.locator(f"a[href='/review/cases/{order_id}']").click()
    page.wait_for_url(re.compile(rf"/review/cases/{order_id}$"))
    expect(page.locator("h1")).to_contain_text(number(order_id))
    expect(page.locator(".rule-results")).to_contain_text("Large order")
    expect(page.locator(".override-note")).to_contain_text("recorded as an override")
    page.screenshot(path=str(IMAGES / "review-case.png"), full_page=True)
    page.fill("#approve-comment", "Known customer: a fair order, confirmed by phone")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/approve")) as posted:
        page.locator("#approve button[type=submit]").click()
    assert posted.value.status == 303
    page.wait_for_url(re.compile(rf"/review/queue\?closed={order_id}$"))
    expect(page.locator(".flash")).to_contain_text(number(order_id))
    expect(page.locator(".flash")).to_contain_text("Reserved")
    expect(page.locator(f"table.cases tr[data-order='{order_id}']")).to_have_count(0)

    page.locator(f".flash a[href='/orders/{order_id}']").click()
    page.wait_for_url(re.compile(rf"/orders/{order_id}$"))
    expect(page.locator("h1 .badge").first).to_contain_text("Reserved")
    review = page.locator("section.review-panel")
    expect(review).to_contain_text("R3 v2")
    expect(review).to_contain_text("Released")
    expect(review).to_contain_text("confirmed by phone")


def test_the_queue_and_a_case_fit_a_phone(browser: Any, live_server: LiveServer) -> None:
    order_id = held_order(live_server, "E2E-REVIEW-PHONE")
    context = browser.new_context(**PHONE_390)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live_server, "customer_service")
        page.goto(f"{live_server.url}/review/queue")
        row = page.locator(f"table.cases tr[data-order='{order_id}']")
        expect(row).to_be_visible()
        assert fits_the_screen(page), "the queue scrolls sideways at 390 px"
        page.screenshot(path=str(IMAGES / "review-queue-phone.png"), full_page=True)
        page.goto(f"{live_server.url}/review/cases/{order_id}")
        approve = page.locator("#approve button[type=submit]")
        expect(approve).to_be_disabled()  # customer service lacks review:override
        expect(page.locator(".override-note")).to_contain_text("review:override")
        assert fits_the_screen(page), "the case page scrolls sideways at 390 px"
        page.screenshot(path=str(IMAGES / "review-case-phone.png"), full_page=True)
    finally:
        context.close()
