"""EDIFACT ORDERS into captured orders, streamed message by message. Pure: no database, no clock.

    receipts: list[InterchangeReceipt] = []
    with path.open("rb") as stream:
        for item in capture_edifact(stream, name=path.name, on_receipt=receipts.append):
            ...  # CapturedOrder, Rejected or Ignored, in document order
    # then one CONTRL per receipt: acks.write_contrl(receipt, reference=..., prepared=...)

For each message of each interchange, in file order:

- an ORDERS message (any directory, D:96A and EANCOM's ORDERS:D:96A:UN:EAN008 included) that is sound
  gives a `CapturedOrder` (mapping in edifact_orders_message.py and docs/edifact.md);
- a message with an envelope or syntax problem (a segment that cannot be read, a wrong UNT count or
  reference, no UNT), or an ORDERS message the mapping rejects (no BGM, no LIN, a LIN without a positive
  QTY+21, a price or amount that is not a number, a date that is not one, CNT+2 wrong), gives a `Rejected`
  naming the segment, the data element, what was expected and what was found; nothing of it is imported
  and the other messages of the file are still read;
- any other sound message (INVOIC, DESADV, APERAK, ORDRSP, CONTRL...) gives an `Ignored`.

What lies outside any readable interchange (bytes that are not EDIFACT, an interchange whose UNB cannot be
read) gives one `Rejected` per run, and empty data gives one too. A problem of an interchange or group
envelope (segments between messages, a wrong UNZ or UNE count or reference, no UNZ) gives a `Rejected`
after that interchange's messages, and goes into its receipt for the CONTRL; it does not void the
messages, which were each checked on their own (`where` then names the segment, not a message).

`on_receipt` receives one `InterchangeReceipt` per readable interchange once its last message has been
yielded (so a consumer that stops early gets none for the interchange it stopped in). `where` reads
``orders.edi: interchange 807, message 1 (segments 3-18)``; a line's ``segment 11 (LIN)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from conveyor.channels.capture.edifact_orders_message import OrdersMessage
from conveyor.channels.capture.edifact_values import party_id
from conveyor.channels.capture.model import Captured, Control, Ignored, PartyRef, Rejected
from conveyor.channels.edi.edifact import EdifactError, Party, Segment, Source
from conveyor.channels.edi.edifact.receipt import (
    Fault,
    GroupReceipt,
    InterchangeReceipt,
    MessageReceipt,
    fault_from_error,
)
from conveyor.channels.edi.edifact.stream import (
    Envelope,
    Event,
    GroupEnd,
    InterchangeEnd,
    MessageEnd,
    MessageStart,
    Outside,
    stream_messages,
)
from conveyor.channels.edi.edifact.tokens import DEFAULT_CHUNK_SIZE

ReceiptHandler = Callable[[InterchangeReceipt], None]


def capture_edifact(source: Source, *, name: str, on_receipt: ReceiptHandler | None = None,
                    chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[Captured]:
    """The captured orders, rejections and ignored messages of `source` (bytes, a binary file or an iterable
    of byte chunks), in document order; `name` (the file name) starts every `where`. See the module doc."""
    return _Capture(name, on_receipt).run(stream_messages(source, chunk_size=chunk_size))


class _Capture:
    def __init__(self, name: str, on_receipt: ReceiptHandler | None) -> None:
        self.name = name
        self.on_receipt = on_receipt
        self.order: OrdersMessage | None = None  # the ORDERS message being read
        self.messages: list[MessageReceipt] = []
        self.groups: list[GroupReceipt] = []
        self.seen = False  # an interchange has been read

    def run(self, events: Iterable[Event]) -> Iterator[Captured]:
        anything = False
        for event in events:
            if isinstance(event, Segment):
                if self.order is not None:
                    self.order.feed(event)
            elif isinstance(event, MessageStart):
                self.seen = True
                self.order = OrdersMessage() if event.type.type == "ORDERS" else None
            elif isinstance(event, MessageEnd):
                anything = self.seen = True
                yield self._message(event)
            elif isinstance(event, GroupEnd):
                envelope = event.envelope
                self.groups.append(GroupReceipt(envelope.group or "", envelope.group_sender or Party(""),
                                                envelope.group_recipient or Party(""),
                                                tuple(fault_from_error(p) for p in event.problems)))
                yield from self._envelope_problems(envelope, event.problems)
            elif isinstance(event, InterchangeEnd):
                anything = self.seen = True
                yield from self._envelope_problems(event.envelope, event.problems)
                if not self.messages and not event.problems:
                    yield Ignored(where=f"{self.name}: interchange {event.envelope.interchange}",
                                  reason="the interchange holds no message", control=_control(event.envelope))
                self._receipt(event)
            else:
                anything = True
                yield self._outside(event)
        if not anything:
            yield Rejected(where=self.name, reason="not EDIFACT: the data holds no interchange (no UNB)",
                           code="not_edifact")

    def _message(self, end: MessageEnd) -> Captured:
        envelope = end.envelope
        reference = end.reference or f"at segment {end.first.segment}"
        group = f", group {envelope.group}" if envelope.group else ""
        where = (f"{self.name}: interchange {envelope.interchange}{group}, message {reference} "
                 f"(segments {end.first.segment}-{end.last.segment})")
        control = replace(_control(envelope), transaction=end.reference or None,
                          message_type=str(end.type) if end.type else None)
        order, self.order = self.order, None
        kind = end.type.type if end.type else ""
        faults: list[Fault] = []
        result: Captured | None = None
        if end.fault is not None:
            faults.append(fault_from_error(end.fault))
            if order is not None and order.fault is not None:
                faults.append(order.fault)
        elif order is not None:
            outcome = order.finish(customer=PartyRef(partner_id=control.sender), where=where, control=control,
                                   interchange=_interchange(envelope), unt=end.last)
            if isinstance(outcome, Fault):
                faults.append(outcome)
            else:
                result = outcome
        elif kind:
            result = Ignored(where=where, reason=f"{kind} message ({end.type}): not an order", control=control)
        self.messages.append(MessageReceipt(end.reference, str(end.type) if end.type else "", tuple(faults),
                                            envelope.group))
        if result is not None:
            return result
        return Rejected(where=where, reason="; ".join(f.reason for f in faults),
                        external_id=order.external_id if order else None, control=control, code=faults[0].code)

    def _envelope_problems(self, envelope: Envelope, problems: Iterable[EdifactError]) -> Iterator[Rejected]:
        """A problem of an interchange or group envelope: segments outside any message, a wrong or missing
        trailer. The messages were each checked on their own and already reported."""
        control = _control(envelope)
        group = f", group {envelope.group}" if envelope.group else ""
        for problem in problems:
            at = f", segment {problem.position.segment}" if problem.position and problem.position.segment else ""
            reason = problem.describe()
            if problem.tag in ("UNB", "UNZ", "UNG", "UNE"):
                reason += "; the messages of the interchange were checked one by one and are reported on their own"
            yield Rejected(where=f"{self.name}: interchange {envelope.interchange}{group}{at}", reason=reason,
                           control=control, code=problem.code.value)

    def _receipt(self, end: InterchangeEnd) -> None:
        envelope = end.envelope
        receipt = InterchangeReceipt(envelope.interchange, envelope.syntax, envelope.syntax_version, envelope.sender,
                                     envelope.recipient, envelope.test, tuple(self.messages), tuple(self.groups),
                                     tuple(fault_from_error(p) for p in end.problems))
        self.messages, self.groups = [], []
        if self.on_receipt is not None:
            self.on_receipt(receipt)

    def _outside(self, event: Outside) -> Rejected:
        error = event.error
        position = error.position
        where = f"{self.name}: segment {position.segment}" if position and position.segment else self.name
        reason = error.describe()
        if event.more:
            up_to = f" up to segment {event.last.segment}" if event.last and event.last.segment else ""
            reason += f"; and {event.more} more problem{'s' if event.more > 1 else ''}{up_to}"
        if not self.seen and error.tag != "UNB":
            reason = f"not EDIFACT: {reason}"
        return Rejected(where=where, reason=reason, code=error.code.value)


def _control(envelope: Envelope) -> Control:
    return Control(standard="edifact", sender=party_id(envelope.sender), receiver=party_id(envelope.recipient),
                   interchange=envelope.interchange, group=envelope.group or None,
                   version=f"{envelope.syntax}:{envelope.syntax_version}")


def _interchange(envelope: Envelope) -> dict[str, Any]:
    """What the acknowledgements need to answer the sender: `CapturedOrder.extra["interchange"]`."""
    return {"sender": _party(envelope.sender), "recipient": _party(envelope.recipient), "syntax": envelope.syntax,
            "syntax_version": envelope.syntax_version, "test": envelope.test}


def _party(party: Party) -> dict[str, str]:
    return {"id": party.id, "qualifier": party.qualifier, "routing": party.routing}
