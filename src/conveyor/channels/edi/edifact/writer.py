"""Writing EDIFACT: segments to bytes with the release character applied, and the UNB/UNH envelopes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from conveyor.channels.edi.edifact.envelopes import MessageType, Party
from conveyor.channels.edi.edifact.errors import EdifactError, ErrorCode
from conveyor.channels.edi.edifact.segments import TAG, Element, Segment
from conveyor.channels.edi.edifact.syntax import DEFAULT_DELIMITERS, CharacterSet, Delimiters, character_set


def write_segments(segments: Iterable[Segment], delimiters: Delimiters = DEFAULT_DELIMITERS, una: bool = True, *,
                   syntax: str | None = None, line_break: str = "") -> bytes:
    """The bytes of `segments`, each value released where it holds a service character.

    The character set is `syntax` if given, else the one the last UNB written names (before any UNB: ASCII),
    and every value must fit its repertoire. `una` puts a service string advice first; `line_break` (say
    ``"\\r\\n"``) goes after each terminator, for people: the reader ignores it. Values cannot hold CR or LF
    (the reader drops them as line breaks) unless they are delimiters.
    """
    charset = _charset(syntax) if syntax else None
    special = delimiters.special
    release = delimiters.release
    table = {ord(c): release + c for c in special} if release else {}
    out: list[bytes] = []
    if una:
        out.append((delimiters.una() + line_break).encode("ascii"))
    for number, segment in enumerate(segments, 1):
        if not TAG.fullmatch(segment.tag):
            raise EdifactError(ErrorCode.INVALID_VALUE, f"segment {number}: a tag is three capital letters or "
                               "digits", tag=segment.tag, found=segment.tag)
        if segment.tag == "UNB" and syntax is None:
            charset = _charset(segment.value(1))
        forbidden = charset.pattern(delimiters) if charset else None
        parts = [segment.tag]
        for index, element in enumerate(segment.elements, 1):
            values = element if isinstance(element, tuple) else (element,)
            for value in values:
                problem = _unwritable(value, special, release, forbidden)
                if problem:
                    raise EdifactError(problem[0], f"segment {number}: {problem[1]}",
                                       element=f"{segment.tag}{index:02d}", tag=segment.tag, found=value)
            parts.append(delimiters.component.join(v.translate(table) for v in values))
        text = delimiters.element.join(parts) + delimiters.terminator + line_break
        codec = charset.codec if charset else "ascii"
        try:
            out.append(text.encode(codec))
        except UnicodeEncodeError as exc:
            raise EdifactError(ErrorCode.CHARACTER_NOT_ALLOWED, f"segment {number}: {exc.object[exc.start]!r} "
                               f"cannot be written in {charset.identifier if charset else 'ASCII'}",
                               tag=segment.tag) from None
    return b"".join(out)


def _charset(identifier: str) -> CharacterSet:
    charset = character_set(identifier)
    if charset is None:
        raise EdifactError(ErrorCode.UNSUPPORTED_SYNTAX, "unknown syntax identifier", element="UNB01",
                           found=identifier)
    return charset


def _unwritable(value: str, special: str, release: str | None,
                forbidden: re.Pattern[str] | None) -> tuple[ErrorCode, str] | None:
    if release is None and any(c in special for c in value):
        return ErrorCode.INVALID_VALUE, "the value holds a delimiter and the interchange has no release character"
    if any(c in "\r\n" and c not in special for c in value):
        return ErrorCode.INVALID_VALUE, "a value cannot hold CR or LF: the reader drops them as line breaks"
    if forbidden is not None and (bad := forbidden.search(value)):
        return ErrorCode.CHARACTER_NOT_ALLOWED, f"{bad.group()!r} is not allowed in this character set"
    return None


def _composite(*parts: str) -> Element:
    """A composite with its trailing empty components left out; one component is written as a simple value."""
    kept = list(parts)
    while len(kept) > 1 and not kept[-1]:
        kept.pop()
    return kept[0] if len(kept) == 1 else tuple(kept)


def build_message(reference: str, message_type: MessageType, body: Iterable[Segment]) -> tuple[Segment, ...]:
    """UNH, the body and UNT, with UNT01 counting UNH to UNT and UNT02 repeating the reference."""
    body = tuple(body)
    kind = _composite(message_type.type, message_type.version, message_type.release, message_type.agency,
                      message_type.association)
    return (Segment("UNH", (reference, kind)), *body, Segment("UNT", (str(len(body) + 2), reference)))


def build_interchange(messages: Iterable[Sequence[Segment]], *, sender: Party, recipient: Party, reference: str,
                      prepared: datetime, syntax: str = "UNOC", syntax_version: str = "3",
                      application_reference: str = "", test: bool = False) -> tuple[Segment, ...]:
    """UNB, the messages (each from `build_message`) and UNZ, with UNZ01 counting them and UNZ02 repeating
    `reference`. The date is YYMMDD up to syntax version 3 and CCYYMMDD from version 4."""
    _charset(syntax)
    if not reference:
        raise EdifactError(ErrorCode.MISSING_ELEMENT, "the interchange control reference is mandatory", element="UNB05")
    date = prepared.strftime("%Y%m%d" if syntax_version.isdigit() and int(syntax_version) >= 4 else "%y%m%d")
    optional = ["", application_reference, "", "", "", "1" if test else ""]
    while optional and not optional[-1]:
        optional.pop()
    segments: list[Segment] = [Segment("UNB", (
        (syntax, syntax_version), _composite(sender.id, sender.qualifier, sender.routing),
        _composite(recipient.id, recipient.qualifier, recipient.routing), (date, prepared.strftime("%H%M")),
        reference, *optional))]
    count = 0
    for message in messages:
        if not message or message[0].tag != "UNH" or message[-1].tag != "UNT":
            raise EdifactError(ErrorCode.INVALID_VALUE, f"message {count + 1} must run from UNH to UNT")
        segments.extend(message)
        count += 1
    segments.append(Segment("UNZ", (str(count), reference)))
    return tuple(segments)
