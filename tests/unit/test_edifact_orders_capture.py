"""EDIFACT ORDERS capture (conveyor.channels.capture.edifact_orders) on small documents written here."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from conveyor.channels.capture.edifact_orders import capture_edifact
from conveyor.channels.capture.model import Captured, CapturedOrder, Ignored, Rejected
from conveyor.channels.edi.edifact.receipt import InterchangeReceipt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edifact"
ORDER = ("BGM+220+PO1+9", "DTM+137:20260105:102", "NAD+BY+5412345000013::9", "LIN+1++5400000000017:EN",
         "QTY+21:5", "UNS+S")


def message(reference: str, *body: str, kind: str = "ORDERS:D:96A:UN:EAN008", count: int | None = None) -> str:
    """UNH, `body` and a UNT counting them (or stating `count`)."""
    segments = [f"UNH+{reference}+{kind}", *body]
    return "'".join(segments) + f"'UNT+{count if count is not None else len(segments) + 1}+{reference}'"


def interchange(*messages: str, reference: str = "IC1", syntax: str = "UNOC:3", una: str = "",
                sender: str = "5412345000013:14", recipient: str = "5498765000014:14", unz: bool = True,
                encoding: str = "latin-1") -> bytes:
    text = f"{una}UNB+{syntax}+{sender}+{recipient}+260105:0830+{reference}'" + "".join(messages)
    if unz:
        text += f"UNZ+{len(messages)}+{reference}'"
    return text.encode(encoding)


def capture(data: bytes, name: str = "test.edi") -> list[Captured]:
    return list(capture_edifact(data, name=name))


def only_order(data: bytes) -> CapturedOrder:
    [item] = capture(data)
    assert isinstance(item, CapturedOrder), item
    return item


def only_rejection(data: bytes) -> Rejected:
    [item] = capture(data)
    assert isinstance(item, Rejected), item
    return item


# the mapping


def test_a_full_eancom_order_maps_every_field() -> None:
    receipts: list[InterchangeReceipt] = []
    data = (FIXTURES / "orders_eancom_full.edi").read_bytes()
    [order] = capture_edifact(data, name="full.edi", on_receipt=receipts.append)
    assert isinstance(order, CapturedOrder)
    assert order.external_id == "PO-4711"
    assert order.customer.partner_id == "14:5412345000013"
    assert (order.customer.name, order.customer.phone, order.customer.email) == (
        "Buyer Retail NV", "003292000000", "orders@buyer.example")
    assert order.currency == "EUR"
    assert order.requested_delivery_date == date(2026, 1, 12)
    assert order.ordered_at == datetime(2026, 1, 5, 8, 30)
    assert order.notes == "Ring the bell: gate 3 please call ahead"  # the release character kept the ':'
    assert order.shipping == Decimal("12.50")  # ALC+C...FC with MOA+23, comma decimal mark
    assert order.ship_to == {"name": "Els Smet", "company": "Buyer Store Gent", "line1": "Dok Noord 7",
                             "line2": "Unit 4", "city": "Gent", "postal_code": "9000", "country": "BE",
                             "phone": "003292000001"}
    assert order.bill_to == {"name": "Buyer Retail NV Finance", "line1": "Postbus 12", "city": "Brussel",
                             "postal_code": "1000", "country": "BE"}
    first, second = order.lines
    assert (first.line_ref, first.item.gtin, first.item.vendor_item, first.item.buyer_item,
            first.item.description) == ("1", "5400000000017", "ART-17", "B-17", "Blue widget")
    assert (first.quantity, first.unit, first.unit_price, first.discount) == (
        Decimal(24), "PCE", Decimal(10), Decimal(0))
    assert first.where == "segment 21 (LIN)"
    # a gross price per 100 (5284), allowances as the line discount, the TAX group's MOA+124 as its tax; the
    # QTY after LOC is a delivery split, not the ordered quantity
    assert (second.quantity, second.unit, second.unit_price) == (Decimal("2.5"), "KGM", Decimal("12.345"))
    assert (second.discount, second.tax) == (Decimal("1.50"), Decimal("6.48"))
    assert order.extra["lines"] == {"1": {"amounts": {"203": "240.00"}}, "2": {"notes": ["fragile"]}}
    assert order.extra["references"] == {"CT": "CONTRACT-9"}
    assert order.extra["totals"] == {"79": "270.86"}
    assert order.extra["parties"]["DP"]["partner_id"] == "14:5412345000099"
    assert order.extra["parties"]["BY"]["references"] == {"VA": "BE0123456789"}
    assert order.extra["response_type"] == "AB"
    assert order.extra["interchange"] == {
        "sender": {"id": "5412345000013", "qualifier": "14", "routing": "BUYERBOX"},
        "recipient": {"id": "5498765000014", "qualifier": "14", "routing": ""},
        "syntax": "UNOC", "syntax_version": "3", "test": False}
    assert order.where == "full.edi: interchange IC0001, message M1 (segments 2-41)"
    control = order.control
    assert control is not None
    assert (control.standard, control.sender, control.receiver, control.interchange, control.group,
            control.transaction, control.message_type, control.version) == (
        "edifact", "14:5412345000013", "14:5498765000014", "IC0001", None, "M1", "ORDERS:D:96A:UN:EAN008", "UNOC:3")
    [receipt] = receipts
    assert receipt.reference == "IC0001" and [m.reference for m in receipt.accepted] == ["M1"]


def test_with_and_without_una_the_same_order_is_read() -> None:
    plain = interchange(message("1", *ORDER))
    advised = interchange(message("1", *ORDER), una="UNA:+.? '")
    other = interchange(message("1", *ORDER), una="UNA|*.# \n").replace(b"+", b"*").replace(b":", b"|")
    orders = [only_order(data) for data in (plain, advised, other.replace(b"'", b"\n"))]
    assert {(o.external_id, o.lines[0].quantity, o.lines[0].item.gtin) for o in orders} == {
        ("PO1", Decimal(5), "5400000000017")}


def test_the_release_character_keeps_service_characters_as_data() -> None:
    order = only_order(interchange(message("1", "BGM+220+PO?+1?:A?'B??+9", "NAD+BY+5412345000013::9",
                                           "LIN+1++ART?+7:SA", "QTY+21:5")))
    assert order.external_id == "PO+1:A'B?"
    assert order.lines[0].item.vendor_item == "ART+7"


@pytest.mark.parametrize(("syntax", "name", "encoding"), [
    ("UNOA:3", "ACME STORES (NORTH)", "ascii"),
    ("UNOB:3", "Acme stores_north", "ascii"),
    ("UNOC:3", "Épicerie Müller", "latin-1"),
    ("UNOW:4", "Épicerie Müller €", "utf-8"),
    ("UNOY:4", "Магазин", "utf-8"),
])
def test_each_syntax_level_reads_its_own_characters(syntax: str, name: str, encoding: str) -> None:
    body = ("BGM+220+PO1+9", f"NAD+BY+5412345000013::9++{name}", "LIN+1++5400000000017:EN", "QTY+21:5")
    order = only_order(interchange(message("1", *body), syntax=syntax, encoding=encoding))
    assert order.customer.name == name


def test_a_character_outside_the_syntax_level_rejects_its_message_only() -> None:
    body = ("BGM+220+PO1+9", "NAD+BY+5412345000013::9++Acme lowercase", "LIN+1++5400000000017:EN", "QTY+21:5")
    rejected, order = capture(interchange(message("1", *body), message("2", *ORDER), syntax="UNOA:3"))
    assert isinstance(rejected, Rejected) and rejected.code == "character_not_allowed"
    assert "'c' is not allowed in UNOA" in rejected.reason and "segment 4" in rejected.reason
    assert isinstance(order, CapturedOrder) and order.control and order.control.transaction == "2"


@pytest.mark.parametrize("una", ["UNA:+,? '", ""])  # EANCOM allows either mark whatever UNA says
def test_comma_decimal_marks(una: str) -> None:
    body = ("BGM+220+PO1+9", "LIN+1++5400000000017:EN", "QTY+21:2,5:KGM", "PRI+AAA:1,25", "MOA+203:3,13")
    [line] = only_order(interchange(message("1", *body), una=una)).lines
    assert (line.quantity, line.unit, line.unit_price) == (Decimal("2.5"), "KGM", Decimal("1.25"))


def test_several_messages_and_interchanges_come_out_in_document_order() -> None:
    first = interchange(message("1", *ORDER), message("2", "BGM+220+PO2+9", *ORDER[1:]), reference="A")
    second = interchange(message("9", "BGM+220+PO3+9", *ORDER[1:]), reference="B")
    items = capture(first + b"\r\n" + second)
    assert [(i.external_id, i.control and i.control.interchange) for i in items if isinstance(i, CapturedOrder)] \
        == [("PO1", "A"), ("PO2", "A"), ("PO3", "B")]
    assert items[2].where == "test.edi: interchange B, message 9 (segments 20-27)"


def test_groups_name_the_group_in_where_and_control() -> None:
    text = ("UNB+UNOC:3+SENDER+RECEIVER+260105:0830+IC1'UNG+ORDERS+APPSEND+APPRECV+260105:0830+G7+UN+D:96A'"
            + message("1", *ORDER) + "UNE+1+G7'UNZ+1+IC1'")
    order = only_order(text.encode())
    assert order.control and order.control.group == "G7" and order.control.sender == "SENDER"
    assert order.where == "test.edi: interchange IC1, group G7, message 1 (segments 3-10)"


def test_every_line_is_read_in_a_message_of_many_lines() -> None:
    body = ["BGM+220+BIG+9"] + [s for n in range(1, 501) for s in (f"LIN+{n}++{n:013d}:EN", f"QTY+21:{n}")]
    order = only_order(interchange(message("1", *body, "UNS+S", f"CNT+2:{500}")))
    assert [line.quantity for line in order.lines] == [Decimal(n) for n in range(1, 501)]
    assert order.lines[-1].line_ref == "500" and order.lines[-1].item.gtin == f"{500:013d}"


# parties, items and dates


@pytest.mark.parametrize(("nad", "partner_id"), [
    ("NAD+BY+5412345000013::9", "14:5412345000013"),  # GS1 agency: the UNB qualifier of a GLN
    ("NAD+BY+123456789::16", "1:123456789"),  # DUNS
    ("NAD+BY+C-77::92", "92:C-77"),  # assigned by the buyer
    ("NAD+BY+C-77::ZZZ", "ZZ:C-77"),  # mutually defined
    ("NAD+BY+C-77", "C-77"),  # no agency: the id alone
    ("NAD+BY+++Someone", "14:5412345000013"),  # no id: the interchange sender (UNB02)
])
def test_the_partner_id_comes_from_nad_by_else_from_the_sender(nad: str, partner_id: str) -> None:
    body = ("BGM+220+PO1+9", nad, "LIN+1++5400000000017:EN", "QTY+21:5")
    assert only_order(interchange(message("1", *body))).customer.partner_id == partner_id


def test_a_sender_without_qualifier_is_its_id_alone() -> None:
    body = ("BGM+220+PO1+9", "LIN+1++5400000000017:EN", "QTY+21:5")
    order = only_order(interchange(message("1", *body), sender="SENDERID"))
    assert order.customer.partner_id == "SENDERID" and order.control and order.control.sender == "SENDERID"


@pytest.mark.parametrize(("lin", "pia", "expected"), [
    ("LIN+1++5400000000017:EN", "PIA+1+ART-1:SA+B-1:IN", ("5400000000017", "ART-1", "B-1")),
    ("LIN+1++05400000000017:SRV", "PIA+1+ART-1:VN+B-1:BP", ("05400000000017", "ART-1", "B-1")),
    ("LIN+1", "PIA+5+ART-1:SA", (None, "ART-1", None)),
    ("LIN+1++ART-1:SA", "PIA+1+5400000000017:EN", ("5400000000017", "ART-1", None)),
    ("LIN+1++M-9:MF", "", (None, None, "M-9")),  # other kinds: for the partner's item mapping
])
def test_item_numbers_by_kind(lin: str, pia: str, expected: tuple[str | None, ...]) -> None:
    body = ["BGM+220+PO1+9", lin, pia, "QTY+21:1"]
    [line] = only_order(interchange(message("1", *[s for s in body if s]))).lines
    assert (line.item.gtin, line.item.vendor_item, line.item.buyer_item) == expected


@pytest.mark.parametrize(("dates", "expected"), [
    (("DTM+2:20260112:102", "DTM+64:20260110:102"), date(2026, 1, 12)),
    (("DTM+64:20260110:102", "DTM+63:20260115:102"), date(2026, 1, 10)),
    (("DTM+69:202601091200:203",), date(2026, 1, 9)),
    (("DTM+2:20260112-20260114:718",), date(2026, 1, 12)),
    (("DTM+63:20260115:102",), None),  # the latest date only: kept in extra, no requested date
])
def test_the_requested_delivery_date(dates: tuple[str, ...], expected: date | None) -> None:
    body = ("BGM+220+PO1+9", *dates, "LIN+1++5400000000017:EN", "QTY+21:5")
    order = only_order(interchange(message("1", *body)))
    assert order.requested_delivery_date == expected


def test_a_discrete_quantity_serves_when_there_is_no_ordered_quantity() -> None:
    body = ("BGM+220+PO1+9", "LIN+1++5400000000017:EN", "QTY+1:7", "QTY+59:12")  # QTY+59: units per pack
    assert only_order(interchange(message("1", *body))).lines[0].quantity == Decimal(7)


def test_copies_and_duplicates_are_captured_with_a_tag() -> None:
    body = ("BGM+220+PO1+7", *ORDER[1:])
    assert only_order(interchange(message("1", *body))).tags == ("edifact:duplicate",)


# rejections


REJECTIONS = [
    # (body, code, words the reason must hold)
    (("DTM+137:20260105:102", "BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:1"), "missing_segment",
     ["must start with BGM", "expected 'BGM'", "found 'DTM'", "message segment 2"]),
    ((), "missing_segment", ["no BGM", "[UNT segment 3 (message segment 2)"]),
    (("BGM+220+PO1+9", "NAD+BY+5412345000013::9", "UNS+S"), "missing_segment",
     ["no line", "expected 'LIN'", "[UNT segment 6 (message segment 5)"]),
    (("BGM+220++9", "LIN+1++1:EN", "QTY+21:1"), "missing_element", ["BGM02", "document number"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:abc"), "invalid_number",
     ["QTY01.2", "ordered quantity is not a number", "found 'abc'", "QTY segment 5 (message segment 4)"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:0"), "invalid_quantity", ["QTY01.2", "greater than zero", "'0'"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:-3"), "invalid_quantity", ["'-3'"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21"), "invalid_quantity", ["QTY01.2", "found ''"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:1", "LIN+2++2:EN", "PRI+AAA:1"), "missing_segment",
     ["no ordered quantity", "no QTY+21 in line 2", "LIN segment 6"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:1", "PRI+AAA:12.x"), "invalid_number",
     ["PRI01.2", "the price is not a number", "'12.x'"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:1", "QTY+21:2"), "repeated_segment", ["second QTY+21"]),
    (("BGM+220+PO1+9", "DTM+2:20261345:102", "LIN+1++1:EN", "QTY+21:1"), "invalid_date",
     ["DTM01.2", "'20261345'", "format 102"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:1", "UNS+S", "CNT+2:3"), "count_mismatch",
     ["CNT01.2", "expected '1'", "found '3'"]),
    (("BGM+220+PO1+1", "LIN+1++1:EN", "QTY+21:1"), "unsupported_message_function", ["BGM03", "found '1'"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:1", "BGM+220+PO2+9"), "repeated_segment", ["BGM may appear only once"]),
    (("BGM+220+PO1+9", "LIN+1++1:EN", "QTY+21:1", "UNS+S", "LIN+2++2:EN"), "unexpected_segment", ["LIN after UNS"]),
]


@pytest.mark.parametrize(("body", "code", "words"), REJECTIONS)
def test_a_broken_order_is_rejected_with_a_precise_reason(body: tuple[str, ...], code: str, words: list[str]) -> None:
    receipts: list[InterchangeReceipt] = []
    items = list(capture_edifact(interchange(message("M1", *body), message("M2", *ORDER)), name="po.edi",
                                 on_receipt=receipts.append))
    rejected, good = items
    assert isinstance(rejected, Rejected) and rejected.code == code
    for word in words:
        assert word in rejected.reason
    assert rejected.where.startswith("po.edi: interchange IC1, message M1 (segments 2-")
    assert rejected.control and rejected.control.transaction == "M1"
    assert isinstance(good, CapturedOrder) and good.external_id == "PO1"  # the next message is still captured
    [receipt] = receipts
    assert [m.accepted for m in receipt.messages] == [False, True]
    assert receipt.messages[0].faults[0].code == code


def test_a_rejected_order_names_its_order_number() -> None:
    rejected = only_rejection(interchange(message("1", "BGM+220+PO9+9", "LIN+1++1:EN", "QTY+21:x")))
    assert rejected.external_id == "PO9"


@pytest.mark.parametrize(("text", "code", "words"), [
    (message("1", *ORDER, count=99), "count_mismatch", ["UNT01", "expected '8'", "found '99'"]),
    (message("1", *ORDER).replace("UNT+8+1", "UNT+8+2"), "reference_mismatch", ["UNT02", "expected '1'"]),
    ("UNH+1+ORDERS:D:96A:UN:EAN008'" + "'".join(ORDER) + "'", "missing_trailer", ["has no UNT"]),
    ("UNH+1+ORDERS'" + "'".join(ORDER) + "'UNT+8+1'", "missing_element", ["UNH02.2"]),
    (message("1", "BGM+220+PO1+9", "LI\x01N+1", "QTY+21:1"), "character_not_allowed",
     ["'\\x01' is not allowed in UNOC"]),
])
def test_envelope_and_syntax_errors_reject_the_message(text: str, code: str, words: list[str]) -> None:
    items = capture(interchange(text) + interchange(message("2", *ORDER), reference="IC2"))
    rejected = items[0]
    assert isinstance(rejected, Rejected) and rejected.code == code, rejected
    for word in words:
        assert word in rejected.reason
    assert isinstance(items[-1], CapturedOrder)


def test_non_orders_messages_are_ignored() -> None:
    invoice = message("1", "BGM+380+INV1+9", "LIN+1++1:EN", "QTY+47:1", kind="INVOIC:D:96A:UN:EAN008")
    despatch = message("2", "BGM+351+DES1+9", kind="DESADV:D:96A:UN:EAN005")
    ignored = capture(interchange(invoice, despatch, message("3", *ORDER)))
    assert [type(i) for i in ignored] == [Ignored, Ignored, CapturedOrder]
    assert isinstance(ignored[0], Ignored)
    assert ignored[0].reason == "INVOIC message (INVOIC:D:96A:UN:EAN008): not an order"
    assert ignored[0].control and ignored[0].control.message_type == "INVOIC:D:96A:UN:EAN008"


@pytest.mark.parametrize("data", [
    b"", b"\r\n", b'{"orders": [1, 2, 3]}', b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj'<<>>'endobj'",
    b"ISA*00*          *00*~", b"hello'world'",
])
def test_bytes_that_are_not_edifact_are_rejected(data: bytes) -> None:
    rejected = only_rejection(data)
    assert rejected.reason.startswith("not EDIFACT"), rejected
    assert rejected.where.startswith("test.edi")


def test_an_unreadable_interchange_is_rejected_and_the_next_one_read() -> None:
    bad = interchange(message("1", *ORDER), syntax="UNOX:3")
    rejected, order = capture(bad + interchange(message("1", *ORDER), reference="IC2"))
    assert isinstance(rejected, Rejected) and rejected.code == "unsupported_syntax" and "UNB01" in rejected.reason
    assert isinstance(order, CapturedOrder) and order.control and order.control.interchange == "IC2"


def test_an_empty_interchange_is_listed() -> None:
    [ignored] = capture(interchange())
    assert isinstance(ignored, Ignored) and ignored.reason == "the interchange holds no message"
    assert ignored.where == "test.edi: interchange IC1"


def test_junk_between_interchanges_is_one_rejection() -> None:
    data = interchange(message("1", *ORDER)) + b"junk'more junk'x'" + interchange(message("1", *ORDER), reference="B")
    first, junk, second = capture(data)
    assert isinstance(junk, Rejected) and "and 2 more problems" in junk.reason
    assert isinstance(first, CapturedOrder) and isinstance(second, CapturedOrder)


# receipts


def test_envelope_problems_are_shown_and_receipted_without_voiding_the_messages() -> None:
    receipts: list[InterchangeReceipt] = []
    data = interchange(message("1", *ORDER), unz=False) + interchange(message("2", *ORDER), reference="B")
    data = data.replace(b"UNZ+1+B'", b"UNZ+5+B'")
    items = list(capture_edifact(data, name="x.edi", on_receipt=receipts.append))
    assert [type(i) for i in items] == [CapturedOrder, Rejected, CapturedOrder, Rejected]
    assert isinstance(items[1], Rejected) and isinstance(items[3], Rejected)
    assert items[1].where == "x.edi: interchange IC1, segment 10" and "has no UNZ" in items[1].reason
    assert items[3].where == "x.edi: interchange B, segment 19" and "UNZ01" in items[3].reason
    first, second = receipts
    assert [(f.code, f.tag) for f in first.faults] == [("missing_trailer", "UNZ")]
    assert [(f.code, f.tag, f.element, f.syntax_error) for f in second.faults] == [("count_mismatch", "UNZ", 1, "29")]
    assert (second.sender.id, second.sender.qualifier, second.syntax, second.syntax_version) == (
        "5412345000013", "14", "UNOC", "3")


def test_a_receipt_comes_after_the_last_item_of_its_interchange() -> None:
    seen: list[str] = []
    for item in capture_edifact(interchange(message("1", *ORDER), message("2", *ORDER)) +
                                interchange(message("3", *ORDER), reference="B"), name="x",
                                on_receipt=lambda r: seen.append(f"receipt {r.reference}")):
        assert isinstance(item, CapturedOrder) and item.control
        seen.append(f"order {item.control.transaction}")
    assert seen == ["order 1", "order 2", "receipt IC1", "order 3", "receipt B"]


# streaming


def test_any_chunking_gives_the_same_result() -> None:
    data = (FIXTURES / "orders_eancom_full.edi").read_bytes() + interchange(message("1", *ORDER), reference="B")
    whole = capture(data)
    for size in (1, 2, 3, 7, 64):
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        assert list(capture_edifact(chunks, name="test.edi")) == whole


def _many(messages: int, lines: int = 40) -> Iterator[bytes]:
    """An interchange of `messages` orders of `lines` lines each, produced chunk by chunk."""
    body = ["BGM+220+PO+9", "NAD+BY+5412345000013::9"]
    body += [s for n in range(1, lines + 1) for s in (f"LIN+{n}++{n:013d}:EN", f"QTY+21:{n}", f"PRI+AAA:{n}.50")]
    text = message("M", *body)
    yield b"UNB+UNOC:3+A:14+B:14+260105:0830+1'"
    for _ in range(messages):
        yield text.encode()
    yield f"UNZ+{messages}+1'".encode()


def _peak(messages: int) -> int:
    data = _many(messages)  # the input itself is not what is measured
    tracemalloc.start()
    try:
        count = sum(1 for item in capture_edifact(data, name="many") if isinstance(item, CapturedOrder))
        assert count == messages
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_messages() -> None:
    # Only the interchange's receipt grows: one small MessageReceipt per message, which the CONTRL answers with a
    # UCM each (about 500 bytes measured); no message's segments are kept once it has been captured.
    small, large = _peak(10), _peak(400)
    assert (large - small) / 390 < 1024, (small, large)


def test_segments_outside_any_message_are_shown_not_dropped() -> None:
    # a corrupted terminator glues UNH to the end of UNB: the order's segments belong to no message
    data = interchange(message("1", *ORDER)).replace(b"IC1'UNH", b"IC1?'UNH")
    items = [i for i in capture(data) if isinstance(i, Rejected)]
    assert items and len(items) == len(capture(data))
    assert "segment BGM between messages" in items[0].reason
