"""The envelope checks: each returns the problem it finds, or None."""

from __future__ import annotations

from conveyor.channels.edi.edifact.envelopes import Party
from conveyor.channels.edi.edifact.errors import EdifactError, ErrorCode
from conveyor.channels.edi.edifact.segments import Segment
from conveyor.channels.edi.edifact.syntax import CHARACTER_SETS, character_set

UNB_REQUIRED = {"the syntax identifier": (1, 1), "the syntax version": (1, 2), "the sender": (2, 1),
                "the recipient": (3, 1), "the date of preparation": (4, 1), "the time of preparation": (4, 2),
                "the interchange control reference": (5, 1)}
UNH_REQUIRED = {"the message reference number": (1, 1), "the message type": (2, 1), "the message version": (2, 2),
                "the message release": (2, 3), "the controlling agency": (2, 4)}


def party(segment: Segment, number: int) -> Party:
    parts = segment.composite(number) + ("", "", "")
    return Party(parts[0], parts[1], parts[2])


def missing_element(segment: Segment, required: dict[str, tuple[int, int]]) -> EdifactError | None:
    for name, (number, component) in required.items():
        if not segment.value(number, component):
            element = f"{segment.tag}{number:02d}" + (f".{component}" if component > 1 else "")
            return EdifactError(ErrorCode.MISSING_ELEMENT, f"{name} is mandatory and empty", segment.position,
                                element, tag=segment.tag)
    return None


def wrong_count(segment: Segment, expected: int) -> EdifactError | None:
    found = segment.value(1)
    if found.isdigit() and int(found) == expected:
        return None
    what = {"UNT": "the number of segments in the message (UNH and UNT included)",
            "UNE": "the number of messages in the group",
            "UNZ": "the number of messages (or groups) in the interchange"}[segment.tag]
    return EdifactError(ErrorCode.COUNT_MISMATCH, f"{what} is wrong", segment.position, f"{segment.tag}01",
                        tag=segment.tag, expected=str(expected), found=found)


def wrong_reference(segment: Segment, number: int, expected: str, what: str) -> EdifactError | None:
    found = segment.value(number)
    if found == expected:
        return None
    return EdifactError(ErrorCode.REFERENCE_MISMATCH, f"must repeat {what}", segment.position,
                        f"{segment.tag}{number:02d}", tag=segment.tag, expected=expected, found=found)


def missing_trailer(trailer: str, header: Segment, at: Segment | None) -> EdifactError:
    if at is None:
        return EdifactError(ErrorCode.MISSING_TRAILER, f"the {header.tag} at segment {header.position.segment} "
                            f"has no {trailer}: the data ends first", header.position, tag=header.tag,
                            expected=trailer, found="end of data")
    return EdifactError(ErrorCode.MISSING_TRAILER, f"the {header.tag} at segment {header.position.segment} has no "
                        f"{trailer}: {at.tag} comes first", at.position, tag=at.tag, expected=trailer, found=at.tag)


def unb_problem(segment: Segment) -> EdifactError | None:
    """What makes a UNB unreadable: a mandatory element empty, or a syntax identifier we do not know."""
    problem = missing_element(segment, UNB_REQUIRED)
    identifier = segment.value(1)
    if problem is None and character_set(identifier) is None:
        problem = EdifactError(ErrorCode.UNSUPPORTED_SYNTAX, "unknown syntax identifier", segment.position,
                               "UNB01", tag="UNB", expected=" or ".join(CHARACTER_SETS), found=identifier)
    return problem
