"""The one error type of the X12 package: a code to act on, where it happened, what was expected and found.

`X12Error` is an exception (the writer and `iter_segments` raise it) and also a plain value: the reader
keeps the problems it finds in the `errors` of the transaction, group or interchange they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from conveyor.kernel.errors import DomainError


class X12ErrorCode(StrEnum):
    NOT_X12 = "not_x12"  # no ISA where an interchange must start
    INVALID_ISA = "invalid_isa"  # an ISA whose delimiters cannot be read; its interchange is skipped
    INVALID_ENCODING = "invalid_encoding"  # bytes that are not valid in the encoding asked for
    SEGMENT_TOO_LONG = "segment_too_long"  # no segment terminator within max_segment_length
    INVALID_SEGMENT_TAG = "invalid_segment_tag"
    UNEXPECTED_SEGMENT = "unexpected_segment"  # a segment outside the envelope it needs
    MISSING_TRAILER = "missing_trailer"  # ST without SE, GS without GE, ISA without IEA
    MISSING_ELEMENT = "missing_element"  # a required envelope element is empty
    INVALID_ELEMENT = "invalid_element"  # an envelope element of the wrong size or form
    COUNT_MISMATCH = "count_mismatch"  # SE01, GE01, IEA01
    CONTROL_NUMBER_MISMATCH = "control_number_mismatch"  # SE02, GE02, IEA02
    NO_INTERCHANGE = "no_interchange"  # the input holds no interchange at all
    INVALID_DELIMITERS = "invalid_delimiters"  # writing: delimiters that cannot work
    DELIMITER_IN_VALUE = "delimiter_in_value"  # writing: X12 has no release character
    INVALID_VALUE = "invalid_value"  # writing: a tag or envelope value X12 does not allow


@dataclass(frozen=True, slots=True)
class Position:
    """Where a segment starts: its 1-based number in the input and in its transaction (ST is 1), and its
    offset, in bytes for binary input and in characters for text."""

    number: int
    number_in_transaction: int | None
    offset: int

    def describe(self) -> str:
        where = f"segment {self.number}"
        if self.number_in_transaction is not None:
            where += f" (number {self.number_in_transaction} in its transaction)"
        return f"{where} at offset {self.offset}"


class X12Error(DomainError):
    """A problem in X12 data. `tag` and `element` (1-based, as in 'SE01') say which part is at fault."""

    def __init__(self, code: X12ErrorCode, message: str, *, position: Position | None = None,
                 tag: str | None = None, element: int | None = None, expected: str | None = None,
                 found: str | None = None) -> None:
        reference = f"{tag}{element:02d}" if tag is not None and element is not None else tag
        super().__init__(code, message, reference)
        self.code: X12ErrorCode = code
        self.position = position
        self.tag = tag
        self.element = element
        self.expected = expected
        self.found = found

    def __str__(self) -> str:
        return self.message if self.position is None else f"{self.message} [{self.position.describe()}]"

    def __repr__(self) -> str:
        return f"X12Error({self.code.value!r}, {str(self)!r})"
