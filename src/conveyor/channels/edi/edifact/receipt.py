"""What was received in one interchange, message by message: the input of the CONTRL writer (acks.py).

An importer that reads an interchange builds one `InterchangeReceipt`: the interchange's identity (UNB),
one `MessageReceipt` per message it saw (UNH01, UNH02 and the `Fault`s that made it rejected, none when it
was taken), one `GroupReceipt` per UNG group, and the faults of the interchange envelope itself (UNZ
count or reference, a missing UNZ, data between messages). `capture_edifact` builds them as it reads and
hands each one to its `on_receipt` callback once the interchange is over.

A `Fault` is one problem said twice: as a sentence for a person (`reason`, also the `Rejected.reason` of
the capture) and as what CONTRL needs: a UN/EDIFACT syntax error code (data element 0085), the segment tag,
the segment's position in its message (UCS 0096, UNH is 1) and the data element and component positions
(S011). `fault_from_error` turns an `EdifactError` of the tokenizer or the envelope checks into one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conveyor.channels.edi.edifact.envelopes import Party
from conveyor.channels.edi.edifact.errors import EdifactError, ErrorCode, Position

# Syntax error codes (UN/EDIFACT service code list, data element 0085) used in CONTRL.
INVALID_VALUE = "12"
MISSING = "13"
VALUE_NOT_SUPPORTED = "14"
NOT_SUPPORTED_IN_POSITION = "15"
UNSPECIFIED = "18"
CHARACTER_INVALID_AS_SERVICE_CHARACTER = "20"
INVALID_CHARACTERS = "21"
REFERENCES_DO_NOT_MATCH = "28"
CONTROL_COUNT_DOES_NOT_MATCH = "29"
TOO_MANY_REPETITIONS = "35"
INVALID_TYPE_OF_CHARACTERS = "37"
SYNTAX_NOT_SUPPORTED = "2"

SYNTAX_ERRORS: dict[ErrorCode, str] = {
    ErrorCode.INVALID_UNA: CHARACTER_INVALID_AS_SERVICE_CHARACTER,
    ErrorCode.UNSUPPORTED_SYNTAX: SYNTAX_NOT_SUPPORTED,
    ErrorCode.CHARACTER_NOT_ALLOWED: INVALID_CHARACTERS,
    ErrorCode.INVALID_TAG: UNSPECIFIED,
    ErrorCode.UNTERMINATED_SEGMENT: UNSPECIFIED,
    ErrorCode.SEGMENT_TOO_LONG: UNSPECIFIED,
    ErrorCode.MISSING_ELEMENT: MISSING,
    ErrorCode.UNEXPECTED_SEGMENT: NOT_SUPPORTED_IN_POSITION,
    ErrorCode.MISSING_TRAILER: MISSING,
    ErrorCode.COUNT_MISMATCH: CONTROL_COUNT_DOES_NOT_MATCH,
    ErrorCode.REFERENCE_MISMATCH: REFERENCES_DO_NOT_MATCH,
    ErrorCode.INVALID_NUMBER: INVALID_TYPE_OF_CHARACTERS,
    ErrorCode.INVALID_VALUE: INVALID_VALUE,
}

_ELEMENT = re.compile(r"[A-Z0-9]{3}(\d{2})(?:\.(\d+))?")


@dataclass(frozen=True, slots=True)
class Fault:
    """One problem: `reason` for a person, the rest for a program and for CONTRL.

    `code` is machine-readable (an `ErrorCode` value such as ``count_mismatch``, or one of the capture's own
    such as ``missing_segment`` or ``invalid_quantity``); `syntax_error` the 0085 code; `tag` the segment
    at fault; `segment` its number in the file, `in_message` its number in the message (UNH is 1);
    `element` and `component` the 1-based positions of the data element and component, when one is at fault.
    """

    code: str
    reason: str
    syntax_error: str = UNSPECIFIED
    tag: str | None = None
    segment: int | None = None
    in_message: int | None = None
    element: int | None = None
    component: int | None = None


@dataclass(frozen=True, slots=True)
class MessageReceipt:
    reference: str  # UNH01; "" when the UNH could not be read
    message_type: str  # UNH02 as sent, e.g. "ORDERS:D:96A:UN:EAN008"; "" when unreadable
    faults: tuple[Fault, ...] = ()  # empty: the message was taken (captured, or ignored as not an order)
    group: str | None = None  # UNG05 of its group

    @property
    def accepted(self) -> bool:
        return not self.faults


@dataclass(frozen=True, slots=True)
class GroupReceipt:
    reference: str  # UNG05; "" when the UNG could not be read (its messages are then all rejected)
    sender: Party  # UNG02, application sender
    recipient: Party  # UNG03
    faults: tuple[Fault, ...] = ()  # problems of the group envelope (UNG, UNE)


@dataclass(frozen=True, slots=True)
class InterchangeReceipt:
    reference: str  # UNB05
    syntax: str  # UNB01.1, e.g. UNOC; a CONTRL answers in the same
    syntax_version: str  # UNB01.2
    sender: Party  # UNB02, to whom the CONTRL goes
    recipient: Party  # UNB03, who received it (us)
    test: bool  # UNB11 is 1
    messages: tuple[MessageReceipt, ...]
    groups: tuple[GroupReceipt, ...] = ()
    faults: tuple[Fault, ...] = ()  # problems of the interchange envelope: UNZ count or reference, no UNZ...

    @property
    def accepted(self) -> tuple[MessageReceipt, ...]:
        return tuple(m for m in self.messages if m.accepted)

    @property
    def rejected(self) -> tuple[MessageReceipt, ...]:
        return tuple(m for m in self.messages if not m.accepted)


def fault_from_error(error: EdifactError) -> Fault:
    """The `Fault` for a problem found by the tokenizer or the envelope checks. For a missing trailer, `tag`
    is the trailer (UNT, UNE, UNZ) and the position where its absence was noticed."""
    element = component = None
    if error.element and (match := _ELEMENT.fullmatch(error.element)):
        element = int(match[1])
        component = int(match[2]) if match[2] else None
    position = error.position
    tag = error.tag
    if error.code is ErrorCode.MISSING_TRAILER and error.expected in ("UNT", "UNE", "UNZ"):
        tag = error.expected  # the segment at fault is the one missing, not the one found in its place
    return Fault(code=error.code.value, reason=error.describe(), syntax_error=SYNTAX_ERRORS[error.code],
                 tag=tag, segment=position.segment or None if position else None,
                 in_message=position.in_message if position else None, element=element, component=component)


def describe(message: str, position: Position, tag: str, element: str | None = None, *,
             expected: str | None = None, found: str | None = None) -> str:
    """A reason worded like `EdifactError.describe`: ``QTY01.2: ... (expected ..., found ...) [QTY segment 12 ...]``."""
    return EdifactError(ErrorCode.INVALID_VALUE, message, position, element, tag=tag, expected=expected,
                        found=found).describe()
