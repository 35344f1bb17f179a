"""The streaming EDIFACT tokenizer: bytes in, segments out, in memory that does not grow with the file.

The scanner works on bytes, since every delimiter is one ASCII byte and every supported character set is
ASCII-compatible (a UTF-8 continuation byte is never below 0x80): it finds each unreleased segment
terminator, then decodes that one segment with the character set its interchange's UNB01 names and checks
the repertoire. A UNA sets the delimiters for what follows it; several interchanges, each with its own
UNA and character set, may follow one another.

CR and LF are dropped wherever they appear unless they are delimiters: no repertoire of ISO 9735 contains
them, so they are line breaks added for people (some senders even wrap lines every 80 bytes, in the
middle of a value).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator
from typing import Protocol

from conveyor.channels.edi.edifact.errors import EdifactError, ErrorCode, Position
from conveyor.channels.edi.edifact.segments import TAG, Element, Segment, parse_segment
from conveyor.channels.edi.edifact.syntax import DEFAULT_DELIMITERS, Delimiters, character_set

__all__ = ["DEFAULT_CHUNK_SIZE", "DEFAULT_MAX_SEGMENT", "Element", "Segment", "Source", "scan", "tokenize"]

DEFAULT_CHUNK_SIZE = 64 * 1024
DEFAULT_MAX_SEGMENT = 1024 * 1024
_ENVELOPE = frozenset({"UNB", "UNZ", "UNG", "UNE"})
_BOM = b"\xef\xbb\xbf"


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


Source = bytes | bytearray | memoryview | Readable | Iterable[bytes]


def scan(source: Source, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
         max_segment: int = DEFAULT_MAX_SEGMENT) -> Iterator[Segment | EdifactError]:
    """Every segment of `source`, in order, with an `EdifactError` in place of each one that cannot be read.

    Never raises on bad data: after a broken segment it goes on at the next terminator. `source` is bytes,
    a binary file object (read `chunk_size` bytes at a time) or an iterable of byte chunks. A segment longer
    than `max_segment` bytes is reported and skipped, so memory stays bounded whatever the input.
    """
    return _Scanner(max_segment).run(_chunks(source, chunk_size))


def tokenize(source: Source, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
             max_segment: int = DEFAULT_MAX_SEGMENT) -> Iterator[Segment]:
    """Like `scan`, but raises the first `EdifactError` instead of yielding it."""
    for item in scan(source, chunk_size=chunk_size, max_segment=max_segment):
        if isinstance(item, EdifactError):
            raise item
        yield item


def _chunks(source: Source, chunk_size: int) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source)
    elif hasattr(source, "read"):
        while chunk := source.read(chunk_size):
            yield chunk
    else:
        yield from source


class _Scanner:
    def __init__(self, max_segment: int) -> None:
        self.max_segment = max_segment
        self.segment = 0  # number of the last segment started
        self.in_message: int | None = None
        self.discarding = False  # inside an over-long segment, skipping to its terminator
        self.started = False  # past the first bytes, where a byte order mark may be
        self.charset_identifier: str | None = None
        self.codec = "latin-1"  # before the first UNB: anything decodes, the reader judges it
        self.forbidden: re.Pattern[str] | None = None
        self.use(DEFAULT_DELIMITERS)

    def use(self, delimiters: Delimiters) -> None:
        self.delimiters = delimiters
        self.terminator = ord(delimiters.terminator)
        self.release = ord(delimiters.release) if delimiters.release else -1
        self.breaks = bytes(b for b in b"\r\n" if chr(b) not in delimiters.special)
        self._update_charset()

    def _update_charset(self) -> None:
        charset = character_set(self.charset_identifier) if self.charset_identifier else None
        self.codec = charset.codec if charset else "latin-1"
        self.forbidden = charset.pattern(self.delimiters) if charset else None

    def run(self, chunks: Iterable[bytes]) -> Iterator[Segment | EdifactError]:
        buffer, base = b"", 0
        for chunk in chunks:
            buffer = buffer + chunk if buffer else bytes(chunk)
            used = yield from self._consume(buffer, base, final=False)
            base, buffer = base + used, buffer[used:]
        yield from self._consume(buffer, base, final=True)

    def _consume(self, buf: bytes, base: int, *, final: bool) -> Generator[Segment | EdifactError, None, int]:
        pos, size = 0, len(buf)
        if not self.started:  # a UTF-8 byte order mark, which some Windows tools write first, is skipped
            if len(buf) < 3 and _BOM.startswith(buf) and not final:
                return 0
            self.started = True
            pos = 3 if buf.startswith(_BOM) else 0
        while True:
            if self.discarding:
                end = self._terminator(buf, pos)
                if end < 0:
                    return size if final else max(pos, size - self._open_release_run(buf, pos))
                self.discarding, pos = False, end + 1
            while pos < size and buf[pos] in self.breaks:
                pos += 1
            head = buf[pos:pos + 3]
            if head == b"UNA" or (len(head) < 3 and b"UNA".startswith(head)):
                if size - pos < 9:
                    if not final:
                        return pos
                    if pos < size:
                        yield self._error(ErrorCode.UNTERMINATED_SEGMENT, "the data ends inside a segment",
                                          base + pos, found=buf[pos:].decode("latin-1"))
                    return size
                if head == b"UNA":
                    error = self._una(buf[pos:pos + 9].decode("latin-1"), base + pos)
                    if error is not None:
                        yield error
                    pos += 9
                    continue
            end = self._terminator(buf, pos)
            if end < 0:
                if final:
                    yield self._error(ErrorCode.UNTERMINATED_SEGMENT, "the data ends inside a segment, before its "
                                      "terminator", base + pos, expected=self.delimiters.terminator)
                    return size
                if size - pos > self.max_segment:
                    yield self._error(ErrorCode.SEGMENT_TOO_LONG, f"no segment terminator within "
                                      f"{self.max_segment} bytes", base + pos, expected=self.delimiters.terminator)
                    self.discarding = True
                    continue
                return pos
            yield self._segment(buf[pos:end], base + pos)
            pos = end + 1

    def _terminator(self, buf: bytes, start: int) -> int:
        """Index of the first unreleased terminator at or after `start`, or -1."""
        index = buf.find(self.terminator, start)
        while index >= 0 and self.release >= 0:
            released, j = False, index - 1
            while j >= start:
                byte = buf[j]
                if byte == self.release:
                    released = not released
                elif byte not in self.breaks:
                    break
                j -= 1
            if not released:
                return index
            index = buf.find(self.terminator, index + 1)
        return index

    def _open_release_run(self, buf: bytes, start: int) -> int:
        """Length of the trailing run of release characters (and line breaks) that must be kept."""
        run = 0
        while len(buf) - run > start and (buf[-run - 1] == self.release or buf[-run - 1] in self.breaks):
            run += 1
        return run

    def _una(self, una: str, offset: int) -> EdifactError | None:
        try:
            self.use(Delimiters.from_una(una))
        except EdifactError as exc:
            return EdifactError(exc.code, exc.message, Position(self.segment + 1, offset), exc.element,
                                tag="UNA", expected=exc.expected, found=una)
        return None

    def _error(self, code: ErrorCode, message: str, offset: int, *, expected: str | None = None,
               found: str | None = None) -> EdifactError:
        self.segment += 1
        in_message = None if self.in_message is None else self.in_message + 1
        return EdifactError(code, message, Position(self.segment, offset, in_message),
                            expected=expected, found=found)

    def _segment(self, raw: bytes, offset: int) -> Segment | EdifactError:
        self.segment += 1
        original = raw
        if self.breaks and (b"\n" in raw or b"\r" in raw):
            raw = raw.translate(None, self.breaks)
        tag = raw[:3].decode("latin-1")
        if tag == "UNH":
            self.in_message = 1
        elif tag in _ENVELOPE:
            self.in_message = None
        elif self.in_message is not None:
            self.in_message += 1
        position = Position(self.segment, offset, self.in_message)
        if tag == "UNT":
            self.in_message = None
        elif tag == "UNB":
            self._start_interchange(raw)
        shown_tag = tag if TAG.fullmatch(tag) else None
        try:
            text = raw.decode(self.codec)
        except UnicodeDecodeError as exc:
            return EdifactError(ErrorCode.CHARACTER_NOT_ALLOWED, f"byte 0x{raw[exc.start]:02X} is not a character "
                                f"of {self.charset_identifier}", position, tag=shown_tag,
                                offset=offset + _original_index(original, exc.start, self.breaks))
        if self.forbidden is not None and (bad := self.forbidden.search(text)):
            index = len(text[:bad.start()].encode(self.codec))
            return EdifactError(ErrorCode.CHARACTER_NOT_ALLOWED, f"{bad.group()!r} is not allowed in "
                                f"{self.charset_identifier}", position, tag=shown_tag, found=bad.group(),
                                offset=offset + _original_index(original, index, self.breaks))
        return parse_segment(text, self.delimiters, position)

    def _start_interchange(self, raw: bytes) -> None:
        element, component = self.delimiters.element.encode(), self.delimiters.component.encode()
        first = raw[4:].split(element, 1)[0].split(component, 1)[0] if raw[3:4] == element else b""
        self.charset_identifier = first.decode("latin-1")
        self._update_charset()


def _original_index(original: bytes, index: int, breaks: bytes) -> int:
    """Where byte `index` of a segment stripped of line breaks was in the original bytes."""
    seen = 0
    for i, byte in enumerate(original):
        if byte in breaks:
            continue
        if seen == index:
            return i
        seen += 1
    return len(original)
