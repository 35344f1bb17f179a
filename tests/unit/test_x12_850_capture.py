"""X12 850 capture on small documents written for these tests: the mapping, envelopes, rejections, streaming."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from conveyor.channels.capture.model import (
    Captured,
    CapturedLine,
    CapturedOrder,
    Control,
    Ignored,
    ItemRef,
    PartyRef,
    Rejected,
)
from conveyor.channels.capture.x12_850 import capture_x12
from conveyor.channels.edi.x12.acks import GroupAck

# A purchase order using most of what the mapping reads, written with '*' and '>' (x12() swaps delimiters).
ORDER = [
    "BEG*00*SA*PO-1001**20240603",
    "CUR*BY*USD",
    "REF*DP*042*HOUSEWARES",
    "DTM*002*20240620",
    "DTM*001*20240701",
    "MSG*DELIVER TO DOCK 4",
    "N1*BY*ACME STORES*92*0042",
    "N1*ST*ACME DC EAST*92*DC7",
    "N2*RECEIVING DEPT",
    "N3*100 MAIN ST*UNIT 5",
    "N4*SPRINGFIELD*IL*62701*USA",
    "PER*RE*JO SMITH*TE*2175550100",
    "N1*BT*ACME STORES HQ",
    "N3*1 HQ PLAZA",
    "N4*CHICAGO*IL*60601",
    "SAC*C*D240***1250",
    "PO1*1*12*EA*9.25**VN*WID-1*UP*012345678905*BP*B-77",
    "PID*F****BLUE WIDGET",
    "SAC*A*C310***300***0.25****02",
    "PO1*2*3.5*CS***SK*SKU-9*IN*I-9",
    "CTP**UCP*40",
    "PID*F*08***GADGET",
    "PID*F*73***RED",
    "NTE*GEN*GIFT WRAP",
    "PO1*3*1*EA*0**CB*CAT-3",
    "CTT*3",
]


def x12(*groups: list[list[str]] | tuple[str, list[list[str]]], isa13: str = "000000001", element: str = "*",
        component: str = ">", terminator: str = "~", version: str = "004010", sender: str = "ACME",
        set_id: str = "850", line_break: str = "\n", isa12: str = "00401") -> str:
    """One interchange; each group is a list of transaction bodies (or (set_id, bodies)), numbered from 1."""
    segments = [f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*CONVEYOR       *240603*1200*U*{isa12}*"
                f"{isa13}*0*P*>"]
    for number, group in enumerate(groups, start=1):
        kind, bodies = group if isinstance(group, tuple) else (set_id, group)
        segments.append(f"GS*{'IN' if kind == '810' else 'PO'}*{sender}*CONVEYOR*20240603*1200*{number}*X*{version}")
        for index, body in enumerate(bodies, start=1):
            st02 = f"{index:04d}"
            segments += [f"ST*{kind}*{st02}", *body, f"SE*{len(body) + 2}*{st02}"]
        segments.append(f"GE*{len(bodies)}*{number}")
    segments.append(f"IEA*{len(groups)}*{isa13}")
    table = str.maketrans({"*": element, ">": component})
    return (terminator + line_break).join(segment.translate(table) for segment in segments) + terminator


def captured(text: str | bytes, encoding: str = "utf-8") -> list[Captured]:
    return list(capture_x12(text, name="po.x12", encoding=encoding))


def only_order(text: str | bytes) -> CapturedOrder:
    [order] = captured(text)
    assert isinstance(order, CapturedOrder), order
    return order


def with_segment(old: str, new: str | None) -> list[str]:
    """ORDER with the segment starting with `old` replaced (or dropped when `new` is None)."""
    body = [segment for segment in ORDER]
    index = next(number for number, segment in enumerate(body) if segment.startswith(old))
    if new is None:
        del body[index]
    else:
        body[index] = new
    return body


# -- the mapping ------------------------------------------------------------------------------------------


def test_a_purchase_order_is_captured_with_what_the_document_says() -> None:
    order = only_order(x12([ORDER]))
    assert order.external_id == "PO-1001"
    assert order.customer == PartyRef(partner_id="ZZ:ACME", name="ACME STORES")
    assert order.currency == "USD"
    assert order.requested_delivery_date == date(2024, 6, 20)
    assert order.ship_to == {"name": "ACME DC EAST", "company": "RECEIVING DEPT", "line1": "100 MAIN ST",
                             "line2": "UNIT 5", "city": "SPRINGFIELD", "region": "IL", "postal_code": "62701",
                             "country": "US", "phone": "2175550100"}
    assert order.bill_to == {"name": "ACME STORES HQ", "line1": "1 HQ PLAZA", "city": "CHICAGO", "region": "IL",
                             "postal_code": "60601"}  # no N404: no country invented
    assert order.shipping == Decimal("12.50")  # SAC05 is N2: 1250 is 12.50
    assert order.notes == "DELIVER TO DOCK 4\nline 2: GIFT WRAP"
    assert order.lines == (
        CapturedLine(ItemRef(vendor_item="WID-1", gtin="012345678905", buyer_item="B-77", description="BLUE WIDGET"),
                     Decimal("12"), Decimal("9.25"), "EA", discount=Decimal("3.00"), line_ref="1",
                     where="segment 20 (PO1)"),
        CapturedLine(ItemRef(sku="SKU-9", buyer_item="I-9", description="GADGET (RED)"), Decimal("3.5"),
                     Decimal("40"), "CS", line_ref="2", where="segment 23 (PO1)"),  # price from CTP*UCP
        CapturedLine(ItemRef(buyer_item="CAT-3"), Decimal("1"), Decimal("0"), "EA", line_ref="3",
                     where="segment 28 (PO1)"),
    )
    assert order.extra["po_date"] == "20240603" and order.extra["purpose"] == "00"
    assert order.extra["references"] == [["DP", "042", "HOUSEWARES"]]
    assert order.extra["dates"] == {"002": "2024-06-20", "001": "2024-07-01"}
    assert order.extra["parties"]["ST"] == {"name": "ACME DC EAST", "qualifier": "92", "id": "DC7"}
    assert order.extra["line_ids"][0] == [("VN", "WID-1"), ("UP", "012345678905"), ("BP", "B-77")]
    assert order.extra["x12_reply"]["receiver"] == "ZZ:ACME" and order.extra["x12_reply"]["sender"] == "ZZ:CONVEYOR"


def test_where_and_control_name_the_envelope_and_the_segments() -> None:
    order = only_order(x12([ORDER], isa13="000000123"))
    assert order.where == "po.x12: interchange 000000123, group 1, transaction 0001 (segments 3-30)"
    assert order.control == Control("x12", sender="ZZ:ACME", receiver="ZZ:CONVEYOR", interchange="000000123",
                                    group="1", transaction="0001", message_type="850", version="004010")


def test_several_interchanges_groups_and_transactions_in_one_file() -> None:
    second = with_segment("BEG", "BEG*00*SA*PO-1002**20240603")
    text = x12([ORDER, second], [second], isa13="000000001") + x12([ORDER], isa13="000000002", sender="OTHER")
    items = captured(text)
    assert [(item.external_id, item.control.key()) for item in items if isinstance(item, CapturedOrder)
            and item.control] == [
        ("PO-1001", "x12|ZZ:ACME|ZZ:CONVEYOR|000000001|1|0001|"),
        ("PO-1002", "x12|ZZ:ACME|ZZ:CONVEYOR|000000001|1|0002|"),
        ("PO-1002", "x12|ZZ:ACME|ZZ:CONVEYOR|000000001|2|0001|"),
        ("PO-1001", "x12|ZZ:OTHER|ZZ:CONVEYOR|000000002|1|0001|"),
    ]
    assert len({item.where for item in items}) == 4


@pytest.mark.parametrize(("element", "component", "terminator", "line_break"), [
    ("|", "^", "~", ""), ("*", ":", "\n", ""), ("\x7f", ">", "\x15", "\r\n"), ("+", ":", "'", "\n"),
])
def test_any_delimiters_give_the_same_order(element: str, component: str, terminator: str, line_break: str) -> None:
    usual = only_order(x12([ORDER]))
    odd = only_order(x12([ORDER], element=element, component=component, terminator=terminator,
                         line_break=line_break))
    assert (odd.lines, odd.ship_to, odd.external_id, odd.shipping) == (usual.lines, usual.ship_to, "PO-1001",
                                                                       usual.shipping)
    assert odd.extra["x12_reply"]["delimiters"] == element + component + terminator


def test_wrapped_lines_give_the_same_order() -> None:
    text = x12([ORDER], line_break="")
    wrapped = "\r\n".join(text[start:start + 80] for start in range(0, len(text), 80))
    assert only_order(wrapped).lines == only_order(text).lines


@pytest.mark.parametrize("version", ["004030", "004010VICS", "004030VICS", "004010UCS"])
def test_other_versions_are_read_alike(version: str) -> None:
    order = only_order(x12([ORDER], version=version, isa12="00403"))
    assert order.control is not None and order.control.version == version
    assert order.extra["x12_reply"]["version"] == version and len(order.lines) == 3


def test_requested_delivery_date_falls_back_to_ship_dates_then_to_the_lines() -> None:
    ship = with_segment("DTM*002", "DTM*010*20240615")
    order = only_order(x12([ship]))
    assert order.requested_delivery_date == date(2024, 6, 15)
    assert order.extra["requested_delivery_date_source"] == "DTM*010"
    lines = with_segment("DTM*002", None)
    lines.insert(lines.index("PID*F****BLUE WIDGET"), "DTM*002*20240625")
    order = only_order(x12([lines]))
    assert order.requested_delivery_date == date(2024, 6, 25)
    assert order.extra["requested_delivery_date_source"] == "DTM*002 of the lines"


def test_allowances_and_charges_that_are_not_simple_are_kept_not_applied() -> None:
    body = with_segment("SAC*A*C310", "SAC*A*F800****Z*10*****02***PROMO")
    body.insert(1, "SAC*A*E750***80*******02***NEW STORE")
    order = only_order(x12([body]))
    assert order.lines[0].discount == 0 and order.shipping == Decimal("12.50")
    assert [(kept["code"], kept.get("amount"), kept.get("percent"), kept.get("line"))
            for kept in order.extra["allowances_charges"]] == [("E750", "0.80", None, None), ("F800", None, "10", "1")]


def test_replacement_orders_are_tagged_and_cancellations_ignored() -> None:
    assert only_order(x12([with_segment("BEG", "BEG*05*SA*PO-1001**20240603")])).tags == ("x12:replace",)
    [item] = captured(x12([with_segment("BEG", "BEG*01*SA*PO-1001**20240603")]))
    assert isinstance(item, Ignored) and "BEG01 is '01' (cancellation)" in item.reason and "PO-1001" in item.reason


# -- rejections -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "code", "reason"), [
    ("BEG", None, "missing_segment", "the 850 has no BEG segment"),
    ("BEG", "BEG*00*SA***20240603", "missing_element",
     "BEG03 (purchase order number) in segment 4 (number 2 in its transaction) must be present (mandatory), found ''"),
    ("BEG", "BEG*00*SA*PO-1001**20240631", "invalid_element",
     "BEG05 (purchase order date) in segment 4 (number 2 in its transaction) must be a date CCYYMMDD, found "
     "'20240631'"),
    ("PO1*1", "PO1*1*ten*EA*9.25**VN*WID-1", "invalid_element",
     "PO102 (quantity ordered) in segment 20 (number 18 in its transaction) must be a quantity greater than zero, "
     "found 'ten'"),
    ("PO1*1", "PO1*1*0*EA*9.25**VN*WID-1", "invalid_quantity", "must be a quantity greater than zero, found '0'"),
    ("PO1*1", "PO1*1**EA*9.25**VN*WID-1", "missing_element", "PO102 (quantity ordered)"),
    ("PO1*1", "PO1*1*12*EA*9,25**VN*WID-1", "invalid_element",
     "PO104 (unit price) in segment 20 (number 18 in its transaction) must be a unit price of zero or more, "
     "found '9,25'"),
    ("PO1*1", "PO1*1*12*EA*9.25**VN", "missing_element", "PO107 (product id) in segment 20 (number 18 in its "
                                                          "transaction) must be present, as PO106 is 'VN'"),
    ("PO1*1", "PO1*1*12*EA*9.25***WID-1", "missing_element", "PO106 (product id qualifier)"),
    ("DTM*002", "DTM*002*2024-06-20", "invalid_element", "DTM02 (date)"),
    ("SAC*C", "SAC*C*D240***12.50.0", "invalid_element", "SAC05 (amount)"),
])
def test_a_broken_purchase_order_is_rejected_with_a_precise_reason(old: str, new: str | None, code: str,
                                                                   reason: str) -> None:
    [item] = captured(x12([with_segment(old, new)]))
    assert isinstance(item, Rejected), item
    assert item.code == code and reason in item.reason, item.reason
    assert item.where.startswith("po.x12: interchange 000000001, group 1, transaction 0001 (segments 3-")


def test_an_850_without_lines_is_rejected() -> None:
    body = [segment for segment in ORDER if not segment.startswith(("PO1", "PID", "CTP", "NTE", "SAC*A"))]
    [item] = captured(x12([body]))
    assert isinstance(item, Rejected) and item.code == "missing_segment" and item.external_id == "PO-1001"
    assert "the 850 has no PO1 segment (line item): expected at least one before SE in segment" in item.reason


def test_a_broken_transaction_is_rejected_and_the_good_one_next_to_it_captured() -> None:
    text = x12([ORDER, with_segment("BEG", "BEG*00*SA*PO-1002**20240603")])
    broken = text.replace("SE*28*0002", "SE*29*0002")
    first, second = captured(broken)
    assert isinstance(first, CapturedOrder) and first.external_id == "PO-1001"
    assert isinstance(second, Rejected) and second.code == "x12_syntax" and second.external_id == "PO-1002"
    assert "SE01 gives '29' segments, but there are 28" in second.reason


def test_other_transaction_sets_are_ignored() -> None:
    invoice = ["BIG*20240603*INV-1**PO-1001", "IT1*1*12*EA*9.25**VN*WID-1", "TDS*11100"]
    change = ["BCH*04*SA*PO-1001**20240603", "POC*1*CA*12*10*EA*9.25**VN*WID-1"]
    items = captured(x12(("810", [invoice]), [ORDER], ("860", [change])))
    assert [type(item) for item in items] == [Ignored, CapturedOrder, Ignored]
    assert isinstance(items[0], Ignored) and "transaction set 810 (an invoice) is not an 850" in items[0].reason
    assert isinstance(items[2], Ignored) and "change the order by hand" in items[2].reason
    assert items[0].control is not None and items[0].control.message_type == "810"


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "the input is empty"),
    (b'{"orders": []}', "expected an ISA segment, found '{\"orders\": []}'"),
    ("ISA*00*".encode("cp037") + b"\x40" * 200, "the input looks EBCDIC-encoded, read it with encoding='cp037'"),
])
def test_what_is_not_x12_is_one_rejection(data: bytes, reason: str) -> None:
    [item] = captured(data)
    assert isinstance(item, Rejected) and item.code == "not_x12" and reason in item.reason


def test_an_ebcdic_document_is_read_with_its_encoding() -> None:
    data = x12([ORDER], line_break="").encode("cp037")
    [rejected] = captured(data)
    assert isinstance(rejected, Rejected)
    [order] = captured(data, encoding="cp037")
    assert isinstance(order, CapturedOrder) and order.external_id == "PO-1001"


def test_a_broken_interchange_envelope_is_rejected_before_the_sound_orders_in_it() -> None:
    text = x12([ORDER]).replace("IEA*1*000000001", "IEA*2*000000001")
    envelope, order = captured(text)
    assert isinstance(envelope, Rejected) and envelope.code == "x12_envelope"
    assert envelope.where == "po.x12: interchange 000000001" and "IEA01 gives '2' groups, but there are 1" in \
        envelope.reason
    assert isinstance(order, CapturedOrder)
    truncated = x12([ORDER, ORDER]).split("SE*28*0002")[0]
    envelope, group, order, cut = captured(truncated)
    assert isinstance(envelope, Rejected) and "ISA '000000001' (segment 1) has no IEA" in envelope.reason
    assert isinstance(group, Rejected) and group.where == "po.x12: interchange 000000001, group 1"
    assert "GS '1' (segment 2) has no GE" in group.reason and group.code == "x12_envelope"
    assert isinstance(order, CapturedOrder) and isinstance(cut, Rejected) and "has no SE" in cut.reason


def test_empty_envelopes_are_listed_as_ignored() -> None:
    [item] = captured(x12())
    assert isinstance(item, Ignored) and item.reason == "the interchange holds no functional group"
    [item] = captured(x12([]))
    assert isinstance(item, Ignored) and item.reason == "the functional group holds no transaction set"


def test_the_997_summary_of_each_group_comes_after_its_items() -> None:
    events: list[str | GroupAck] = []
    broken = x12([ORDER, with_segment("PO1*1", "PO1*1*ten*EA")], [ORDER])
    for item in capture_x12(broken, name="po.x12", on_group=events.append):
        events.append(type(item).__name__)
    assert [event if isinstance(event, str) else (event.status, event.control_number) for event in events] == [
        "CapturedOrder", "Rejected", ("P", "1"), "CapturedOrder", ("A", "2")]
    summary = events[2]
    assert isinstance(summary, GroupAck)
    assert [(t.accepted, t.codes, [(n.tag, n.position, n.code) for n in t.segments]) for t in summary.transactions] \
        == [(True, (), []), (False, ("5",), [("PO1", 18, "8")])]


# -- streaming --------------------------------------------------------------------------------------------


def chunks(interchanges: int, consumed: list[int]) -> Iterator[bytes]:
    for number in range(1, interchanges + 1):
        consumed[0] = number
        yield x12([ORDER], isa13=f"{number:09d}").encode()


def test_capture_streams_one_interchange_at_a_time_in_memory_that_does_not_grow() -> None:
    consumed = [0]
    items = capture_x12(chunks(100_000, consumed), name="big.x12")
    first = next(items)
    assert isinstance(first, CapturedOrder) and consumed[0] <= 3  # read lazily: the next ISA ends an interchange

    def peak(interchanges: int) -> tuple[int, int]:
        tracemalloc.start()
        count = sum(1 for _ in capture_x12(chunks(interchanges, [0]), name="big.x12"))
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return count, size

    small, large = peak(50), peak(1500)  # about 60 KB and 1.8 MB of X12
    assert small[0] == 50 and large[0] == 1500
    assert large[1] < small[1] + 256 * 1024, (small, large)
