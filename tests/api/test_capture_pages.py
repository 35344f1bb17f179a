"""The capture screens, signed in through the browser flow: channel health, importing a file by upload, and
the channel page's webhook secret."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from conveyor.channels.tables import channels
from conveyor.orders.tables import orders
from conveyor.testing.factories import add_channel
from tests.api.test_reference_pages import HTML, csrf_token, page, sign_in

CSV = ("order_id,customer,sku,quantity,unit_price\n"
       "UP-1,C-001,SKU-1,2,3.00\nUP-1,C-001,SKU-2,1,1.00\n"
       "UP-2,C-002,SKU-3,many,1.00\n"
       "UP-3,C-002,THEIRS-9,1,1.00\n")


@pytest.fixture
def csv_channel(container: Any, seeded: dict[str, Any]) -> int:
    with container.db.write() as conn:
        return add_channel(conn, at=container.clock.now(), code="csv-in", kind="csv", name="Spreadsheets")


def count_orders(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(orders)).scalar_one())


def upload(client: Any, channel_id: int, body: str, **fields: str) -> Any:
    token = csrf_token(page(client, f"/channels/{channel_id}/import"))
    return client.post(f"/channels/{channel_id}/import", data={"csrf_token": token, "format": "auto", **fields},
                       files={"file": ("week-47.csv", body.encode(), "text/csv")}, headers=HTML)


def test_an_upload_places_the_good_orders_and_lists_the_rest(client, container, csv_channel):
    sign_in(client, "customer_service")
    answer = upload(client, csv_channel, CSV)
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert "2 orders created, 0 duplicates skipped, 1 rejected, 0 ignored" in html
    assert 'href="/orders/1"' in html and "SO-000001" in html
    assert "week-47.csv line 4" in html and "column quantity" in html
    assert 'class="badge stage-on_hold"' in html  # UP-3's unknown item holds it for mapping
    assert count_orders(container) == 2
    again = upload(client, csv_channel, CSV)
    assert "0 orders created, 2 duplicates skipped" in again.text and "already received as SO-000001" in again.text
    assert "week-47.csv" in page(client, f"/channels/{csv_channel}/import")  # the capture log


def test_check_only_writes_nothing(client, container, csv_channel):
    sign_in(client, "manager")
    answer = upload(client, csv_channel, CSV, dry_run="on")
    assert answer.status_code == 200 and "Check: 2 orders would create" in answer.text
    assert count_orders(container) == 0


def test_an_upload_without_a_file_or_with_an_unknown_format_is_explained(client, csv_channel):
    sign_in(client, "manager")
    token = csrf_token(page(client, f"/channels/{csv_channel}/import"))
    empty = client.post(f"/channels/{csv_channel}/import", data={"csrf_token": token}, headers=HTML)
    assert empty.status_code == 422 and "Choose a file to import." in empty.text
    odd = upload(client, csv_channel, "\x00\x01 nothing we know")
    assert odd.status_code == 422 and "week-47.csv:" in odd.text


def test_who_may_import_and_who_may_only_look(client, csv_channel):
    sign_in(client, "finance")  # reads channels, places no orders
    assert client.get(f"/channels/{csv_channel}/import", headers=HTML).status_code == 403
    assert "Channel health" in page(client, "/channels/health")


def test_the_health_screen_shows_each_channel_with_its_rejections(client, container, csv_channel):
    sign_in(client, "manager")
    upload(client, csv_channel, CSV)
    html = page(client, "/channels/health")
    assert "csv-in" in html and "webshop" in html and "no orders yet" in html
    assert "rejections" in html and "week-47.csv line 4" in html
    assert 'href="/channels/health"' in page(client, "/channels")


def test_the_webhook_secret_is_set_on_the_channel_page_and_never_shown(client, container, csv_channel):
    with container.db.write() as conn:
        shop = add_channel(conn, at=container.clock.now(), code="shopify-eu", kind="shopify", name="Shopify EU")
    sign_in(client, "manager")
    html = page(client, f"/channels/{shop}")
    assert "/api/v1/channels/shopify-eu/webhooks" in html and 'placeholder="not set"' in html
    form = {"csrf_token": csrf_token(html), "code": "shopify-eu", "name": "Shopify EU", "kind": "shopify",
            "default_currency": "EUR", "active": "on", "webhook_secret": "shpss_secret_123"}
    saved = client.post(f"/channels/{shop}", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    shown = page(client, f"/channels/{shop}")
    assert "shpss_secret_123" not in shown and "set: leave empty to keep it" in shown
    client.post(f"/channels/{shop}", data={**form, "webhook_secret": "", "name": "Shopify Europe"})
    with container.db.read() as conn:
        row = conn.execute(select(channels.c.name, channels.c.webhook_secret).where(channels.c.id == shop)).one()
    assert tuple(row) == ("Shopify Europe", "shpss_secret_123")  # an empty field keeps the secret
