"""The web UI in a real browser (Debian's Chromium through Playwright) against a real server with demo data.

Also saves screenshots of each screen to test-results/screenshots/ for a person to look at; the curated
copies the docs embed live in docs/images/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from conveyor.demo import DEMO_PASSWORD, DEMO_USERS
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

# Screenshots go to test-results/ (not committed); docs/images holds the curated copies the docs embed.
IMAGES = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def demo_email(role: str) -> str:
    return next(email for email, r in DEMO_USERS if r == role)


def sign_in(page: Any, server: LiveServer, role: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", demo_email(role))
    page.fill("input[name=password]", password)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/login")):
        page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=full_page)


def act(page: Any, order_id: int, action: str, reason: str | None = None) -> None:
    """Clicks an action's button on the order page (filling its reason first) and waits for the new page."""
    form = page.locator(f"form[action='/orders/{order_id}/actions/{action}']")
    button = form.locator("button")
    expect(button).to_contain_text(re.compile(action, re.IGNORECASE))
    if reason is not None:
        form.locator("input[name=reason]").fill(reason)
    with page.expect_response(lambda r: r.request.method == "POST" and f"/actions/{action}" in r.url) as posted:
        button.click()
    assert posted.value.status == 303, f"{action}: {posted.value.status}"
    page.wait_for_load_state()


def open_first_order(page: Any, server: LiveServer) -> None:
    nav = page.locator("ul.navlinks.wide a[href='/orders']")
    if nav.is_visible():
        nav.click()
    else:
        page.goto(f"{server.url}/orders")
    page.wait_for_url(re.compile(r"/orders(\?.*)?$"))
    first = page.locator("table.orders tbody a[href^='/orders/']").first
    number = first.inner_text().strip()
    first.click()
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    assert number in page.locator("h1").first.inner_text()


def assert_order_page(page: Any) -> None:
    timeline = page.locator("ol.timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator("li").first).to_be_visible()
    expect(page.locator("table.striped tbody tr").first).to_be_visible()  # the lines
    expect(page.locator(".sla-box")).to_be_visible()
    expect(page.locator(".sla-box")).to_contain_text("Owner")


def test_manager_signs_in_and_follows_an_order(desktop: Any, live_server: LiveServer) -> None:
    sign_in(desktop, live_server, "manager")
    expect(desktop).to_have_url(re.compile(r"/board$"))
    expect(desktop.locator(".board .column").nth(4)).to_be_visible()
    open_first_order(desktop, live_server)
    assert_order_page(desktop)
    screenshot(desktop, "order-page.png")


def test_the_order_page_fits_a_phone(phone: Any, live_server: LiveServer) -> None:
    sign_in(phone, live_server, "manager")
    open_first_order(phone, live_server)
    assert_order_page(phone)
    phone.locator("ol.timeline").scroll_into_view_if_needed()
    overflow = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1] + 1, f"the page scrolls sideways on a phone: {overflow[0]} > {overflow[1]}"
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "order-page-phone.png", full_page=False)  # what a phone shows on opening the order


def test_customer_service_reviews_and_holds_an_order(desktop: Any, live_server: LiveServer) -> None:
    order_id = live_server.place_order("E2E-REVIEW-1")
    sign_in(desktop, live_server, "customer_service")
    desktop.goto(f"{live_server.url}/orders/{order_id}")
    heading, entries = desktop.locator("h1"), desktop.locator("ol.timeline li")
    expect(heading).to_contain_text("Received")
    expect(entries).to_have_count(2)  # received, and the stock reservation decision
    expect(entries.last).to_contain_text("Stock reserved")

    act(desktop, order_id, "review")
    expect(heading).to_contain_text("Under review")
    expect(entries).to_have_count(3)
    expect(entries.last).to_contain_text("Under review")
    expect(entries.last).to_contain_text(demo_email("customer_service"))

    act(desktop, order_id, "hold", reason="Address could not be verified")
    expect(heading).to_contain_text("On hold")
    expect(entries).to_have_count(4)
    expect(entries.last).to_contain_text("On hold")
    expect(entries.last).to_contain_text("Address could not be verified")


def test_a_wrong_password_is_refused_on_the_sign_in_page(desktop: Any, live_server: LiveServer) -> None:
    sign_in(desktop, live_server, "manager", password="not-the-password")
    expect(desktop).to_have_url(re.compile(r"/login$"))
    expect(desktop.locator("[role=alert]")).to_contain_text(re.compile("wrong", re.IGNORECASE))
    expect(desktop.locator("input[name=email]")).to_have_value(demo_email("manager"))
    expect(desktop.locator("form[action='/logout']")).to_have_count(0)


@pytest.mark.parametrize(("path", "image", "landmark"), [
    ("/board", "board.png", ".board .column"),
    ("/lifecycle", "lifecycle.png", "svg"),
])
def test_screens_for_the_docs(desktop: Any, live_server: LiveServer, path: str, image: str, landmark: str) -> None:
    sign_in(desktop, live_server, "manager")
    response = desktop.goto(f"{live_server.url}{path}")
    assert response is not None and response.status == 200
    expect(desktop.locator(landmark).first).to_be_visible()
    screenshot(desktop, image)
