"""Reading EDIFACT one message at a time, in memory that does not grow with the interchange.

`read_interchanges` (reader.py) hands over a whole interchange with its messages once its UNZ is read. An
importer of big files wants less: `stream_messages(source)` yields events as the segments go by, with the
same envelope checks (UNT, UNE and UNZ counts and references, mandatory UNB/UNG/UNH elements, trailers):

- `MessageStart` when a UNH is read correctly, then every body segment of that message (a `Segment`), then
  `MessageEnd` at its UNT. `MessageEnd.fault` says whether the message is sound: a broken segment, a
  wrong UNT count or reference, a missing UNT. Once a message has a fault, its remaining body segments
  are not yielded. A message whose UNH cannot be read gets a `MessageEnd` only (`started` is False).
- `GroupEnd` at each UNE (or where the group is cut off), with the problems of the group envelope.
- `InterchangeEnd` at each UNZ (or at the end of the data), with the problems of the interchange envelope.
  Those do not void the messages already ended: each message was checked on its own.
- `Outside` for what lies outside any readable interchange: bytes that are not EDIFACT, data between UNZ
  and the next UNB, an interchange whose UNB cannot be read (skipped up to its UNZ). Consecutive problems
  are reported once, with the number of further ones.

Nothing is kept but the open envelopes' headers and counters, so a consumer that keeps only what it needs
of each message holds one message at most. Bad data never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from conveyor.channels.edi.edifact.checks import (
    UNH_REQUIRED,
    missing_element,
    missing_trailer,
    party,
    unb_problem,
    wrong_count,
    wrong_reference,
)
from conveyor.channels.edi.edifact.envelopes import MessageType
from conveyor.channels.edi.edifact.errors import NO_POSITION, EdifactError, ErrorCode, Position
from conveyor.channels.edi.edifact.events import (
    Envelope,
    Event,
    GroupEnd,
    InterchangeEnd,
    MessageEnd,
    MessageStart,
    Outside,
)
from conveyor.channels.edi.edifact.segments import Segment
from conveyor.channels.edi.edifact.tokens import DEFAULT_CHUNK_SIZE, DEFAULT_MAX_SEGMENT, Source, scan

__all__ = ["Envelope", "Event", "GroupEnd", "InterchangeEnd", "MessageEnd", "MessageStart", "Outside",
           "stream_messages"]



def stream_messages(source: Source, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
                    max_segment: int = DEFAULT_MAX_SEGMENT) -> Iterator[Event]:
    """The events of `source` (see the module doc). `chunk_size` and `max_segment` are passed to `scan`."""
    stream = _Stream()
    for item in scan(source, chunk_size=chunk_size, max_segment=max_segment):
        yield from stream.feed(item)
    yield from stream.finish()


@dataclass
class _Message:
    header: Segment
    reference: str
    type: MessageType | None
    envelope: Envelope | None  # None: a UNH outside any interchange, already reported; skipped silently
    fault: EdifactError | None
    last: Position
    started: bool = False  # a MessageStart was yielded
    count: int = 1


@dataclass
class _Group:
    envelope: Envelope
    header: Segment
    fault: EdifactError | None  # the UNG is unusable: its messages are rejected
    count: int = 0
    problems: list[EdifactError] = field(default_factory=list)


@dataclass
class _Interchange:
    envelope: Envelope
    header: Segment
    count: int = 0
    groups: int = 0
    problems: list[EdifactError] = field(default_factory=list)


class _Stream:
    def __init__(self) -> None:
        self.interchange: _Interchange | None = None
        self.group: _Group | None = None
        self.message: _Message | None = None
        self.skipping = False  # inside an interchange whose UNB could not be read
        self.stray = False  # the current run of segments outside any message was reported already
        self.outside: Outside | None = None  # the run of problems outside interchanges, not yet yielded
        self.handlers: dict[str, Callable[[Segment], list[Event]]] = {
            "UNB": self._unb, "UNZ": self._unz, "UNG": self._ung, "UNE": self._une, "UNH": self._unh, "UNT": self._unt}

    def feed(self, item: Segment | EdifactError) -> list[Event]:
        if isinstance(item, EdifactError):
            return self._broken(item)
        if item.tag in self.handlers:
            self.stray = False
            return self.handlers[item.tag](item)
        message = self.message
        if message is not None:
            message.count += 1
            message.last = item.position
            return [item] if message.fault is None and message.envelope is not None else []
        if self.skipping or self.stray:
            return []
        self.stray = True
        where = "between messages (expected UNH or UNZ)" if self.interchange else "outside an interchange " \
            "(expected UNB)"
        self._problem(EdifactError(ErrorCode.UNEXPECTED_SEGMENT, f"segment {item.tag} {where}", item.position,
                                   tag=item.tag, found=item.tag))
        return []

    def finish(self) -> list[Event]:
        out = self._cut_message(None) + self._end_group(None)
        if self.interchange is not None:
            self._problem(missing_trailer("UNZ", self.interchange.header, None))
            out += self._end_interchange()
        return out + self._flush()

    # problems outside messages

    def _problem(self, error: EdifactError | None) -> None:
        if error is None or self.skipping:
            return
        if self.interchange is not None:
            self.interchange.problems.append(error)
        elif self.outside is None:
            self.outside = Outside(error)
        else:
            self.outside = replace(self.outside, more=self.outside.more + 1, last=error.position)

    def _flush(self) -> list[Event]:
        outside, self.outside = self.outside, None
        return [outside] if outside is not None else []

    def _unexpected(self, segment: Segment, header: str) -> None:
        self._problem(EdifactError(ErrorCode.UNEXPECTED_SEGMENT, f"{segment.tag} without its {header}",
                                   segment.position, tag=segment.tag, expected=header, found=segment.tag))

    # segments that could not be read

    def _broken(self, error: EdifactError) -> list[Event]:
        at = Segment(error.tag or "", (), error.position or NO_POSITION)
        if error.tag == "UNB":
            out = self._close_all(at)
            self._problem(error)
            self.skipping = True
            return out
        if error.tag == "UNZ":
            if self.skipping:
                self.skipping = False
                return []
            if self.interchange is not None:
                out = self._cut_message(at) + self._end_group(at)
                self._problem(error)
                return out + self._end_interchange()
        if error.tag in ("UNH", "UNG", "UNE") and not self.skipping:
            return self._broken_header(error, at)
        message = self.message
        if message is not None:
            message.count += 1
            message.last = at.position
            if message.fault is None:
                message.fault = error
            if error.tag == "UNT":
                return self._end_message()
            return []
        self._problem(error)
        return []

    def _broken_header(self, error: EdifactError, at: Segment) -> list[Event]:
        out = self._cut_message(at)
        if error.tag == "UNH":
            self._count_message()
            envelope = self._envelope()
            if envelope is None:
                self._problem(error)
            self.message = _Message(at, "", None, envelope, error, at.position)
        elif error.tag == "UNE" and self.group is not None:
            self.group.problems.append(error)
            out += self._end_group(None, closed=True)
        elif error.tag == "UNG" and self.interchange is not None:
            out += self._end_group(at)
            self.interchange.groups += 1
            self.group = _Group(replace(self.interchange.envelope, group=""), at, error)
        else:
            self._problem(error)
        return out

    # service segments

    def _close_all(self, at: Segment) -> list[Event]:
        out = self._cut_message(at) + self._end_group(at)
        if self.interchange is not None:
            self._problem(missing_trailer("UNZ", self.interchange.header, at))
            out += self._end_interchange()
        self.skipping = False
        return out

    def _unb(self, segment: Segment) -> list[Event]:
        out = self._close_all(segment)
        problem = unb_problem(segment)
        identifier = segment.value(1)
        if problem is not None:
            self._problem(problem)
            self.skipping = True
            return out
        out += self._flush()
        envelope = Envelope(segment.value(5), identifier, segment.value(1, 2), party(segment, 2), party(segment, 3),
                            segment.value(11) == "1", segment.position)
        self.interchange = _Interchange(envelope, segment)
        return out

    def _unz(self, segment: Segment) -> list[Event]:
        if self.skipping:
            self.skipping = False
            return []
        interchange = self.interchange
        if interchange is None:
            self._unexpected(segment, "UNB")
            return []
        out = self._cut_message(segment) + self._end_group(segment)
        self._problem(wrong_count(segment, interchange.groups or interchange.count))
        self._problem(wrong_reference(segment, 2, interchange.envelope.interchange,
                                      "the interchange control reference of UNB05"))
        return out + self._end_interchange()

    def _ung(self, segment: Segment) -> list[Event]:
        if self.skipping:
            return []
        if self.interchange is None:
            self._unexpected(segment, "UNB")
            return []
        out = self._cut_message(segment) + self._end_group(segment)
        self.interchange.groups += 1
        problem = missing_element(segment, {"the group reference number": (5, 1)})
        envelope = replace(self.interchange.envelope, group=segment.value(5), group_sender=party(segment, 2),
                           group_recipient=party(segment, 3))
        self.group = _Group(envelope, segment, problem)
        return out

    def _une(self, segment: Segment) -> list[Event]:
        if self.skipping:
            return []
        group = self.group
        if group is None:
            self._unexpected(segment, "UNG")
            return []
        out = self._cut_message(segment)
        if group.fault is None:
            for problem in (wrong_count(segment, group.count),
                            wrong_reference(segment, 2, group.header.value(5), "the group reference number of UNG05")):
                if problem is not None:
                    group.problems.append(problem)
        return out + self._end_group(None, closed=True)

    def _unh(self, segment: Segment) -> list[Event]:
        if self.skipping:
            return []
        out = self._cut_message(segment)
        envelope = self._envelope()
        if envelope is None:
            self._unexpected(segment, "UNB")
            self.message = _Message(segment, segment.value(1), None, None, None, segment.position)
            return out
        self._count_message()
        fault = missing_element(segment, UNH_REQUIRED)
        kind = segment.composite(2) + ("",) * 5
        message_type = None if fault else MessageType(kind[0], kind[1], kind[2], kind[3], kind[4])
        if fault is None and self.group is not None and self.group.fault is not None:
            fault = EdifactError(ErrorCode.UNEXPECTED_SEGMENT, "the message is in a group whose UNG cannot be "
                                 f"used ({self.group.fault.describe()})", segment.position, tag="UNH")
        started = fault is None and message_type is not None
        self.message = _Message(segment, segment.value(1), message_type, envelope, fault, segment.position, started)
        if started and message_type is not None:
            out.append(MessageStart(envelope, segment.value(1), message_type, segment))
        return out

    def _unt(self, segment: Segment) -> list[Event]:
        if self.skipping:
            return []
        message = self.message
        if message is None:
            self._unexpected(segment, "UNH")
            return []
        message.count += 1
        message.last = segment.position
        if message.fault is None:
            message.fault = wrong_count(segment, message.count) or wrong_reference(
                segment, 2, message.reference, "the message reference number of UNH01")
        return self._end_message()

    # ends

    def _envelope(self) -> Envelope | None:
        if self.group is not None:
            return self.group.envelope
        return self.interchange.envelope if self.interchange is not None else None

    def _count_message(self) -> None:
        if self.group is not None:
            self.group.count += 1
        elif self.interchange is not None:
            self.interchange.count += 1

    def _end_message(self) -> list[Event]:
        message, self.message = self.message, None
        if message is None or message.envelope is None:
            return []
        return [MessageEnd(message.envelope, message.reference, message.type, message.header.position, message.last,
                           message.fault, message.started)]

    def _cut_message(self, at: Segment | None) -> list[Event]:
        """Ends an open message that had no UNT."""
        message = self.message
        if message is None:
            return []
        if message.fault is None:
            message.fault = missing_trailer("UNT", message.header, at)
        return self._end_message()

    def _end_group(self, at: Segment | None, *, closed: bool = False) -> list[Event]:
        """Ends the open group: at its UNE (`closed`), or cut off by `at` (None: the end of the data)."""
        group, self.group = self.group, None
        if group is None:
            return []
        if not closed and group.fault is None:
            group.problems.append(missing_trailer("UNE", group.header, at))
        problems = tuple(group.problems) if group.fault is None else (group.fault,)
        return [GroupEnd(group.envelope, problems)]

    def _end_interchange(self) -> list[Event]:
        interchange, self.interchange = self.interchange, None
        if interchange is None:
            return []
        return [InterchangeEnd(interchange.envelope, tuple(interchange.problems))]

