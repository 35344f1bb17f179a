"""Writing X12: segments to text, and ISA, GS and ST envelopes with their counts and control numbers.

X12 has no release (escape) character, so a value holding one of the delimiters, or a line break, cannot
be written: `write_segments` refuses it with `X12Error` code `delimiter_in_value`, naming the segment,
the element and the character. Change the value, or choose delimiters that do not occur in the data.

    delimiters = Delimiters("*", ">", "~")
    purchase_order_ack = build_transaction("855", 1, [Segment("BAK", ("00", "AC", "PO-1", "20240603"))])
    group = build_group("PR", sender_code="CONVEYOR", receiver_code="ACME", control_number=7,
                        created_at=now, transactions=[purchase_order_ack])
    segments = build_interchange(sender=PartyId("ZZ", "CONVEYOR"), receiver=PartyId("ZZ", "ACME"),
                                 control_number=7, created_at=now, groups=[group], delimiters=delimiters)
    text = write_segments(segments, delimiters, line_break="\\n")

Control numbers come from the caller, who keeps them per trading partner; the builders format them
(ISA13 nine digits, ST02 at least four) and write the matching trailers and counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from conveyor.channels.edi.x12.envelopes import PartyId
from conveyor.channels.edi.x12.errors import X12Error, X12ErrorCode
from conveyor.channels.edi.x12.isa import ISA_WIDTHS, declares_repetition
from conveyor.channels.edi.x12.segments import SEGMENT_TAG, Delimiters, Element, Segment

_ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_MAX_CONTROL_NUMBER = 999_999_999
_LINE_BREAKS = ("", "\n", "\r\n")


def write_segments(segments: Iterable[Segment], delimiters: Delimiters, *, line_break: str = "") -> str:
    """The segments as X12 text; `line_break` ('', '\\n' or '\\r\\n') follows every terminator."""
    if line_break not in _LINE_BREAKS:
        raise X12Error(X12ErrorCode.INVALID_VALUE, f"line_break must be one of {_LINE_BREAKS}, not {line_break!r}")
    ending = delimiters.segment + line_break
    return "".join(_segment_text(segment, delimiters) + ending for segment in segments)


def build_transaction(set_id: str, control_number: int, body: Iterable[Segment]) -> tuple[Segment, ...]:
    """ST, the body, and SE with the segment count and ST02 (`control_number`, at least four digits)."""
    if not (len(set_id) == 3 and set_id.isascii() and set_id.isdigit()):
        raise _invalid("ST", 1, f"a transaction set id is three digits, such as '850', not {set_id!r}")
    number = f"{_control_number('ST', 2, control_number):04d}"
    segments = [Segment("ST", (set_id, number))]
    for segment in body:
        if segment.tag in _ENVELOPE_TAGS:
            raise _invalid(segment.tag, None, f"a transaction body cannot hold an envelope segment ({segment.tag})")
        segments.append(segment)
    segments.append(Segment("SE", (str(len(segments) + 1), number)))
    return tuple(segments)


def build_group(functional_id: str, *, sender_code: str, receiver_code: str, control_number: int,
                created_at: datetime, transactions: Iterable[Sequence[Segment]],
                version: str = "004010") -> tuple[Segment, ...]:
    """GS, the transactions (each from `build_transaction`), and GE with their count and GS06."""
    _check_size("GS", 1, functional_id, 2, 2)
    _check_size("GS", 2, sender_code, 2, 15)
    _check_size("GS", 3, receiver_code, 2, 15)
    _check_size("GS", 8, version, 1, 12)
    number = str(_control_number("GS", 6, control_number))
    segments = [Segment("GS", (functional_id, sender_code, receiver_code, created_at.strftime("%Y%m%d"),
                               created_at.strftime("%H%M"), number, "X", version))]
    count = 0
    for transaction in transactions:
        _enveloped(transaction, "ST", "SE", "build_transaction")
        segments.extend(transaction)
        count += 1
    segments.append(Segment("GE", (str(count), number)))
    return tuple(segments)


def build_interchange(*, sender: PartyId, receiver: PartyId, control_number: int, created_at: datetime,
                      groups: Iterable[Sequence[Segment]], delimiters: Delimiters, version: str = "00401",
                      usage: str = "P", acknowledgment_requested: bool = False) -> tuple[Segment, ...]:
    """ISA (declaring `delimiters`), the groups (each from `build_group`), and IEA with their count and ISA13.

    `version` is ISA12; a repetition separator needs 00402 or later. `usage` is P(roduction) or T(est)."""
    for reference, party in ((5, sender), (7, receiver)):
        _check_size("ISA", reference, party.qualifier, 2, 2)
        _check_size("ISA", reference + 1, party.id, 1, 15)
    if not (len(version) == 5 and version.isascii() and version.isdigit()):
        raise _invalid("ISA", 12, f"the ISA version is five digits, such as '00401', not {version!r}")
    if usage not in ("P", "T", "I"):
        raise _invalid("ISA", 15, f"usage is P, T or I, not {usage!r}")
    if delimiters.repetition is not None and int(version) < 402:
        raise _invalid("ISA", 11, f"a repetition separator needs ISA version 00402 or later, not {version}")
    number = f"{_control_number('ISA', 13, control_number):09d}"
    isa = Segment("ISA", (
        "00", " " * 10, "00", " " * 10, sender.qualifier, sender.id.ljust(15), receiver.qualifier,
        receiver.id.ljust(15), created_at.strftime("%y%m%d"), created_at.strftime("%H%M"),
        delimiters.repetition or "U", version, number, "1" if acknowledgment_requested else "0", usage,
        delimiters.component))
    segments = [isa]
    count = 0
    for group in groups:
        _enveloped(group, "GS", "GE", "build_group")
        segments.extend(group)
        count += 1
    segments.append(Segment("IEA", (str(count), number)))
    return tuple(segments)


# -- checks ----------------------------------------------------------------------------------------------


def _segment_text(segment: Segment, delimiters: Delimiters) -> str:
    tag = segment.tag
    if not SEGMENT_TAG.fullmatch(tag):
        raise _invalid(tag, None, f"a segment tag is 2 or 3 capital letters and digits, not {tag!r}")
    if tag == "ISA":
        return _isa_text(segment, delimiters)
    parts = [tag]
    for reference, element in enumerate(segment.elements, start=1):
        parts.append(_element_text(element, delimiters, tag, reference))
    return delimiters.element.join(parts)


def _element_text(element: Element, delimiters: Delimiters, tag: str, reference: int) -> str:
    if isinstance(element, str):
        return _checked(element, delimiters, tag, reference)
    if isinstance(element, tuple):
        return delimiters.component.join(_checked(value, delimiters, tag, reference) for value in element)
    if delimiters.repetition is None:
        raise _invalid(tag, reference, "the element has repetitions, but the delimiters have no repetition separator")
    return delimiters.repetition.join(_element_text(value, delimiters, tag, reference) for value in element.values)


def _checked(value: str, delimiters: Delimiters, tag: str, reference: int) -> str:
    for char, name in _forbidden(delimiters):
        if char in value:
            raise X12Error(
                X12ErrorCode.DELIMITER_IN_VALUE,
                f"{tag}{reference:02d} value {value!r} contains the {name} {char!r}; X12 has no release "
                "character, so change the value or choose delimiters that do not occur in the data",
                tag=tag, element=reference, found=value)
    return value


@lru_cache(maxsize=64)
def _forbidden(delimiters: Delimiters) -> tuple[tuple[str, str], ...]:
    chars = [(delimiters.element, "element separator"), (delimiters.component, "component separator"),
             (delimiters.segment, "segment terminator"), ("\r", "line break CR"), ("\n", "line break LF")]
    if delimiters.repetition is not None:
        chars.append((delimiters.repetition, "repetition separator"))
    return tuple(chars)


def _isa_text(isa: Segment, delimiters: Delimiters) -> str:
    values = isa.elements
    if len(values) != 16 or not all(isinstance(value, str) for value in values):
        raise _invalid("ISA", None, "an ISA has 16 plain elements")
    text = [str(value) for value in values]
    for reference, (value, width) in enumerate(zip(text, ISA_WIDTHS, strict=True), start=1):
        if len(value) != width:
            raise _invalid("ISA", reference, f"ISA{reference:02d} is {width} characters, not {value!r}")
    if text[15] != delimiters.component:
        raise _invalid("ISA", 16, f"ISA16 must be the component separator {delimiters.component!r}")
    declared = declares_repetition(text[11], text[10])
    if delimiters.repetition is not None and (not declared or text[10] != delimiters.repetition):
        raise _invalid("ISA", 11, f"ISA11 must be the repetition separator {delimiters.repetition!r}, "
                                  "with ISA12 00402 or later")
    if delimiters.repetition is None and declared:
        raise _invalid("ISA", 11, f"ISA11 {text[10]!r} declares a repetition separator the delimiters do not have; "
                                  "use 'U'")
    for reference, value in enumerate(text[:15], start=1):
        if reference != 11 or delimiters.repetition is None:
            _checked(value, delimiters, "ISA", reference)
    return delimiters.element.join(["ISA", *text[:15], text[15]])


def _enveloped(segments: Sequence[Segment], header: str, trailer: str, builder: str) -> None:
    if not segments or segments[0].tag != header or segments[-1].tag != trailer:
        raise _invalid(header, None, f"expected {header} ... {trailer} segments, as {builder} makes them")


def _control_number(tag: str, reference: int, number: int) -> int:
    if not 0 < number <= _MAX_CONTROL_NUMBER:
        raise _invalid(tag, reference, f"a control number is from 1 to {_MAX_CONTROL_NUMBER}, not {number}")
    return number


def _check_size(tag: str, reference: int, value: str, shortest: int, longest: int) -> None:
    if not shortest <= len(value) <= longest:
        size = str(longest) if shortest == longest else f"{shortest} to {longest}"
        raise _invalid(tag, reference, f"{tag}{reference:02d} is {size} characters, not {value!r}")


def _invalid(tag: str, reference: int | None, message: str) -> X12Error:
    return X12Error(X12ErrorCode.INVALID_VALUE, message, tag=tag, element=reference)
