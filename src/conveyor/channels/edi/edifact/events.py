"""The events of `stream_messages` (stream.py): where a message is, its start and end, and the ends of
groups and interchanges with the problems of their envelopes."""

from __future__ import annotations

from dataclasses import dataclass

from conveyor.channels.edi.edifact.envelopes import MessageType, Party
from conveyor.channels.edi.edifact.errors import EdifactError, Position
from conveyor.channels.edi.edifact.segments import Segment


@dataclass(frozen=True, slots=True)
class Envelope:
    """The interchange a message is in (UNB) and its group (UNG), when it has one."""

    interchange: str  # UNB05
    syntax: str  # UNB01.1
    syntax_version: str  # UNB01.2
    sender: Party  # UNB02
    recipient: Party  # UNB03
    test: bool  # UNB11 is 1
    position: Position  # of the UNB
    group: str | None = None  # UNG05
    group_sender: Party | None = None  # UNG02
    group_recipient: Party | None = None  # UNG03


@dataclass(frozen=True, slots=True)
class MessageStart:
    envelope: Envelope
    reference: str  # UNH01
    type: MessageType  # UNH02
    header: Segment  # the UNH


@dataclass(frozen=True, slots=True)
class MessageEnd:
    envelope: Envelope
    reference: str  # "" when the UNH could not be read
    type: MessageType | None  # None when the UNH could not be read
    first: Position  # the UNH
    last: Position  # the UNT, or the last segment read before the message was cut off
    fault: EdifactError | None  # None: the message is sound
    started: bool  # a MessageStart (and the body) was yielded


@dataclass(frozen=True, slots=True)
class GroupEnd:
    envelope: Envelope  # with the group's reference, sender and recipient ("" reference: unreadable UNG)
    problems: tuple[EdifactError, ...]


@dataclass(frozen=True, slots=True)
class InterchangeEnd:
    envelope: Envelope
    problems: tuple[EdifactError, ...]  # of the interchange envelope; message and group problems are not here


@dataclass(frozen=True, slots=True)
class Outside:
    error: EdifactError  # the first problem of a run outside any readable interchange
    more: int = 0  # further problems in the same run
    last: Position | None = None  # where the last of them is


Event = Segment | MessageStart | MessageEnd | GroupEnd | InterchangeEnd | Outside
