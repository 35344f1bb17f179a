"""Reading interchanges: good messages, plus every problem found.

`read_interchanges(source)` yields, in file order, two kinds of item:

- an `Interchange` for every UNB…UNZ whose header could be read. It holds the messages that are complete
  and correct (in `groups`, or in `messages` when the interchange has no UNG groups) and, in `problems`,
  everything wrong inside it: a broken segment, a message whose UNT count or reference disagrees, a missing
  UNT, UNE or UNZ, a wrong UNE or UNZ count or reference. A message with any problem of its own is left out
  whole; the others are kept. Problems of the envelope itself (UNZ count, missing UNZ…) keep the messages,
  which are intact, but make `interchange.ok` false: the caller's policy decides whether to import them (an
  importer that wants all or nothing checks `ok`).
- a bare `EdifactError` for a problem outside any readable interchange: data before the first UNB or
  between UNZ and the next UNB, or an interchange whose UNB cannot be read (unknown syntax identifier, a
  missing sender, recipient, date or control reference), which is then skipped up to its UNZ.

So a caller writes::

    for item in read_interchanges(stream):
        if isinstance(item, EdifactError):
            report(item)
            continue
        for problem in item.problems:
            report(problem)
        for message in item.all_messages():
            import_message(item, message)

The reader never raises on bad data. A message with a problem is not reported twice: once one problem has
been found in it, the rest of it is skipped up to its UNT. The reader holds one interchange in memory at a
time (the tokenizer under it streams), so a file of many interchanges streams interchange by interchange.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from conveyor.channels.edi.edifact.checks import (
    UNH_REQUIRED,
    missing_element,
    missing_trailer,
    party,
    unb_problem,
    wrong_count,
    wrong_reference,
)
from conveyor.channels.edi.edifact.envelopes import Group, Interchange, Message, MessageType
from conveyor.channels.edi.edifact.errors import NO_POSITION, EdifactError, ErrorCode
from conveyor.channels.edi.edifact.segments import Segment
from conveyor.channels.edi.edifact.tokens import DEFAULT_CHUNK_SIZE, DEFAULT_MAX_SEGMENT, Source, scan

Item = Interchange | EdifactError


def read_interchanges(source: Source, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
                      max_segment: int = DEFAULT_MAX_SEGMENT) -> Iterator[Item]:
    """The interchanges of `source` with their good messages, and the problems found (see the module doc).
    `chunk_size` and `max_segment` are passed to `scan`."""
    reader = _Reader()
    for item in scan(source, chunk_size=chunk_size, max_segment=max_segment):
        yield from reader.feed(item)
    yield from reader.finish()


@dataclass
class _OpenMessage:
    header: Segment
    reference: str
    type: MessageType | None  # None when the header is broken: the message will be dropped
    segments: list[Segment]
    broken: bool = False  # a problem was reported: the rest of the message is skipped


@dataclass
class _OpenGroup:
    header: Segment
    messages: list[Message]
    count: int = 0  # UNH seen, broken or not: what UNE01 counts
    rejected: bool = False


@dataclass
class _OpenInterchange:
    header: Segment
    groups: list[Group]
    messages: list[Message]
    problems: list[EdifactError]
    count: int = 0  # UNH seen outside groups, broken or not: what UNZ01 counts
    group_count: int = 0


class _Reader:
    def __init__(self) -> None:
        self.interchange: _OpenInterchange | None = None
        self.skipping = False  # inside an interchange whose UNB could not be read
        self.group: _OpenGroup | None = None
        self.message: _OpenMessage | None = None
        self.stray = False  # the current run of segments outside any message was reported already
        self.handlers: dict[str, Callable[[Segment], list[Item]]] = {
            "UNB": self._unb, "UNZ": self._unz, "UNG": self._ung, "UNE": self._une, "UNH": self._unh, "UNT": self._unt}

    def feed(self, item: Segment | EdifactError) -> list[Item]:
        if isinstance(item, EdifactError):
            return self._broken(item)
        if item.tag in self.handlers:
            self.stray = False
            return self.handlers[item.tag](item)
        if self.message is not None:
            if not self.message.broken:
                self.message.segments.append(item)
            return []
        if self.skipping or self.stray:
            return []
        self.stray = True
        where = "between messages (expected UNH or UNZ)" if self.interchange else "outside an interchange " \
            "(expected UNB)"
        return self._record(EdifactError(ErrorCode.UNEXPECTED_SEGMENT, f"segment {item.tag} {where}",
                                         item.position, tag=item.tag, found=item.tag))

    def finish(self) -> list[Item]:
        out = self._drop_message(None)
        if self.group is not None:
            self._record(missing_trailer("UNE", self.group.header, None))
            out += self._end_group()
        if self.interchange is not None:
            self._record(missing_trailer("UNZ", self.interchange.header, None))
            out.append(self._end_interchange())
        return out

    def _record(self, error: EdifactError | None) -> list[Item]:
        if error is None or self.skipping:
            return []
        if self.interchange is not None:
            self.interchange.problems.append(error)
            return []
        return [error]

    def _broken(self, error: EdifactError) -> list[Item]:
        """A segment the tokenizer could not read; its tag, when known, still tells the structure."""
        placeholder = Segment(error.tag or "", (), error.position or NO_POSITION)
        if error.tag == "UNB":
            out = self._unb_starts(placeholder)
            self.skipping = True
            return [*out, error]
        if error.tag == "UNZ" and self.skipping:
            self.skipping = False
            return []
        if error.tag == "UNZ" and self.interchange is not None:
            out = self._drop_message(placeholder) + self._record(error)
            return out + self._end_group() + [self._end_interchange()]
        if error.tag in ("UNH", "UNG", "UNE"):
            out = self._drop_message(placeholder)
            if error.tag != "UNH" and self.group is not None:
                out += self._end_group()
            if error.tag == "UNG" and self.interchange is not None:
                self.interchange.group_count += 1
                self.group = _OpenGroup(placeholder, [], rejected=True)
            if error.tag == "UNH":
                self._count_message()
                self.message = _OpenMessage(placeholder, "", None, [], broken=True)
            return out + self._record(error)
        if self.message is not None:
            already = self.message.broken
            self.message.broken = True
            if error.tag == "UNT":
                self.message = None
            if already:
                return []
        return self._record(error)

    def _unb_starts(self, at: Segment) -> list[Item]:
        out = self._drop_message(at)
        if self.interchange is not None:
            if self.group is not None:
                self._record(missing_trailer("UNE", self.group.header, at))
                out += self._end_group()
            self._record(missing_trailer("UNZ", self.interchange.header, at))
            out.append(self._end_interchange())
        self.skipping = False
        return out

    def _unb(self, segment: Segment) -> list[Item]:
        out = self._unb_starts(segment)
        problem = unb_problem(segment)
        if problem is not None:
            self.skipping = True
            return [*out, problem]
        self.interchange = _OpenInterchange(segment, [], [], [])
        return out

    def _unz(self, segment: Segment) -> list[Item]:
        if self.skipping:
            self.skipping = False
            return []
        if self.interchange is None:
            return self._unexpected(segment, "UNB")
        interchange = self.interchange
        out = self._drop_message(segment)
        if self.group is not None:
            self._record(missing_trailer("UNE", self.group.header, segment))
            out += self._end_group()
        self._record(wrong_count(segment, interchange.group_count or interchange.count))
        reference = interchange.header.value(5)
        self._record(wrong_reference(segment, 2, reference, "the interchange control reference of UNB05"))
        return [*out, self._end_interchange()]

    def _ung(self, segment: Segment) -> list[Item]:
        if self.skipping:
            return []
        if self.interchange is None:
            return self._unexpected(segment, "UNB")
        out = self._drop_message(segment)
        if self.group is not None:
            self._record(missing_trailer("UNE", self.group.header, segment))
            out += self._end_group()
        self.interchange.group_count += 1
        problem = missing_element(segment, {"the group reference number": (5, 1)})
        self.group = _OpenGroup(segment, [], rejected=problem is not None)
        return out + self._record(problem)

    def _une(self, segment: Segment) -> list[Item]:
        if self.skipping:
            return []
        if self.group is None:
            return self._unexpected(segment, "UNG")
        out = self._drop_message(segment)
        if not self.group.rejected:
            self._record(wrong_count(segment, self.group.count))
            self._record(wrong_reference(segment, 2, self.group.header.value(5), "the group reference number of UNG05"))
        return out + self._end_group()

    def _unh(self, segment: Segment) -> list[Item]:
        if self.skipping:
            return []
        out = self._drop_message(segment)
        if self.interchange is None:
            self.message = _OpenMessage(segment, segment.value(1), None, [], broken=True)
            return out + self._unexpected(segment, "UNB")
        self._count_message()
        problem = missing_element(segment, UNH_REQUIRED)
        kind = segment.composite(2) + ("",)
        message_type = None if problem else MessageType(kind[0], kind[1], kind[2], kind[3], kind[4])
        self.message = _OpenMessage(segment, segment.value(1), message_type, [segment], broken=problem is not None)
        return out + self._record(problem)

    def _unt(self, segment: Segment) -> list[Item]:
        if self.skipping:
            return []
        message, self.message = self.message, None
        if message is None:
            return self._unexpected(segment, "UNH")
        if message.broken or message.type is None:
            return []
        message.segments.append(segment)
        problem = wrong_count(segment, len(message.segments)) or wrong_reference(segment, 2, message.reference,
                                                                  "the message reference number of UNH01")
        if problem is not None:
            return self._record(problem)
        if self.group is not None:
            if not self.group.rejected:
                self.group.messages.append(Message(message.reference, message.type, tuple(message.segments)))
        elif self.interchange is not None:
            self.interchange.messages.append(Message(message.reference, message.type, tuple(message.segments)))
        return []

    def _unexpected(self, segment: Segment, header: str) -> list[Item]:
        return self._record(EdifactError(ErrorCode.UNEXPECTED_SEGMENT, f"{segment.tag} without its {header}",
                                         segment.position, tag=segment.tag, expected=header, found=segment.tag))

    def _count_message(self) -> None:
        if self.group is not None:
            self.group.count += 1
        elif self.interchange is not None:
            self.interchange.count += 1

    def _drop_message(self, at: Segment | None) -> list[Item]:
        """Ends an open message that had no UNT; it is dropped (reported unless already reported)."""
        message, self.message = self.message, None
        if message is None or message.broken:
            return []
        return self._record(missing_trailer("UNT", message.header, at))

    def _end_group(self) -> list[Item]:
        group, self.group = self.group, None
        if group is not None and not group.rejected and self.interchange is not None:
            header = group.header
            self.interchange.groups.append(Group(header.value(5), header.value(1), party(header, 2),
                                                 party(header, 3), tuple(group.messages), header.position))
        return []

    def _end_interchange(self) -> Interchange:
        assert self.interchange is not None
        ic, self.interchange = self.interchange, None
        h = ic.header
        return Interchange(h.value(5), h.value(1, 1), h.value(1, 2), party(h, 2), party(h, 3), h.value(4, 1),
                           h.value(4, 2), h.value(7), h.value(11) == "1", tuple(ic.groups), tuple(ic.messages),
                           tuple(ic.problems), h.position)
