"""Events of the exception queue, written to the outbox in the transaction of the action that caused them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from conveyor.kernel.messages import Event


@dataclass(frozen=True, kw_only=True)
class PrepaymentRequested(Event):
    """A reviewer asked the customer to pay before the order goes on; for a future customer notification."""

    name: ClassVar[str] = "order.prepayment_requested"
    order_id: int
    number: str
    customer_id: int
    currency: str
    total_minor: int
    actor: str
    comment: str | None
