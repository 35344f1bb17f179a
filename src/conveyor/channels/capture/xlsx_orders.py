"""Excel workbooks (.xlsx) of orders in the documented layout, read row by row. Pure: no database, no clock.

The same layout and rules as CSV files (csv_orders.py, order_rows.py), with rows numbered as Excel numbers
them: `where` reads "orders.xlsx row 7" ("orders.xlsx sheet Orders row 7" when the workbook has more than
one sheet). The first sheet is read unless `sheet` names another; the header is its first non-empty row.

Values Excel stores natively are read as they are, not as they are displayed: numbers to 15 significant
digits (Excel's own precision: 0.1+0.2 is 0.3, an integer-valued 3.0 is 3), dates as dates (a date cell
in `requested_delivery_date` needs no format), dates with a time as date-times. Formulas give the value
Excel saved with the workbook. Workbooks of the old binary format (.xls) are rejected with a hint.

openpyxl reads the workbook in read-only mode, which streams the sheet: memory does not follow its size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

from openpyxl import load_workbook

from conveyor.channels.capture.csv_layout import ColumnMapping, HeaderProblem, resolve_header
from conveyor.channels.capture.model import Captured, Control, Ignored, Rejected
from conveyor.channels.capture.order_rows import Options, Row, capture_rows

CONTROL = Control(standard="xlsx")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003) and other OLE2 files


def capture_xlsx(path: str | os.PathLike[str] | IO[bytes], *, name: str, mapping: ColumnMapping | None = None,
                 sheet: str | None = None) -> Iterator[Captured]:
    """Orders, rejections and notes from an .xlsx workbook (a path or a seekable binary file object).

    Never raises for what the workbook holds: a file that is no workbook is one `Rejected`.
    """
    mapping = mapping or ColumnMapping()
    magic = _magic(path)
    if magic.startswith(OLE_MAGIC):
        yield Rejected(name, f"{name}: an Excel 97-2003 workbook (.xls); save it as an Excel Workbook (.xlsx) or "
                             "as CSV UTF-8", None, CONTROL, "invalid_xlsx")
        return
    if not magic.startswith(ZIP_MAGIC):
        yield Rejected(name, f"{name}: not an Excel workbook (.xlsx): it does not start as a zip file does", None,
                       CONTROL, "invalid_xlsx")
        return
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, KeyError) for a broken workbook
        yield Rejected(name, f"{name}: not a readable Excel workbook ({_describe(exc)})", None, CONTROL,
                       "invalid_xlsx")
        return
    try:
        names = workbook.sheetnames
        if sheet is not None and sheet not in names:
            yield Rejected(name, f"{name}: no sheet named {sheet!r}; the workbook has "
                                 f"{', '.join(repr(n) for n in names)}", None, CONTROL, "invalid_xlsx")
            return
        if not names:
            yield Rejected(name, f"{name}: the workbook has no sheets", None, CONTROL, "empty_file")
            return
        title = sheet if sheet is not None else names[0]
        worksheet = workbook[title]
        where = f"{name} sheet {title}" if sheet is not None or len(names) > 1 else name
        reset = getattr(worksheet, "reset_dimensions", None)
        if reset is not None:
            reset()  # read every row, whatever the dimension the writer recorded
        yield from _capture(_values(worksheet.iter_rows(values_only=True)), where, mapping)
    finally:
        workbook.close()


def _magic(path: str | os.PathLike[str] | IO[bytes]) -> bytes:
    if isinstance(path, str | os.PathLike):
        with open(path, "rb") as stream:
            return stream.read(8)
    position = path.tell()
    head = path.read(8)
    path.seek(position)
    return head


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _values(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(row number, cells as text, None), or (row, None, why) where the sheet stops being readable."""
    number = 0
    try:
        for number, row in enumerate(rows, start=1):
            yield number, [text(value) for value in row], None
    except Exception as exc:  # a corrupt sheet: what was read stays read
        yield number + 1, None, f"row {number + 1}: the sheet cannot be read from here on ({_describe(exc)})"


def text(value: object) -> str:
    """A cell's value as the text the layout reads."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(format(value, ".15g")), "f")
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _capture(rows: Iterator[tuple[int, list[str] | None, str | None]], where: str,
             mapping: ColumnMapping) -> Iterator[Captured]:
    for number, cells, problem in rows:
        if cells is None:
            yield Rejected(f"{where} row {number}", f"{where} {problem}", None, CONTROL, "invalid_xlsx")
            return
        if any(cell.strip() for cell in cells):
            break
    else:
        yield Rejected(where, f"{where}: the sheet is empty; expected a header row naming the columns, such as "
                              "order_id, sku, quantity", None, CONTROL, "empty_file")
        return
    at = f"{where} row {number}"
    try:
        header = resolve_header(cells, mapping)
    except HeaderProblem as exc:
        yield Rejected(at, f"{at}: {exc}", None, CONTROL, "invalid_header")
        return
    if header.notes:
        yield Ignored(at, "; ".join(header.notes), CONTROL)
    comma = bool(mapping.decimal_comma)
    yield from capture_rows(_rows(rows), header, where=where, unit="row",
                            options=Options.of(mapping, decimal_comma=comma), control=CONTROL)


def _rows(rows: Iterator[tuple[int, list[str] | None, str | None]]) -> Iterator[Row]:
    for number, cells, problem in rows:
        if cells is None:
            yield number, number, [], ("invalid_xlsx", problem or f"row {number}: unreadable")
            return
        yield number, number, cells, None
