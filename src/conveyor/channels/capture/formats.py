"""Which adapter reads a document: told from its first bytes (and its name, for hints). Pure.

    detect_format("orders.csv", head)  # "csv", "xlsx", "x12", "edifact", "shopify", "woocommerce" or "amazon"

`head` is the start of the document; 64 KiB is plenty (JSON is told by its keys, and a cut-off JSON head is
searched for them as text). Content decides, not the name: a file named .csv holding an X12 interchange is
"x12". Raises `UnknownFormat` with what was seen when no adapter reads it.

- xlsx: a zip file (`PK\\x03\\x04`), as every .xlsx workbook is; an old .xls workbook is refused with a hint.
- x12: `ISA` first (after any byte order mark or white space), also in EBCDIC.
- edifact: `UNA` or `UNB` first (or `UNH`, a message without an interchange envelope).
- JSON (`{` or `[` first): Amazon when it has `AmazonOrderId`, or is the {"order", "items"} pair; Shopify
  when it has `variant_id`, `admin_graphql_api_id` or `financial_status`; WooCommerce when it has
  `line_items` with `product_id` and `billing`, `shipping` or `number` (also `billing_address`,
  `shipping_address`, `order_number` of the legacy v3 API). Any other JSON is refused.
- csv: any other text (UTF-8, or UTF-16 for the CSV reader to refuse with a clear reason); binary content,
  XML and HTML are refused.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

FORMATS = ("csv", "xlsx", "x12", "edifact", "shopify", "woocommerce", "amazon")
HEAD_SIZE = 1 << 16  # bytes worth passing as `head`

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EBCDIC_ISA = b"\xc9\xe2\xc1"  # "ISA" in EBCDIC (cp037, cp500)
_KEY = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:')
_SHOPIFY = ("variant_id", "admin_graphql_api_id", "financial_status")
_WOO = ("billing", "shipping", "number", "billing_address", "shipping_address", "order_number")


class UnknownFormat(ValueError):
    """No adapter reads the document; the message says what was seen."""


def detect_format(path_or_name: str, head: bytes) -> str:
    """One of FORMATS for the document starting with `head`; raises UnknownFormat."""
    name = path_or_name.replace("\\", "/").rsplit("/", 1)[-1] or "the document"
    if not head:
        raise UnknownFormat(f"{name}: the file is empty")
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE):
        raise UnknownFormat(f"{name}: an Excel 97-2003 workbook (.xls) or another OLE2 file; save it as an Excel "
                            "Workbook (.xlsx) or as CSV UTF-8")
    if head.lstrip(b"\x40\x25\x15\x0d").startswith(_EBCDIC_ISA):  # EBCDIC space, LF, NL, CR
        return "x12"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"  # the CSV reader refuses UTF-16 with a reason that says how to save it
    start = head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n\x00")
    if start.startswith(b"ISA"):
        return "x12"
    if start.startswith((b"UNA", b"UNB", b"UNH")):
        return "edifact"
    if start.startswith((b"{", b"[")):
        return _json_format(name, start)
    if start.startswith(b"<"):
        raise UnknownFormat(f"{name}: XML or HTML, which no order adapter reads")
    if b"\x00" in head or not _is_text(head):
        raise UnknownFormat(f"{name}: binary content (starting {head[:8].hex(' ')}), not CSV, Excel, EDI or JSON")
    return "csv"


def _is_text(head: bytes) -> bool:
    """UTF-8 as far as it goes (a head may cut a character in two), or a single-byte text encoding."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            control = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
            return control * 100 < len(head)  # e.g. cp1252 text: the CSV reader names the lines
    return True


def _json_format(name: str, head: bytes) -> str:
    text = head.decode("utf-8", "replace")
    keys: set[str]
    top: set[str] = set()
    try:
        document = json.loads(text)
    except ValueError:  # a cut-off head: search it as text
        keys = set(_KEY.findall(text))
    else:
        keys = set()
        _collect(document, keys)
        first = document[0] if isinstance(document, list) and document else document
        top = set(first) if isinstance(first, dict) else set()
    if "AmazonOrderId" in keys:
        return "amazon"
    if any(key in keys for key in _SHOPIFY):
        return "shopify"
    if "line_items" in keys and "product_id" in keys and any(key in keys for key in _WOO):
        return "woocommerce"
    if {"order", "items"} <= (top or keys):
        return "amazon"
    shown = ", ".join(sorted(top or keys)[:12]) or "none"
    raise UnknownFormat(f"{name}: JSON, but not an order from Shopify, WooCommerce or Amazon (keys: {shown})")


def _collect(value: Any, keys: set[str], depth: int = 0) -> None:
    if depth > 20:
        return
    if isinstance(value, dict):
        keys.update(key for key in value if isinstance(key, str))
        for item in value.values():
            _collect(item, keys, depth + 1)
    elif isinstance(value, list):
        for item in value[:50]:
            _collect(item, keys, depth + 1)
