"""Unmapped lines after capture: mapped to a product later, stock reserved through the outbox, the partner's
mapping remembered; and an order held for item mapping is never released by stock alone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from conveyor.bootstrap import Container, register_consumers
from conveyor.channels.capture.model import CapturedLine, CapturedOrder, ItemRef, PartyRef
from conveyor.channels.capture.service import CaptureRequest, capture
from conveyor.channels.tables import partner_items, trading_partners
from conveyor.inventory.tables import reservations
from conveyor.kernel.errors import Conflict, NotFound, ValidationFailed
from conveyor.orders.line_mapping import MapLine, map_line
from conveyor.orders.tables import order_lines, order_timeline, orders
from conveyor.testing.factories import add_channel

SHIP_TO = {"name": "Piet", "line1": "Damrak 1", "city": "Amsterdam", "postal_code": "1012 LG", "country": "NL"}


@pytest.fixture
def partner(container: Container, seeded: dict[str, Any]) -> int:
    at = container.clock.now()
    with container.db.write() as conn:
        channel = add_channel(conn, at=at, code="edi-acme", kind="edi_x12")
        return int(conn.execute(insert(trading_partners).values(
            channel_id=channel, partner_id="ZZ:ACME", name="ACME", customer_id=seeded["customers"]["C-002"],
            documents=[], units={}, active=True, created_at=at, updated_at=at).returning(trading_partners.c.id))
            .scalar_one())


def captured(external_id: str, *items: tuple[ItemRef, int]) -> CapturedOrder:
    return CapturedOrder(external_id=external_id, customer=PartyRef(partner_id="ZZ:ACME"), ship_to=SHIP_TO,
                         lines=tuple(CapturedLine(item, Decimal(q), Decimal("2.00")) for item, q in items),
                         where=f"test {external_id}")


def place(container: Container, order: CapturedOrder) -> int:
    report = capture([order], CaptureRequest(source="t", format="x12", actor="user:t", channel="edi-acme"),
                     container)
    assert report.orders, report.rejected
    return int(report.orders[0]["order_id"])


def relay(container: Container) -> None:
    register_consumers(container)
    container.make_relay().run_once()


def stage(container: Container, order_id: int) -> str:
    with container.db.read() as conn:
        return str(conn.execute(select(orders.c.stage).where(orders.c.id == order_id)).scalar_one())


def test_mapping_a_line_reserves_its_stock_and_remembers_the_partners_item(container, partner) -> None:
    order_id = place(container, captured("PO-1", (ItemRef(sku="SKU-1"), 2), (ItemRef(buyer_item="THEIRS-7"), 3)))
    assert stage(container, order_id) == "on_hold"
    mapped = map_line(MapLine(order_id=order_id, line_no=2, sku="SKU-4", actor="user:clerk"), uow=container.uow())
    assert (mapped.sku, mapped.unmapped_left, mapped.remembered_for) == ("SKU-4", 0, "ZZ:ACME")
    relay(container)
    with container.db.read() as conn:
        line = conn.execute(select(order_lines).where(order_lines.c.order_id == order_id,
                                                      order_lines.c.line_no == 2)).one()
        held = conn.execute(select(reservations.c.quantity).where(reservations.c.order_id == order_id,
                                                                  reservations.c.line_no == 2)).scalars().all()
        remembered = conn.execute(select(partner_items.c.buyer_item).where(
            partner_items.c.partner_id == partner)).scalars().all()
        reasons = conn.execute(select(order_timeline.c.reason).where(order_timeline.c.order_id == order_id)
                               .order_by(order_timeline.c.id)).scalars().all()
    assert (line.sku, line.name, line.product_id is not None) == ("SKU-4", "Test product 4", True)
    assert sum(held) == 3 and remembered == ["THEIRS-7"]
    assert any("Line 2 (THEIRS-7) mapped to SKU-4; remembered for ZZ:ACME; every line is mapped now" in (r or "")
               for r in reasons)
    assert any((r or "").startswith("Line mapped to a product: line 2 now fully reserved") for r in reasons)
    assert stage(container, order_id) == "on_hold"  # a person held it for mapping: a person releases it
    # the partner's next order with that item maps by itself
    next_id = place(container, captured("PO-2", (ItemRef(buyer_item="THEIRS-7"), 1)))
    assert stage(container, next_id) == "received"


def test_mapping_refuses_what_cannot_be_mapped(container, partner) -> None:
    order_id = place(container, captured("PO-1", (ItemRef(sku="SKU-1"), 1), (ItemRef(buyer_item="X-1"), 1)))
    with pytest.raises(ValidationFailed) as unknown:
        map_line(MapLine(order_id=order_id, line_no=2, sku="NOPE", actor="u"), uow=container.uow())
    assert unknown.value.field == "sku"
    with pytest.raises(Conflict) as mapped_already:
        map_line(MapLine(order_id=order_id, line_no=1, sku="SKU-2", actor="u"), uow=container.uow())
    assert mapped_already.value.code == "line_already_mapped"
    with pytest.raises(NotFound):
        map_line(MapLine(order_id=order_id, line_no=9, sku="SKU-2", actor="u"), uow=container.uow())
    with container.db.write() as conn:
        conn.execute(orders.update().where(orders.c.id == order_id).values(stage="shipped"))
    with pytest.raises(Conflict) as shipped:
        map_line(MapLine(order_id=order_id, line_no=2, sku="SKU-2", actor="u"), uow=container.uow())
    assert shipped.value.code == "order_not_mappable"


def test_stock_alone_never_releases_an_order_that_waits_for_item_mapping(container, partner, seeded) -> None:
    from conveyor.inventory import ledger

    with container.db.write() as conn:  # SKU-1 has nothing available
        ledger.set_safety(conn, seeded["products"]["SKU-1"], seeded["warehouse"], 1000, container.clock.now())
    order_id = place(container, captured("PO-3", (ItemRef(sku="SKU-1"), 2), (ItemRef(buyer_item="Y-1"), 1)))
    with container.db.read() as conn:
        hold = conn.execute(select(order_timeline.c.actor, order_timeline.c.reason).where(
            order_timeline.c.order_id == order_id, order_timeline.c.to_stage == "on_hold")).one()
    assert hold.actor == "system:review" and "Waiting for stock" in hold.reason and "Item mapping" in hold.reason
    with container.db.write() as conn:
        ledger.set_safety(conn, seeded["products"]["SKU-1"], seeded["warehouse"], 0, container.clock.now())
    relay(container)
    assert stage(container, order_id) == "on_hold"


def test_the_api_page_and_cli_map_lines(container, partner, client, auth) -> None:
    from conveyor.cli import app as conveyor_cli
    from tests.api.test_reference_pages import HTML, csrf_token, page, sign_in

    order_id = place(container, captured("PO-4", (ItemRef(buyer_item="A"), 1), (ItemRef(buyer_item="B"), 1),
                                         (ItemRef(buyer_item="C"), 1)))
    shown = client.get(f"/api/v1/orders/{order_id}", headers=auth("manager")).json()
    assert [line["mapped"] for line in shown["lines"]] == [False, False, False]
    answer = client.post(f"/api/v1/orders/{order_id}/lines/1/map", json={"sku": "SKU-2", "remember": False},
                         headers=auth("customer_service"))
    assert answer.status_code == 200, answer.text
    assert [line["mapped"] for line in answer.json()["lines"]] == [True, False, False]
    refused = client.post(f"/api/v1/orders/{order_id}/lines/1/map", json={"sku": "SKU-2"},
                          headers=auth("customer_service"))
    assert refused.status_code == 409 and refused.json()["code"] == "line_already_mapped"
    assert client.post(f"/api/v1/orders/{order_id}/lines/2/map", json={"sku": "SKU-2"},
                       headers=auth("warehouse")).status_code == 403
    sign_in(client, "manager")
    html = page(client, f"/orders/{order_id}")
    assert html.count("unmapped</span>") == 2 and f'action="/orders/{order_id}/lines/2/map"' in html
    bad = client.post(f"/orders/{order_id}/lines/2/map", data={"csrf_token": csrf_token(html), "sku": "NOPE"},
                      headers=HTML)
    assert bad.status_code == 422 and "no active product with SKU &#39;NOPE&#39;" in bad.text
    done = client.post(f"/orders/{order_id}/lines/2/map", data={"csrf_token": csrf_token(html), "sku": "SKU-3",
                                                               "remember": "on"}, follow_redirects=False)
    assert done.status_code == 303
    result = CliRunner().invoke(conveyor_cli, ["orders", "map-line", str(order_id), "3", "SKU-5"],
                                env={"CONVEYOR_DATABASE_URL": container.db.url})
    assert result.exit_code == 0, result.output
    assert "every line is mapped now: release the order when ready" in result.stdout
