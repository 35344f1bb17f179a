"""X12 850 purchase orders into `CapturedOrder`s, streaming. Pure: no database, no clock.

    for item in capture_x12(stream, name="po.x12", on_group=acks.append):
        ...  # CapturedOrder, Rejected or Ignored, in document order

A file may hold several interchanges (each with its own delimiters), groups and transaction sets, in X12
versions 004010 and 004030 (VICS, UCS) or others of the same shape; line breaks and 80-column wrapping do
not matter (`read_interchanges` reads the syntax). Memory holds one interchange at a time.

- Every 850 becomes a `CapturedOrder` (x12_850_mapping.py has the mapping), or a `Rejected` when its
  envelope or syntax is broken or its content cannot make an order; nothing of a rejected set is imported,
  and the other sets of the file are still read.
- Other transaction sets (810, 855, 856, 997, ...) are `Ignored`, as is an interchange or group that holds
  nothing. Input that is not X12 at all is one `Rejected`.
- A broken group or interchange envelope (GE or IEA counts and control numbers, a missing GE or IEA, bad ISA
  fields, text outside the envelopes) is one `Rejected` (code "x12_envelope"), yielded before the sets inside
  it; those sets are checked on their own (SE01, SE02), and the sound ones are still captured. A partner
  policy that refuses the whole interchange drops the orders whose `control.interchange` it names.
- `where` names the file, interchange (ISA13), group (GS06), transaction (ST02) and its segment numbers in the
  file: "po.x12: interchange 000000001, group 1, transaction 0001 (segments 4-32)"; a line's, its PO1:
  "segment 14 (PO1)". `control` carries the envelope identity; `control.sender` is "<ISA05>:<ISA06>".
- `on_group`, when given, is called with the 997 summary (`acks.GroupAck`) of every group read, after the
  items of that group were yielded; `acks.functional_acknowledgment(summary, ...)` writes the 997.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from conveyor.channels.capture.model import Captured, Control, Ignored, Rejected
from conveyor.channels.capture.x12_850_mapping import Context, map_purchase_order
from conveyor.channels.capture.x12_850_values import text
from conveyor.channels.edi.x12 import (
    FunctionalGroup,
    Interchange,
    Segment,
    Source,
    Transaction,
    X12Error,
    X12ErrorCode,
    read_interchanges,
)
from conveyor.channels.edi.x12.acks import GroupAck, SegmentNote, acknowledge_group
from conveyor.channels.edi.x12.replies import ReplyTo

_CHUNK = 1 << 16
SUPPORTED = frozenset({"850"})  # transaction sets captured; a 997 says others are not supported (AK5 code 1)
_SET_NAMES = {
    "810": "an invoice", "812": "a credit/debit adjustment", "816": "an organizational relationships set",
    "820": "a payment order or remittance advice", "824": "an application advice", "830": "a planning schedule",
    "846": "an inventory inquiry or advice", "852": "a product activity report",
    "855": "a purchase order acknowledgment", "856": "a ship notice", "860": "a purchase order change",
    "865": "a purchase order change acknowledgment", "875": "a grocery purchase order",
    "940": "a warehouse shipping order", "945": "a warehouse shipping advice", "997": "a functional acknowledgment",
    "999": "an implementation acknowledgment",
}
_BY_HAND = {"860": "; changes to placed orders are not applied automatically: change the order by hand",
            "875": "; grocery purchase orders (875) are not captured: enter the order by hand"}


def capture_x12(source: Source, *, name: str, encoding: str = "utf-8",
                on_group: Callable[[GroupAck], None] | None = None) -> Iterator[Captured]:
    """Yield an item for every transaction set of `source` (see the module docstring); never raises for bad data.

    `name` (the file name) starts every `where`. `encoding` is the partner's, e.g. 'cp037' for EBCDIC."""
    if isinstance(source, str | bytes | bytearray) and len(source) > _CHUNK:
        source = _chunked(source)  # the reader re-slices one big buffer per segment; chunks keep it linear
    try:
        for interchange in read_interchanges(source, encoding=encoding):
            yield from _interchange(interchange, name, on_group)
    except X12Error as error:  # no interchange at all, or bytes that cannot be decoded
        where = name if error.position is None else f"{name}: offset {error.position.offset}"
        not_x12 = error.code in (X12ErrorCode.NOT_X12, X12ErrorCode.NO_INTERCHANGE)
        yield Rejected(where, error.message, code="not_x12" if not_x12 else "x12_syntax")


def _chunked(data: str | bytes | bytearray) -> Iterator[str] | Iterator[bytes]:
    if isinstance(data, str):
        return (data[start:start + _CHUNK] for start in range(0, len(data), _CHUNK))
    return (bytes(data[start:start + _CHUNK]) for start in range(0, len(data), _CHUNK))


def _interchange(interchange: Interchange, name: str, on_group: Callable[[GroupAck], None] | None
                 ) -> Iterator[Captured]:
    control = Control("x12", _party(interchange, sender=True), _party(interchange, sender=False),
                      interchange=interchange.control_number)
    label = f"{name}: interchange {interchange.control_number}"
    if interchange.errors:
        yield Rejected(label, _reasons(interchange.errors), control=control, code="x12_envelope")
    elif not interchange.groups:
        what = "TA1 interchange acknowledgments only" if interchange.acknowledgments else "no functional group"
        yield Ignored(label, f"the interchange holds {what}", control=control)
    for group in interchange.groups:
        yield from _group(interchange, group, label, on_group)


def _group(interchange: Interchange, group: FunctionalGroup, label: str,
           on_group: Callable[[GroupAck], None] | None) -> Iterator[Captured]:
    label = f"{label}, group {group.control_number}"
    control = Control("x12", _party(interchange, sender=True), _party(interchange, sender=False),
                      interchange=interchange.control_number, group=group.control_number, version=group.version)
    if group.errors:
        yield Rejected(label, _reasons(group.errors), control=control, code="x12_envelope")
    elif not group.transactions:
        yield Ignored(label, "the functional group holds no transaction set", control=control)
    notes: dict[int, tuple[SegmentNote, ...]] = {}
    for index, transaction in enumerate(group.transactions):
        item, found = _transaction(interchange, group, transaction, label)
        if found:
            notes[index] = found
        yield item
    if on_group is not None:
        on_group(acknowledge_group(interchange, group, notes=notes, supported=SUPPORTED))


def _transaction(interchange: Interchange, group: FunctionalGroup, transaction: Transaction,
                 label: str) -> tuple[Captured, tuple[SegmentNote, ...]]:
    segments = transaction.segments
    set_id = transaction.set_id
    where = f"{label}, transaction {transaction.control_number} (segments {segments[0].number}-{segments[-1].number})"
    sender = _party(interchange, sender=True)
    control = Control("x12", sender, _party(interchange, sender=False), interchange.control_number,
                      group.control_number, transaction.control_number, set_id, group.version)
    if set_id != "850":
        if not (len(set_id) == 3 and set_id.isascii() and set_id.isdigit()):
            return Rejected(where, f"ST01 must be a transaction set id such as '850', found {set_id!r}"
                            + (f"; {_reasons(transaction.errors)}" if transaction.errors else ""),
                            control=control, code="x12_syntax"), ()
        reason = f"transaction set {set_id} ({_SET_NAMES.get(set_id, 'not a purchase order')}) is not an 850 " \
                 f"purchase order{_BY_HAND.get(set_id, '')}"
        if transaction.errors:
            reason += f"; it is also broken: {_reasons(transaction.errors)}"
        return Ignored(where, reason, control=control), ()
    if not transaction.ok:
        return Rejected(where, _reasons(transaction.errors), external_id=_po_number(segments, interchange),
                        control=control, code="x12_syntax"), ()
    reply = ReplyTo.answering(interchange, group).as_dict()
    return map_purchase_order(segments, Context(where, control, sender, interchange.delimiters.component, reply))


def _party(interchange: Interchange, *, sender: bool) -> str:
    party = interchange.sender if sender else interchange.receiver
    return f"{party.qualifier}:{party.id}"


def _reasons(errors: Sequence[X12Error]) -> str:
    return "; ".join(str(error) for error in errors)


def _po_number(segments: Sequence[Segment], interchange: Interchange) -> str | None:
    """BEG03 of a broken 850, to name it in the rejection."""
    beg = next((segment for segment in segments if segment.tag == "BEG"), None)
    return (text(beg, 3, interchange.delimiters.component) or None) if beg is not None else None
