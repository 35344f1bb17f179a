"""Streaming X12 tokenizer: bytes or text in, `Segment`s out, in memory that does not grow with the input.

Every interchange declares its own delimiters in its ISA segment: the element separator is the character
right after "ISA", the component separator is ISA16, the segment terminator is the character after ISA16,
and from ISA version 00402 on ISA11 is the repetition separator (unless it is 'U'). Any characters may be
used, except letters, digits and spaces, and CR or LF anywhere but as the terminator. A file may hold
several interchanges with different delimiters.

Line breaks are not data: CR and LF inside or between segments are dropped (files wrapped at 80 columns,
"~\\r\\n" endings), as are spaces before a segment tag; when the terminator itself is CR or LF, the other
one is dropped. The last segment may lack its terminator.

- `iter_segments(source)` yields `Segment`s and raises `X12Error` at the first problem.
- `SegmentScanner(source)` yields `Segment`s and `X12Error`s in input order and goes on after a problem;
  the envelope reader (`reader.read_interchanges`) is built on it.

A source is a binary or text file object, a `bytes` or `str`, or an iterable of byte or text chunks
(`sources.py`). Offsets count bytes for binary input, characters for text. Segments holding non-ASCII
bytes are decoded with `encoding`, UTF-8 by default.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import cast

from conveyor.channels.edi.x12.errors import Position, X12Error, X12ErrorCode
from conveyor.channels.edi.x12.isa import parse_isa, starts_isa
from conveyor.channels.edi.x12.segments import SEGMENT_TAG, Delimiters, Element, Repeated, Segment
from conveyor.channels.edi.x12.sources import Source, text_chunks

CHUNK_SIZE = 1 << 16
MAX_SEGMENT_LENGTH = 1 << 20
_LEADING = " \r\n"
_LOOKAHEAD = 1024
_EBCDIC_ISA = "ISA".encode("cp037").decode("latin-1")


def iter_segments(source: Source, *, encoding: str = "utf-8", chunk_size: int = CHUNK_SIZE,
                  max_segment_length: int = MAX_SEGMENT_LENGTH) -> Iterator[Segment]:
    """Yield every segment of `source`; raise `X12Error` at the first problem the tokenizer sees."""
    for item in SegmentScanner(source, encoding=encoding, chunk_size=chunk_size,
                               max_segment_length=max_segment_length):
        if isinstance(item, X12Error):
            raise item
        yield item


class SegmentScanner:
    """Iterates over the segments of `source`, yielding an `X12Error` next to a segment at fault and going on.

    After the scan, `offset` is the length of the input and `segment_count` the number of segments."""

    def __init__(self, source: Source, *, encoding: str = "utf-8", chunk_size: int = CHUNK_SIZE,
                 max_segment_length: int = MAX_SEGMENT_LENGTH) -> None:
        self._chunks, self._redecode = text_chunks(source, chunk_size, encoding)
        self._max = max_segment_length
        self._data = ""
        self._eof = False
        self._delimiters: Delimiters | None = None
        self._in_transaction: int | None = None
        self._valid_tags: set[str] = set()
        self.offset = 0  # input offset of self._data[0]
        self.segment_count = 0

    @property
    def delimiters(self) -> Delimiters | None:
        """The delimiters of the interchange being read."""
        return self._delimiters

    def __iter__(self) -> Iterator[Segment | X12Error]:
        while len(self._data) < 3 and self._fill():
            pass
        if self._data[:1] == "\ufeff" or self._data.startswith("\xef\xbb\xbf"):  # a byte order mark
            self._consume(1 if self._data[0] == "\ufeff" else 3)
        report = True
        while (yield from self._seek_isa(report)):
            if not (yield from self._read_isa()):
                self._consume(1)  # step past this "ISA" and look for the next one
                report = False
                continue
            report = True
            if not (yield from self._read_segments()):
                return

    # -- input ------------------------------------------------------------------------------------------

    def _fill(self) -> bool:
        """Append the next chunk to the buffer; False at the end of the input."""
        for chunk in self._chunks:
            if chunk:
                self._data += chunk
                return True
        self._eof = True
        return False

    def _consume(self, count: int) -> None:
        count = min(count, len(self._data))
        self._data = self._data[count:]
        self.offset += count

    def _skip_leading(self) -> bool:
        """Drop line breaks and spaces; False when nothing else is left."""
        while True:
            rest = self._data.lstrip(_LEADING + "\t")
            self._consume(len(self._data) - len(rest))
            if rest or not self._fill():
                return bool(rest)

    def _skip_past(self, needle: str, start: int) -> bool:
        """Drop the input up to the next `needle` at or after `start`; False when there is none."""
        while True:
            found = self._data.find(needle, start)
            if found >= 0:
                self._consume(found)
                return True
            self._consume(max(start, len(self._data) - len(needle) + 1))
            start = 0
            if not self._fill():
                self._consume(len(self._data))
                return False

    # -- interchange headers ------------------------------------------------------------------------------

    def _seek_isa(self, report: bool) -> Generator[X12Error, None, bool]:
        """Skip to the next ISA, reporting once what stood in the way; False at the end of the input."""
        while self._skip_leading():
            while len(self._data) < 24 and self._fill():
                pass
            if starts_isa(self._data):
                return True
            if report:
                yield self._not_x12()
                report = False
            if not self._skip_past("ISA", 1):
                break
        return False

    def _not_x12(self) -> X12Error:
        found = self._data[:24]
        hint = ""
        if found.startswith(_EBCDIC_ISA):
            hint = "; the input looks EBCDIC-encoded, read it with encoding='cp037'"
        return X12Error(X12ErrorCode.NOT_X12, f"expected an ISA segment, found {found!r}{hint}",
                        position=Position(self.segment_count + 1, None, self.offset), expected="ISA", found=found)

    def _read_isa(self) -> Generator[Segment | X12Error, None, bool]:
        while len(self._data) < _LOOKAHEAD and self._fill():
            pass
        position = Position(self.segment_count + 1, None, self.offset)
        isa = parse_isa(self._data)
        self._in_transaction = None
        if isinstance(isa, str):
            self._delimiters = None
            yield X12Error(X12ErrorCode.INVALID_ISA, isa, position=position, tag="ISA")
            return False
        self._delimiters = isa.delimiters
        self._consume(isa.length)
        self.segment_count += 1
        yield Segment("ISA", isa.elements, position.number, None, position.offset)
        if isa.warning is not None:
            yield X12Error(X12ErrorCode.INVALID_ELEMENT, isa.warning, position=position, tag="ISA", element=11)
        return True

    # -- segments -----------------------------------------------------------------------------------------

    def _read_segments(self) -> Generator[Segment | X12Error, None, bool]:
        """Yield segments up to the next ISA (True) or the end of the input (False)."""
        terminator = cast(Delimiters, self._delimiters).segment
        while True:
            data = self._data
            pieces = data.split(terminator)
            if not self._eof:
                pieces.pop()  # not terminated yet
            end = 0
            for piece in pieces:
                start = end
                end += len(piece) + 1
                text = piece.lstrip(_LEADING)
                if not text:
                    continue
                start += len(piece) - len(text)
                if text[0] == "I" and starts_isa(text):
                    self._consume(start)
                    return True
                if len(text) > self._max:
                    yield self._too_long(self.offset + start)
                    continue
                segment, problems = self._segment(text, self.offset + start)
                if problems:
                    yield from problems
                yield segment
            self._consume(end)
            if self._eof:
                return False
            rest = self._data.lstrip(_LEADING)
            if rest[:1] == "I" and len(rest) > 24 and starts_isa(rest):  # the next interchange may end otherwise
                self._consume(len(self._data) - len(rest))
                return True
            if len(self._data) > self._max:
                yield self._too_long(self.offset)
                if self._skip_past(terminator, self._max):
                    self._consume(1)
            elif not self._fill():
                continue  # what is left is the last segment, without its terminator

    def _too_long(self, offset: int) -> X12Error:
        terminator = cast(Delimiters, self._delimiters).segment
        return X12Error(X12ErrorCode.SEGMENT_TOO_LONG,
                        f"no segment terminator {terminator!r} within {self._max} characters; segment skipped",
                        position=Position(self.segment_count + 1, None, offset), expected=terminator)

    def _segment(self, text: str, offset: int) -> tuple[Segment, list[X12Error] | None]:
        encoding_problem = None
        if self._redecode is not None and not text.isascii():
            raw = text.encode("latin-1")
            try:
                text = raw.decode(self._redecode)
            except UnicodeDecodeError as exc:
                encoding_problem = (f"bytes {raw[exc.start:exc.end]!r} at offset {offset + exc.start} are not "
                                    f"valid {self._redecode}", raw[exc.start:exc.end].hex())
                text = raw.decode(self._redecode, "replace")
        if "\r" in text or "\n" in text:
            text = text.replace("\r", "").replace("\n", "")
        delimiters = cast(Delimiters, self._delimiters)
        parts = text.split(delimiters.element)
        tag = parts[0]
        del parts[0]
        repetition = delimiters.repetition
        if delimiters.component in text or (repetition is not None and repetition in text):
            elements = tuple(_element(part, delimiters.component, repetition) for part in parts)
        else:
            elements = tuple(parts)
        if tag == "ST":
            counted: int | None = 1
        elif self._in_transaction is not None and tag not in ("GS", "GE", "IEA"):
            counted = self._in_transaction + 1
        else:
            counted = None
        self._in_transaction = None if tag == "SE" else counted
        self.segment_count += 1
        segment = Segment(tag, elements, self.segment_count, counted, offset)
        if encoding_problem is None and tag in self._valid_tags:
            return segment, None
        problems = []
        if encoding_problem is not None:
            problems.append(X12Error(X12ErrorCode.INVALID_ENCODING, encoding_problem[0], position=segment.position,
                                     tag=tag, found=encoding_problem[1]))
        if SEGMENT_TAG.fullmatch(tag):
            self._valid_tags.add(tag)
        else:
            problems.append(X12Error(
                X12ErrorCode.INVALID_SEGMENT_TAG,
                f"expected a segment tag of 2 or 3 capital letters and digits, found {tag[:24]!r}",
                position=segment.position, expected="a segment tag", found=tag[:24]))
        return segment, problems


def _element(text: str, component: str, repetition: str | None) -> Element:
    if repetition is not None and repetition in text:
        return Repeated(tuple(tuple(value.split(component)) if component in value else value
                              for value in text.split(repetition)))
    return tuple(text.split(component)) if component in text else text
