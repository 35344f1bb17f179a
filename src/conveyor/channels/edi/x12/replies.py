"""Replies to a received X12 interchange (997, 855): where they go and the envelope around them. Pure.

A reply goes back to whoever sent: the received ISA05/06 becomes our ISA07/08 and the received ISA07/08
(us) our ISA05/06; GS02 and GS03 swap the same way. It is written with the delimiters the partner used,
in the same ISA12 and GS08 versions, and with the same usage indicator (a test interchange gets a test
answer). `ReplyTo.answering(interchange, group)` reads all that from what `read_interchanges` gave;
`as_dict()`/`from_dict()` keep it as plain text (in `CapturedOrder.extra["x12_reply"]`) for a reply
written later, such as an 855 once the order has been placed.

Control numbers and times come from the caller: `write_reply` uses `control_number` for ISA13 and GS06
and numbers the one transaction set 0001.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conveyor.channels.edi.x12.envelopes import FunctionalGroup, Interchange, PartyId
from conveyor.channels.edi.x12.errors import X12Error, X12ErrorCode
from conveyor.channels.edi.x12.segments import Delimiters, Segment
from conveyor.channels.edi.x12.writer import build_group, build_interchange, build_transaction, write_segments


@dataclass(frozen=True)
class ReplyTo:
    """The envelope of a reply: `sender` is us, `receiver` the partner who sent the document answered."""

    sender: PartyId  # our ISA05/06: the received ISA07/08
    receiver: PartyId  # their ISA07/08: the received ISA05/06
    sender_code: str  # our GS02: the received GS03
    receiver_code: str  # their GS03: the received GS02
    version: str = "004010"  # GS08, as received
    interchange_version: str = "00401"  # ISA12, as received
    usage: str = "P"  # ISA15, as received: P production, T test
    delimiters: Delimiters = field(default_factory=Delimiters)

    @classmethod
    def answering(cls, interchange: Interchange, group: FunctionalGroup) -> ReplyTo:
        usage = interchange.usage if interchange.usage in ("P", "T", "I") else "P"
        return cls(sender=interchange.receiver, receiver=interchange.sender, sender_code=group.receiver_code,
                   receiver_code=group.sender_code, version=group.version or "004010",
                   interchange_version=interchange.version, usage=usage, delimiters=interchange.delimiters)

    def as_dict(self) -> dict[str, str]:
        """Plain text to keep with a captured order; `from_dict` reads it back."""
        d = self.delimiters
        return {"sender": f"{self.sender.qualifier}:{self.sender.id}",
                "receiver": f"{self.receiver.qualifier}:{self.receiver.id}",
                "sender_code": self.sender_code, "receiver_code": self.receiver_code, "version": self.version,
                "interchange_version": self.interchange_version, "usage": self.usage,
                "delimiters": d.element + d.component + d.segment + (d.repetition or "")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplyTo:
        try:
            chars = str(data["delimiters"])
            delimiters = Delimiters(chars[0], chars[1], chars[2], chars[3] if len(chars) > 3 else None)
            return cls(sender=_party(data["sender"]), receiver=_party(data["receiver"]),
                       sender_code=str(data["sender_code"]), receiver_code=str(data["receiver_code"]),
                       version=str(data["version"]), interchange_version=str(data["interchange_version"]),
                       usage=str(data["usage"]), delimiters=delimiters)
        except (KeyError, IndexError) as exc:
            raise X12Error(X12ErrorCode.INVALID_VALUE, f"not a reply address: {dict(data)!r} lacks {exc}") from exc


def write_reply(reply: ReplyTo, *, functional_id: str, set_id: str, body: Iterable[Segment], control_number: int,
                created_at: datetime, line_break: str = "") -> str:
    """One transaction set of `body` in its own ISA/GS/ST envelope addressed by `reply`, as X12 text."""
    transaction = build_transaction(set_id, 1, body)
    group = build_group(functional_id, sender_code=reply.sender_code, receiver_code=reply.receiver_code,
                        control_number=control_number, created_at=created_at, transactions=[transaction],
                        version=reply.version)
    segments = build_interchange(sender=reply.sender, receiver=reply.receiver, control_number=control_number,
                                 created_at=created_at, groups=[group], delimiters=reply.delimiters,
                                 version=reply.interchange_version, usage=reply.usage)
    return write_segments(segments, reply.delimiters, line_break=line_break)


def plain(value: str, delimiters: Delimiters) -> str:
    """`value` without the delimiter characters and line breaks X12 cannot carry (no release character)."""
    banned = {delimiters.element, delimiters.component, delimiters.segment, "\r", "\n"}
    if delimiters.repetition is not None:
        banned.add(delimiters.repetition)
    return "".join(char for char in value if char not in banned)


def _party(text: Any) -> PartyId:
    qualifier, _, identifier = str(text).partition(":")
    return PartyId(qualifier, identifier)
