"""Acknowledgements back to trading partners, built from what was captured and what the core decided.

X12: a 997 for every functional group received (syntax: which transaction sets were accepted), and an 855
for every purchase order placed or rejected, when the partner's profile lists 855. EDIFACT: a CONTRL for
every interchange and an ORDRSP per order when the profile lists ORDRSP. A sender without a profile still
gets the syntax acknowledgement (997, CONTRL); a partner whose profile leaves it out does not.

Each acknowledgement gets the channel's next interchange control number (`control_numbers`, one counter per
channel and standard, incremented in SQL) and is stored in `channel_acks`, where the channel's page, the API
(`GET /api/v1/channels/{code}/acks/{id}`) and `conveyor import orders --acks DIR` give it to whoever sends it;
an `edi.acknowledgement_ready` outbox event, in the same transaction, is where a delivery handler hooks in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from conveyor.channels.capture import decisions
from conveyor.channels.capture.events import AcknowledgementReady
from conveyor.channels.capture.model import CapturedOrder, OrderDecision
from conveyor.channels.capture.resolve import Resolved
from conveyor.channels.capture.service import Acknowledger
from conveyor.channels.partners.domain import normalise_partner_id
from conveyor.channels.partners.profiles import Profile
from conveyor.channels.tables import channel_acks, control_numbers
from conveyor.kernel.errors import DomainError
from conveyor.orders.placing import Placed
from conveyor.platform.outbox import publish_many

if TYPE_CHECKING:
    from conveyor.bootstrap import Container

log = logging.getLogger(__name__)


def acknowledger_for(fmt: str) -> Acknowledger | None:
    """The acknowledger of a document format; None for formats whose senders expect no acknowledgement."""
    if fmt == "x12":
        return X12Acknowledger()
    if fmt == "edifact":
        from conveyor.channels.capture.acks_edifact import EdifactAcknowledger

        return EdifactAcknowledger()
    return None


def next_control_number(conn: Connection, channel_id: int, standard: str) -> int:
    """The channel's next interchange control number for `standard`, 1 to 999999999 and round again."""
    found = conn.execute(update(control_numbers).where(
        control_numbers.c.channel_id == channel_id, control_numbers.c.standard == standard)
        .values(last=control_numbers.c.last % 999_999_999 + 1).returning(control_numbers.c.last)).scalar()
    if found is None:
        conn.execute(insert(control_numbers).values(channel_id=channel_id, standard=standard, last=1))
        return 1
    return int(found)


@dataclass
class _Pending:
    kind: str
    partner: str
    reply_to: str
    build: Any  # (control_number, created_at, decision or None) -> str
    decision: OrderDecision | None = None  # known at once (a rejection) ...
    placed: tuple[Resolved, int] | None = None  # ... or made in `finish`, from the stock of the order placed


@dataclass
class QueuedAcknowledger(Acknowledger):
    """Collects what to answer while the document is read and placed; `finish` numbers, writes and stores them."""

    standard: str = ""
    pending: list[_Pending] = field(default_factory=list)
    profiles: dict[str, Profile] = field(default_factory=dict)

    def wants(self, partner_id: str | None, document: str, *, by_default: bool) -> bool:
        profile = self.profiles.get(normalise_partner_id(partner_id)) if partner_id else None
        return profile.expects(document) if profile is not None else by_default

    def finish(self, container: Container, channel_id: int, profiles: dict[str, Profile]) -> list[dict[str, Any]]:
        from conveyor.orders.queries import line_stocks

        self.profiles = profiles
        written: list[dict[str, Any]] = []
        at = container.clock.now()
        with container.db.write() as conn:
            wanted = [item for item in self.pending
                      if self.wants(item.partner, item.kind, by_default=item.kind in ("997", "CONTRL"))]
            order_ids = [item.placed[1] for item in wanted if item.placed]
            stocks = line_stocks(conn, order_ids) if order_ids else {}  # one read for every order answered
            for item in wanted:
                decision = item.decision or (decisions.placed(*item.placed, stocks[item.placed[1]])
                                             if item.placed else None)
                number = next_control_number(conn, channel_id, self.standard)
                try:
                    body = item.build(number, at, decision)
                except DomainError as exc:  # the received envelope cannot be answered (e.g. an empty GS02)
                    log.warning("cannot write a %s to %s: %s", item.kind, item.partner, exc)
                    continue
                ack_id = conn.execute(insert(channel_acks).values(
                    channel_id=channel_id, kind=item.kind, partner=item.partner[:80], control_number=str(number),
                    reply_to=item.reply_to[:300], body=body, created_at=at).returning(channel_acks.c.id)).scalar_one()
                publish_many(conn, [(AcknowledgementReady(ack_id=int(ack_id), channel_id=channel_id, kind=item.kind,
                                                          partner=item.partner, control_number=str(number)),
                                     f"ack:{ack_id}")], at=at)
                written.append({"id": int(ack_id), "kind": item.kind, "partner": item.partner,
                                "control_number": str(number), "reply_to": item.reply_to, "body": body,
                                "created_at": at})
        self.pending.clear()
        return written

    def answer(self, kind: str, partner: str, reply_to: str, build: Any, resolved: Resolved | None,
               captured: CapturedOrder, outcome: Placed | DomainError | str) -> None:
        """Queues the answer to one order (855, ORDRSP): a rejection at once, a placed order's decision in
        `finish`; nothing for an order already answered (a duplicate)."""
        if isinstance(outcome, str | DomainError):
            reason = outcome if isinstance(outcome, str) else outcome.message
            self.pending.append(_Pending(kind, partner, reply_to, build, decision=decisions.rejected(captured, reason)))
        elif outcome.created and resolved is not None:
            self.pending.append(_Pending(kind, partner, reply_to, build, placed=(resolved, outcome.order_id)))


class X12Acknowledger(QueuedAcknowledger):
    def __init__(self) -> None:
        super().__init__(standard="x12")

    @property
    def adapter_hooks(self) -> dict[str, Any]:
        return {"on_group": self._group}

    def _group(self, summary: Any) -> None:
        from conveyor.channels.edi.x12.acks import functional_acknowledgment

        if summary.functional_id == "FA":  # never acknowledge an acknowledgement
            return
        partner = f"{summary.reply.receiver.qualifier}:{summary.reply.receiver.id}"
        self.pending.append(_Pending("997", partner, f"group {summary.control_number}",
                                     lambda number, at, _, s=summary: functional_acknowledgment(
                                         s, control_number=number, created_at=at)))

    def decided(self, resolved: Resolved | None, captured: CapturedOrder, outcome: Placed | DomainError | str,
                container: Container) -> None:
        from conveyor.channels.edi.x12.acks import purchase_order_acknowledgment

        if "x12_reply" not in captured.extra or captured.control is None:
            return
        partner = captured.customer.partner_id or captured.control.sender or ""
        self.answer("855", partner, f"PO {captured.external_id}",
                    lambda number, at, decision: purchase_order_acknowledgment(
                        captured, decision, control_number=number, created_at=at), resolved, captured, outcome)
