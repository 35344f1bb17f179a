"""Where X12 comes from: file objects, bytes, text or chunks, turned into text chunks to split.

Binary input is read as Latin-1, one character per byte, so that offsets are byte offsets and delimiters
are found byte by byte; segments holding non-ASCII bytes are decoded afterwards with the encoding asked
for. That works for UTF-8 and the single-byte codecs that keep ASCII. Other codecs, such as EBCDIC
'cp037', are decoded as the input is read, and offsets then count characters.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Protocol, TypeAlias, TypeVar, cast

from conveyor.channels.edi.x12.errors import X12Error, X12ErrorCode

_Chunk = TypeVar("_Chunk", str, bytes)


class Readable(Protocol):
    def read(self, size: int, /) -> str | bytes: ...


Source: TypeAlias = str | bytes | bytearray | Readable | Iterable[str] | Iterable[bytes]


def text_chunks(source: Source, chunk_size: int, encoding: str) -> tuple[Iterator[str], str | None]:
    """Text to split, and the encoding to decode non-ASCII segments with afterwards (None: nothing to do)."""
    chunks = _raw_chunks(source, chunk_size)
    first = next(chunks, "")
    if isinstance(first, str):
        return _same_kind(str, first, chunks), None
    if not _splits_on_bytes(encoding):
        return _decoded(_same_kind(bytes, first, chunks), encoding), None
    latin1 = (chunk.decode("latin-1") for chunk in _same_kind(bytes, first, chunks))
    return latin1, None if codecs.lookup(encoding).name == "iso8859-1" else encoding


def _raw_chunks(source: Source, chunk_size: int) -> Iterator[str | bytes]:
    if isinstance(source, str | bytes | bytearray):
        # Whole documents in memory are handed on in chunks too: the scanner's buffer stays small, so consuming
        # a segment never copies the rest of a large document (which made 4 MB take 30 s instead of 2 s).
        whole = bytes(source) if isinstance(source, bytearray) else source
        for start in range(0, max(len(whole), 1), chunk_size):
            yield whole[start:start + chunk_size]
    elif hasattr(source, "read"):
        read = cast(Readable, source).read
        while chunk := read(chunk_size):
            yield chunk
    else:
        yield from cast(Iterable[str | bytes], source)


def _same_kind(kind: type[_Chunk], first: _Chunk, chunks: Iterator[str | bytes]) -> Iterator[_Chunk]:
    yield first
    for chunk in chunks:
        if not isinstance(chunk, kind):
            raise TypeError(f"chunks must all be {kind.__name__}, found {type(chunk).__name__}")
        yield chunk


def _decoded(chunks: Iterator[bytes], encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed = 0
    for chunk in _with_end(chunks):
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeError as exc:  # UTF-16 without a byte order mark raises a plain UnicodeError
            where = consumed + getattr(exc, "start", 0)
            raise X12Error(X12ErrorCode.INVALID_ENCODING,
                           f"the input is not valid {encoding} near byte {where}: {exc}") from exc
        consumed += len(chunk)
        yield text


def _with_end(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, then b'' to tell the decoder the input has ended."""
    yield from chunks
    yield b""


@lru_cache(maxsize=32)
def _splits_on_bytes(encoding: str) -> bool:
    """True when delimiters can be found byte by byte: ASCII maps to itself and no character
    of several bytes contains an ASCII byte (UTF-8 and the single-byte codecs)."""
    ascii_identity = bytes(range(128)).decode(encoding, "replace") == "".join(map(chr, range(128)))
    single_byte = len(bytes(range(256)).decode(encoding, "replace")) == 256
    return ascii_identity and (single_byte or codecs.lookup(encoding).name == "utf-8")
