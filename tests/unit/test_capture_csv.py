"""CSV order files in the documented layout (docs/import.md): every column, mappings, every rejection with its
line numbers, delimiters, encodings, streaming and memory, a round-trip property and a byte-mutation fuzz."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.channels.capture import order_head, order_rows
from conveyor.channels.capture.csv_layout import (
    COLUMNS,
    ColumnMapping,
    MappingError,
    load_mapping,
    mapping_from_dict,
    normalise,
)
from conveyor.channels.capture.csv_orders import capture_csv, sniff_delimiter
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
from conveyor.channels.capture.order_index import OrderIndex
from conveyor.channels.capture.sample_csv import COLUMNS as SAMPLE_COLUMNS
from conveyor.channels.capture.sample_csv import write_sample_orders

CSV = Control(standard="csv")
HEADER = "order_id,sku,quantity,unit_price,customer"


def read(data: str | bytes, *, name: str = "orders.csv", mapping: ColumnMapping | None = None) -> list[Captured]:
    return list(capture_csv(data.encode() if isinstance(data, str) else data, name=name, mapping=mapping))


def orders(items: list[Captured]) -> list[CapturedOrder]:
    return [item for item in items if isinstance(item, CapturedOrder)]


def rejected(items: list[Captured]) -> list[Rejected]:
    return [item for item in items if isinstance(item, Rejected)]


def line(sku: str, quantity: str, where: str, price: str | None = None, **item: str) -> CapturedLine:
    return CapturedLine(ItemRef(sku=sku, **item), Decimal(quantity), None if price is None else Decimal(price),
                        where=where)


# -- the layout -------------------------------------------------------------------------------------------------


def test_every_column_is_read_into_the_captured_order() -> None:
    header = ",".join(COLUMNS)
    first = {
        "order_id": "PO-1", "sku": "SKU-1", "gtin": "4006381333931", "buyer_item": "B-1", "vendor_item": "V-1",
        "description": "Blue mug", "quantity": "2", "unit": "EA", "unit_price": "12.50", "discount": "1.00",
        "tax": "2.36", "line_ref": "10", "customer": "C-001", "customer_email": "ann@example.com",
        "customer_name": "Ann Example", "customer_phone": "+31 10 123 4567", "currency": "eur",
        "ship_name": "Ann Example", "ship_company": "Example BV", "ship_line1": "Coolsingel 40",
        "ship_line2": "3rd floor", "ship_city": "Rotterdam", "ship_region": "ZH", "ship_postal_code": "3011 AD",
        "ship_country": "nl", "ship_phone": "+31 10 000 0000", "bill_name": "Example BV accounts",
        "bill_company": "Example BV", "bill_line1": "Postbus 1", "bill_line2": "", "bill_city": "Rotterdam",
        "bill_region": "", "bill_postal_code": "3000 AA", "bill_country": "NL", "bill_phone": "",
        "shipping": "4.95", "notes": "Leave at the door", "requested_delivery_date": "2026-12-01",
        "ordered_at": "2026-11-20T09:15:00+01:00", "priority": "5", "tags": "gift; rush ;",
    }
    second = dict.fromkeys(COLUMNS, "") | {"order_id": "PO-1", "sku": "SKU-2", "quantity": "1.5", "unit": "KG",
                                           "currency": "eur", "line_ref": "20"}
    text = header + "\n" + ",".join(f'"{first[c]}"' for c in COLUMNS) + "\n" + ",".join(second[c] for c in COLUMNS)
    assert read(text) == [CapturedOrder(
        external_id="PO-1",
        customer=PartyRef(account="C-001", email="ann@example.com", name="Ann Example", phone="+31 10 123 4567"),
        lines=(
            CapturedLine(ItemRef(sku="SKU-1", vendor_item="V-1", gtin="4006381333931", buyer_item="B-1",
                                 description="Blue mug"),
                         Decimal("2"), Decimal("12.50"), "EA", Decimal("1.00"), Decimal("2.36"), "10", "line 2"),
            CapturedLine(ItemRef(sku="SKU-2"), Decimal("1.5"), None, "KG", Decimal(0), Decimal(0), "20", "line 3"),
        ),
        currency="EUR",
        ship_to={"name": "Ann Example", "company": "Example BV", "line1": "Coolsingel 40", "line2": "3rd floor",
                 "city": "Rotterdam", "region": "ZH", "postal_code": "3011 AD", "country": "NL",
                 "phone": "+31 10 000 0000"},
        bill_to={"name": "Example BV accounts", "company": "Example BV", "line1": "Postbus 1", "city": "Rotterdam",
                 "postal_code": "3000 AA", "country": "NL"},
        shipping=Decimal("4.95"), notes="Leave at the door", requested_delivery_date=date(2026, 12, 1),
        ordered_at=datetime(2026, 11, 20, 9, 15, tzinfo=timezone(timedelta(hours=1))), tags=("gift", "rush"),
        where="orders.csv lines 2-3", control=CSV, extra={"priority": 5})]


def test_the_smallest_file_and_its_defaults() -> None:
    assert read("order_id,sku,quantity\nA1,SKU-1,3\n") == [CapturedOrder(
        "A1", PartyRef(), (CapturedLine(ItemRef(sku="SKU-1"), Decimal(3), where="line 2"),),
        where="orders.csv line 2", control=CSV)]


def test_headers_match_whatever_their_case_spaces_and_order() -> None:
    items = read("Quantity , SKU,Order ID,Unit-Price,CUSTOMER_EMAIL\n2,S-1,A1,3.10,a@example.com\n")
    assert items == [CapturedOrder("A1", PartyRef(email="a@example.com"),
                                   (line("S-1", "2", "line 2", "3.10"),), where="orders.csv line 2", control=CSV)]
    assert normalise(" Ship-Postal  Code ") == "ship_postal_code"


def test_an_item_may_be_named_by_gtin_or_buyer_item_alone() -> None:
    items = read("order_id,gtin,buyer_item,quantity\nA1,4006381333931,,1\nA1,,BX-9,2\n")
    assert [ln.item for ln in orders(items)[0].lines] == [ItemRef(gtin="4006381333931"), ItemRef(buyer_item="BX-9")]


def test_unknown_columns_are_reported_once_as_ignored_and_their_values_not_read() -> None:
    items = read("order_id,sku,colour,quantity,size\nA1,S,red,1,XL\nA2,S,blue,1,M\n")
    assert items[0] == Ignored("orders.csv line 1", "columns not in the layout, their values are not read: "
                                                    "'colour' (column 3), 'size' (column 5)", CSV)
    assert [type(item) for item in items] == [Ignored, CapturedOrder, CapturedOrder]


def test_later_rows_may_repeat_order_level_values_or_leave_them_empty() -> None:
    items = read("order_id,sku,quantity,customer,currency,ship_city\n"
                 "A1,S1,1,C-1,EUR,Rotterdam\nA1,S2,1,C-1,EUR,Rotterdam\nA1,S3,1,,,\n")
    assert len(orders(items)[0].lines) == 3


def test_blank_lines_trailing_cells_left_out_and_crlf() -> None:
    text = "order_id,sku,quantity,notes,tags\r\n\r\nA1,S1,1\r\n,,,,\r\n\r\nA1,S2,2\r\nA2,S1,1,hi\r\n"
    items = read(text)
    assert [(o.external_id, o.where, len(o.lines), o.notes) for o in orders(items)] == [
        ("A1", "orders.csv lines 3-6", 2, None), ("A2", "orders.csv line 7", 1, "hi")]
    assert [ln.where for ln in orders(items)[0].lines] == ["line 3", "line 6"]


def test_old_mac_line_endings() -> None:
    items = read("order_id,sku,quantity\rA1,S1,1\rA1,S2,2\rA2,S1,x\r")
    assert [(type(i).__name__, i.where) for i in items] == [("CapturedOrder", "orders.csv lines 2-3"),
                                                           ("Rejected", "orders.csv line 4")]


def test_header_after_blank_lines_keeps_line_numbers() -> None:
    items = read("\n\norder_id,sku,quantity\nA1,S1,x\n")
    assert rejected(items)[0].reason == "orders.csv line 4: column quantity: expected a number above 0, found 'x'"


def test_quoted_fields_hold_delimiters_quotes_and_line_breaks() -> None:
    text = ('order_id,sku,quantity,notes,ship_name\n'
            'A1,S1,1,"Ring twice, then ""knock""\nand wait","Ann\nExample"\n'
            'A2,S1,x,,\n')
    items = read(text)
    assert orders(items)[0].notes == 'Ring twice, then "knock"\nand wait'
    assert orders(items)[0].ship_to == {"name": "Ann\nExample"}
    assert orders(items)[0].where == "orders.csv lines 2-4"
    assert rejected(items)[0].where == "orders.csv line 5"


def test_a_utf8_byte_order_mark_is_skipped() -> None:
    items = read(b"\xef\xbb\xbforder_id,sku,quantity\nA1,S\xc3\xa9,1\n")
    assert orders(items)[0].lines[0].item.sku == "S\u00e9"
    assert not [item for item in items if isinstance(item, Ignored)]


def test_semicolon_delimiter_reads_decimal_commas() -> None:
    items = read("order_id;sku;quantity;unit_price;discount;shipping\nA1;S1;1,5;12,50;0,5;4.95\n")
    order = orders(items)[0]
    assert (order.lines[0].quantity, order.lines[0].unit_price, order.lines[0].discount, order.shipping) == (
        Decimal("1.5"), Decimal("12.50"), Decimal("0.5"), Decimal("4.95"))


def test_decimal_commas_are_refused_with_the_comma_delimiter() -> None:
    items = read('order_id,sku,quantity,unit_price\nA1,S1,1,"12,50"\n')
    assert rejected(items)[0].reason == ("orders.csv line 2: column unit_price: expected an amount of 0 or more, "
                                         "found '12,50'")


def test_thousands_separators_are_refused_even_with_semicolons() -> None:
    items = read("order_id;sku;quantity;unit_price\nA1;S1;1;1.234,50\n")
    assert rejected(items)[0].reason == ("orders.csv line 2: column unit_price: expected an amount of 0 or more, "
                                         "found '1.234,50'")


def test_tab_delimiter_is_sniffed() -> None:
    assert orders(read("order_id\tsku\tquantity\nA1\tS1\t2\n"))[0].lines[0].quantity == 2
    assert sniff_delimiter('"a;b",c,d\n') == ","
    assert sniff_delimiter("order_id\n") == ","


# -- rejections --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "reason"), [
    ("A2,S1,two,1,C", "orders.csv line 3: column quantity: expected a number above 0, found 'two'"),
    ("A2,S1,0,1,C", "orders.csv line 3: column quantity: expected a number above 0, found '0'"),
    ("A2,S1,-1,1,C", "orders.csv line 3: column quantity: expected a number above 0, found '-1'"),
    ("A2,S1,,1,C", "orders.csv line 3: column quantity: expected a number above 0, found nothing"),
    ("A2,S1,1e3,1,C", "orders.csv line 3: column quantity: expected a number above 0, found '1e3'"),
    ("A2,S1,NaN,1,C", "orders.csv line 3: column quantity: expected a number above 0, found 'NaN'"),
    ("A2,S1,1,1.2.3,C", "orders.csv line 3: column unit_price: expected an amount of 0 or more, found '1.2.3'"),
    ("A2,S1,1,-5,C", "orders.csv line 3: column unit_price: expected an amount of 0 or more, found '-5'"),
    ("A2,,1,1,C", "orders.csv line 3: column sku: expected an item: a sku, gtin or buyer_item, found nothing"),
])
def test_a_bad_line_value_rejects_its_order_naming_line_column_expected_and_found(row: str, reason: str) -> None:
    items = read(f"{HEADER}\nA1,S1,1,1,C\n{row}\nA3,S1,1,1,C\n")
    assert [o.external_id for o in orders(items)] == ["A1", "A3"]
    assert rejected(items) == [Rejected("orders.csv line 3", reason, "A2", CSV, rejected(items)[0].code)]
    assert rejected(items)[0].code == ("missing_value" if "found nothing" in reason else "invalid_value")


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("discount", "-1", "an amount of 0 or more"),
    ("tax", "x", "an amount of 0 or more"),
    ("shipping", "free", "an amount of 0 or more"),
    ("requested_delivery_date", "01/12/2026", "a date as YYYY-MM-DD"),
    ("requested_delivery_date", "2026-02-30", "a date as YYYY-MM-DD"),
    ("ordered_at", "yesterday", "a date and time as YYYY-MM-DDTHH:MM:SS+01:00"),
    ("priority", "high", "a whole number from -10 (low) to 10 (urgent)"),
    ("priority", "11", "a whole number from -10 (low) to 10 (urgent)"),
    ("currency", "EURO", "an ISO 4217 currency code such as EUR or USD"),
    ("ship_country", "Netherlands", "an ISO 3166-1 alpha-2 country code such as NL or US"),
    ("bill_country", "XX", "an ISO 3166-1 alpha-2 country code such as NL or US"),
])
def test_a_bad_value_of_any_column_rejects_the_order(column: str, value: str, expected: str) -> None:
    items = read(f"order_id,sku,quantity,{column}\nA1,S1,1,{value}\nA1,S2,1,\nA2,S1,1,\n")
    assert rejected(items) == [Rejected("orders.csv lines 2-3", f"orders.csv line 2: column {column}: expected "
                                        f"{expected}, found {value!r}", "A1", CSV, "invalid_value")]
    assert [o.external_id for o in orders(items)] == ["A2"]


def test_a_broken_order_between_two_good_ones_leaves_them_captured() -> None:
    items = read(f"{HEADER}\nA1,S1,1,1,C\nA1,S2,2,1,C\nA2,S1,1,1,C\nA2,S2,x,1,C\nA2,S3,1,1,C\nA3,S1,4,1,C\n")
    assert [type(item).__name__ for item in items] == ["CapturedOrder", "Rejected", "CapturedOrder"]
    assert (items[1].where, items[1].external_id) == ("orders.csv lines 4-6", "A2")  # type: ignore[union-attr]
    assert [len(o.lines) for o in orders(items)] == [2, 1]


def test_every_problem_of_an_order_is_named() -> None:
    items = read(f"{HEADER}\nA1,S1,x,1,C\nA1,S2,1,-2,C\n")
    assert rejected(items)[0].reason == (
        "orders.csv line 2: column quantity: expected a number above 0, found 'x'; "
        "orders.csv line 3: column unit_price: expected an amount of 0 or more, found '-2'")


def test_many_problems_are_counted_after_the_first_twenty() -> None:
    rows = "".join(f"A1,S{n},x,1,C\n" for n in range(25))
    reason = rejected(read(f"{HEADER}\n{rows}"))[0].reason
    assert reason.count("expected a number above 0") == 20
    assert reason.endswith("; and 5 more")


def test_a_later_row_disagreeing_on_an_order_level_value_rejects_the_order_with_both_lines() -> None:
    items = read("order_id,sku,quantity,customer,currency\nA1,S1,1,C-1,EUR\nA1,S2,1,,EUR\nA1,S3,1,C-2,EUR\n"
                 "A2,S1,1,C-1,EUR\n")
    assert rejected(items) == [Rejected(
        "orders.csv lines 2-4", "orders.csv line 4: column customer: expected 'C-1' as on line 2 (the order's first "
                                "row) or nothing, found 'C-2'", "A1", CSV, "conflicting_value")]
    assert [o.external_id for o in orders(items)] == ["A2"]


def test_a_later_row_filling_an_order_level_value_the_first_row_left_empty_rejects_the_order() -> None:
    items = read("order_id,sku,quantity,notes\nA1,S1,1,\nA1,S2,1,call first\n")
    assert rejected(items)[0].reason == ("orders.csv line 3: column notes: expected nothing, as on line 2 (the "
                                         "order's first row), found 'call first'")


def test_rows_of_an_order_must_be_consecutive() -> None:
    items = read(f"{HEADER}\nA1,S1,1,1,C\nA2,S1,1,1,C\nA1,S2,1,1,C\nA1,S3,1,1,C\nA3,S1,1,1,C\n")
    assert [o.external_id for o in orders(items)] == ["A1", "A2", "A3"]
    assert len(orders(items)[0].lines) == 1  # the first rows of A1, captured before the later ones were seen
    assert rejected(items) == [Rejected("orders.csv lines 4-5", "orders.csv line 4: rows of order A1 must be "
                                        "consecutive; first seen on line 2", "A1", CSV, "not_consecutive")]


def test_a_row_without_order_id_is_rejected_alone_at_the_top_and_with_the_order_above_later() -> None:
    items = read(f"{HEADER}\n,S1,1,1,C\nA1,S1,1,1,C\n,S2,1,1,C\nA2,S1,1,1,C\n")
    assert rejected(items) == [
        Rejected("orders.csv line 2", "orders.csv line 2: column order_id: expected an order id, found nothing",
                 None, CSV, "missing_value"),
        Rejected("orders.csv lines 3-4", "orders.csv line 4: column order_id: expected an order id, found nothing "
                                         "(counted with order A1 above it)", "A1", CSV, "missing_value"),
    ]
    assert [o.external_id for o in orders(items)] == ["A2"]


def test_a_row_with_more_cells_than_the_header_rejects_its_order() -> None:
    items = read(f"{HEADER}\nA1,S1,1,1,C,,\nA2,S1,1,1,C,extra\n")
    assert [o.external_id for o in orders(items)] == ["A1"]  # empty extra cells (a trailing delimiter) are fine
    assert rejected(items)[0].reason == ("orders.csv line 3: the row has 6 cells and the header 5; check the "
                                         "delimiters and quotes")
    assert rejected(items)[0].code == "too_many_cells"


def test_bytes_that_are_not_utf8_reject_the_order_naming_the_line() -> None:
    items = read(b"order_id,sku,quantity,notes\nA1,S1,1,ok\nA2,S1,1,caf\xe9\nA3,S1,1,ok\n")
    assert [o.external_id for o in orders(items)] == ["A1", "A3"]
    assert rejected(items) == [Rejected(
        "orders.csv line 3", "orders.csv line 3: the text is not utf-8 (byte 0xE9 at character 12); save the file "
                             "as CSV UTF-8, or name its encoding in the mapping", "A2", CSV, "invalid_encoding")]


def test_another_encoding_may_be_named_in_the_mapping() -> None:
    items = read("order_id,sku,quantity,notes\nA1,S1,1,café\n".encode("cp1252"),
                 mapping=ColumnMapping(encoding="cp1252"))
    assert orders(items)[0].notes == "café"


def test_undecodable_header_rejects_the_file() -> None:
    assert read(b"order_id,sku,quantit\xff\nA1,S1,1\n") == [Rejected(
        "orders.csv line 1", "orders.csv line 1: the text is not utf-8 (byte 0xFF at character 21); save the file "
                             "as CSV UTF-8, or name its encoding in the mapping", None, CSV, "invalid_encoding")]


def test_utf16_files_are_rejected_whole() -> None:
    assert read("order_id,sku,quantity\nA1,S1,1\n".encode("utf-16")) == [Rejected(
        "orders.csv", "orders.csv: the file is UTF-16 or UTF-32 text; save it as CSV UTF-8", None, CSV,
        "invalid_encoding")]


def test_an_unreadable_field_rejects_the_order_it_falls_in() -> None:
    huge = "x" * (csv.field_size_limit() + 10)
    items = read(f"{HEADER}\nA1,S1,1,1,C\nA2,S1,1,1,C\nA2,{huge},1,1,C\nA3,S1,1,1,C\n")
    assert [o.external_id for o in orders(items)] == ["A1", "A3"]
    assert rejected(items)[0].external_id == "A2"
    assert "line 4: not readable as CSV (field larger than field limit" in rejected(items)[0].reason


@pytest.mark.parametrize(("text", "reason"), [
    ("sku,quantity\nS1,1\n", "orders.csv line 1: the header has no order_id column; found 'sku', 'quantity'"),
    ("order_id,sku\nA1,S1\n", "orders.csv line 1: the header has no quantity column; found 'order_id', 'sku'"),
    ("order_id,quantity,notes\nA1,1,x\n", "orders.csv line 1: the header has no sku or gtin or buyer_item column; "
                                          "found 'order_id', 'quantity', 'notes'"),
    ("order_id,SKU,quantity,Sku\nA1,S,1,S\n", "orders.csv line 1: columns 2 ('SKU') and 4 ('Sku') both give sku; "
                                              "keep one"),
])
def test_a_header_that_cannot_be_read_rejects_the_file(text: str, reason: str) -> None:
    assert read(text) == [Rejected("orders.csv line 1", reason, None, CSV, "invalid_header")]


def test_empty_files_and_headers_without_rows() -> None:
    empty = [Rejected("orders.csv", "orders.csv: the file is empty; expected a header line naming the columns, such "
                                    "as order_id,sku,quantity", None, CSV, "empty_file")]
    assert read(b"") == empty
    assert read(b"\xef\xbb\xbf\n \n") == empty
    assert read("order_id,sku,quantity\n") == []


# -- mappings ----------------------------------------------------------------------------------------------------

SHOPIFY_EXPORT = (
    "Name,Email,Financial Status,Currency,Shipping,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,"
    "Shipping Name,Shipping Address1,Shipping City,Shipping Zip,Shipping Country,Notes,Tags,Created at\n"
    '#1001,ann@example.com,paid,EUR,4.95,2,Blue mug,12.50,MUG-B,Ann Example,Coolsingel 40,Rotterdam,3011 AD,NL,'
    '"Gift, please",vip,2026-11-20 09:15:00 +0100\n'
    "#1001,,,,,1,Red mug,11.00,MUG-R,,,,,,,,\n"
)
SHOPIFY_MAPPING = {
    "columns": {"order_id": "Name", "customer_email": "Email", "currency": "Currency", "shipping": "Shipping",
                "quantity": "Lineitem quantity", "description": "Lineitem name", "unit_price": "Lineitem price",
                "sku": "Lineitem sku", "ship_name": "Shipping Name", "ship_line1": "Shipping Address1",
                "ship_city": "Shipping City", "ship_postal_code": "Shipping Zip", "ship_country": "Shipping Country",
                "notes": "Notes", "tags": "Tags", "ordered_at": "Created at"},
    "constants": {"priority": "1"},
    "datetime_format": "%Y-%m-%d %H:%M:%S %z",
    "tags_separator": ",",
}


def test_a_mapping_reads_a_shopify_order_export() -> None:
    items = read(SHOPIFY_EXPORT, name="orders_export.csv", mapping=mapping_from_dict(SHOPIFY_MAPPING))
    assert items[0] == Ignored("orders_export.csv line 1", "columns not in the layout, their values are not read: "
                                                           "'Financial Status' (column 3)", CSV)
    assert items[1] == CapturedOrder(
        "#1001", PartyRef(email="ann@example.com"),
        (CapturedLine(ItemRef(sku="MUG-B", description="Blue mug"), Decimal(2), Decimal("12.50"), where="line 2"),
         CapturedLine(ItemRef(sku="MUG-R", description="Red mug"), Decimal(1), Decimal("11.00"), where="line 3")),
        currency="EUR", ship_to={"name": "Ann Example", "line1": "Coolsingel 40", "city": "Rotterdam",
                                 "postal_code": "3011 AD", "country": "NL"},
        shipping=Decimal("4.95"), notes="Gift, please", tags=("vip",),
        ordered_at=datetime(2026, 11, 20, 9, 15, tzinfo=timezone(timedelta(hours=1))),
        where="orders_export.csv lines 2-3", control=CSV, extra={"priority": 1})


def test_a_bad_mapped_value_names_the_files_header() -> None:
    text = SHOPIFY_EXPORT.replace(",2,Blue mug", ",two,Blue mug")
    items = read(text, name="export.csv", mapping=mapping_from_dict(SHOPIFY_MAPPING))
    assert rejected(items)[0].reason == ("export.csv line 2: column Lineitem quantity (quantity): expected a number "
                                         "above 0, found 'two'")


def test_constants_fill_missing_columns_and_empty_cells() -> None:
    mapping = ColumnMapping(constants={"currency": "EUR", "customer": "WEB", "quantity": "1"})
    items = read("order_id,sku,customer\nA1,S1,\nA2,S1,C-9\n", mapping=mapping)
    assert [(o.currency, o.customer.account, o.lines[0].quantity) for o in orders(items)] == [
        ("EUR", "WEB", Decimal(1)), ("EUR", "C-9", Decimal(1))]


def test_a_mapping_may_name_the_delimiter_and_the_decimal_separator() -> None:
    mapping = ColumnMapping(delimiter="|", decimal_comma=True)
    assert orders(read("order_id|sku|quantity|unit_price\nA1|S1|2|3,5\n", mapping=mapping))[0].lines[0] == line(
        "S1", "2", "line 2", "3.5")
    no_comma = ColumnMapping(decimal_comma=False)
    assert rejected(read("order_id;sku;quantity\nA1;S1;1,5\n", mapping=no_comma))[0].code == "invalid_value"


def test_a_mapping_may_name_a_date_format() -> None:
    mapping = ColumnMapping(date_format="%d/%m/%Y")
    items = read("order_id,sku,quantity,requested_delivery_date\nA1,S1,1,01/12/2026\nA2,S1,1,2026-12-02\n",
                 mapping=mapping)
    assert [o.requested_delivery_date for o in orders(items)] == [date(2026, 12, 1), date(2026, 12, 2)]


def test_ordered_at_without_an_offset_is_utc() -> None:
    items = read("order_id,sku,quantity,ordered_at\nA1,S1,1,2026-11-20 09:15\n")
    assert orders(items)[0].ordered_at == datetime(2026, 11, 20, 9, 15, tzinfo=UTC)


def test_a_mapped_column_missing_from_the_file() -> None:
    mapping = ColumnMapping(columns={"order_id": "Order", "ship_phone": "Phone"})
    items = read("Order,sku,quantity\nA1,S1,1\n", mapping=mapping)
    assert items[0] == Ignored("orders.csv line 1", "mapped columns the file does not have: ship_phone (mapped to "
                                                    "'Phone')", CSV)
    assert read("Number,sku,quantity\nA1,S1,1\n", mapping=mapping)[0] == Rejected(
        "orders.csv line 1", "orders.csv line 1: the header has no order_id column; the mapping looks for order_id "
                             "(mapped to 'Order'), ship_phone (mapped to 'Phone'); found 'Number', 'sku', 'quantity'",
        None, CSV, "invalid_header")


def test_mapping_files_in_json_and_toml(tmp_path: Path) -> None:
    (tmp_path / "shop.json").write_text(json.dumps(SHOPIFY_MAPPING))
    toml = tmp_path / "shop.toml"
    toml.write_text('datetime_format = "%Y-%m-%d %H:%M:%S %z"\ntags_separator = ","\ndelimiter = "tab"\n'
                    '[columns]\norder_id = "Name"\nsku = "Lineitem sku"\n[constants]\npriority = 1\n')
    assert load_mapping(tmp_path / "shop.json") == mapping_from_dict(SHOPIFY_MAPPING)
    assert load_mapping(str(toml)) == ColumnMapping(
        columns={"order_id": "Name", "sku": "Lineitem sku"}, constants={"priority": "1"}, delimiter="\t",
        datetime_format="%Y-%m-%d %H:%M:%S %z", tags_separator=",")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("m.json", '{"columns": {"skux": "SKU"}}', "m.json: columns.skux: not a column of the layout; the columns are "
                                               "order_id, sku"),
    ("m.json", '{"colums": {}}', "m.json: colums: unknown setting; the settings are columns, constants"),
    ("m.json", '{"columns": {"sku": 5}}', "m.json: columns.sku: expected text, found 5"),
    ("m.json", '{"columns": {"sku": " "}}', "m.json: columns.sku: expected a header as text, found ' '"),
    ("m.json", '{"columns": []}', "m.json: columns: expected a table of column = text, found []"),
    ("m.json", '{"delimiter": ";;"}', "m.json: delimiter: expected one character other than a quote or a line "
                                      "break, found ';;'"),
    ("m.json", '{"decimal_comma": "yes"}', "m.json: decimal_comma: expected true or false, found 'yes'"),
    ("m.json", '{"encoding": "klingon"}', "m.json: encoding: unknown encoding 'klingon'"),
    ("m.json", '{"date_format": "%Q"}', "m.json: date_format: '%Q' is not a strptime format"),
    ("m.json", '{"constants": {"order_id": "A"}}', "m.json: constants.order_id: the order id cannot be a constant"),
    ("m.json", '{"columns": {"currency": "Cur"}, "constants": {"currency": "EUR"}}',
     "m.json: constants.currency: currency is also mapped to the column 'Cur'"),
    ("m.json", '["order_id"]', "m.json: expected a table of settings, found list"),
    ("m.json", '{"columns": {', "m.json: not valid JSON: Expecting property name enclosed in double quotes at line 1"),
    ("m.toml", "[columns\n", "m.toml: not valid TOML: "),
    ("m.yaml", "columns: {}", "m.yaml: expected a .json or .toml file, found '.yaml'"),
])
def test_mapping_errors_name_the_file_and_the_key(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(MappingError) as caught:
        load_mapping(tmp_path / name)
    assert str(caught.value).startswith(message)


def test_a_mapping_built_in_code_is_checked_too() -> None:
    with pytest.raises(MappingError, match="mapping: columns.nope: not a column of the layout"):
        ColumnMapping(columns={"nope": "X"})
    with pytest.raises(MappingError, match="the file: cannot read the file"):
        load_mapping(Path("/nonexistent/the file"))


# -- sources and streaming ---------------------------------------------------------------------------------------

SMALL = "order_id,sku,quantity,notes\nA1,S1,1,caf\u00e9 \u2603\nA1,S2,2,\nA2,S3,3,\u00fc\n"


def test_every_kind_of_source_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(SMALL, encoding="utf-8")
    expected = read(SMALL)
    data = SMALL.encode()
    assert list(capture_csv(str(path), name="orders.csv")) == expected
    assert list(capture_csv(path, name="orders.csv")) == expected
    with open(path, "rb") as stream:
        assert list(capture_csv(stream, name="orders.csv")) == expected
    assert list(capture_csv(io.BytesIO(data), name="orders.csv")) == expected
    one_byte_chunks = [data[i:i + 1] for i in range(len(data))]  # splits every multi-byte character
    assert list(capture_csv(iter(one_byte_chunks), name="orders.csv")) == expected
    assert list(capture_csv([b"", data, b""], name="orders.csv")) == expected


def test_a_text_mode_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(SMALL)
    with open(path) as stream, pytest.raises(TypeError, match="binary mode"):
        list(capture_csv(stream, name="orders.csv"))  # type: ignore[arg-type]


def test_orders_come_out_while_the_file_is_still_being_read() -> None:
    consumed = 0

    def chunks() -> Iterator[bytes]:
        nonlocal consumed
        yield b"order_id,sku,quantity\n"
        for n in range(100_000):
            consumed += 1
            yield f"A{n},S1,1\n".encode()

    first = next(item for item in capture_csv(chunks(), name="big.csv") if isinstance(item, CapturedOrder))
    assert first.external_id == "A0"
    assert consumed < 20_000  # read in 64 KiB pieces, not to the end


def _peak(path: Path) -> int:
    tracemalloc.start()
    try:
        for _ in capture_csv(path, name=path.name):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_follow_the_file_size(tmp_path: Path) -> None:
    skus = [f"SKU-{n}" for n in range(500)]
    customers = [f"C-{n}" for n in range(200)]
    small, large = tmp_path / "10k.csv", tmp_path / "100k.csv"
    write_sample_orders(small, orders=10_000, skus=skus, customers=customers)
    write_sample_orders(large, orders=100_000, skus=skus, customers=customers)
    peak_small, peak_large = _peak(small), _peak(large)
    # What grows is only the index of order ids seen (for the consecutive-rows rule): 12 bytes a slot, under 50 an
    # order at the moment it doubles (old and new table), against the ~300 bytes an order takes in the file.
    assert peak_large - peak_small < 90_000 * 56, (peak_small, peak_large)
    assert peak_large < large.stat().st_size / 4, (peak_large, large.stat().st_size)


def test_the_order_index_remembers_first_lines_through_growth() -> None:
    index = OrderIndex(capacity=8)
    for n in range(1, 2001):
        assert index.add(f"A{n}", n + 1) == 0
    assert len(index) == 2000
    assert [index.add(f"A{n}", 99_999) for n in (1, 500, 2000)] == [2, 501, 2001]
    assert index.add("new", 5) == 0


def test_the_fast_builders_match_the_model() -> None:
    """order_head and order_rows build the model's dataclasses without __init__ only while the model's fields
    are the ones they fill; otherwise they fall back to __init__ (slower). This tells when that happens."""
    assert order_head.plain(CapturedOrder, order_head._ORDER) and order_head.plain(PartyRef, order_head._PARTY)
    assert order_head.plain(ItemRef, order_rows._ITEM) and order_head.plain(CapturedLine, order_rows._LINE)
    built = order_rows._line(order_rows._item("S", None, None, None, None), Decimal(1), None, None, Decimal(0),
                             Decimal(0), None, "line 2")
    assert built == line("S", "1", "line 2") and hash(built) == hash(line("S", "1", "line 2"))


# -- the sample writer -------------------------------------------------------------------------------------------


def test_sample_files_follow_the_layout_and_read_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "sample.csv"
    rows = write_sample_orders(path, orders=500, lines_per_order=3, skus=["S1", "S2", "S3", "S4"],
                               customers=["C-1", "buyer@example.com"], seed=7)
    assert rows == 1500
    items = list(capture_csv(path, name="sample.csv"))
    assert len(items) == 500 and all(isinstance(item, CapturedOrder) for item in items)
    first = orders(items)[0]
    assert first.external_id == "S7-0000001" and len(first.lines) == 3
    assert len({ln.item.sku for ln in first.lines}) == 3
    assert {o.customer.account or o.customer.email for o in orders(items)} == {"C-1", "buyer@example.com"}
    assert path.read_text().splitlines()[0] == ",".join(SAMPLE_COLUMNS)
    again = tmp_path / "again.csv"
    write_sample_orders(again, orders=500, lines_per_order=3, skus=["S1", "S2", "S3", "S4"],
                        customers=["C-1", "buyer@example.com"], seed=7)
    assert again.read_bytes() == path.read_bytes()


# -- properties --------------------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12).map(
    str.strip)
_AMOUNT = st.decimals(min_value=0, max_value=10**6, places=2)
_LINES = st.lists(st.fixed_dictionaries({
    "sku": _TEXT.filter(bool), "quantity": st.decimals(min_value=Decimal("0.001"), max_value=10**6, places=3),
    "unit_price": st.none() | _AMOUNT, "discount": _AMOUNT, "description": _TEXT, "unit": _TEXT,
}), min_size=1, max_size=4)
_ORDER = st.fixed_dictionaries({
    "customer": _TEXT, "customer_email": _TEXT, "currency": st.sampled_from(["", "EUR", "USD", "JPY"]),
    "ship_city": _TEXT, "ship_country": st.sampled_from(["", "NL", "US", "DE"]), "notes": _TEXT,
    "requested_delivery_date": st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    "priority": st.none() | st.integers(-10, 10), "tags": st.lists(_TEXT.filter(lambda t: t and ";" not in t),
                                                                    max_size=3),
    "lines": _LINES,
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ORDER, min_size=1, max_size=6), st.sampled_from([",", ";", "\t"]), st.booleans())
def test_valid_orders_written_with_the_csv_module_read_back_equal(
        drafts: list[dict[str, Any]], delimiter: str, bom: bool) -> None:
    columns = ["order_id", "customer", "customer_email", "currency", "ship_city", "ship_country", "notes",
               "requested_delivery_date", "priority", "tags", "sku", "quantity", "unit_price", "discount",
               "description", "unit"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    expected: list[CapturedOrder] = []
    line_no = 2
    for n, draft in enumerate(drafts):
        order_id = f"O-{n}"
        start = line_no
        captured_lines = []
        for row_no, item in enumerate(draft["lines"]):
            head = [draft["customer"], draft["customer_email"], draft["currency"], draft["ship_city"],
                    draft["ship_country"], draft["notes"], draft["requested_delivery_date"] or "",
                    "" if draft["priority"] is None else draft["priority"], ";".join(draft["tags"])]
            cells = [order_id, *(head if row_no == 0 else [""] * len(head)), item["sku"], item["quantity"],
                     "" if item["unit_price"] is None else item["unit_price"], item["discount"], item["description"],
                     item["unit"]]
            if delimiter == ";":
                cells = [str(c).replace(".", ",") if isinstance(c, Decimal) else c for c in cells]
            writer.writerow(cells)
            captured_lines.append(CapturedLine(
                ItemRef(sku=item["sku"], description=item["description"] or None), item["quantity"],
                item["unit_price"], item["unit"] or None, item["discount"], Decimal(0), None, f"line {line_no}"))
            line_no += 1
        ship = {k: v for k, v in (("city", draft["ship_city"]), ("country", draft["ship_country"])) if v}
        expected.append(CapturedOrder(
            order_id, PartyRef(account=draft["customer"] or None, email=draft["customer_email"] or None),
            tuple(captured_lines), currency=draft["currency"] or None, ship_to=ship or None,
            notes=draft["notes"] or None, requested_delivery_date=draft["requested_delivery_date"],
            tags=tuple(draft["tags"]), control=CSV,
            where=f"orders.csv line {start}" if start == line_no - 1 else f"orders.csv lines {start}-{line_no - 1}",
            extra={} if draft["priority"] is None else {"priority": draft["priority"]}))
    data = ("\ufeff" if bom else "") + buffer.getvalue()
    assert read(data.encode()) == expected


_VALID = (b"order_id,sku,quantity,unit_price,customer,ship_country,requested_delivery_date,notes\r\n"
          b'A1,S1,2,3.50,C-1,NL,2026-12-01,"a ""quoted""\nnote"\r\nA1,S2,1,,,,,\r\n'
          b"A2,S1,1,1,C-2,DE,,caf\xc3\xa9\r\nA3,S3,4,0,C-1,,2026-01-31,\r\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255), st.sampled_from("rid")),
                min_size=1, max_size=8))
def test_random_byte_mutations_never_raise(mutations: list[tuple[int, int, str]]) -> None:
    data = bytearray(_VALID)
    for position, byte, how in mutations:
        position = min(position, len(data) - 1)
        if how == "r":
            data[position] = byte
        elif how == "i":
            data.insert(position, byte)
        elif len(data) > 1:
            del data[position]
    items = list(capture_csv(bytes(data), name="fuzz.csv"))
    assert all(isinstance(item, CapturedOrder | Rejected | Ignored) for item in items)
    for item in items:
        if isinstance(item, Rejected | Ignored):
            item.reason.encode("utf-8")  # no lone surrogates leak into reasons
        else:
            assert item.lines and all(ln.quantity > 0 for ln in item.lines)
