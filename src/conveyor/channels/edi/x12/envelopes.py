"""X12 envelopes as read: interchanges (ISA/IEA) holding functional groups (GS/GE) holding
transactions (ST/SE), each with the problems found in it. `reader.read_interchanges` makes them."""

from __future__ import annotations

from dataclasses import dataclass

from conveyor.channels.edi.x12.errors import Position, X12Error
from conveyor.channels.edi.x12.segments import Delimiters, Segment


@dataclass(frozen=True, slots=True)
class PartyId:
    """An interchange sender or receiver: ID qualifier (ISA05/07, e.g. 'ZZ', '01') and ID (ISA06/08)."""

    qualifier: str
    id: str


@dataclass(frozen=True, slots=True)
class Transaction:
    set_id: str  # ST01, e.g. '850'
    control_number: str  # ST02
    segments: tuple[Segment, ...]  # ST to SE
    errors: tuple[X12Error, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def position(self) -> Position:
        return self.segments[0].position

    def count(self, tag: str) -> int:
        return sum(1 for segment in self.segments if segment.tag == tag)

    def all_errors(self) -> tuple[X12Error, ...]:
        return self.errors


@dataclass(frozen=True, slots=True)
class FunctionalGroup:
    functional_id: str  # GS01, e.g. 'PO'
    sender_code: str  # GS02
    receiver_code: str  # GS03
    date: str  # GS04, CCYYMMDD
    time: str  # GS05, HHMM
    control_number: str  # GS06
    version: str  # GS08, e.g. '004010'
    transactions: tuple[Transaction, ...]
    errors: tuple[X12Error, ...]
    position: Position

    @property
    def ok(self) -> bool:
        return not self.errors and all(transaction.ok for transaction in self.transactions)

    def all_errors(self) -> tuple[X12Error, ...]:
        return in_order(self.errors, *(transaction.errors for transaction in self.transactions))


@dataclass(frozen=True, slots=True)
class Interchange:
    sender: PartyId  # ISA05, ISA06 without its padding
    receiver: PartyId  # ISA07, ISA08
    date: str  # ISA09, YYMMDD
    time: str  # ISA10, HHMM
    version: str  # ISA12, e.g. '00401'
    control_number: str  # ISA13
    acknowledgment_requested: bool  # ISA14
    usage: str  # ISA15: P production, T test, I information
    delimiters: Delimiters
    groups: tuple[FunctionalGroup, ...]
    acknowledgments: tuple[Segment, ...]  # TA1 segments before the first group
    errors: tuple[X12Error, ...]
    position: Position

    @property
    def ok(self) -> bool:
        return not self.errors and all(group.ok for group in self.groups)

    def all_errors(self) -> tuple[X12Error, ...]:
        return in_order(self.errors, *(group.all_errors() for group in self.groups))


def in_order(*groups: tuple[X12Error, ...]) -> tuple[X12Error, ...]:
    errors = [error for group in groups for error in group]
    return tuple(sorted(errors, key=lambda error: error.position.number if error.position else 0))
