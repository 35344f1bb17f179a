"""EDIFACT acknowledgements: a CONTRL for every interchange received, an ORDRSP per order when the partner's
profile lists ORDRSP and the order did not ask for none (BGM04 'NA')."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from conveyor.channels.capture.acks import QueuedAcknowledger, _Pending
from conveyor.channels.capture.model import CapturedOrder, OrderDecision
from conveyor.channels.capture.resolve import Resolved
from conveyor.kernel.errors import DomainError
from conveyor.orders.placing import Placed

if TYPE_CHECKING:
    from conveyor.bootstrap import Container


def _text(data: bytes) -> str:
    """Stored as text: UTF-8 (UNOW/UNOY) when it decodes so, else Latin-1 (UNOA-UNOC), byte for byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class EdifactAcknowledger(QueuedAcknowledger):
    def __init__(self) -> None:
        super().__init__(standard="edifact")

    @property
    def adapter_hooks(self) -> dict[str, Any]:
        return {"on_receipt": self._receipt}

    def _receipt(self, receipt: Any) -> None:
        from conveyor.channels.capture.edifact_values import party_id
        from conveyor.channels.edi.edifact.acks import write_contrl

        def build(number: int, at: datetime, _: Any, r: Any = receipt) -> str:
            return _text(write_contrl(r, reference=str(number), prepared=at))

        self.pending.append(_Pending("CONTRL", party_id(receipt.sender), f"interchange {receipt.reference}", build))

    def decided(self, resolved: Resolved | None, captured: CapturedOrder, outcome: Placed | DomainError | str,
                container: Container) -> None:
        from conveyor.channels.edi.edifact.acks import write_ordrsp

        if captured.control is None or captured.control.standard != "edifact":
            return
        if str(captured.extra.get("response_type") or "").upper() == "NA":  # the buyer asked for no response
            return

        def build(number: int, at: datetime, decision: OrderDecision) -> str:
            return _text(write_ordrsp(captured, decision, reference=str(number), prepared=at))

        partner = captured.customer.partner_id or captured.control.sender or ""
        self.answer("ORDRSP", partner, f"order {captured.external_id}", build, resolved, captured, outcome)
