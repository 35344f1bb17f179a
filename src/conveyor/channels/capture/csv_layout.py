"""The order file layout that CSV and Excel imports share, and mappings from other layouts to it. Pure.

One row per order line; consecutive rows with the same `order_id` form one order (docs/import.md).
`resolve_header` matches a file's header row against the layout, through a `ColumnMapping` for files laid
out otherwise; `load_mapping` reads a mapping from a small JSON or TOML file.

Header names match whatever their case, surrounding spaces, and spaces, hyphens or underscores between words:
"Order ID", "order-id" and "ORDER_ID" all name `order_id`.
"""

from __future__ import annotations

import codecs
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ORDER_ID = "order_id"
ITEM_COLUMNS = ("sku", "gtin", "buyer_item", "vendor_item")  # a row needs at least one of these
LINE_COLUMNS = (*ITEM_COLUMNS, "description", "quantity", "unit", "unit_price", "discount", "tax", "line_ref")
ADDRESS_KEYS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone")
ORDER_COLUMNS = (
    "customer", "customer_email", "customer_name", "customer_phone", "currency",
    *(f"ship_{key}" for key in ADDRESS_KEYS), *(f"bill_{key}" for key in ADDRESS_KEYS),
    "shipping", "notes", "requested_delivery_date", "ordered_at", "priority", "tags",
)
COLUMNS = (ORDER_ID, *LINE_COLUMNS, *ORDER_COLUMNS)
REQUIRED = (ORDER_ID, "quantity")  # and one of ITEM_COLUMNS
DELIMITERS = (",", ";", "\t")  # the ones sniffed; a mapping may name any other single character
MAPPING_KEYS = ("columns", "constants", "delimiter", "decimal_comma", "date_format", "datetime_format",
                "tags_separator", "encoding")

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise(header: str) -> str:
    """The form header names are compared in: 'Order ID ' -> 'order_id'."""
    return _SEPARATORS.sub("_", header.strip().lstrip("\ufeff").strip().casefold()).strip("_")


class MappingError(ValueError):
    """A mapping that cannot be used; names the file (or 'mapping') and the key."""

    def __init__(self, source: str, key: str | None, message: str) -> None:
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")
        self.source = source
        self.key = key
        self.message = message


@dataclass(frozen=True)
class ColumnMapping:
    """How a file laid out otherwise maps onto the layout.

    `columns` maps our column names to the file's headers ({"order_id": "Name", "sku": "Lineitem sku"});
    columns not mapped are still found under their own names. `constants` gives a value for a column the file
    does not have, or leaves empty ({"currency": "EUR"}).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    delimiter: str | None = None  # None: sniffed from the header line among "," ";" and tab
    decimal_comma: bool | None = None  # None: a comma is the decimal separator when the delimiter is ";"
    date_format: str | None = None  # strptime format read besides YYYY-MM-DD, e.g. "%d/%m/%Y"
    datetime_format: str | None = None  # strptime format read besides ISO 8601, e.g. "%Y-%m-%d %H:%M:%S %z"
    tags_separator: str = ";"
    encoding: str = "utf-8"  # CSV only; e.g. "cp1252" for files saved by Excel on Windows as "CSV"

    def __post_init__(self) -> None:
        problem = _check(self)
        if problem is not None:
            raise MappingError("mapping", *problem)


def _check(mapping: ColumnMapping) -> tuple[str, str] | None:
    """The first problem of a mapping as (key, message), or None."""
    known = ", ".join(COLUMNS)
    for section in ("columns", "constants"):
        for column, value in getattr(mapping, section).items():
            if column not in COLUMNS:
                return f"{section}.{column}", f"not a column of the layout; the columns are {known}"
            if not isinstance(value, str) or (section == "columns" and not value.strip()):
                return f"{section}.{column}", f"expected {'a header' if section == 'columns' else 'a value'} as " \
                                              f"text, found {value!r}"
    for column in mapping.constants:
        if column == ORDER_ID:
            return "constants.order_id", "the order id cannot be a constant: it tells orders apart"
        if column in mapping.columns:
            return f"constants.{column}", f"{column} is also mapped to the column {mapping.columns[column]!r}"
    if mapping.delimiter is not None and (len(mapping.delimiter) != 1 or mapping.delimiter in '"\r\n'):
        return "delimiter", f"expected one character other than a quote or a line break, found {mapping.delimiter!r}"
    if not mapping.tags_separator:
        return "tags_separator", "expected at least one character, found nothing"
    for key in ("date_format", "datetime_format"):
        fmt = getattr(mapping, key)
        if fmt is not None:
            try:
                datetime.strptime(datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC).strftime(fmt), fmt)
            except ValueError:
                return key, f"{fmt!r} is not a strptime format that reads back what it writes"
    try:
        codecs.lookup(mapping.encoding)
    except LookupError:
        return "encoding", f"unknown encoding {mapping.encoding!r}; e.g. utf-8, cp1252, latin-1"
    return None


def mapping_from_dict(data: Mapping[str, Any], *, source: str = "mapping") -> ColumnMapping:
    """A mapping from parsed JSON or TOML (or a form); raises MappingError naming `source` and the key."""
    if not isinstance(data, Mapping):
        raise MappingError(source, None, f"expected a table of settings, found {type(data).__name__}")
    for key in data:
        if key not in MAPPING_KEYS:
            raise MappingError(source, str(key), f"unknown setting; the settings are {', '.join(MAPPING_KEYS)}")
    values: dict[str, Any] = {}
    for section in ("columns", "constants"):
        table = data.get(section, {})
        if not isinstance(table, Mapping):
            raise MappingError(source, section, f"expected a table of column = text, found {table!r}")
        entries: dict[str, str] = {}
        for column, value in table.items():
            if section == "constants" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # priority = 5
            if not isinstance(value, str):
                raise MappingError(source, f"{section}.{column}", f"expected text, found {value!r}")
            entries[str(column)] = value
        values[section] = entries
    for key in ("delimiter", "date_format", "datetime_format", "tags_separator", "encoding"):
        if key in data:
            if not isinstance(data[key], str):
                raise MappingError(source, key, f"expected text, found {data[key]!r}")
            values[key] = "\t" if key == "delimiter" and data[key].lower() in ("tab", "\\t") else data[key]
    if "decimal_comma" in data:
        if not isinstance(data["decimal_comma"], bool):
            raise MappingError(source, "decimal_comma", f"expected true or false, found {data['decimal_comma']!r}")
        values["decimal_comma"] = data["decimal_comma"]
    try:
        return ColumnMapping(**values)
    except MappingError as exc:
        raise MappingError(source, exc.key, exc.message) from None


def load_mapping(path: str | Path) -> ColumnMapping:
    """A mapping from a .json or .toml file; raises MappingError naming the file and the key."""
    path = Path(path)
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MappingError(source, None, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(source, None, f"not UTF-8 text (byte {exc.start})") from None
    suffix = path.suffix.lower()
    data: Any
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MappingError(source, None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") \
                from None
    elif suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(source, None, f"not valid TOML: {exc}") from None
    else:
        raise MappingError(source, None, f"expected a .json or .toml file, found {suffix or 'no extension'!r}")
    return mapping_from_dict(data, source=source)


@dataclass(frozen=True)
class Header:
    """Where each column of the layout is in a row: `positions[column]` for every column of the layout.

    Columns the file does not have point past the file's own cells, into `tail` (their constant, or an
    empty cell), which the reader appends to every row; `fills` are (position, constant) for columns the file
    has but may leave empty.
    """

    width: int  # cells in the file's header row
    positions: Mapping[str, int]
    labels: Mapping[str, str]  # how the file names each column it has, for messages
    tail: tuple[str, ...]
    fills: tuple[tuple[int, str], ...]
    notes: tuple[str, ...]  # unknown columns, mapped columns not found: reported once, nothing rejected

    @property
    def empty(self) -> int:
        """The position of the empty cell that columns the file lacks (and has no constant for) point to."""
        return self.width + len(self.tail) - 1

    def label(self, column: str) -> str:
        """'quantity', or 'Lineitem quantity (quantity)' when the file names it otherwise."""
        label = self.labels.get(column)
        return column if label is None or normalise(label) == column else f"{label} ({column})"


class HeaderProblem(ValueError):
    """The header row cannot be read as the layout: the file is rejected whole."""


def resolve_header(cells: Sequence[str], mapping: ColumnMapping) -> Header:
    """Matches a header row against the layout (through `mapping`); raises HeaderProblem."""
    wanted: dict[str, list[str]] = {}  # normalised header -> the columns it gives
    for column, header in mapping.columns.items():
        wanted.setdefault(normalise(header), []).append(column)
    for column in COLUMNS:
        if column not in mapping.columns:
            wanted.setdefault(column, [column])
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    unknown: list[str] = []
    for i, raw in enumerate(cells):
        key = normalise(raw)
        if not key:
            continue  # no header (often a trailing delimiter): ignored
        columns = wanted.get(key)
        if columns is None:
            unknown.append(f"{raw.strip()!r} (column {i + 1})")
            continue
        for column in columns:
            if column in positions:
                raise HeaderProblem(f"columns {positions[column] + 1} ({labels[column]!r}) and {i + 1} "
                                    f"({raw.strip()!r}) both give {column}; keep one")
            positions[column] = i
            labels[column] = raw.strip()
    missing_mapped = [f"{column} (mapped to {mapping.columns[column]!r})" for column in mapping.columns
                      if column not in positions]
    absent = [column for column in REQUIRED if column not in positions and column not in mapping.constants]
    if not any(column in positions or column in mapping.constants for column in ITEM_COLUMNS):
        absent.append(" or ".join(ITEM_COLUMNS[:3]))
    if absent:
        found = ", ".join(repr(c.strip()) for c in cells if c.strip()) or "nothing"
        how = "; the mapping looks for " + ", ".join(missing_mapped) if missing_mapped else ""
        raise HeaderProblem(f"the header has no {' and no '.join(absent)} column{how}; found {found}")
    width = len(cells)
    tail: list[str] = []
    fills: list[tuple[int, str]] = []
    for column in COLUMNS:
        constant = mapping.constants.get(column, "")
        if column in positions:
            if constant:
                fills.append((positions[column], constant))
        elif constant:
            positions[column] = width + len(tail)
            tail.append(constant)
    empty = width + len(tail)
    tail.append("")
    for column in COLUMNS:
        positions.setdefault(column, empty)
    notes = []
    if unknown:
        notes.append(f"columns not in the layout, their values are not read: {', '.join(unknown)}")
    if missing_mapped:
        notes.append(f"mapped columns the file does not have: {', '.join(missing_mapped)}")
    return Header(width, positions, labels, tuple(tail), tuple(fills), tuple(notes))
