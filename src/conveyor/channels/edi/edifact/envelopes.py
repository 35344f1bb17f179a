"""The envelope structure of EDIFACT: interchanges (UNB…UNZ), groups (UNG…UNE), messages (UNH…UNT)."""

from __future__ import annotations

from dataclasses import dataclass

from conveyor.channels.edi.edifact.errors import EdifactError, Position
from conveyor.channels.edi.edifact.segments import Segment


@dataclass(frozen=True, slots=True)
class Party:
    """An interchange or group sender or recipient: its identification and the code qualifier that says
    what kind of identification it is (``14`` is a GS1 GLN), plus the optional reverse routing address."""

    id: str
    qualifier: str = ""
    routing: str = ""


@dataclass(frozen=True, slots=True)
class MessageType:
    """UNH02, e.g. ``ORDERS:D:96A:UN:EAN008``."""

    type: str
    version: str
    release: str
    agency: str
    association: str = ""

    def __str__(self) -> str:
        parts = [self.type, self.version, self.release, self.agency, self.association]
        return ":".join(parts).rstrip(":")


@dataclass(frozen=True, slots=True)
class Message:
    reference: str  # UNH01, the message reference number
    type: MessageType
    segments: tuple[Segment, ...]  # UNH to UNT inclusive

    @property
    def position(self) -> Position:
        return self.segments[0].position

    @property
    def body(self) -> tuple[Segment, ...]:
        """The segments between UNH and UNT."""
        return self.segments[1:-1]


@dataclass(frozen=True, slots=True)
class Group:
    reference: str  # UNG05, the group reference number
    group_id: str  # UNG01: message group identification (syntax 3) or message type (syntax 4)
    sender: Party
    recipient: Party
    messages: tuple[Message, ...]
    position: Position


@dataclass(frozen=True, slots=True)
class Interchange:
    reference: str  # UNB05, the interchange control reference
    syntax: str  # UNB01.1, e.g. UNOC
    syntax_version: str  # UNB01.2
    sender: Party  # UNB02
    recipient: Party  # UNB03
    date: str  # UNB04.1 as sent: YYMMDD (syntax 3) or CCYYMMDD (syntax 4)
    time: str  # UNB04.2, HHMM
    application_reference: str  # UNB07
    test: bool  # UNB11 is 1
    groups: tuple[Group, ...]
    messages: tuple[Message, ...]  # those not inside a group
    problems: tuple[EdifactError, ...]
    position: Position

    @property
    def ok(self) -> bool:
        return not self.problems

    def all_messages(self) -> tuple[Message, ...]:
        """Every good message, those in groups first (ISO 9735 allows groups or loose messages, not both)."""
        return tuple(m for g in self.groups for m in g.messages) + self.messages
