"""The exception queue API's DTOs. Amounts are decimal strings ("12.50") in the order's currency; times are UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from conveyor.orders.schemas import AddressIn, AddressOut, money
from conveyor.platform.pagination import MAX_ID
from conveyor.review import queue as q
from conveyor.review.actions import MAX_BULK, MAX_COMMENT, BulkOutcome, Outcome


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value.total_seconds())


class CustomerRef(BaseModel):
    account: str
    name: str


class HoldOut(BaseModel):
    id: int
    reason: str = Field(description="hold reason code: credit, order_value, address, fraud, compliance, duplicate, "
                                    "check, other, rule_error, prepayment")
    reason_label: str
    message: str
    rule: int | None = Field(description="the rule's number (R<rule>); null for a hold a person added")
    version: int | None
    label: str = Field(examples=["R3 v2"])
    outcome: str = Field(description="`hold`: a rule's veto (approving over it needs review:override); "
                                     "`check`: a named check to record")
    check_name: str | None
    veto: bool = Field(description="approving over this hold is an override (needs review:override)")
    created_at: datetime
    cleared_at: datetime | None = None
    cleared_by: str | None = None
    cleared_note: str | None = None

    @classmethod
    def of(cls, h: q.HoldView) -> HoldOut:
        return cls(id=h.id, reason=h.reason, reason_label=q.reason_label(h.reason), message=h.message, rule=h.rule_no,
                   version=h.rule_version, label=h.label, outcome=h.outcome, check_name=h.check_name,
                   veto=h.is_veto, created_at=h.created_at, cleared_at=h.cleared_at, cleared_by=h.cleared_by,
                   cleared_note=h.cleared_note)


class ReasonGroupOut(BaseModel):
    reason: str
    label: str
    count: int
    breached: int = Field(description="cases past their SLA due time")
    oldest_opened_at: datetime | None


class CaseSummaryOut(BaseModel):
    order_id: int
    number: str
    customer: CustomerRef
    currency: str
    total: str
    stage: str
    reason: str = Field(description="the case's group: its first hold's reason")
    reasons: list[str] = Field(description="the reasons of every open hold")
    holds: list[HoldOut]
    role: str = Field(description="the role that works the case")
    assignee: str | None = Field(description="user:<email> the case is assigned to")
    waiting_for: str | None = Field(description="e.g. prepayment: the customer was asked to pay first")
    opened_at: datetime
    due_at: datetime | None
    business_seconds_left: float | None = Field(description="negative once breached (seconds overdue)")
    breached: bool

    @classmethod
    def of(cls, r: q.CaseRow) -> CaseSummaryOut:
        return cls(order_id=r.order_id, number=r.number,
                   customer=CustomerRef(account=r.customer_account, name=r.customer_name), currency=r.currency,
                   total=money(r.total_minor, r.currency), stage=r.stage, reason=r.reason, reasons=r.reasons,
                   holds=[HoldOut.of(h) for h in r.holds], role=r.role, assignee=r.assignee,
                   waiting_for=r.waiting_for, opened_at=r.opened_at, due_at=r.due_at,
                   business_seconds_left=_seconds(r.time_left), breached=r.breached)


class QueueOut(BaseModel):
    total: int = Field(description="open cases in the whole queue")
    breached: int = Field(description="open cases past their SLA in the whole queue")
    groups: list[ReasonGroupOut] = Field(description="open cases per reason (not filtered)")
    items: list[CaseSummaryOut] = Field(description="the filtered cases, oldest first")
    next_cursor: str | None


class RuleResultOut(BaseModel):
    rule: int
    version: int
    label: str = Field(examples=["R3 v2"])
    name: str
    kind: str
    status: str = Field(description="passed, approved, held, check, error or skipped")
    message: str
    reason: str | None
    check: str | None


class ReviewRunOut(BaseModel):
    id: int
    at: datetime
    trigger: str = Field(description="intake, address_corrected, rerun")
    rule_set_id: int
    approved: bool
    results: list[RuleResultOut] = Field(description="every rule's result, in evaluation order")

    @classmethod
    def of(cls, run: q.ReviewRun) -> ReviewRunOut:
        return cls(id=run.id, at=run.at, trigger=run.trigger, rule_set_id=run.rule_set_id, approved=run.approved,
                   results=[RuleResultOut(rule=r.rule_no, version=r.version, label=r.label, name=r.name, kind=r.kind,
                                          status=r.status, message=r.message, reason=r.reason, check=r.check)
                            for r in run.results])


class AuditOut(BaseModel):
    at: datetime
    actor: str
    action: str = Field(description="override: approved over a rule's hold")
    comment: str | None
    holds: list[str] = Field(description="the holds overridden, e.g. R3 v2")


class CaseStateOut(BaseModel):
    status: str = Field(description="open or closed")
    reason: str
    role: str
    assignee: str | None
    waiting_for: str | None
    opened_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    resolution: str | None = Field(description="approved, cancelled, or passed (the rules pass after a correction)")
    comment: str | None

    @classmethod
    def of(cls, c: q.CaseState) -> CaseStateOut:
        return cls(status=c.status, reason=c.reason, role=c.role, assignee=c.assignee, waiting_for=c.waiting_for,
                   opened_at=c.opened_at, due_at=c.due_at, closed_at=c.closed_at, closed_by=c.closed_by,
                   resolution=c.resolution, comment=c.comment)


class CaseLineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    quantity: int
    total: str


class CaseOut(BaseModel):
    order_id: int
    number: str
    stage: str
    customer: CustomerRef
    channel: str
    currency: str
    total: str
    ship_to: AddressOut
    lines: list[CaseLineOut]
    case: CaseStateOut
    business_seconds_left: float | None = Field(description="of an open case; negative once breached")
    breached: bool
    needs_override: bool = Field(description="an open hold is a rule's veto: approving needs review:override")
    open_holds: list[HoldOut]
    cleared_holds: list[HoldOut]
    reviews: list[ReviewRunOut] = Field(description="every review run, oldest first")
    audit: list[AuditOut]

    @classmethod
    def of(cls, d: q.CaseDetail) -> CaseOut:
        o, cur = d.order, d.order.currency
        return cls(order_id=d.order_id, number=d.number, stage=o.stage,
                   customer=CustomerRef(account=d.customer["account"], name=d.customer["name"]), channel=d.channel,
                   currency=cur, total=money(o.total_minor, cur), ship_to=AddressOut(**o.ship_to),
                   lines=[CaseLineOut(line_no=line.line_no, sku=line.sku, name=line.name, quantity=line.quantity,
                                      total=money(line.total_minor, cur)) for line in d.lines],
                   case=CaseStateOut.of(d.case), business_seconds_left=_seconds(d.time_left), breached=d.breached,
                   needs_override=bool(d.vetoes), open_holds=[HoldOut.of(h) for h in d.open_holds],
                   cleared_holds=[HoldOut.of(h) for h in d.cleared_holds],
                   reviews=[ReviewRunOut.of(r) for r in d.reviews],
                   audit=[AuditOut(at=a.at, actor=a.actor, action=a.action, comment=a.comment, holds=a.holds)
                          for a in d.audit])


class ReviewPanelOut(BaseModel):
    order_id: int
    runs: int = Field(description="how many times the rules ran over this order")
    latest: ReviewRunOut | None = Field(description="the last review run's per-rule results")
    open_holds: list[HoldOut]
    cleared_holds: list[HoldOut]
    case: CaseStateOut | None = Field(description="the exception-queue case, if the rules ever held the order")
    released_by: str | None = Field(description="who closed the case (approved, cancelled, or corrected it so "
                                                "the rules pass)")

    @classmethod
    def of(cls, p: q.ReviewPanel) -> ReviewPanelOut:
        return cls(order_id=p.order_id, runs=p.runs, latest=ReviewRunOut.of(p.latest) if p.latest else None,
                   open_holds=[HoldOut.of(h) for h in p.open_holds],
                   cleared_holds=[HoldOut.of(h) for h in p.cleared_holds],
                   case=CaseStateOut.of(p.case) if p.case else None, released_by=p.released_by)


# -- inputs -----------------------------------------------------------------------------------------------


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"comment": "Called the customer"}]})
    comment: str | None = Field(default=None, max_length=MAX_COMMENT,
                                description="why; required to approve and to record a check")


class AddressCorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ship_to: AddressIn
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "customer withdrew"}]})
    reason: str | None = Field(default=None, max_length=MAX_COMMENT, description="required")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"assignee": "me"},
                                                                              {"role": "finance"}]})
    assignee: str | None = Field(default=None, max_length=254,
                                 description="`me`, a user's email, or null for nobody")
    role: Literal["customer_service", "finance", "manager"] | None = Field(
        default=None, description="hand the case to this role's queue")


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "approve", "order_ids": [123, 124], "comment": "Called both customers"}]})
    action: Literal["approve", "cancel", "assign"]
    order_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=MAX_BULK)
    comment: str | None = Field(default=None, max_length=MAX_COMMENT, description="approve: required")
    reason: str | None = Field(default=None, max_length=MAX_COMMENT, description="cancel: required")
    assignee: str | None = Field(default=None, max_length=254, description="assign: `me`, an email, or null")
    role: Literal["customer_service", "finance", "manager"] | None = Field(default=None, description="assign")


class ActionOut(BaseModel):
    order_id: int
    number: str
    stage: str = Field(description="the order's stage after the action")
    case_open: bool = Field(description="false once the case is closed (approved, cancelled, rules pass)")
    message: str

    @classmethod
    def of(cls, o: Outcome) -> ActionOut:
        return cls(order_id=o.order_id, number=o.number, stage=o.stage, case_open=o.case_open, message=o.message)


class BulkItemOut(BaseModel):
    order_id: int
    number: str
    ok: bool
    stage: str | None = None
    code: str | None = Field(None, description="why not, e.g. case_closed, override_not_allowed, order_not_found")
    message: str

    @classmethod
    def of(cls, o: BulkOutcome) -> BulkItemOut:
        return cls(order_id=o.order_id, number=o.number, ok=o.ok, stage=o.stage, code=o.code, message=o.message)


class BulkOut(BaseModel):
    done: int
    failed: int
    outcomes: list[BulkItemOut] = Field(description="one per order, in the order given")
