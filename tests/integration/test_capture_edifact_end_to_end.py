"""An EDIFACT ORDERS interchange from file to orders, answered with CONTRL and ORDRSP, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from conveyor.bootstrap import Container
from conveyor.channels.capture.acks import acknowledger_for
from conveyor.channels.capture.documents import read_path
from conveyor.channels.capture.service import CaptureRequest, capture
from conveyor.channels.edi.edifact import Interchange, read_interchanges
from conveyor.channels.tables import channel_acks, trading_partners
from conveyor.orders.tables import order_lines
from conveyor.testing.factories import add_channel, add_product

ORDERS = (
    "UNA:+,? '"
    "UNB+UNOC:3+5412345000013:14+8712345000004:14+261118:1000+REF77'"
    "UNH+1+ORDERS:D:96A:UN:EAN008'"
    "BGM+220+PO-88+9'"
    "DTM+137:20261118:102'"
    "NAD+BY+5412345000013::9'"
    "NAD+DP+++Caf? Noord+Damrak 1+Amsterdam++1012 LG+NL'"
    "CUX+2:EUR:9'"
    "LIN+1++8712345678906:EN'"
    "QTY+21:4'"
    "PRI+AAA:2,50'"
    "LIN+2++TOTALLY-UNKNOWN:SA'"
    "QTY+21:1'"
    "PRI+AAA:1'"
    "UNS+S'"
    "UNT+14+1'"
    "UNH+2+ORDERS:D:96A:UN:EAN008'"
    "BGM+220+PO-89+9'"
    "NAD+BY+5412345000013::9'"
    "LIN+1++8712345678906:EN'"
    "QTY+21:zero'"
    "UNT+6+2'"
    "UNZ+2+REF77'"
)


@pytest.fixture
def edifact(container: Container, seeded: dict[str, Any]) -> int:
    at = container.clock.now()
    with container.db.write() as conn:
        channel = add_channel(conn, at=at, code="edifact-in", kind="edifact", name="EDIFACT")
        conn.execute(insert(trading_partners).values(
            channel_id=channel, partner_id="14:5412345000013", name="Noord Retail",
            customer_id=seeded["customers"]["C-001"], documents=["CONTRL", "ORDRSP"], units={}, active=True,
            created_at=at, updated_at=at))
        add_product(conn, at=at, sku="GT-1", gtin="8712345678906")
    return channel


def test_orders_become_an_order_with_contrl_and_ordrsp_back(container, edifact, tmp_path: Path) -> None:
    path = tmp_path / "orders.edi"
    path.write_text(ORDERS, encoding="latin-1")
    acknowledger = acknowledger_for("edifact")
    assert acknowledger is not None
    fmt, items = read_path(path, hooks=acknowledger.adapter_hooks)
    report = capture(items, CaptureRequest(source=path.name, format=fmt, actor="user:edi@example.com",
                                           channel="edifact-in"), container, acknowledger=acknowledger)
    [order] = report.orders
    assert (order["external_id"], order["lines"], order["units"], order["unmapped_lines"]) == ("PO-88", 2, 5, 1)
    assert [r["external_id"] for r in report.rejected] == ["PO-89"]
    with container.db.read() as conn:
        lines = conn.execute(select(order_lines.c.sku, order_lines.c.quantity, order_lines.c.unit_price_minor)
                             .where(order_lines.c.order_id == order["order_id"]).order_by(order_lines.c.line_no)).all()
        acks = conn.execute(select(channel_acks).order_by(channel_acks.c.id)).all()
    assert [tuple(x) for x in lines] == [("GT-1", 4, 250), ("TOTALLY-UNKNOWN", 1, 100)]
    assert [(a.kind, a.partner) for a in acks] == [("CONTRL", "14:5412345000013"), ("ORDRSP", "14:5412345000013")]
    for ack in acks:  # both parse back as one sound interchange
        [interchange] = list(read_interchanges(ack.body.encode("latin-1")))
        assert isinstance(interchange, Interchange) and not interchange.problems
    assert "BGM+231" in acks[1].body and "PO-88" in acks[1].body
    assert "UCM+2" in acks[0].body  # the broken message is reported
