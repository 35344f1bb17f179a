"""Rows of the order file layout into captured orders: the rules CSV and Excel imports share. Pure.

Consecutive rows with the same order id form one order. Order-level values come from the order's first row;
a later row may leave them empty or repeat them, and rejects the order if it says otherwise. A bad row
rejects its whole order, naming every bad cell; the orders around it are still captured. An order id seen
before, with other orders in between, is rejected ("rows of order X must be consecutive"). A row with no
order id is counted with the order above it (which it then rejects), so that a line is never lost silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from conveyor.channels.capture import csv_values as values
from conveyor.channels.capture.csv_layout import ORDER_ID, ColumnMapping, Header
from conveyor.channels.capture.model import Captured, CapturedLine, Control, ItemRef, Rejected
from conveyor.channels.capture.order_head import CACHED, ZERO, OrderHead, Problems, plain
from conveyor.channels.capture.order_index import OrderIndex

# (first line, last line, cells, a problem found while reading the row: (code, "line 7: ..."))
Row = tuple[int, int, list[str], tuple[str, str] | None]

_new = object.__new__
_set = object.__setattr__
_ITEM = ("sku", "vendor_item", "gtin", "buyer_item", "description")
_LINE = ("item", "quantity", "unit_price", "unit", "discount", "tax", "line_ref", "where")

if plain(ItemRef, _ITEM) and plain(CapturedLine, _LINE):
    def _item(sku: str | None, vendor: str | None, gtin: str | None, buyer: str | None,
              description: str | None) -> ItemRef:
        item = _new(ItemRef)
        _set(item, "__dict__", {"sku": sku, "vendor_item": vendor, "gtin": gtin, "buyer_item": buyer,
                                "description": description})
        return item

    def _line(item: ItemRef, quantity: Decimal, price: Decimal | None, unit: str | None, discount: Decimal,
              tax: Decimal, ref: str | None, where: str) -> CapturedLine:
        line = _new(CapturedLine)
        _set(line, "__dict__", {"item": item, "quantity": quantity, "unit_price": price, "unit": unit,
                                "discount": discount, "tax": tax, "line_ref": ref, "where": where})
        return line
else:  # pragma: no cover - the model changed: build through __init__
    def _item(sku: str | None, vendor: str | None, gtin: str | None, buyer: str | None,
              description: str | None) -> ItemRef:
        return ItemRef(sku=sku, vendor_item=vendor, gtin=gtin, buyer_item=buyer, description=description)

    def _line(item: ItemRef, quantity: Decimal, price: Decimal | None, unit: str | None, discount: Decimal,
              tax: Decimal, ref: str | None, where: str) -> CapturedLine:
        return CapturedLine(item=item, quantity=quantity, unit_price=price, unit=unit, discount=discount, tax=tax,
                            line_ref=ref, where=where)


@dataclass(frozen=True)
class Options:
    """How values are written in one file."""

    decimal_comma: bool = False
    date_format: str | None = None
    datetime_format: str | None = None
    tags_separator: str = ";"

    @classmethod
    def of(cls, mapping: ColumnMapping, *, decimal_comma: bool) -> Options:
        return cls(decimal_comma, mapping.date_format, mapping.datetime_format, mapping.tags_separator)


def capture_rows(rows: Iterable[Row], header: Header, *, where: str, unit: str, options: Options,
                 control: Control) -> Iterator[Captured]:
    """Captured orders and rejections, in file order, from the rows after the header.

    `where` names the file ("orders.csv"); `unit` is what numbers the rows ("line" for CSV, "row" for Excel).
    """
    head = OrderHead(header, where, unit, control, decimal_comma=options.decimal_comma,
                     date_format=options.date_format, datetime_format=options.datetime_format,
                     tags_separator=options.tags_separator)
    pos = header.positions
    width = header.width
    tail = list(header.tail)
    fills = header.fills
    p_id = pos[ORDER_ID]
    p_sku, p_vendor, p_gtin, p_buyer = pos["sku"], pos["vendor_item"], pos["gtin"], pos["buyer_item"]
    p_desc, p_qty, p_unit, p_price = pos["description"], pos["quantity"], pos["unit"], pos["unit_price"]
    p_disc, p_tax, p_ref = pos["discount"], pos["tax"], pos["line_ref"]
    key_of = head.key_of
    blank = key_of([""] * (width + len(tail)))
    number = _reader(options.decimal_comma)
    quantities: dict[str, Decimal] = {}  # above 0
    amounts: dict[str, Decimal] = {}  # 0 or more
    empty = header.empty
    other_items = any(pos[column] != empty for column in ("vendor_item", "gtin", "buyer_item", "description"))
    other_line_columns = any(pos[column] != empty for column in ("unit", "discount", "tax", "line_ref"))
    bad = head.bad
    amount = head.amount
    finish = head.finish
    seen = OrderIndex()
    make_line = _line
    items: dict[object, ItemRef] = {}  # ItemRef is immutable: rows naming the same item share one
    line_word = f"{unit} "

    current: str | None = None
    first_cells: list[str] = []
    key: object = None
    start = end = 0
    lines: list[CapturedLine] = []
    problems: Problems = []

    for first, last, cells, problem in rows:
        if len(cells) != width:
            if problem is None and not any(cell.strip() for cell in cells):
                continue  # a blank row
            cells, problem = _fit(cells, width, problem, unit, first)
        order_id = cells[p_id].strip()
        if not order_id and problem is None and not any(cell.strip() for cell in cells):
            continue  # a blank row
        cells += tail
        if fills:
            for i, constant in fills:
                if not cells[i].strip():
                    cells[i] = constant
        if not order_id:
            code, message = problem or ("missing_value", f"{unit} {first}: column {header.label(ORDER_ID)}: "
                                                         f"expected an order id, found nothing")
            if current is None:
                place = f"{unit} {first}" if first == last else f"{unit}s {first}-{last}"
                yield Rejected(f"{where} {place}", f"{where} {message}", None, control, code)
            else:
                problems.append((code, first, f"{where} {message} (counted with order {current} above it)"))
                end = last
            continue
        if order_id != current:
            if current is not None:
                yield finish(current, first_cells, key, lines, start, end, problems)
            current = order_id
            first_cells = cells
            key = key_of(cells)
            start = first
            lines = []
            problems = []
            before = seen.add(order_id, first)
            if before:
                problems.append(("not_consecutive", first, f"{where} {unit} {first}: rows of order {order_id} must be "
                                                    f"consecutive; first seen on {unit} {before}"))
        else:
            later = key_of(cells)
            if later != key and later != blank:  # later rows may repeat order-level values or leave them empty
                head.compare(first_cells, cells, start, first, problems)
        end = last
        if problem is not None:
            problems.append((problem[0], first, f"{where} {problem[1]}"))

        sku = cells[p_sku].strip()
        if other_items:
            vendor = cells[p_vendor].strip()
            gtin = cells[p_gtin].strip()
            buyer = cells[p_buyer].strip()
            description = cells[p_desc].strip()
            item_key: object = (sku, vendor, gtin, buyer, description)
            if not (sku or gtin or buyer or vendor):
                bad(problems, first, "sku", "", "an item: a sku, gtin or buyer_item")
        else:
            vendor = gtin = buyer = description = ""
            item_key = sku
            if not sku:
                bad(problems, first, "sku", "", "an item: a sku, gtin or buyer_item")
        text = cells[p_qty]
        quantity = quantities.get(text)
        if quantity is None:
            quantity = number(text, quantities, True)
            if quantity is None:
                bad(problems, first, "quantity", text.strip(), "a number above 0")
                quantity = ZERO
        text = cells[p_price]
        price = amounts.get(text)
        if price is None and text and text.strip():
            price = number(text, amounts, False)
            if price is None:
                bad(problems, first, "unit_price", text.strip(), "an amount of 0 or more")
        if other_line_columns:
            unit_code = cells[p_unit].strip() or None
            ref = cells[p_ref].strip() or None
            text = cells[p_disc]
            discount = amounts.get(text) or (amount(text.strip(), problems, first, "discount") if text.strip()
                                             else ZERO)
            text = cells[p_tax]
            tax = amounts.get(text) or (amount(text.strip(), problems, first, "tax") if text.strip() else ZERO)
        else:
            unit_code = ref = None
            discount = tax = ZERO
        if problems:
            continue
        item = items.get(item_key)
        if item is None:
            if len(items) >= CACHED:
                items.clear()
            item = items[item_key] = _item(sku or None, vendor or None, gtin or None, buyer or None,
                                           description or None)
        lines.append(make_line(item, quantity, price, unit_code, discount, tax, ref, line_word + str(first)))
    if current is not None:
        yield finish(current, first_cells, key, lines, start, end, problems)


def _reader(decimal_comma: bool) -> Callable[[str, dict[str, Decimal], bool], Decimal | None]:
    """Reads a cell as a number; remembers good ones by their text (files repeat quantities and prices,
    and Decimal is immutable) in the cache it is given, which it keeps to CACHED entries."""
    match = values.NUMBER.fullmatch

    def number(text: str, cache: dict[str, Decimal], above_zero: bool) -> Decimal | None:
        value = text.strip()
        if decimal_comma:
            value = value.replace(",", ".")
        if match(value) is None:
            return None
        result = Decimal(value)
        if result < 0 or (above_zero and result == 0):
            return None
        if len(cache) >= CACHED:
            cache.clear()
        cache[text] = result
        return result
    return number


def _fit(cells: list[str], width: int, problem: tuple[str, str] | None, unit: str,
         first: int) -> tuple[list[str], tuple[str, str] | None]:
    """A row cut or padded to the header's width: trailing empty cells may be left out, or be too many."""
    if len(cells) < width:
        return cells + [""] * (width - len(cells)), problem
    if problem is None and any(cell.strip() for cell in cells[width:]):
        problem = ("too_many_cells", f"{unit} {first}: the row has {len(cells)} cells and the header {width}; "
                                     "check the delimiters and quotes")
    return cells[:width], problem
