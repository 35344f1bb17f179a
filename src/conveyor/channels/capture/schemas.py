"""The capture API's answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CapturedOrderOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    external_id: str = Field(description="the channel's order id (PO number, Shopify id, ...)")
    lines: int
    units: int | str = Field(description="total quantity as the document counts it")
    unmapped_lines: int = Field(description="lines whose item is not in the catalog: the order is held for item "
                                            "mapping")
    order_id: int | None = Field(None, description="the order created (absent in a dry run)")
    number: str | None = None
    stage: str | None = None
    warnings: list[str] | None = Field(None, description="dry run: what would stop the order (e.g. unknown partner)")


class DuplicateOut(BaseModel):
    external_id: str
    reason: str
    order_id: int | None = None


class WhereReason(BaseModel):
    model_config = ConfigDict(extra="allow")

    where: str = Field(description="file and line, segment, or JSON path")
    reason: str


class AckOut(BaseModel):
    id: int
    kind: str = Field(description="997, 855, CONTRL or ORDRSP")
    partner: str
    control_number: str
    reply_to: str | None = None
    created_at: datetime | None = None


class CaptureResult(BaseModel):
    orders: list[CapturedOrderOut]
    duplicates: list[DuplicateOut]
    rejected: list[WhereReason]
    ignored: list[WhereReason]
    acknowledgements: list[AckOut] | None = None
    capture_id: int | None = Field(None, description="the capture log entry (absent in a dry run)")


class CaptureLogOut(BaseModel):
    id: int
    source: str
    format: str
    actor: str
    received_at: datetime
    orders_created: int
    duplicates: int
    rejected: int
    ignored: int
    problems: list[WhereReason]


class ChannelHealthOut(BaseModel):
    code: str
    name: str
    kind: str
    active: bool
    status: str = Field(description="ok, warning (orders rejected in the last 7 days) or idle (no order yet)")
    last_order_at: datetime | None
    orders_today: int
    captures: int = Field(description="documents received in the last 7 days")
    rejected: int = Field(description="orders rejected in the last 7 days")
    last_capture_at: datetime | None
    last_problems: list[WhereReason]
