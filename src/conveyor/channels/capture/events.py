"""Events of capture, published through the outbox in the transaction that stores their subject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from conveyor.kernel.messages import Event


@dataclass(frozen=True, kw_only=True)
class AcknowledgementReady(Event):
    """An acknowledgement (997, 855, CONTRL, ORDRSP) is stored and waits to be sent to the partner: a
    delivery handler (AS2, SFTP, a VAN mailbox) subscribes to this event."""

    name: ClassVar[str] = "edi.acknowledgement_ready"
    ack_id: int
    channel_id: int
    kind: str
    partner: str
    control_number: str
