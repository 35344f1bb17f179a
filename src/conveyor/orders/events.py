from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from conveyor.kernel.messages import Event


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(Event):
    name: ClassVar[str] = "order.placed"
    order_id: int
    number: str
    channel: str
    external_id: str
    customer_id: int
    currency: str
    total_minor: int


@dataclass(frozen=True, kw_only=True)
class OrderStageChanged(Event):
    name: ClassVar[str] = "order.stage_changed"
    order_id: int
    action: str
    from_stage: str
    to_stage: str
    actor: str
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class StageConfigured(Event):
    name: ClassVar[str] = "lifecycle.stage_configured"
    stage: str
    owner_role: str
    sla_minutes: int | None
    actor: str
