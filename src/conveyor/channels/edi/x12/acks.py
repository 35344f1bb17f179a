"""X12 acknowledgements: the 997 functional acknowledgement here, the 855 in `po_ack.py`. Pure: no clock, no
database; dates, times and our control numbers are parameters.

A 997 answers one received functional group: did each transaction set pass the syntax checks?

    summaries = []
    for item in capture_x12(stream, name="po.x12", on_group=summaries.append):
        ...  # orders, rejections, ignored documents
    for summary in summaries:  # one `GroupAck` per group read, including the 850 mapping's syntax findings
        if summary.functional_id != "FA":  # never acknowledge an acknowledgement
            text = functional_acknowledgment(summary, control_number=next_number, created_at=now)

The design: `acknowledge_group(interchange, group, notes=..., supported=...)` turns what the reader found
(`Transaction.errors`, `FunctionalGroup.errors`) plus the segment notes a mapping adds (an 850 without BEG,
a PO102 that is not a number) into a `GroupAck`: plain values, one `TransactionAck` per transaction set
with its AK3/AK4 notes, AK5 status and codes, and the AK9 counts. `capture_x12(..., on_group=callback)` makes
one for every group it reads, so the capture service never reads the file twice;
`functional_acknowledgment(ack, ...)` writes it in an envelope addressed back to the sender.

What goes in the 997, per X12:
- AK1: GS01 and GS06 of the group answered; AK103 (GS08) only for groups of version 005010 and later, the
  first release whose AK1 has that element.
- AK2 per transaction set (ST01, ST02); AK3 (segment id, its position in the set, error code) with AK4
  (element position, data element number, error code, a copy of the bad value) where a position is known;
  AK5: A accepted, R rejected, with up to five codes (2 no SE, 3 SE02 differs, 4 SE01 wrong, 5 segments in
  error, 6/7 ST01/ST02 missing, 1 set not supported).
- AK9: A (all accepted), E (accepted, but the group envelope has errors), P (some rejected), R (all
  rejected); GE01 as sent, the sets received, the sets accepted, and group codes (3 no GE, 4 GE02
  differs, 5 GE01 wrong, 6 GS06 not a number).
A 997 acknowledges syntax only. A transaction the mapping refuses for a business rule (a zero quantity, a
cancellation) is syntactically accepted here; interchange (ISA/IEA) problems belong to a TA1, not written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from conveyor.channels.edi.x12.envelopes import FunctionalGroup, Interchange, Transaction
from conveyor.channels.edi.x12.errors import X12Error, X12ErrorCode
from conveyor.channels.edi.x12.po_ack import purchase_order_acknowledgment
from conveyor.channels.edi.x12.replies import ReplyTo, plain, write_reply
from conveyor.channels.edi.x12.segments import Delimiters, Segment

__all__ = [
    "ElementNote",
    "GroupAck",
    "ReplyTo",
    "SegmentNote",
    "TransactionAck",
    "acknowledge_group",
    "functional_acknowledgment",
    "purchase_order_acknowledgment",
]

_CODE = X12ErrorCode
_SET_CODES = {_CODE.MISSING_TRAILER: "2", _CODE.CONTROL_NUMBER_MISMATCH: "3", _CODE.COUNT_MISMATCH: "4"}
_GROUP_CODES = {_CODE.MISSING_TRAILER: "3", _CODE.CONTROL_NUMBER_MISMATCH: "4", _CODE.COUNT_MISMATCH: "5"}
_MAX_CODES = 5  # AK502-AK506, AK905-AK909


@dataclass(frozen=True)
class ElementNote:
    """AK4: an element in error."""

    position: int  # AK401: the element's position in its segment (1 is the first after the tag)
    code: str  # AK403: 1 mandatory missing, 2 conditional missing, 6 invalid character, 7 invalid code, 8 date
    reference: str = ""  # AK402: the data element number, e.g. "330" for PO102
    found: str = ""  # AK404: a copy of the bad value
    component: int | None = None  # AK401-2, for an error in a component


@dataclass(frozen=True)
class SegmentNote:
    """AK3: a segment in error. Code 8 (element errors) comes with `elements`; 1 unrecognized segment,
    2 unexpected, 3 mandatory segment missing (at the position where it was expected)."""

    tag: str  # AK301
    position: int  # AK302: in its transaction set, ST is 1
    code: str  # AK304
    elements: tuple[ElementNote, ...] = ()


@dataclass(frozen=True)
class TransactionAck:
    set_id: str  # AK201
    control_number: str  # AK202
    accepted: bool  # AK501 A or R
    codes: tuple[str, ...] = ()  # AK502-AK506
    segments: tuple[SegmentNote, ...] = ()


@dataclass(frozen=True)
class GroupAck:
    """What a 997 says of one received group, and where it goes."""

    functional_id: str  # AK101: GS01
    control_number: str  # AK102: GS06
    version: str  # GS08
    included: int  # AK902: GE01 as sent (the number of sets received when GE01 is missing or not a number)
    transactions: tuple[TransactionAck, ...]
    codes: tuple[str, ...]  # AK905-AK909
    reply: ReplyTo

    @property
    def accepted(self) -> int:
        return sum(1 for transaction in self.transactions if transaction.accepted)

    @property
    def status(self) -> str:
        """AK901."""
        received = len(self.transactions)
        if self.accepted == received:
            return "E" if self.codes else "A"
        return "R" if self.accepted == 0 else "P"


def acknowledge_group(interchange: Interchange, group: FunctionalGroup, *,
                      notes: Mapping[int, Sequence[SegmentNote]] | None = None,
                      supported: Collection[str] | None = None) -> GroupAck:
    """The 997 summary of `group`: the reader's findings plus `notes`, keyed by the index of the transaction in
    `group.transactions`. A set with notes is rejected; so is one whose ST01 is not in `supported` (when given)."""
    notes = notes or {}
    transactions = tuple(_transaction_ack(transaction, tuple(notes.get(index, ())), supported)
                         for index, transaction in enumerate(group.transactions))
    codes: list[str] = []
    included = len(group.transactions)
    for error in group.errors:
        if error.tag == "GE" and error.code in _GROUP_CODES:
            codes.append(_GROUP_CODES[error.code])
            if error.code is _CODE.COUNT_MISMATCH and error.found and error.found.isascii() and error.found.isdigit():
                included = int(error.found)
    if not (group.control_number.isascii() and group.control_number.isdigit()):
        codes.append("6")
    return GroupAck(group.functional_id, group.control_number, group.version, included, transactions,
                    _unique(codes), ReplyTo.answering(interchange, group))


def functional_acknowledgment(ack: GroupAck, *, control_number: int, created_at: datetime,
                              line_break: str = "") -> str:
    """The 997 for `ack` as X12 text, in an ISA/GS(FA)/ST envelope to the group's sender.

    Raises `X12Error` when the received envelope cannot be answered: GS02 or GS03 empty or too long
    (`invalid_value`), or an ISA or GS id holding one of the partner's own delimiters (`delimiter_in_value`)."""
    delimiters = ack.reply.delimiters
    ak1 = [plain(ack.functional_id, delimiters), plain(ack.control_number, delimiters)]
    if _version_number(ack.version) >= 5010:
        ak1.append(plain(ack.version, delimiters))
    body = [Segment("AK1", tuple(ak1))]
    for transaction in ack.transactions:
        body.append(Segment("AK2", (plain(transaction.set_id, delimiters) or "000",
                                    plain(transaction.control_number, delimiters) or "0")))
        for note in transaction.segments:
            body.extend(_segment_note(note, delimiters))
        body.append(Segment("AK5", ("A" if transaction.accepted else "R", *transaction.codes)))
    body.append(Segment("AK9", (ack.status, str(ack.included), str(len(ack.transactions)), str(ack.accepted),
                                *ack.codes)))
    return write_reply(ack.reply, functional_id="FA", set_id="997", body=body, control_number=control_number,
                       created_at=created_at, line_break=line_break)


# -- building --------------------------------------------------------------------------------------------


def _transaction_ack(transaction: Transaction, notes: tuple[SegmentNote, ...],
                     supported: Collection[str] | None) -> TransactionAck:
    codes: list[str] = []
    segments = list(notes)
    if supported is not None and transaction.set_id not in supported:
        codes.append("1")
    for error in transaction.errors:
        code, note = _reader_finding(error, transaction)
        codes.append(code)
        if note is not None:
            segments.append(note)
    if segments:
        codes.append("5")
    segments.sort(key=lambda note: note.position)
    return TransactionAck(transaction.set_id, transaction.control_number, not codes, _unique(codes),
                          _merged(segments))


def _reader_finding(error: X12Error, transaction: Transaction) -> tuple[str, SegmentNote | None]:
    """An AK5 code for a problem the reader found in a transaction, and an AK3 note where one applies."""
    if error.tag == "SE" and error.code in _SET_CODES:
        return _SET_CODES[error.code], None
    if error.tag == "ST" and error.code is _CODE.MISSING_ELEMENT:
        return ("6" if error.element == 1 else "7"), None
    place = error.position.number_in_transaction if error.position is not None else None
    if place is None or error.position is None:
        return "5", None
    if error.code is _CODE.INVALID_SEGMENT_TAG:
        return "5", SegmentNote(_segment_id(error.found or ""), place, "1")
    segment = next((s for s in transaction.segments if s.number == error.position.number), None)
    if segment is None:
        return "5", None
    if error.code is _CODE.INVALID_ENCODING:
        bad = [ElementNote(reference, "6") for reference, value in enumerate(segment.elements, start=1)
               if "\ufffd" in str(value)]
        return "5", SegmentNote(segment.tag, place, "8", tuple(bad))
    return "5", SegmentNote(segment.tag, place, "2")


def _merged(notes: list[SegmentNote]) -> tuple[SegmentNote, ...]:
    """One AK3 per segment: the element notes of the same segment together, code 8 when there are any."""
    merged: dict[int, SegmentNote] = {}
    for note in notes:
        before = merged.get(note.position)
        if before is None:
            merged[note.position] = note
        else:
            elements = before.elements + note.elements
            merged[note.position] = SegmentNote(before.tag, note.position, "8" if elements else before.code, elements)
    return tuple(merged.values())


def _unique(codes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))[:_MAX_CODES]


# -- writing ---------------------------------------------------------------------------------------------


def _segment_note(note: SegmentNote, delimiters: Delimiters) -> list[Segment]:
    segments = [Segment("AK3", (_segment_id(note.tag), str(note.position), "", note.code))]
    for element in note.elements:
        position: str | tuple[str, ...] = str(element.position)
        if element.component is not None:
            position = (str(element.position), str(element.component))
        values: list[str | tuple[str, ...]] = [position, element.reference, element.code]
        found = plain(element.found, delimiters)[:99]
        if found:
            values.append(found)
        segments.append(Segment("AK4", tuple(values)))
    return segments


def _segment_id(tag: str) -> str:
    """AK301 is 2 or 3 letters and digits: a broken tag is written with what is left of it, else as 'ZZ'."""
    kept = "".join(char for char in tag if char.isascii() and char.isalnum())[:3].upper()
    return kept if len(kept) >= 2 else "ZZ"


def _version_number(version: str) -> int:
    digits = version[:6]
    return int(digits) if digits.isascii() and digits.isdigit() else 0
