"""CSV files of orders in the documented layout (docs/import.md), read as a stream. Pure: no database, no clock.

`capture_csv` yields, in file order, an `Ignored` note about columns it does not read (once, first), then a
`CapturedOrder` or a `Rejected` for every order. A file whose header cannot be read is one `Rejected`.

- The delimiter is sniffed from the header line: the most frequent of "," ";" and tab outside quotes (a
  mapping may name it). With ";" a decimal comma is read too: 12,50 is 12.50 (a mapping may say otherwise).
- UTF-8, with or without a byte order mark (a mapping may name another encoding). Bytes that are not text
  in the encoding reject the order whose row holds them, naming the line; UTF-16 files are rejected whole.
- Quoted fields may hold delimiters, quotes written twice ("") and line breaks; line numbers are those a
  text editor shows, so an order spanning a quoted line break reports "lines 4-6".
- Blank lines are skipped; a row may leave out trailing empty cells; a row with more non-empty cells than
  the header rejects its order.

The file is read in 64 KiB chunks and one order is kept at a time, so memory does not follow the size of the
file. What grows is the index of order ids seen (order_index.py, 16 to 32 bytes an order), needed to reject an
order whose rows are not consecutive; caches of repeated values (order_rows.py) are bounded.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import TYPE_CHECKING, Protocol, TypeAlias, cast

from conveyor.channels.capture.csv_layout import ColumnMapping, HeaderProblem, resolve_header
from conveyor.channels.capture.model import Captured, Control, Ignored, Rejected
from conveyor.channels.capture.order_rows import Options, Row, capture_rows

if TYPE_CHECKING:
    from _csv import Reader

    from _typeshed import WriteableBuffer

CHUNK = 1 << 16
CONTROL = Control(standard="csv")
_UTF16_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


Source: TypeAlias = str | os.PathLike[str] | bytes | Readable | Iterable[bytes]


def capture_csv(source: Source, *, name: str, mapping: ColumnMapping | None = None) -> Iterator[Captured]:
    """Orders, rejections and notes from a CSV file: a path, a binary file object, bytes or chunks of bytes.

    `name` is how places are named ("orders.csv line 7"). Never reads the whole file; never raises for
    what the file holds (an unreadable path or a text-mode file object raise as usual).
    """
    with _chunks(source) as chunks:
        yield from _capture(chunks, name, mapping or ColumnMapping())


@contextmanager
def _chunks(source: Source) -> Iterator[Iterator[bytes]]:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            yield _read(stream)
    elif isinstance(source, bytes | bytearray | memoryview):
        yield iter((bytes(source),))
    elif hasattr(source, "read"):
        yield _read(cast(Readable, source))
    else:
        yield iter(source)


def _read(stream: Readable) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError(f"expected a file opened in binary mode ('rb'), read {type(chunk).__name__}")
        yield bytes(chunk)


class _ChunkReader(io.RawIOBase):
    """Chunks of bytes as a raw stream, for io.BufferedReader and io.TextIOWrapper to decode."""

    def __init__(self, first: bytes, rest: Iterator[bytes]) -> None:
        super().__init__()
        self._pending = memoryview(first)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        while not self._pending:
            chunk = next(self._rest, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        target = memoryview(buffer).cast("B")
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _capture(chunks: Iterator[bytes], name: str, mapping: ColumnMapping) -> Iterator[Captured]:
    head = b""
    for chunk in chunks:  # enough bytes to see a byte order mark
        head += chunk
        if len(head) >= 4:
            break
    utf8 = codecs.lookup(mapping.encoding).name == "utf-8"
    if utf8 and head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    elif utf8 and head.startswith(_UTF16_BOMS):
        yield Rejected(name, f"{name}: the file is UTF-16 or UTF-32 text; save it as CSV UTF-8", None, CONTROL,
                       "invalid_encoding")
        return
    text = io.TextIOWrapper(io.BufferedReader(_ChunkReader(head, chunks), CHUNK), encoding=mapping.encoding,
                            errors="surrogateescape", newline="")
    bad: dict[int, tuple[str, str]] = {}
    lines = _lines(text, bad, mapping.encoding)
    skipped = 0
    for line in lines:
        if line.strip():
            break
        skipped += 1
    else:
        yield Rejected(name, f"{name}: the file is empty; expected a header line naming the columns, such as "
                             "order_id,sku,quantity", None, CONTROL, "empty_file")
        return
    delimiter = mapping.delimiter or sniff_delimiter(line)
    reader = csv.reader(chain((line,), lines), delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    at = f"{name} line {skipped + 1}"
    try:
        cells = next(reader)
        if bad:
            yield Rejected(at, f"{name} {min(bad.items())[1][1]}", None, CONTROL, "invalid_encoding")
            return
        header = resolve_header(cells, mapping)
    except (csv.Error, HeaderProblem) as exc:
        yield Rejected(at, f"{at}: {exc}", None, CONTROL, "invalid_header")
        return
    if header.notes:
        yield Ignored(at, "; ".join(header.notes), CONTROL)
    comma = mapping.decimal_comma if mapping.decimal_comma is not None else delimiter == ";"
    yield from capture_rows(_rows(reader, skipped, bad), header, where=name, unit="line",
                            options=Options.of(mapping, decimal_comma=comma), control=CONTROL)


def sniff_delimiter(line: str) -> str:
    """The most frequent of "," ";" and tab outside quotes in a header line; "," when there is none."""
    counts = dict.fromkeys((",", ";", "\t"), 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _lines(text: io.TextIOWrapper, bad: dict[int, tuple[str, str]], encoding: str) -> Iterator[str]:
    """The file's lines, noting in `bad` those holding bytes that are not text (their bytes made U+FFFD)."""
    number = 0
    try:
        for line in text:
            number += 1
            if not line.isascii():
                try:
                    line.encode("utf-8")  # fails only on the escapes of undecodable bytes
                except UnicodeEncodeError as exc:
                    byte = ord(line[exc.start]) - 0xDC00
                    bad[number] = ("invalid_encoding",
                                   f"line {number}: the text is not {encoding} (byte 0x{byte:02X} at character "
                                   f"{exc.start + 1}); save the file as CSV UTF-8, or name its encoding in the mapping")
                    line = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            yield line
    except ValueError as exc:  # UnicodeDecodeError of an encoding whose errors cannot be escaped (UTF-16)
        bad[number + 1] = ("invalid_encoding", f"line {number + 1}: the text is not {encoding} ({exc})")
        yield "\n"


def _rows(reader: Reader, skipped: int, bad: dict[int, tuple[str, str]]) -> Iterator[Row]:
    """(first line, last line, cells, problem) for every record after the header."""
    line_num = reader.line_num
    previous = line_num + skipped
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last = reader.line_num + skipped
            yield previous + 1, last, [], ("invalid_csv", f"line {previous + 1}: not readable as CSV ({exc})")
            previous = last
            continue
        last = reader.line_num + skipped
        problem = None
        if bad:
            found = sorted(number for number in bad if number <= last)
            if found:
                problem = bad[found[0]]
                for number in found:
                    del bad[number]
        yield previous + 1, last, cells, problem
        previous = last
