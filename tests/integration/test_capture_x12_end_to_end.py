"""An X12 850 interchange from file to orders, with the 997 and 855 written back, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from conveyor.bootstrap import Container
from conveyor.channels.capture.acks import acknowledger_for
from conveyor.channels.capture.documents import read_path
from conveyor.channels.capture.service import CaptureRequest, capture
from conveyor.channels.edi.x12 import read_interchanges
from conveyor.channels.tables import channel_acks, partner_items, trading_partners
from conveyor.orders.tables import order_lines, orders
from conveyor.platform.outbox import outbox
from conveyor.testing.factories import add_channel, add_product

PO = """ISA*00*          *00*          *ZZ*ACME           *ZZ*CONVEYOR       *261118*1000*U*00401*000000501*0*P*>~
GS*PO*ACME*CONVEYOR*20261118*1000*7*X*004010~
ST*850*0001~
BEG*00*SA*PO-7001**20261118~
N1*ST*ACME DC EAST~
N3*Damrak 1~
N4*Amsterdam**1012 LG*NL~
PO1*1*3*EA*2.50**VN*SKU-1~
PO1*2*2*CS*24**BP*A-100~
PO1*3*1*EA*1**BP*NOBODY-KNOWS~
CTT*3~
SE*10*0001~
ST*850*0002~
BEG*00*SA*PO-7002**20261118~
PO1*1*many*EA*2.50**VN*SKU-1~
CTT*1~
SE*5*0002~
ST*810*0003~
BIG*20261118*INV-1**PO-7001~
SE*3*0003~
GE*3*7~
IEA*1*000000501~
"""


@pytest.fixture
def edi(container: Container, seeded: dict[str, Any]) -> int:
    at = container.clock.now()
    with container.db.write() as conn:
        channel = add_channel(conn, at=at, code="edi-acme", kind="edi_x12", name="ACME EDI", currency="EUR")
        partner = conn.execute(insert(trading_partners).values(
            channel_id=channel, partner_id="ZZ:ACME", name="ACME Retail", customer_id=seeded["customers"]["C-002"],
            documents=["997", "855"], units={"CS": 12}, active=True, created_at=at, updated_at=at)
            .returning(trading_partners.c.id)).scalar_one()
        conn.execute(insert(partner_items).values(partner_id=partner, buyer_item="A-100",
                                                  product_id=seeded["products"]["SKU-3"]))
        add_product(conn, at=at, sku="UNSTOCKED")
    return channel


def run(container: Container, path: Path) -> Any:
    acknowledger = acknowledger_for("x12")
    assert acknowledger is not None
    fmt, items = read_path(path, hooks=acknowledger.adapter_hooks)
    assert fmt == "x12"
    request = CaptureRequest(source=path.name, format=fmt, actor="user:edi@example.com", channel="edi-acme")
    return capture(items, request, container, acknowledger=acknowledger)


def test_an_850_becomes_an_order_and_is_answered_with_997_and_855(container, edi, tmp_path) -> None:
    path = tmp_path / "po.x12"
    path.write_text(PO)
    report = run(container, path)
    [order] = report.orders
    assert (order["external_id"], order["lines"], order["units"], order["unmapped_lines"]) == ("PO-7001", 3, 6, 1)
    assert order["stage"] == "on_hold"  # held for item mapping (line 3)
    assert [r["external_id"] for r in report.rejected] == ["PO-7002"]
    assert "PO102" in report.rejected[0]["reason"]
    assert report.ignored and "810" in report.ignored[0]["reason"]
    with container.db.read() as conn:
        lines = conn.execute(select(order_lines.c.sku, order_lines.c.quantity, order_lines.c.unit_price_minor)
                             .where(order_lines.c.order_id == order["order_id"]).order_by(order_lines.c.line_no)).all()
        acks = conn.execute(select(channel_acks).order_by(channel_acks.c.id)).all()
    assert [tuple(x) for x in lines] == [("SKU-1", 3, 250), ("SKU-3", 24, 200), ("NOBODY-KNOWS", 1, 100)]
    assert [(a.kind, a.control_number, a.partner) for a in acks] == [("997", "1", "ZZ:ACME"), ("855", "2", "ZZ:ACME")]
    with container.db.read() as conn:
        events = conn.execute(select(outbox.c.key).where(outbox.c.event == "edi.acknowledgement_ready")).scalars()
        assert sorted(events) == sorted(f"ack:{a.id}" for a in acks)  # for whoever delivers them
    [ack997] = list(read_interchanges(acks[0].body))
    segments = [s.tag for g in ack997.groups for t in g.transactions for s in t.segments]
    assert "AK9" in segments
    text997 = acks[0].body
    assert "AK2*850*0001" in text997 and "AK5*A" in text997 and "AK2*810*0003" in text997
    text855 = acks[1].body
    assert "BAK*00*AC*PO-7001" in text855 and "ACK*IR" in text855 and "ACK*IA" in text855


def test_the_same_interchange_sent_again_creates_nothing(container, edi, tmp_path) -> None:
    path = tmp_path / "po.x12"
    path.write_text(PO)
    first = run(container, path)
    again = run(container, path)
    assert again.orders == [] and again.duplicates[0]["order_id"] == first.orders[0]["order_id"]
    with container.db.read() as conn:
        assert len(conn.execute(select(orders.c.id)).all()) == 1
        numbers = [a.control_number for a in conn.execute(select(channel_acks).order_by(channel_acks.c.id))]
    assert numbers == ["1", "2", "3"]  # the re-sent group is acknowledged again (997); no second 855


def test_a_partner_that_expects_no_855_gets_only_the_997(container, edi, tmp_path) -> None:
    with container.db.write() as conn:
        conn.execute(trading_partners.update().values(documents=["997"]))
    path = tmp_path / "po.x12"
    path.write_text(PO)
    run(container, path)
    with container.db.read() as conn:
        assert [a.kind for a in conn.execute(select(channel_acks))] == ["997"]
