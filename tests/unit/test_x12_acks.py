"""X12 acknowledgements: 997 and 855, compared byte for byte with golden files and read back by our reader.

The golden files (tests/golden/x12) were written once by these writers and checked by eye against the X12
997 and 855 layouts. After a deliberate change, rewrite them with CONVEYOR_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from conveyor.channels.capture.model import CapturedOrder, ItemRef, LineDecision, OrderDecision
from conveyor.channels.capture.x12_850 import capture_x12
from conveyor.channels.edi.x12 import Delimiters, Interchange, PartyId, X12Error, read_interchanges
from conveyor.channels.edi.x12.acks import (
    GroupAck,
    ReplyTo,
    acknowledge_group,
    functional_acknowledgment,
    purchase_order_acknowledgment,
)

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures" / "x12"
GOLDEN = TESTS / "golden" / "x12"
NOW = datetime(2024, 6, 3, 14, 30)


def read_fixture(name: str) -> tuple[list[CapturedOrder], list[GroupAck]]:
    acks: list[GroupAck] = []
    items = list(capture_x12((FIXTURES / name).read_bytes(), name=name, on_group=acks.append))
    return [item for item in items if isinstance(item, CapturedOrder)], acks


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CONVEYOR_UPDATE_GOLDEN"):
        path.write_bytes(text.encode())
    assert text.encode() == path.read_bytes(), f"{name} differs from the golden file"


def read_back(text: str) -> Interchange:
    [interchange] = read_interchanges(text)
    assert interchange.ok, [str(error) for error in interchange.all_errors()]
    return interchange


def body(interchange: Interchange) -> list[tuple[str, tuple[object, ...]]]:
    [group] = interchange.groups
    [transaction] = group.transactions
    return [(segment.tag, segment.elements) for segment in transaction.segments[1:-1]]


# -- 997 --------------------------------------------------------------------------------------------------


def test_a_997_accepting_a_group_goes_back_with_the_partners_delimiters() -> None:
    _, [ack] = read_fixture("po_two_orders.x12")
    text = functional_acknowledgment(ack, control_number=42, created_at=NOW, line_break="\n")
    assert_golden("997_accepted.x12", text)
    interchange = read_back(text)
    assert interchange.delimiters == Delimiters("|", "^", "~")
    assert (interchange.sender, interchange.receiver) == (PartyId("ZZ", "CONVEYOR"), PartyId("ZZ", "ACME"))
    assert (interchange.control_number, interchange.date, interchange.time) == ("000000042", "240603", "1430")
    [group] = interchange.groups
    assert (group.functional_id, group.sender_code, group.receiver_code, group.control_number, group.version) == (
        "FA", "CONVEYOR", "ACME", "42", "004010")
    assert group.transactions[0].set_id == "997"
    assert body(interchange) == [("AK1", ("PO", "1")), ("AK2", ("850", "0001")), ("AK5", ("A",)),
                                 ("AK2", ("850", "0002")), ("AK5", ("A",)), ("AK9", ("A", "2", "2", "2"))]


def test_a_997_rejects_broken_transactions_with_their_error_codes() -> None:
    _, [ack, invoices] = read_fixture("po_broken_group.x12")
    text = functional_acknowledgment(ack, control_number=43, created_at=NOW, line_break="\n")
    assert_golden("997_partly_accepted.x12", text)
    assert body(read_back(text)) == [
        ("AK1", ("PO", "1")),
        ("AK2", ("850", "0001")), ("AK5", ("A",)),
        ("AK2", ("850", "0002")), ("AK5", ("R", "4")),  # SE01 wrong
        ("AK2", ("850", "0003")),
        ("AK3", ("PO1", "3", "", "8")),
        ("AK4", ("2", "330", "6", "ten")), ("AK4", ("4", "212", "6", "9.x5")), ("AK4", ("7", "234", "2")),
        ("AK5", ("R", "5")),
        ("AK2", ("850", "0004")), ("AK3", ("BEG", "2", "", "3")), ("AK5", ("R", "5")),  # BEG missing
        ("AK9", ("P", "5", "4", "1", "5")),  # GE01 said 5 sets: code 5
    ]
    unsupported = functional_acknowledgment(invoices, control_number=44, created_at=NOW)
    assert body(read_back(unsupported)) == [("AK1", ("IN", "1")), ("AK2", ("810", "0001")), ("AK5", ("R", "1")),
                                            ("AK9", ("R", "1", "1", "0"))]


def test_the_997_reports_what_the_reader_found_where_it_found_it() -> None:
    text = (FIXTURES / "po_two_orders.x12").read_text()
    text = text.replace("N3|100 MAIN ST~", "N3|100 MAIN \udcff~")  # a byte that is not UTF-8
    text = text.replace("PID|F||||BLUE WIDGET~", "pid|F||||BLUE WIDGET~")  # not a segment tag
    text = text.replace("SE|5|0002", "SE|5|0003").replace("GE|2|1", "GE|2|7")
    [interchange] = read_interchanges(text.encode("utf-8", "surrogateescape"))
    ack = acknowledge_group(interchange, interchange.groups[0])
    assert [(t.accepted, t.codes, [(n.tag, n.position, n.code, [(e.position, e.code) for e in n.elements])
                                   for n in t.segments]) for t in ack.transactions] == [
        (False, ("5",), [("N3", 4, "8", [(1, "6")]), ("PID", 7, "1", [])]),
        (False, ("3",), []),
    ]
    assert (ack.status, ack.codes) == ("R", ("4",))


def test_ak1_names_the_version_only_from_005010_on() -> None:
    text = (FIXTURES / "po_two_orders.x12").read_text().replace("|X|004010~", "|X|005010~")
    [interchange] = read_interchanges(text)
    ack = acknowledge_group(interchange, interchange.groups[0])
    assert body(read_back(functional_acknowledgment(ack, control_number=1, created_at=NOW)))[0] == (
        "AK1", ("PO", "1", "005010"))


def test_a_group_whose_sender_cannot_be_addressed_cannot_be_acknowledged() -> None:
    text = (FIXTURES / "po_two_orders.x12").read_text().replace("GS|PO|ACME|", "GS|PO||")
    [interchange] = read_interchanges(text)
    ack = acknowledge_group(interchange, interchange.groups[0])
    with pytest.raises(X12Error, match="GS03 is 2 to 15 characters"):
        functional_acknowledgment(ack, control_number=1, created_at=NOW)


# -- 855 --------------------------------------------------------------------------------------------------


def decision_for(order: CapturedOrder, status: str, *lines: tuple[str, Decimal]) -> OrderDecision:
    return OrderDecision(status, order.external_id, None if status == "rejected" else "SO-000123", tuple(
        LineDecision(line.line_ref, line_status, quantity, line.quantity, line.unit, line.unit_price, line.item)
        for line, (line_status, quantity) in zip(order.lines, lines, strict=True)))


def test_an_855_accepting_every_line_echoes_the_buyers_lines() -> None:
    [order, _], _ = read_fixture("po_two_orders.x12")
    decision = decision_for(order, "accepted", ("accepted", Decimal(12)), ("accepted", Decimal(4)),
                            ("accepted", Decimal(1)))
    text = purchase_order_acknowledgment(order, decision, control_number=51, created_at=NOW, line_break="\n")
    assert_golden("855_accepted.x12", text)
    interchange = read_back(text)
    assert interchange.delimiters == Delimiters("|", "^", "~") and interchange.receiver == PartyId("ZZ", "ACME")
    assert interchange.groups[0].functional_id == "PR" and interchange.groups[0].transactions[0].set_id == "855"
    assert body(interchange) == [
        ("BAK", ("00", "AD", "PO-2001", "20240603", "", "", "", "SO-000123")),
        ("PO1", ("1", "12", "EA", "9.25", "", "VN", "WID-1", "UP", "012345678905")), ("ACK", ("IA", "12", "EA")),
        ("PO1", ("2", "4", "CS", "40", "", "BP", "B-9")), ("ACK", ("IA", "4", "CS")),
        ("PO1", ("3", "1", "EA", "5", "", "SK", "SKU-3")), ("ACK", ("IA", "1", "EA")),
        ("CTT", ("3",)),
    ]


def test_an_855_with_changes_says_which_line_changed_how() -> None:
    [order, _], _ = read_fixture("po_two_orders.x12")
    decision = decision_for(order, "changed", ("changed", Decimal(10)), ("backordered", Decimal(4)),
                            ("rejected", Decimal(0)))
    text = purchase_order_acknowledgment(order, decision, control_number=52, created_at=NOW, line_break="\n")
    assert_golden("855_changed.x12", text)
    acks = [elements for tag, elements in body(read_back(text)) if tag == "ACK"]
    assert acks == [("IQ", "10", "EA"), ("IB", "4", "CS"), ("IR", "1", "EA")]
    repriced = OrderDecision("changed", order.external_id, "SO-1", (
        LineDecision("1", "changed", Decimal(12), Decimal(12), "EA", Decimal("8.99"), ItemRef(vendor_item="WID-1")),))
    [po1, ack] = [segment for segment in body(read_back(purchase_order_acknowledgment(
        order, repriced, control_number=53, created_at=NOW))) if segment[0] in ("PO1", "ACK")]
    assert po1 == ("PO1", ("1", "12", "EA", "8.99", "", "VN", "WID-1", "UP", "012345678905"))
    assert ack == ("ACK", ("IP", "12", "EA"))


def test_a_rejected_order_gets_an_855_without_detail() -> None:
    [order, _], _ = read_fixture("po_two_orders.x12")
    decision = OrderDecision("rejected", order.external_id, None, (), reason="customer on credit hold")
    text = purchase_order_acknowledgment(order, decision, control_number=54, created_at=NOW, line_break="\n")
    assert_golden("855_rejected.x12", text)
    assert body(read_back(text)) == [("BAK", ("00", "RJ", "PO-2001", "20240603"))]


def test_an_855_needs_to_know_where_to_go() -> None:
    [order, _], _ = read_fixture("po_two_orders.x12")
    decision = decision_for(order, "accepted", ("accepted", Decimal(12)), ("accepted", Decimal(4)),
                            ("accepted", Decimal(1)))
    stray = CapturedOrder(order.external_id, order.customer, order.lines)
    with pytest.raises(X12Error, match="has no X12 reply address"):
        purchase_order_acknowledgment(stray, decision, control_number=1, created_at=NOW)
    reply = ReplyTo.from_dict(order.extra["x12_reply"])
    assert reply.as_dict() == order.extra["x12_reply"]
    elsewhere = ReplyTo(PartyId("01", "123456789"), PartyId("ZZ", "ACME"), "SELLER", "ACME", usage="T")
    interchange = read_back(purchase_order_acknowledgment(stray, decision, control_number=9, created_at=NOW,
                                                          reply=elsewhere))
    assert interchange.usage == "T" and interchange.delimiters == Delimiters()
    [po1] = [elements for tag, elements in body(interchange) if tag == "PO1"][:1]
    assert po1 == ("1", "12", "EA", "9.25", "", "VN", "WID-1", "UP", "012345678905")  # from the item


def test_values_holding_a_delimiter_are_refused_not_written_wrongly() -> None:
    [order, _], _ = read_fixture("po_two_orders.x12")
    decision = OrderDecision("accepted", "PO|2001", "SO-1", ())
    with pytest.raises(X12Error, match="contains the element separator"):
        purchase_order_acknowledgment(order, decision, control_number=1, created_at=NOW)
