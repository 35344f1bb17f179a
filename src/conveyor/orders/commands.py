from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from conveyor.kernel.messages import Command
from conveyor.orders.domain import OrderDraft


@dataclass(frozen=True, kw_only=True)
class PlaceOrder(Command):
    draft: OrderDraft
    actor: str
    idempotency_key: str | None = None
    request_hash: str | None = None
    only_customer_id: int | None = None  # customers may only order for their own account
    only_channel_id: int | None = None  # partners only through their own channel


@dataclass(frozen=True, kw_only=True)
class MoveOrder(Command):
    order_id: int
    action: str
    actor: str
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConfigureStage(Command):
    stage: str
    owner_role: str
    sla_hours: Decimal | None
    actor: str
    label: str | None = None
    description: str | None = None
