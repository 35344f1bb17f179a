"""The stock screens, signed in through the browser flow: the list with live search, one SKU with its
booking forms, and CSV uploads that show every refused line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conveyor.inventory import ledger
from conveyor.inventory.tables import stock_movements
from conveyor.testing.factories import STOCK_PER_SKU
from tests.api.test_reference_pages import HTML, csrf_token, page, sign_in
from tests.api.test_stock_api import with_stock_routes


@pytest.fixture
def browser(container: Any, seeded: dict[str, Any]) -> Iterator[TestClient]:
    from conveyor.app import create_app

    with TestClient(with_stock_routes(create_app(container=container))) as client:
        yield client


def movements(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(stock_movements)).scalar_one())


def test_the_stock_list_searches_live_and_scrolls_on_a_phone(browser):
    sign_in(browser, "customer_service")
    html = page(browser, "/stock")
    assert "SKU-5" in html and 'class="table-scroll"' in html
    assert 'hx-trigger="input changed delay:300ms' in html and 'hx-target="#stock-results"' in html
    rows = browser.get("/stock", params={"q": "SKU-3"}, headers={"HX-Request": "true", "HX-Target": "stock-results"})
    assert rows.status_code == 200 and "<html" not in rows.text
    assert "SKU-3" in rows.text and "SKU-1" not in rows.text
    assert 'href="/stock/upload"' not in html  # customer service reads stock but does not book it


def test_nothing_available_to_promise_shows_in_red(browser, container, seeded):
    with container.db.write() as conn:
        ledger.set_safety(conn, seeded["products"]["SKU-2"], seeded["warehouse"], STOCK_PER_SKU,
                          container.clock.now())
    sign_in(browser, "manager")
    html = page(browser, "/stock?short=true")
    assert "SKU-2" in html and "SKU-1" not in html
    assert 'class="badge breached atp-zero"' in html


def test_the_sku_page_shows_warehouses_totals_movements_and_forms(browser):
    sign_in(browser, "manager")
    html = page(browser, "/stock/SKU-1")
    assert "RTM" in html and "receipt:seed" in html and "Total" in html
    for action in ("receive", "adjust", "count", "transfer", "safety"):
        assert f'action="/stock/SKU-1/{action}"' in html
    forms = re.findall(r'<form method="post" action="/stock/SKU-1/\w+">(.*?)</form>', html, re.S)
    assert len(forms) == 5 and all('name="csrf_token"' in form for form in forms)


def test_a_reader_sees_the_sku_page_without_forms(browser):
    sign_in(browser, "customer_service")
    html = page(browser, "/stock/SKU-1")
    assert "RTM" in html and 'action="/stock/SKU-1/receive"' not in html
    assert browser.get("/stock/upload", headers=HTML).status_code == 403


def test_a_receipt_is_booked_through_the_form(browser, container):
    sign_in(browser, "manager")
    token = csrf_token(page(browser, "/stock/SKU-1"))
    r = browser.post("/stock/SKU-1/receive", data={"csrf_token": token, "warehouse": "RTM", "quantity": "12",
                                                   "reference": "DN-77"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    html = page(browser, r.headers["location"])
    assert "Receipt booked." in html and str(STOCK_PER_SKU + 12) in html and "receipt:DN-77" in html
    refused = browser.post("/stock/SKU-1/adjust", data={"csrf_token": token, "warehouse": "RTM", "delta": "-5000",
                                                        "reason": "lost"}, headers=HTML)
    assert refused.status_code == 422
    assert "on hand cannot go below what is reserved" in refused.text and 'aria-invalid="true"' in refused.text
    missing = browser.post("/stock/SKU-1/receive", data={"warehouse": "RTM", "quantity": "1", "reference": "X"})
    assert missing.status_code == 403  # no CSRF token


def test_an_upload_with_a_bad_line_shows_the_line_and_writes_nothing(browser, container):
    sign_in(browser, "manager")
    html = page(browser, "/stock/upload")
    assert "sku,warehouse,quantity,reference" in html and "sku,from_warehouse,to_warehouse,quantity" in html
    token = csrf_token(html)
    before = movements(container)
    bad = "sku,warehouse,quantity,reference\nSKU-1,RTM,5,DN-1\nNOPE,RTM,5,DN-1\n"
    r = browser.post("/stock/upload/receipts", data={"csrf_token": token},
                     files={"file": ("receipts.csv", bad.encode(), "text/csv")}, headers=HTML)
    assert r.status_code == 422
    assert "line 3: unknown_sku: no product has the SKU &#39;NOPE&#39;" in r.text
    assert "Nothing was imported" in r.text
    assert movements(container) == before
    good = browser.post("/stock/upload/receipts", data={"csrf_token": token},
                        files={"file": ("receipts.csv", bad.replace("NOPE", "SKU-2").encode(), "text/csv")},
                        follow_redirects=False)
    assert good.status_code == 303, good.text
    assert "2 rows booked" in page(browser, good.headers["location"])
    assert movements(container) == before + 2
