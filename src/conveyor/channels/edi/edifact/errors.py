"""What can be wrong with an EDIFACT document, said precisely enough to answer the partner.

An `EdifactError` is both raised (by the strict `tokenize`, by the writer and by `decimal`) and collected
as a value (by `scan` and `read_interchanges`, which never raise on bad input). It says where (segment
number, position in the message, byte offset, segment tag and data element such as ``UNT01``), what was
expected and what was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_UNA = "invalid_una"  # the service string advice is malformed or its delimiters clash
    UNSUPPORTED_SYNTAX = "unsupported_syntax"  # UNB01 names a syntax identifier we cannot decode
    CHARACTER_NOT_ALLOWED = "character_not_allowed"  # outside the repertoire of the syntax level
    INVALID_TAG = "invalid_tag"  # a segment does not start with a three-character tag
    UNTERMINATED_SEGMENT = "unterminated_segment"  # the data ends inside a segment
    SEGMENT_TOO_LONG = "segment_too_long"  # no terminator within the scanner's limit
    MISSING_ELEMENT = "missing_element"  # a mandatory envelope data element is empty
    UNEXPECTED_SEGMENT = "unexpected_segment"  # a segment where the envelope structure allows none
    MISSING_TRAILER = "missing_trailer"  # UNT, UNE or UNZ never came
    COUNT_MISMATCH = "count_mismatch"  # UNT01, UNE01 or UNZ01 disagrees with what was read
    REFERENCE_MISMATCH = "reference_mismatch"  # UNT02, UNE02 or UNZ02 disagrees with its header
    INVALID_NUMBER = "invalid_number"  # not an EDIFACT numeric value
    INVALID_VALUE = "invalid_value"  # the writer cannot represent a value


@dataclass(frozen=True, slots=True)
class Position:
    """Where a segment starts.

    `segment` is its 1-based number in the file (the UNA service string advice is not a segment and is not
    counted), `offset` the byte offset of its first byte, `in_message` its 1-based number inside its
    message (UNH is 1, UNT is the count UNT01 must state), None outside a message.
    """

    segment: int
    offset: int
    in_message: int | None = None

    def __str__(self) -> str:
        where = f"segment {self.segment}"
        if self.in_message is not None:
            where += f" (message segment {self.in_message})"
        return f"{where} at byte {self.offset}"


NO_POSITION = Position(segment=0, offset=-1)  # for segments built in code rather than read


class EdifactError(ValueError):
    """One problem in an EDIFACT document (or a value the writer cannot write).

    `code` is what a program acts on, `message` a sentence for a person; `position` is the segment where
    it was found, `tag` that segment's tag when it could be read, `element` the data element at fault
    (``UNT01``), `expected` and `found` the two sides of a mismatch, `offset` the exact byte when known.
    """

    def __init__(self, code: ErrorCode, message: str, position: Position | None = None, element: str | None = None,
                 *, tag: str | None = None, expected: str | None = None, found: str | None = None,
                 offset: int | None = None) -> None:
        self.code = code
        self.message = message
        self.position = position
        self.element = element
        self.tag = tag
        self.expected = expected
        self.found = found
        self.offset = offset
        super().__init__(self.describe())

    def describe(self) -> str:
        text = f"{self.element}: {self.message}" if self.element else self.message
        sides = [f"{name} {value!r}" for name, value in (("expected", self.expected), ("found", self.found))
                 if value is not None]
        if sides:
            text += f" ({', '.join(sides)})"
        if self.position is not None and self.position.segment:
            text += f" [{self.tag + ' ' if self.tag else ''}{self.position}]"
        return text

    def __repr__(self) -> str:
        return f"EdifactError({self.code.value!r}, {self.describe()!r})"
