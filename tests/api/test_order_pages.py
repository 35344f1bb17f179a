"""The staff screens for orders and the lifecycle, driven like a browser: sign in through the form, read the
CSRF token from the page, submit the page's forms. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest

from conveyor.orders.lifecycle import DEFAULT_STAGES, Stage
from conveyor.testing.factories import TEST_PASSWORD

ADDRESS = {"name": "Anna de Vries", "line1": "Prinsengracht 263", "city": "Amsterdam",
           "postal_code": "1016 GV", "country": "NL"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HTMX = {"HX-Request": "true", "HX-Target": "order-results", "HX-Current-URL": "http://testserver/orders"}


def sign_in(client: Any, role: str) -> str:
    """Signs in through the form (the client keeps the session cookie); returns the page's CSRF token."""
    client.cookies.clear()
    r = client.post("/login", data={"email": f"{role}@test.example", "password": TEST_PASSWORD, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    client.headers.update(BROWSER)
    return csrf_of(client.get("/orders").text)


def csrf_of(page: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def order_body(**overrides: Any) -> dict[str, Any]:
    return {"customer": "C-001", "currency": "EUR", "ship_to": ADDRESS, "shipping": "4.95",
            "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"},
                      {"sku": "SKU-2", "quantity": 1, "unit_price": "5.00", "discount": "1.00", "tax": "0.84"}],
            **overrides}


def place(client: Any, auth: Any, **overrides: Any) -> dict[str, Any]:
    r = client.post("/api/v1/orders", json=order_body(**overrides), headers=auth("manager"))
    assert r.status_code == 201, r.text
    return r.json()


def api_order(client: Any, auth: Any, order_id: int) -> dict[str, Any]:
    return client.get(f"/api/v1/orders/{order_id}", headers=auth("manager")).json()


def due_at(page: str) -> str:
    match = re.search(r'class="due-at">([^<]+)<', page)
    assert match, "the page shows no SLA due time"
    return match.group(1).strip()


def order_links(page: str) -> list[str]:
    return re.findall(r'<a href="/orders/\d+"><strong>(SO-\d+)</strong></a>', page)


def column(page: str, stage: str) -> str:
    start = page.index(f'data-stage="{stage}"')
    return page[start:page.index("</section>", start)]


def act(client: Any, csrf: str, order_id: int, action: str, **fields: str) -> Any:
    return client.post(f"/orders/{order_id}/actions/{action}", data={"csrf_token": csrf, **fields},
                       follow_redirects=False)


# -- the order list -------------------------------------------------------------------------------------


def test_the_order_list_shows_orders_and_filters_by_stage_and_search(client, auth):
    first = place(client, auth, external_id="WEB-1001")
    second = place(client, auth, external_id="WEB-1002", customer="C-002")
    client.post(f"/api/v1/orders/{second['id']}/review", json={}, headers=auth("manager"))
    sign_in(client, "manager")

    page = client.get("/orders").text
    assert order_links(page) == [second["number"], first["number"]]
    assert "WEB-1001" in page and "Jansen Horeca" in page and "34.79 EUR" in page
    assert '<span class="badge stage-under_review">Under review</span>' in page

    assert order_links(client.get("/orders", params={"stage": "under_review"}).text) == [second["number"]]
    assert order_links(client.get("/orders", params={"q": "WEB-1001"}).text) == [first["number"]]
    assert order_links(client.get("/orders", params={"q": second["number"]}).text) == [second["number"]]
    assert order_links(client.get("/orders", params={"customer": "C-002"}).text) == [second["number"]]
    assert order_links(client.get("/orders", params={"q": "nothing-like-it"}).text) == []
    assert len(order_links(client.get("/orders", params={"breached": "false"}).text)) == 2
    assert order_links(client.get("/orders", params={"breached": "true"}).text) == []


def test_the_filter_form_uses_htmx_and_htmx_gets_only_the_results(client, auth):
    order = place(client, auth)
    sign_in(client, "manager")
    page = client.get("/orders").text
    assert 'hx-get="/orders"' in page and 'hx-target="#order-results"' in page and 'hx-push-url="true"' in page
    assert 'id="order-results"' in page

    partial = client.get("/orders", params={"stage": "received"}, headers=HTMX)
    assert partial.status_code == 200
    assert order_links(partial.text) == [order["number"]]
    assert "<html" not in partial.text and "<form" not in partial.text


def test_bad_filters_are_explained_not_crashed_on(client, auth):
    sign_in(client, "manager")
    r = client.get("/orders", params={"created_from": "18-11-2026", "q": ""})
    assert r.status_code == 422
    assert "is not a date" in r.text
    r = client.get("/orders", params={"cursor": "garbage"})
    assert r.status_code == 422 and "cursor" in r.text


def test_the_next_page_link_carries_the_cursor_and_the_filters(client, auth, container):
    numbers = []
    for i in range(53):
        container.clock.advance(timedelta(seconds=30))
        numbers.append(place(client, auth, customer="C-001" if i % 2 == 0 else "C-002")["number"])
    ours = [n for i, n in enumerate(numbers) if i % 2 == 0][::-1]  # 27 orders of C-001, newest first
    everyone = numbers[::-1]
    sign_in(client, "manager")

    page = client.get("/orders").text
    assert order_links(page) == everyone[:50]
    next_url = html.unescape(re.search(r'<a href="([^"]+)" rel="next">Next page →</a>', page).group(1))
    assert "cursor=" in next_url
    second = client.get(next_url).text
    assert order_links(second) == everyone[50:]
    assert "Next page" not in second
    assert 'href="/orders">← First page' in second

    filtered = client.get("/orders", params={"customer": "C-001"}).text
    assert order_links(filtered) == ours  # fewer than a page: no next link
    assert "Next page" not in filtered
    staged = client.get("/orders", params={"stage": "received"}).text
    next_url = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', staged).group(1))
    assert "stage=received" in next_url and "cursor=" in next_url
    assert order_links(client.get(next_url).text) == everyone[50:]


def test_a_customer_sees_only_their_own_orders(client, auth):
    mine = place(client, auth, customer="C-001")
    theirs = place(client, auth, customer="C-002")
    sign_in(client, "customer")
    assert order_links(client.get("/orders").text) == [mine["number"]]
    assert client.get(f"/orders/{mine['id']}").status_code == 200
    foreign = client.get(f"/orders/{theirs['id']}")
    assert foreign.status_code == 404
    assert foreign.headers["content-type"].startswith("text/html") and "Not found" in foreign.text


# -- an order's page and its actions --------------------------------------------------------------------


def test_the_order_page_shows_lines_addresses_sla_and_timeline(client, auth):
    order = place(client, auth, external_id="WEB-77", notes="Leave at the back door", tags=["vip"], priority=3,
                  bill_to={"name": "Finance Dept", "line1": "Damrak 1", "city": "Amsterdam",
                           "postal_code": "1012 LG", "country": "NL"})
    sign_in(client, "manager")
    page = client.get(f"/orders/{order['id']}").text
    assert f">{order['number']} <span class=\"badge stage-received\">" in page
    assert '<span class="badge stage-received">Received</span>' in page
    assert "WEB-77" in page and "De Vries Bakkerij" in page and "urgent 3" in page
    for text in ("SKU-1", "Test product 1", "12.50 EUR", "25.00 EUR", "SKU-2", "-1.00 EUR", "0.84 EUR",
                 "4.95 EUR", "34.79 EUR"):
        assert text in page, text
    assert "Prinsengracht 263" in page and "Finance Dept" in page and "Damrak 1" in page
    assert "Leave at the back door" in page and ">vip<" in page
    assert due_at(page) == "2026-11-18 11:00 UTC"  # 1 business hour after Wednesday 10:00 UTC
    assert "Customer service" in page and "1h 0m" in page
    assert '<ol class="timeline">' in page and "Received via channel api" in page


def test_a_manager_moves_an_order_through_the_page_and_the_timeline_shows_it(client, auth):
    order = place(client, auth)
    csrf = sign_in(client, "manager")
    page = client.get(f"/orders/{order['id']}").text
    assert f'action="/orders/{order["id"]}/actions/review"' in page
    assert f'name="csrf_token" value="{csrf}"' in page

    r = act(client, csrf, order["id"], "review")
    assert r.status_code == 303 and r.headers["location"] == f"/orders/{order['id']}"
    page = client.get(r.headers["location"]).text
    assert '<span class="badge stage-under_review">Under review</span>' in page
    timeline = page[page.index('<ol class="timeline">'):]
    assert "Received → " in timeline and "Under review" in timeline and "(review)" in timeline
    assert "manager@test.example" in timeline
    assert api_order(client, auth, order["id"])["stage"] == "under_review"

    held = act(client, csrf, order["id"], "hold", reason="address looks wrong")
    assert held.status_code == 303
    page = client.get(f"/orders/{order['id']}").text
    assert "address looks wrong" in page and "held from Under review" in page


def test_holding_without_a_reason_shows_an_error_and_changes_nothing(client, auth):
    order = place(client, auth)
    csrf = sign_in(client, "manager")
    page = client.get(f"/orders/{order['id']}").text
    hold_form = page[page.index("/actions/hold"):]
    assert re.search(r'<input name="reason" required', hold_form[:hold_form.index("</form>")])

    r = act(client, csrf, order["id"], "hold", reason="  ")
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "a reason is required to hold" in r.text and 'role="alert"' in r.text
    after = api_order(client, auth, order["id"])
    assert after["stage"] == "received" and after["timeline"] == order["timeline"]


def test_a_move_the_stage_does_not_allow_is_shown_as_a_conflict(client, auth):
    order = place(client, auth)
    csrf = sign_in(client, "manager")
    r = act(client, csrf, order["id"], "ship")
    assert r.status_code == 409
    assert "cannot ship an order that is received" in r.text
    assert api_order(client, auth, order["id"])["stage"] == "received"


def test_a_warehouse_user_sees_no_approve_button_and_a_forged_post_is_forbidden(client, auth):
    order = place(client, auth)
    client.post(f"/api/v1/orders/{order['id']}/review", json={}, headers=auth("manager"))
    csrf = sign_in(client, "warehouse")
    page = client.get(f"/orders/{order['id']}").text
    assert "/actions/approve" not in page and ">Approve<" not in page
    assert "Your role cannot move this order from here." in page

    r = act(client, csrf, order["id"], "approve")
    assert r.status_code == 403
    assert api_order(client, auth, order["id"])["stage"] == "under_review"


def test_a_post_without_the_csrf_token_is_forbidden(client, auth):
    order = place(client, auth)
    sign_in(client, "manager")
    r = client.post(f"/orders/{order['id']}/actions/review", data={}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post(f"/orders/{order['id']}/actions/review", data={"csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert api_order(client, auth, order["id"])["stage"] == "received"


def test_an_unknown_order_is_the_html_not_found_page(client, auth):
    csrf = sign_in(client, "manager")
    for order_id in (999999, 2**64):
        r = client.get(f"/orders/{order_id}")
        assert r.status_code == 404 and "Not found" in r.text and "<html" in r.text
        assert act(client, csrf, order_id, "review").status_code == 404


def test_pages_send_people_who_are_not_signed_in_to_the_sign_in_page(client):
    client.headers.update(BROWSER)
    r = client.get("/orders", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# -- the board ------------------------------------------------------------------------------------------


def test_the_board_counts_orders_per_stage_and_shows_breaches(client, auth, container):
    first = place(client, auth)
    place(client, auth)
    client.post(f"/api/v1/orders/{first['id']}/review", json={}, headers=auth("manager"))
    sign_in(client, "manager")
    page = client.get("/board").text
    assert 'hx-get="/board" hx-trigger="every 30s" hx-select=".board" hx-swap="outerHTML"' in page
    received = column(page, "received")
    assert 'href="/orders?stage=received">Received</a>' in received
    assert re.search(r'class="count[^"]*"[^>]*>1<', received)
    assert "past SLA" not in received and "has-breach" not in page
    assert re.search(r'class="count[^"]*"[^>]*>0<', column(page, "packed"))

    container.clock.advance(timedelta(days=3))
    sign_in(client, "manager")  # the session expired meanwhile
    page = client.get("/board").text
    received = column(page, "received")
    assert "has-breach" in page[page.rindex("<section", 0, page.index('data-stage="received"')):][:200]
    assert 'href="/orders?stage=received&amp;breached=true">1 past SLA</a>' in received
    assert "over</span>" in received
    late = client.get("/orders", params={"stage": "received", "breached": "true"}).text
    assert len(order_links(late)) == 1 and 'class="badge breached"' in late


# -- the lifecycle page ---------------------------------------------------------------------------------


def test_the_lifecycle_page_draws_every_stage_and_lists_the_calendar(client):
    sign_in(client, "warehouse")
    page = client.get("/lifecycle").text
    svg = page[page.index("<svg"):page.index("</svg>")]
    for definition in DEFAULT_STAGES:
        assert f"{definition.label}</text>" in svg, definition.label
    assert len(re.findall(r'class="stage" data-stage=', svg)) == len(Stage)
    assert "Mon, Tue, Wed, Thu, Fri" in page and "09:00–17:00" in page and "UTC" in page
    assert "/lifecycle/stages/" not in page and "/lifecycle/calendar" not in page  # read only


def test_a_manager_changes_an_sla_on_the_lifecycle_page_and_the_due_time_follows(client, auth):
    order = place(client, auth)
    csrf = sign_in(client, "manager")
    assert due_at(client.get(f"/orders/{order['id']}").text) == "2026-11-18 11:00 UTC"
    assert 'action="/lifecycle/stages/received"' in client.get("/lifecycle").text

    r = client.post("/lifecycle/stages/received", data={"csrf_token": csrf, "owner_role": "manager",
                                                         "sla_hours": "4"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/lifecycle?saved=received")
    saved = client.get(r.headers["location"]).text
    assert "Saved Received" in saved
    page = client.get(f"/orders/{order['id']}").text
    assert due_at(page) == "2026-11-18 14:00 UTC"
    assert "Manager" in page[page.index("sla-box"):page.index("due-at")]

    bad = client.post("/lifecycle/stages/received", data={"csrf_token": csrf, "owner_role": "pilot",
                                                           "sla_hours": "-1"})
    assert bad.status_code == 422
    assert "owner_role must be one of" in bad.text and "sla_hours must be more than 0" in bad.text
    assert client.post("/lifecycle/stages/received", data={"csrf_token": csrf, "owner_role": "manager",
                                                            "sla_hours": "soon"}).status_code == 422
    assert client.post("/lifecycle/stages/nowhere", data={"csrf_token": csrf, "owner_role": "manager",
                                                           "sla_hours": ""}).status_code == 404
    assert due_at(client.get(f"/orders/{order['id']}").text) == "2026-11-18 14:00 UTC"


def test_an_empty_sla_means_no_sla(client, auth):
    order = place(client, auth)
    csrf = sign_in(client, "manager")
    r = client.post("/lifecycle/stages/received", data={"csrf_token": csrf, "owner_role": "customer_service",
                                                         "sla_hours": ""}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/orders/{order['id']}").text
    assert "no SLA" in page and 'class="due-at"' not in page


def test_a_manager_changes_the_calendar_and_due_times_follow(client, auth):
    order = place(client, auth)
    csrf = sign_in(client, "manager")
    form = {"csrf_token": csrf, "timezone": "America/New_York", "working_days": ["1", "2", "3", "4", "5"],
            "opens": "09:00", "closes": "17:00", "holidays": "2026-12-25 Christmas Day\n\n2027-01-01 New Year\n"}
    r = client.post("/lifecycle/calendar", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/lifecycle").text
    assert "America/New_York" in page and "2026-12-25 Christmas Day" in page and "2027-01-01 New Year" in page
    # Wednesday 10:00 UTC is 05:00 in New York: the clock starts at 09:00 EST (14:00 UTC) and runs one hour.
    assert due_at(client.get(f"/orders/{order['id']}").text) == "2026-11-18 15:00 UTC"

    r = client.post("/lifecycle/calendar", data={**form, "timezone": "UTC", "holidays": "2026-11-18 Closed"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert due_at(client.get(f"/orders/{order['id']}").text) == "2026-11-19 10:00 UTC"


@pytest.mark.parametrize(("change", "message"), [
    ({"holidays": "2026-12-25 Christmas\nChristmas 2026-12-26"}, "line 2: 'Christmas' is not a date"),
    ({"holidays": "2026-12-25 Christmas\n\n2026-12-25 Again"}, "line 3: 2026-12-25 is already on line 1"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"working_days": []}, "working_days are 1 (Monday) to 7 (Sunday)"),
    ({"opens": "nine"}, "opens must be HH:MM"),
])
def test_a_bad_calendar_is_explained_and_nothing_changes(client, auth, change, message):
    order = place(client, auth)
    csrf = sign_in(client, "manager")
    form = {"csrf_token": csrf, "timezone": "Europe/Amsterdam", "working_days": ["1", "2", "3", "4", "5"],
            "opens": "08:00", "closes": "17:00", "holidays": "", **change}
    r = client.post("/lifecycle/calendar", data=form)
    assert r.status_code == 422
    assert html.escape(message, quote=True) in r.text or message in html.unescape(r.text)
    assert "The calendar was not saved" in r.text
    assert api_order(client, auth, order["id"])["sla"]["due_at"].startswith("2026-11-18T11:00")
    assert client.get("/api/v1/lifecycle", headers=auth("manager")).json()["calendar"]["timezone"] == "UTC"


def test_only_a_configurer_may_change_the_lifecycle(client):
    csrf = sign_in(client, "warehouse")
    r = client.post("/lifecycle/stages/received", data={"csrf_token": csrf, "owner_role": "warehouse",
                                                         "sla_hours": "1"})
    assert r.status_code == 403
    r = client.post("/lifecycle/calendar", data={"csrf_token": csrf, "timezone": "UTC", "working_days": ["1"],
                                                 "opens": "09:00", "closes": "17:00"})
    assert r.status_code == 403
