"""Excel workbooks in the documented layout: the CSV rules with Excel's row numbers and native values."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from conveyor.channels.capture.csv_layout import ColumnMapping
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
from conveyor.channels.capture.xlsx_orders import capture_xlsx, text

XLSX = Control(standard="xlsx")


def workbook(path: Path, *sheets: tuple[str, list[list[Any]]]) -> Path:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def read(path: Path, **options: Any) -> list[Captured]:
    return list(capture_xlsx(path, name=path.name, **options))


def test_native_numbers_dates_and_text_are_read(tmp_path: Path) -> None:
    path = workbook(tmp_path / "orders.xlsx", ("Orders", [
        ["Order ID", "SKU", "Quantity", "Unit price", "GTIN", "customer", "requested_delivery_date", "ordered_at",
         "ship_postal_code", "priority", "shipping"],
        [1001, "MUG-B", 2, 12.5, 4006381333931, "C-001", date(2026, 12, 1), datetime(2026, 11, 20, 9, 15),
         "3011 AD", 3, 4.95],
        [1001, "MUG-R", 3.0, 0.1 + 0.2, None, None, None, None, None, None, None],
    ]))
    assert read(path) == [CapturedOrder(
        "1001", PartyRef(account="C-001"),
        (CapturedLine(ItemRef(sku="MUG-B", gtin="4006381333931"), Decimal(2), Decimal("12.5"), where="row 2"),
         CapturedLine(ItemRef(sku="MUG-R"), Decimal(3), Decimal("0.3"), where="row 3")),
        ship_to={"postal_code": "3011 AD"}, shipping=Decimal("4.95"), requested_delivery_date=date(2026, 12, 1),
        ordered_at=datetime(2026, 11, 20, 9, 15, tzinfo=UTC), where="orders.xlsx rows 2-3", control=XLSX,
        extra={"priority": 3})]


def test_a_broken_order_between_good_ones_names_its_row(tmp_path: Path) -> None:
    path = workbook(tmp_path / "orders.xlsx", ("Sheet", [
        [], ["order_id", "sku", "quantity", "requested_delivery_date"],
        ["A1", "S1", 1, None], [], ["A2", "S1", "two", datetime(2026, 12, 1, 10, 30)], ["A2", "S2", 1, None],
        ["A3", "S1", 5, None],
    ]))
    items = read(path)
    assert [type(item) for item in items] == [CapturedOrder, Rejected, CapturedOrder]
    assert items[0].where == "orders.xlsx row 3"
    assert items[1] == Rejected("orders.xlsx rows 5-6", "orders.xlsx row 5: column quantity: expected a number above "
                                "0, found 'two'; orders.xlsx row 5: column requested_delivery_date: expected a date "
                                "as YYYY-MM-DD, found '2026-12-01T10:30:00'", "A2", XLSX, "invalid_value")
    assert items[2].where == "orders.xlsx row 7"


def test_the_consecutive_rows_and_order_level_rules_apply(tmp_path: Path) -> None:
    path = workbook(tmp_path / "orders.xlsx", ("Sheet", [
        ["order_id", "sku", "quantity", "currency"],
        ["A1", "S1", 1, "EUR"], ["A2", "S1", 1, "EUR"], ["A2", "S2", 1, "USD"], ["A1", "S3", 1, None],
    ]))
    assert [(type(i).__name__, i.reason if isinstance(i, Rejected) else "") for i in read(path)] == [
        ("CapturedOrder", ""),
        ("Rejected", "orders.xlsx row 4: column currency: expected 'EUR' as on row 3 (the order's first row) or "
                     "nothing, found 'USD'"),
        ("Rejected", "orders.xlsx row 5: rows of order A1 must be consecutive; first seen on row 2"),
    ]


def test_sheets_are_chosen_by_name_and_named_in_places(tmp_path: Path) -> None:
    path = workbook(tmp_path / "book.xlsx", ("Notes", [["nothing here"]]),
                    ("Orders", [["order_id", "sku", "quantity"], ["A1", "S1", "x"]]))
    assert read(path, sheet="Orders") == [Rejected(
        "book.xlsx sheet Orders row 2", "book.xlsx sheet Orders row 2: column quantity: expected a number above 0, "
                                        "found 'x'", "A1", XLSX, "invalid_value")]
    assert read(path)[0] == Rejected("book.xlsx sheet Notes row 1", "book.xlsx sheet Notes row 1: the header has no "
                                     "order_id and no quantity and no sku or gtin or buyer_item column; found "
                                     "'nothing here'", None, XLSX, "invalid_header")
    assert read(path, sheet="Missing") == [Rejected("book.xlsx", "book.xlsx: no sheet named 'Missing'; the workbook "
                                                    "has 'Notes', 'Orders'", None, XLSX, "invalid_xlsx")]


def test_a_mapping_and_unknown_columns(tmp_path: Path) -> None:
    path = workbook(tmp_path / "export.xlsx", ("Sheet", [
        ["Name", "Lineitem sku", "Lineitem quantity", "Colour"], ["#1", "S1", 2, "red"]]))
    mapping = ColumnMapping(columns={"order_id": "Name", "sku": "Lineitem sku", "quantity": "Lineitem quantity"},
                            constants={"currency": "EUR"})
    assert read(path, mapping=mapping) == [
        Ignored("export.xlsx row 1", "columns not in the layout, their values are not read: 'Colour' (column 4)",
                XLSX),
        CapturedOrder("#1", PartyRef(), (CapturedLine(ItemRef(sku="S1"), Decimal(2), where="row 2"),),
                      currency="EUR", where="export.xlsx row 2", control=XLSX)]


def test_a_file_object_reads_the_same(tmp_path: Path) -> None:
    path = workbook(tmp_path / "orders.xlsx", ("Sheet", [["order_id", "sku", "quantity"], ["A1", "S1", 1]]))
    stream = io.BytesIO(path.read_bytes())
    assert list(capture_xlsx(stream, name="orders.xlsx")) == read(path)


@pytest.mark.parametrize(("content", "reason", "code"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old.xlsx: an Excel 97-2003 workbook (.xls); save it as an "
                                                       "Excel Workbook (.xlsx) or as CSV UTF-8", "invalid_xlsx"),
    (b"order_id,sku,quantity\n", "old.xlsx: not an Excel workbook (.xlsx): it does not start as a zip file does",
     "invalid_xlsx"),
    (b"PK\x03\x04 broken", "old.xlsx: not a readable Excel workbook (BadZipFile: File is not a zip file)",
     "invalid_xlsx"),
])
def test_files_that_are_not_workbooks_are_rejected_whole(tmp_path: Path, content: bytes, reason: str,
                                                          code: str) -> None:
    path = tmp_path / "old.xlsx"
    path.write_bytes(content)
    assert read(path) == [Rejected("old.xlsx", reason, None, XLSX, code)]


def test_a_zip_that_is_not_a_workbook_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    (item,) = read(path)
    assert isinstance(item, Rejected) and item.reason.startswith("other.xlsx: not a readable Excel workbook (")


def test_empty_sheets(tmp_path: Path) -> None:
    path = workbook(tmp_path / "empty.xlsx", ("Sheet", []))
    assert read(path) == [Rejected("empty.xlsx", "empty.xlsx: the sheet is empty; expected a header row naming the "
                                   "columns, such as order_id, sku, quantity", None, XLSX, "empty_file")]
    only_header = workbook(tmp_path / "header.xlsx", ("Sheet", [["order_id", "sku", "quantity"]]))
    assert read(only_header) == []


@pytest.mark.parametrize(("value", "expected"), [
    (None, ""), ("text", "text"), (True, "TRUE"), (7, "7"), (3.0, "3"), (12.5, "12.5"), (0.1 + 0.2, "0.3"),
    (1e-7, "0.0000001"), (-2.25, "-2.25"), (4006381333931.0, "4006381333931"), (1e20, "100000000000000000000"),
    (date(2026, 1, 2), "2026-01-02"), (datetime(2026, 1, 2), "2026-01-02"),
    (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05"), (time(9, 30), "09:30:00"),
    (timedelta(hours=1), "1:00:00"),
])
def test_cell_values_as_text(value: object, expected: str) -> None:
    assert text(value) == expected
