"""The capture service on both databases: every channel's captured orders go through the one core path."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select

from conveyor.bootstrap import Container
from conveyor.channels.capture.model import CapturedLine, CapturedOrder, Control, Ignored, ItemRef, PartyRef, Rejected
from conveyor.channels.capture.service import CaptureRequest, capture
from conveyor.channels.tables import channel_captures, partner_items, trading_partners
from conveyor.customers.tables import customers
from conveyor.kernel.errors import DomainError
from conveyor.orders.tables import order_lines, orders
from conveyor.testing.factories import add_channel, add_product

SHIP_TO = {"name": "Piet Jansen", "line1": "Damrak 1", "city": "Amsterdam", "postal_code": "1012 LG", "country": "NL"}


def order(external_id: str, *lines: CapturedLine, customer: PartyRef | None = None,
          control: Control | None = None, ship_to: dict[str, Any] | None = SHIP_TO) -> CapturedOrder:
    return CapturedOrder(external_id=external_id, customer=customer or PartyRef(account="C-001"), lines=lines,
                         ship_to=ship_to, where=f"test: order {external_id}", control=control)


def line(sku: str | None = None, quantity: int | str = 1, price: str = "2.50", **item: Any) -> CapturedLine:
    return CapturedLine(item=ItemRef(sku=sku, **item), quantity=Decimal(str(quantity)), unit_price=Decimal(price),
                        unit=item.pop("unit", None) if "unit" in item else None, where="line")


def request(channel: str = "csv-in", *, dry_run: bool = False, fmt: str = "csv") -> CaptureRequest:
    return CaptureRequest(source="orders.csv", format=fmt, actor="user:clerk@example.com", channel=channel,
                          dry_run=dry_run)


@pytest.fixture
def csv_channel(container: Container, seeded: dict[str, Any]) -> int:
    with container.db.write() as conn:
        return add_channel(conn, at=container.clock.now(), code="csv-in", kind="csv", name="CSV imports")


def stored(container: Container, order_id: int) -> tuple[Any, list[Any]]:
    with container.db.read() as conn:
        row = conn.execute(select(orders).where(orders.c.id == order_id)).one()
        lines = conn.execute(select(order_lines).where(order_lines.c.order_id == order_id)
                             .order_by(order_lines.c.line_no)).all()
    return row, lines


def test_captured_orders_are_placed_with_stock_reserved_and_logged(container, csv_channel) -> None:
    report = capture([order("PO-1", line("SKU-1", 3), line("SKU-2", 2, "1.00")),
                      Ignored(where="orders.csv line 9", reason="not an order")], request(), container)
    assert report.rejected == [] and report.duplicates == []
    [entry] = report.orders
    assert entry["external_id"] == "PO-1" and entry["lines"] == 2 and entry["units"] == 5
    assert entry["unmapped_lines"] == 0 and entry["stage"] == "received"
    row, lines = stored(container, entry["order_id"])
    assert row.created_by == "channel:csv-in" and row.total_minor == 950
    assert [(x.sku, x.quantity) for x in lines] == [("SKU-1", 3), ("SKU-2", 2)]
    assert report.ignored == [{"where": "orders.csv line 9", "reason": "not an order"}]
    with container.db.read() as conn:
        log = conn.execute(select(channel_captures)).one()
    assert (log.orders_created, log.ignored, log.source, log.actor) == (1, 1, "orders.csv", "user:clerk@example.com")


def test_sending_the_same_orders_again_creates_nothing_and_says_so(container, csv_channel) -> None:
    first = capture([order("PO-1", line("SKU-1"))], request(), container)
    again = capture([order("PO-1", line("SKU-1"))], request(), container)
    assert again.orders == []
    assert again.duplicates == [{"external_id": "PO-1", "order_id": first.orders[0]["order_id"],
                                 "reason": f"already received as {first.orders[0]['number']} (same order id)"}]


def test_resent_control_numbers_are_duplicates_even_under_another_order_id(container, csv_channel) -> None:
    control = Control(standard="x12", sender="ZZ:ACME", receiver="ZZ:US", interchange="000000001", group="1",
                      transaction="0001")
    first = capture([order("PO-1", line("SKU-1"), control=control)], request(), container)
    again = capture([order("PO-1", line("SKU-1"), control=control)], request(), container)
    assert first.orders and again.duplicates[0]["reason"].endswith("(same control numbers or webhook delivery)")
    changed = capture([order("PO-2", line("SKU-2"), control=control)], request(), container)
    assert changed.orders == [] and "already received with a different order" in changed.rejected[0]["reason"]


def test_unknown_items_stay_on_the_order_unmapped_and_hold_it(container, csv_channel) -> None:
    report = capture([order("PO-9", line("SKU-1", 2), line(None, 4, buyer_item="THEIR-77", description="Blue mug"))],
                     request(), container)
    [entry] = report.orders
    assert entry["unmapped_lines"] == 1 and entry["stage"] == "on_hold"
    row, lines = stored(container, entry["order_id"])
    assert [(x.sku, x.name, x.product_id is None) for x in lines] == [
        ("SKU-1", "Test product 1", False), ("THEIR-77", "Blue mug", True)]


def test_a_bad_order_is_rejected_whole_and_the_good_ones_are_placed(container, csv_channel) -> None:
    report = capture([order("GOOD-1", line("SKU-1")),
                      order("BAD-1", line("SKU-1", 1, "-3")),
                      Rejected(where="orders.csv line 7", reason="quantity: expected a number, found 'x'"),
                      order("GOOD-2", line("SKU-2"))], request(), container)
    assert [o["external_id"] for o in report.orders] == ["GOOD-1", "GOOD-2"]
    assert [r["where"] for r in report.rejected] == ["orders.csv line 7", "test: order BAD-1"]
    assert "negative" in report.rejected[1]["reason"]
    with container.db.read() as conn:
        assert conn.execute(select(orders.c.external_id).where(orders.c.external_id == "BAD-1")).first() is None


def test_a_dry_run_writes_nothing(container, csv_channel) -> None:
    report = capture([order("PO-1", line("SKU-1", 2), line("NOPE", 1)), order("PO-1", line("SKU-1"))],
                     request(dry_run=True), container)
    assert report.as_json() == {
        "orders": [{"external_id": "PO-1", "lines": 2, "units": 3, "unmapped_lines": 1}],
        "duplicates": [{"external_id": "PO-1", "reason": "the same order id appears earlier in this document"}],
        "rejected": [], "ignored": []}
    with container.db.read() as conn:
        assert conn.execute(select(orders.c.id)).first() is None
        assert conn.execute(select(channel_captures.c.id)).first() is None


def test_a_dry_run_needs_no_database_at_all() -> None:
    report = capture([order("PO-1", line("SKU-1", 2))], request(channel=None, dry_run=True), None)
    assert report.as_json()["orders"] == [{"external_id": "PO-1", "lines": 1, "units": 2, "unmapped_lines": 1,
                                           "warnings": ["no customer with account 'C-001'"]}]


def test_web_shop_buyers_are_found_by_email_or_created_once(container, csv_channel) -> None:
    buyer = PartyRef(email="New.Buyer@Example.com", name="New Buyer", phone="+31 20 1234567")
    report = capture([order("W-1", line("SKU-1"), customer=buyer), order("W-2", line("SKU-2"), customer=buyer),
                      order("W-3", line("SKU-3"), customer=PartyRef(email="C-002@Example.COM"))],
                     request(), container)
    assert len(report.orders) == 3, report.rejected
    with container.db.read() as conn:
        made = conn.execute(select(customers).where(customers.c.email == "New.Buyer@Example.com")).all()
        owners = dict(conn.execute(select(orders.c.external_id, customers.c.account)
                                   .join(customers, customers.c.id == orders.c.customer_id)).all())
    assert len(made) == 1 and made[0].name == "New Buyer"
    assert owners == {"W-1": made[0].account, "W-2": made[0].account, "W-3": "C-002"}
    again = capture([order("W-4", line("SKU-1", 5), customer=buyer)], request(), container)
    assert again.orders and again.rejected == []


def test_an_order_without_ship_to_goes_to_the_customers_default_address(container, csv_channel) -> None:
    report = capture([order("PO-5", line("SKU-1"), ship_to=None)], request(), container)
    row, _ = stored(container, report.orders[0]["order_id"])
    assert row.ship_to["line1"] == "Prinsengracht 263"


def test_partner_profiles_map_buyer_items_units_and_the_customer(container, seeded, csv_channel) -> None:
    at = container.clock.now()
    with container.db.write() as conn:
        edi = add_channel(conn, at=at, code="edi-acme", kind="edi_x12", name="ACME EDI")
        add_product(conn, at=at, sku="GT-1", gtin="08712345678906")
        partner = conn.execute(insert(trading_partners).values(
            channel_id=edi, partner_id="ZZ:ACME", name="ACME", customer_id=seeded["customers"]["C-002"],
            documents=["997"], units={"CS": 12}, active=True, created_at=at, updated_at=at)
            .returning(trading_partners.c.id)).scalar_one()
        conn.execute(insert(partner_items).values(partner_id=partner, buyer_item="A-100",
                                                  product_id=seeded["products"]["SKU-3"]))
    lines = (CapturedLine(ItemRef(buyer_item="A-100"), Decimal(2), Decimal("24.00"), unit="CS"),
             CapturedLine(ItemRef(gtin="8712345678906"), Decimal(5), Decimal("1.00"), unit="EA"),
             CapturedLine(ItemRef(vendor_item="SKU-4"), Decimal(1), Decimal("3.00"), unit="PL"))
    captured = CapturedOrder(external_id="4500001", customer=PartyRef(partner_id="zz:acme  "), lines=lines,
                             ship_to=SHIP_TO, where="x12")
    report = capture([captured, replace(captured, external_id="4500002", customer=PartyRef(partner_id="ZZ:WHO"))],
                     request("edi-acme", fmt="x12"), container)
    [entry] = report.orders
    assert entry["unmapped_lines"] == 1 and entry["units"] == 8  # units as the document counts them
    row, stored_lines = stored(container, entry["order_id"])
    assert row.customer_id == seeded["customers"]["C-002"]
    assert [(x.sku, x.quantity, x.unit_price_minor, x.product_id is None) for x in stored_lines] == [
        ("SKU-3", 24, 200, False), ("GT-1", 5, 100, False), ("SKU-4 (PL)", 1, 300, True)]
    assert "unknown trading partner 'ZZ:WHO'" in report.rejected[0]["reason"]


def test_probable_duplicates_are_placed_tagged_and_held_for_review(container, csv_channel) -> None:
    container.settings.duplicate_window_hours = 24
    first = capture([order("A-1", line("SKU-1", 2))], request(), container)
    twin = capture([order("A-2", line("SKU-1", 2)), order("A-3", line("SKU-1", 3))], request(), container)
    assert [o["stage"] for o in twin.orders] == ["on_hold", "received"]
    row, _ = stored(container, twin.orders[0]["order_id"])
    assert "probable-duplicate" in row.tags
    container.clock.advance(timedelta(hours=25))
    later = capture([order("A-4", line("SKU-1", 2))], request(), container)
    assert later.orders[0]["stage"] == "received" and first.orders[0]["stage"] == "received"


def test_an_unknown_channel_is_refused_before_anything_is_read(container, csv_channel) -> None:
    with pytest.raises(DomainError) as exc:
        capture([order("PO-1", line("SKU-1"))], request("nope"), container)
    assert exc.value.code == "unknown_channel"
