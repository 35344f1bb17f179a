"""CONTRL and ORDRSP (conveyor.channels.edi.edifact.acks): golden files, round trips, what a rejection says.

The golden files under tests/golden/edifact were written by these writers once and checked by eye; the
tests compare byte for byte. To rewrite them after a deliberate change, run with CONVEYOR_UPDATE_GOLDEN=1
and review the diff.
"""

from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from conveyor.channels.capture.edifact_orders import capture_edifact
from conveyor.channels.capture.model import CapturedOrder, LineDecision, OrderDecision
from conveyor.channels.edi.edifact import EdifactError, Interchange, Segment, read_interchanges, tokenize
from conveyor.channels.edi.edifact.acks import write_contrl, write_ordrsp
from conveyor.channels.edi.edifact.receipt import InterchangeReceipt

HERE = Path(__file__).resolve().parents[1]
FIXTURES = HERE / "fixtures" / "edifact"
GOLDEN = HERE / "golden" / "edifact"
PREPARED = datetime(2026, 1, 5, 9, 30)


def golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("CONVEYOR_UPDATE_GOLDEN"):
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{name} differs from its golden file"


def read(fixture: str | bytes) -> tuple[list[CapturedOrder], InterchangeReceipt]:
    data = (FIXTURES / fixture).read_bytes() if isinstance(fixture, str) else fixture
    receipts: list[InterchangeReceipt] = []
    items = list(capture_edifact(data, name="in.edi", on_receipt=receipts.append))
    [receipt] = receipts
    return [i for i in items if isinstance(i, CapturedOrder)], receipt


def segments(data: bytes, tag: str) -> list[Segment]:
    return [s for s in tokenize(data) if s.tag == tag]


def the_interchange(data: bytes) -> Interchange:
    """`data` read back by the envelope reader, which checks every count and reference."""
    [interchange] = read_interchanges(data)
    assert isinstance(interchange, Interchange) and interchange.ok, interchange
    return interchange


# CONTRL


def test_contrl_for_an_accepted_interchange() -> None:
    _, receipt = read("orders_eancom_full.edi")
    data = write_contrl(receipt, reference="ACK0001", prepared=PREPARED)
    golden("contrl_accepted.edi", data)
    interchange = the_interchange(data)
    # addressed back: their recipient is our sender, with the routing address they gave
    assert (interchange.sender.id, interchange.recipient.id, interchange.recipient.routing) == (
        "5498765000014", "5412345000013", "BUYERBOX")
    assert (interchange.syntax, interchange.syntax_version, interchange.reference) == ("UNOC", "3", "ACK0001")
    [message] = interchange.all_messages()
    assert str(message.type) == "CONTRL:D:3:UN"
    [uci] = segments(data, "UCI")
    assert uci.elements == ("IC0001", ("5412345000013", "14", "BUYERBOX"), ("5498765000014", "14"), "7")
    assert [s.elements for s in segments(data, "UCM")] == [("M1", ("ORDERS", "D", "96A", "UN", "EAN008"), "7")]


def test_contrl_names_each_rejected_message_with_its_segment_and_element() -> None:
    orders, receipt = read("orders_mixed_unoa.edi")
    assert [o.external_id for o in orders] == ["PO-100"]
    data = write_contrl(receipt, reference="ACK0002", prepared=PREPARED)
    golden("contrl_rejected.edi", data)
    the_interchange(data)
    # the interchange is acknowledged (messages 1 and 4 were taken), with its UNZ count error named
    [uci] = segments(data, "UCI")
    assert uci.elements == ("MIX42", ("BUYERCO", "ZZ"), ("SELLERCO", "ZZ"), "7", "29", "UNZ", "1")
    body = [s for s in tokenize(data) if s.tag in ("UCM", "UCS", "UCD")]
    assert [(s.tag, s.elements) for s in body] == [
        ("UCM", ("1", ("ORDERS", "D", "96A", "UN"), "7")),
        # QTY01.2 'ABC' at message segment 4: invalid type of characters (37)
        ("UCM", ("2", ("ORDERS", "D", "96A", "UN"), "4")),
        ("UCS", ("4",)),
        ("UCD", ("37", ("1", "2"))),
        # a wrong UNT count is a fault of the message envelope: on the UCM itself
        ("UCM", ("3", ("ORDERS", "D", "96A", "UN"), "4", "29", "UNT", "1")),
        ("UCM", ("4", ("INVOIC", "D", "96A", "UN"), "7")),  # not an order, but sound: acknowledged
    ]


def test_contrl_received_only() -> None:
    _, receipt = read("orders_mixed_unoa.edi")
    data = write_contrl(receipt, reference="ACK0003", prepared=PREPARED, received_only=True)
    golden("contrl_received.edi", data)
    the_interchange(data)
    assert [s.elements for s in segments(data, "UCI")] == [("MIX42", ("BUYERCO", "ZZ"), ("SELLERCO", "ZZ"), "8")]
    assert not segments(data, "UCM")


def test_contrl_rejects_an_interchange_whose_envelope_is_faulty_and_nothing_was_taken() -> None:
    text = ("UNB+UNOC:3+A:14+B:14+260105:0900+X1'UNH+1+ORDERS:D:96A:UN'BGM+220+P+9'UNT+3+1'"
            "UNH+2+ORDERS:D:96A:UN'BGM+220+P+9'LIN+1'QTY+21:1'UNT+4+2'")  # no line; a wrong count; no UNZ
    _, receipt = read(text.encode())
    data = write_contrl(receipt, reference="R", prepared=PREPARED)
    the_interchange(data)
    [uci] = segments(data, "UCI")
    assert uci.elements[3:] == ("4", "13", "UNZ")
    ucms = segments(data, "UCM")
    assert [u.elements[2] for u in ucms] == ["4", "4"]
    assert [s.elements for s in segments(data, "UCS")] == [("3", "13")]  # the missing LIN, where UNT stood


def test_contrl_reports_groups_with_ucf() -> None:
    text = ("UNB+UNOC:3+A:14+B:14+260105:0900+X1'UNG+ORDERS+APP-A+APP-B+260105:0900+G1+UN+D:96A'"
            "UNH+1+ORDERS:D:96A:UN'BGM+220+P+9'LIN+1'QTY+21:1'UNT+5+1'UNE+2+G1'UNZ+1+X1'")
    _, receipt = read(text.encode())
    data = write_contrl(receipt, reference="R", prepared=PREPARED)
    golden("contrl_group.edi", data)
    the_interchange(data)
    assert [(s.tag, s.elements) for s in tokenize(data) if s.tag in ("UCI", "UCF", "UCM")] == [
        ("UCI", ("X1", ("A", "14"), ("B", "14"), "7")),
        ("UCF", ("G1", "APP-A", "APP-B", "7", "29", "UNE", "1")),
        ("UCM", ("1", ("ORDERS", "D", "96A", "UN"), "7")),
    ]


def test_contrl_echoes_the_test_indicator_and_the_syntax_version() -> None:
    text = ("UNB+UNOB:4+A:14+B:14+20260105:0900+X1++++++1'UNH+1+ORDERS:D:96A:UN'BGM+220+P+9'LIN+1'"
            "QTY+21:1'UNT+5+1'UNZ+1+X1'")
    _, receipt = read(text.encode())
    interchange = the_interchange(write_contrl(receipt, reference="R", prepared=PREPARED))
    assert (interchange.syntax, interchange.syntax_version, interchange.test, interchange.date) == (
        "UNOB", "4", True, "20260105")


# ORDRSP


def full_order() -> CapturedOrder:
    [order], _ = read("orders_eancom_full.edi")
    return order


def test_ordrsp_accepted_without_amendment() -> None:
    order = full_order()
    decision = OrderDecision("accepted", order.external_id, "SO-000123", tuple(
        LineDecision(line.line_ref, "accepted", line.quantity, line.quantity, line.unit, line.unit_price)
        for line in order.lines))
    data = write_ordrsp(order, decision, reference="RSP0001", prepared=PREPARED)
    golden("ordrsp_accepted.edi", data)
    interchange = the_interchange(data)
    assert (interchange.sender.id, interchange.recipient.id) == ("5498765000014", "5412345000013")
    [message] = interchange.all_messages()
    assert str(message.type) == "ORDRSP:D:96A:UN"
    [bgm] = segments(data, "BGM")
    assert bgm.elements == ("231", "SO-000123", "29")
    assert [s.elements for s in segments(data, "RFF")] == [(("ON", "PO-4711"),)]
    assert [s.elements for s in segments(data, "NAD")] == [("BY", ("5412345000013", "", "9")),
                                                         ("SU", ("5498765000014", "", "9"))]
    lins = segments(data, "LIN")
    assert [(s.value(1), s.value(2), s.value(3)) for s in lins] == [("1", "5", "5400000000017"),
                                                                    ("2", "5", "5400000000024")]
    assert [s.elements for s in segments(data, "CNT")] == [(("2", "2"),)]
    assert [s.value(1, 2) for s in segments(data, "QTY")] == ["24", "24", "2.5", "2.5"]


def test_ordrsp_with_changed_backordered_and_rejected_lines() -> None:
    order = full_order()
    decision = OrderDecision("changed", order.external_id, "SO-000124", (
        LineDecision("1", "changed", Decimal(20), Decimal(24), "PCE", Decimal("9.50"), reason="pack of 20"),
        LineDecision("2", "backordered", Decimal("1.5"), Decimal("2.5"), "KGM",
                     reason="1,5 kg now; the rest in week 3 \N{EM DASH} désolé"),
    ), reason="Prices changed on 1 January")
    data = write_ordrsp(order, decision, reference="RSP0002", prepared=PREPARED)
    golden("ordrsp_changed.edi", data)
    the_interchange(data)
    assert segments(data, "BGM")[0].value(3) == "4"
    assert [s.value(2) for s in segments(data, "LIN")] == ["3", "3"]
    assert [(s.value(1, 1), s.value(1, 2)) for s in segments(data, "QTY")] == [
        ("21", "24"), ("113", "20"), ("21", "2.5"), ("113", "1.5"), ("83", "1.0")]
    texts = [s.value(4, 1) for s in segments(data, "FTX")]
    assert texts == ["Prices changed on 1 January", "pack of 20", "1,5 kg now; the rest in week 3 ? désolé"]
    assert [s.composite(1) for s in segments(data, "PRI")] == [("AAA", "9.50"), ("AAB", "12.345")]


def test_ordrsp_not_accepted_in_a_unoa_interchange() -> None:
    [order], _ = read("orders_mixed_unoa.edi")
    decision = OrderDecision("rejected", order.external_id, None, (
        LineDecision("1", "rejected", Decimal(0), Decimal(3), reason="Discontinued: no stock in Zürich"),),
        reason="We no longer sell art-1")
    data = write_ordrsp(order, decision, reference="RSP0003", prepared=PREPARED)
    golden("ordrsp_rejected.edi", data)
    the_interchange(data)
    assert segments(data, "BGM")[0].elements == ("231", "PO-100", "27")  # no order number: the buyer's
    # UNOA has no lower case and no accents: free text is fitted, ids are echoed as they came
    assert [s.value(4, 1) for s in segments(data, "FTX")] == ["WE NO LONGER SELL ART-1",
                                                              "DISCONTINUED: NO STOCK IN ZURICH"]
    assert [s.elements for s in segments(data, "NAD")] == [("BY", ("BUYERCO", "", "92")),
                                                         ("SU", ("SELLERCO", "", "ZZZ"))]
    assert [(s.value(1, 1), s.value(1, 2)) for s in segments(data, "QTY")] == [("21", "3")]
    assert not segments(data, "PRI")  # nothing is priced on a line that is not accepted
    assert segments(data, "LIN")[0].elements == ("1", "7")  # no GTIN; the supplier's number is in PIA
    assert [s.elements for s in segments(data, "PIA")] == [("5", ("ART-1", "SA"))]


def test_long_free_text_is_split_into_components() -> None:
    order = full_order()
    reason = "word " * 100
    decision = OrderDecision("rejected", order.external_id, None, (), reason=reason)
    [ftx] = segments(write_ordrsp(order, decision, reference="R", prepared=PREPARED), "FTX")
    text = ftx.composite(4)
    assert len(text) == 5 and all(len(part) <= 70 for part in text)
    assert "".join(text) == " ".join(reason.split())[:350]


def test_ordrsp_refuses_an_unknown_status() -> None:
    order = full_order()
    with pytest.raises(EdifactError, match="unknown order status"):
        write_ordrsp(order, OrderDecision("maybe", "PO-4711", None, ()), reference="R", prepared=PREPARED)
    with pytest.raises(EdifactError, match="unknown line status"):
        write_ordrsp(order, OrderDecision("changed", "PO-4711", "SO-1", (
            LineDecision("1", "perhaps", Decimal(1), Decimal(1)),)), reference="R", prepared=PREPARED)


def test_ordrsp_needs_the_interchange_the_order_came_in() -> None:
    order = full_order()
    bare = CapturedOrder(external_id=order.external_id, customer=order.customer, lines=order.lines)
    with pytest.raises(EdifactError, match="extra\\['interchange'\\]"):
        write_ordrsp(bare, OrderDecision("accepted", "PO-4711", "SO-1", ()), reference="R", prepared=PREPARED)


def test_the_writers_are_pure() -> None:
    order = full_order()
    decision = OrderDecision("accepted", order.external_id, "SO-1", ())
    assert write_ordrsp(order, decision, reference="R", prepared=PREPARED) == \
        write_ordrsp(order, decision, reference="R", prepared=PREPARED)
    _, receipt = read("orders_mixed_unoa.edi")
    assert write_contrl(receipt, reference="R", prepared=PREPARED) == \
        write_contrl(receipt, reference="R", prepared=PREPARED)
