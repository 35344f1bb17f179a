"""One entry to every adapter: a document (a file, an upload, a webhook body) in, captured items out.

The format is named (`csv`, `xlsx`, `x12`, `edifact`, `shopify`, `woocommerce`, `amazon`) or detected
from the first bytes and the file name (`auto`, formats.py). Adapters stream: a file is read as it is
consumed, never loaded whole (an Excel workbook is read row by row from its path).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from conveyor.channels.capture.formats import HEAD_SIZE
from conveyor.channels.capture.model import Captured, Rejected

HEAD = HEAD_SIZE  # bytes read to detect a format

FORMATS = ("auto", "csv", "xlsx", "x12", "edifact", "shopify", "woocommerce", "amazon")
JSON_FORMATS = ("shopify", "woocommerce", "amazon")


class UnknownFormat(ValueError):
    pass


def detect(name: str, head: bytes) -> str:
    from conveyor.channels.capture.formats import detect_format

    try:
        return detect_format(name, head)
    except ValueError as exc:
        raise UnknownFormat(str(exc)) from None


def read_path(path: Path, fmt: str = "auto", *, mapping: Any = None,
              hooks: dict[str, Any] | None = None) -> tuple[str, Iterator[Captured]]:
    """The format used and the captured items of the file at `path` (opened lazily, closed when done)."""
    if fmt == "auto":
        with path.open("rb") as f:
            fmt = detect(path.name, f.read(HEAD))
    return fmt, from_path(path, fmt, mapping, hooks)


def from_path(path: Path, fmt: str, mapping: Any = None, hooks: dict[str, Any] | None = None) -> Iterator[Captured]:
    if fmt == "xlsx":
        from conveyor.channels.capture.xlsx_orders import capture_xlsx

        yield from capture_xlsx(path, name=path.name, mapping=mapping)
        return
    with path.open("rb") as f:
        yield from read_stream(f, fmt, name=path.name, mapping=mapping, hooks=hooks)


def read_stream(stream: IO[bytes], fmt: str, *, name: str, mapping: Any = None,
                hooks: dict[str, Any] | None = None) -> Iterator[Captured]:
    """Captured items of an open binary stream in a named format (not auto, not xlsx: see read_bytes).
    `hooks` are the acknowledger's callbacks into the EDI adapters (acks.py)."""
    if fmt == "csv":
        from conveyor.channels.capture.csv_orders import capture_csv

        yield from capture_csv(stream, name=name, mapping=mapping)
    elif fmt == "x12":
        from conveyor.channels.capture.x12_850 import capture_x12

        yield from capture_x12(stream, name=name, **(hooks or {}))
    elif fmt == "edifact":
        from conveyor.channels.capture.edifact_orders import capture_edifact

        yield from capture_edifact(stream, name=name, **(hooks or {}))
    elif fmt in JSON_FORMATS:
        yield from read_json(stream.read(), fmt, name=name)
    else:
        raise UnknownFormat(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def read_json(body: bytes, fmt: str, *, name: str, delivery_id: str | None = None,
              shop: str | None = None, topic: str | None = None) -> Iterator[Captured]:
    """A webhook's `topic` tells an order from a deletion whose body looks like one."""
    if fmt == "shopify":
        from conveyor.channels.capture.shopify import capture_shopify

        yield from capture_shopify(body, name=name, delivery_id=delivery_id, shop=shop, topic=topic)
    elif fmt == "woocommerce":
        from conveyor.channels.capture.woocommerce import capture_woocommerce

        yield from capture_woocommerce(body, name=name, delivery_id=delivery_id, shop=shop, topic=topic)
    elif fmt == "amazon":
        from conveyor.channels.capture.amazon import capture_amazon_document

        yield from capture_amazon_document(body, name=name)
    else:
        raise UnknownFormat(f"{fmt!r} is not a JSON format")


def format_of(body: bytes, fmt: str, name: str) -> str:
    return detect(name, body[:HEAD]) if fmt == "auto" else fmt


def read_bytes(body: bytes, fmt: str, *, name: str, mapping: Any = None,
               hooks: dict[str, Any] | None = None) -> Iterator[Captured]:
    """An uploaded document held in memory (the API and the upload screen) in a named format."""
    if fmt == "xlsx":
        return _xlsx_bytes(body, name, mapping)
    return read_stream(io.BytesIO(body), fmt, name=name, mapping=mapping, hooks=hooks)


def _xlsx_bytes(body: bytes, name: str, mapping: Any) -> Iterator[Captured]:
    import tempfile

    from conveyor.channels.capture.xlsx_orders import capture_xlsx

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as f:
        f.write(body)
        f.flush()
        try:
            yield from capture_xlsx(Path(f.name), name=name, mapping=mapping)
        except Exception as exc:  # a broken workbook is a rejected document, not a crash
            yield Rejected(where=name, reason=f"cannot read the workbook: {exc}", code="invalid_xlsx")
