"""The order API's DTOs. Amounts are decimal strings ("12.50") in the order's currency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from conveyor.kernel.money import format_minor
from conveyor.orders.domain import LineDraft, OrderDraft


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200, examples=["Anna de Vries"])
    company: str | None = Field(default=None, max_length=200)
    line1: str = Field(max_length=200, examples=["Prinsengracht 263"])
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(max_length=100, examples=["Amsterdam"])
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20, examples=["1016 GV"])
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2", examples=["NL"])
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(max_length=64, examples=["SKU-1"])
    quantity: int = Field(description="units, at least 1", examples=[2])
    unit_price: Decimal = Field(description="price of one unit before discount and tax", examples=["12.50"])
    discount: Decimal = Field(default=Decimal(0), description="discount on the whole line")
    tax: Decimal = Field(default=Decimal(0), description="tax on the whole line")


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(default="api", max_length=32, description="the channel code")
    external_id: str | None = Field(default=None, max_length=100,
                                    description="the channel's id of the order; unique per channel")
    customer: str = Field(max_length=32, description="the customer's account number", examples=["C-001"])
    currency: str = Field(max_length=3, description="ISO 4217", examples=["EUR"])
    ship_to: AddressIn
    bill_to: AddressIn | None = Field(default=None, description="defaults to ship_to")
    lines: list[OrderLineIn]
    shipping: Decimal = Field(default=Decimal(0), description="shipping charge")
    requested_delivery_date: date | None = None
    notes: str | None = Field(default=None, max_length=2000)
    tags: list[str] = Field(default_factory=list)
    priority: int = Field(default=0, description="-10 (low) to 10 (urgent)")
    shipping_service: str | None = Field(default=None, max_length=40, examples=["express"],
                                         description="the shipping service asked for; cold-chain items need a "
                                                     "temperature-controlled one (review rules check it)")

    def to_draft(self) -> OrderDraft:
        return OrderDraft(
            channel=self.channel, customer=self.customer, currency=self.currency.upper(),
            external_id=self.external_id,
            lines=tuple(LineDraft(line.sku, line.quantity, line.unit_price, line.discount, line.tax)
                        for line in self.lines),
            ship_to=self.ship_to.model_dump(),
            bill_to=self.bill_to.model_dump() if self.bill_to else None, shipping=self.shipping,
            requested_delivery_date=self.requested_delivery_date, notes=self.notes, tags=tuple(self.tags),
            priority=self.priority, shipping_service=self.shipping_service,
        )


class MapLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"sku": "COF-0001", "remember": True}]})

    sku: str = Field(min_length=1, max_length=64, description="the catalog product the line is")
    remember: bool = Field(True, description="also map the trading partner's item to this product")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500, description="why; required to hold or cancel")


class AddressOut(BaseModel):
    name: str
    company: str | None = None
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str
    phone: str | None = None
    email: str | None = None


class HeldOut(BaseModel):
    warehouse: str
    quantity: int
    status: str = Field(description="active (reserved) or shipped")


class OrderLineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: str
    discount: str
    tax: str
    total: str
    mapped: bool = Field(True, description="false while the channel's item is not mapped to a catalog product")
    held: list[HeldOut] = Field(default_factory=list, description="where this line's units are held")
    missing: int = Field(0, description="units not reserved yet (backordered)")


class TotalsOut(BaseModel):
    subtotal: str
    discount: str
    tax: str
    shipping: str
    total: str


class SlaOut(BaseModel):
    stage: str
    owner_role: str
    entered_at: datetime
    due_at: datetime | None
    business_seconds_left: float | None = Field(description="negative once breached (seconds overdue)")
    breached: bool


class TimelineEntryOut(BaseModel):
    at: datetime
    actor: str
    kind: str
    action: str | None
    from_stage: str | None
    to_stage: str | None
    reason: str | None
    data: dict[str, Any] | None


class CustomerRef(BaseModel):
    account: str
    name: str


class OrderOut(BaseModel):
    id: int
    number: str
    channel: str
    external_id: str
    customer: CustomerRef
    stage: str
    held_from: str | None
    priority: int
    currency: str
    totals: TotalsOut
    lines: list[OrderLineOut]
    ship_to: AddressOut
    bill_to: AddressOut
    requested_delivery_date: date | None
    notes: str | None
    tags: list[str]
    shipping_service: str | None = None
    sla: SlaOut
    allowed_actions: list[str]
    timeline: list[TimelineEntryOut]
    created_at: datetime
    updated_at: datetime


class OrderSummaryOut(BaseModel):
    id: int
    number: str
    external_id: str
    channel: str
    customer_account: str
    customer_name: str
    stage: str
    priority: int
    currency: str
    total: str
    created_at: datetime
    stage_due_at: datetime | None
    breached: bool


class OrderPageOut(BaseModel):
    items: list[OrderSummaryOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


def money(minor: int, currency: str) -> str:
    return format_minor(minor, currency)


class StageOut(BaseModel):
    stage: str
    label: str
    owner_role: str
    sla_hours: float | None
    description: str
    actions: list[str] = Field(description="actions allowed from this stage")


class MoveOut(BaseModel):
    from_stage: str
    action: str
    to_stage: str


class LifecycleOut(BaseModel):
    stages: list[StageOut]
    moves: list[MoveOut]
    calendar: CalendarOut


class StageConfigIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner_role: str
    sla_hours: Decimal | None = Field(description="business hours; null for no SLA")
    label: str | None = None
    description: str | None = None


class HolidayIO(BaseModel):
    day: date
    name: str = Field(max_length=100)


class CalendarOut(BaseModel):
    timezone: str
    working_days: list[int] = Field(description="ISO weekdays, 1 = Monday")
    opens: str
    closes: str
    holidays: list[HolidayIO]


class CalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: str = Field(examples=["Europe/Amsterdam"])
    working_days: list[int] = Field(examples=[[1, 2, 3, 4, 5]])
    opens: str = Field(examples=["09:00"])
    closes: str = Field(examples=["17:30"])
    holidays: list[HolidayIO] = Field(default_factory=list)


class BoardColumnOut(BaseModel):
    stage: str
    label: str
    owner_role: str
    sla_hours: float | None
    count: int
    breached: int


LifecycleOut.model_rebuild()
