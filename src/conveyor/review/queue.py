"""The exception queue's read side: open review cases grouped by reason, the filterable list of cases, one case
with every review run and hold, and the review panel of an order's page.

Plain SQL into DTOs with a fixed number of queries per page, keyset pagination (no OFFSET). The queue holds
the open cases of orders that are still live (a case whose order was cancelled or closed elsewhere is left
out). Oldest case first: that is the order in which their SLA clocks run out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.engine import Connection

from conveyor.channels.tables import channels
from conveyor.customers.tables import customers
from conveyor.kernel.errors import NotFound, ValidationFailed
from conveyor.orders.config import LifecycleConfig
from conveyor.orders.domain import order_number, parse_order_number
from conveyor.orders.lifecycle import TERMINAL
from conveyor.orders.queries import decode_cursor, encode_cursor
from conveyor.orders.tables import order_lines, orders
from conveyor.platform.pagination import contains
from conveyor.review.model import Reason
from conveyor.review.tables import order_holds, order_reviews, review_audit, review_cases

REASON_LABELS: dict[str, str] = {
    Reason.CREDIT: "Credit", Reason.ORDER_VALUE: "Order value", Reason.ADDRESS: "Address", Reason.FRAUD: "Fraud",
    Reason.COMPLIANCE: "Compliance", Reason.DUPLICATE: "Probable duplicate", Reason.CHECK: "Checks to do",
    Reason.OTHER: "Other", Reason.RULE_ERROR: "Rule errors", Reason.PREPAYMENT: "Prepayment",
}
ROLE_LABELS = {"customer_service": "Customer service", "finance": "Finance", "manager": "Manager",
               "admin": "Admin", "warehouse": "Warehouse"}
_FINISHED = [s.value for s in TERMINAL]


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason.replace("_", " ").capitalize())


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def who(actor: str | None) -> str:
    """An actor as people read it: `user:ann@x` is ann@x; `system:review` stays."""
    if not actor:
        return ""
    return actor[5:] if actor.startswith("user:") else actor


# -- holds and review runs as values ----------------------------------------------------------------------


@dataclass(frozen=True)
class HoldView:
    id: int
    reason: str
    message: str
    rule_no: int | None
    rule_version: int | None
    outcome: str                  # hold (a veto: approving it is an override) or check
    check_name: str | None
    created_at: datetime
    cleared_at: datetime | None = None
    cleared_by: str | None = None
    cleared_note: str | None = None

    @property
    def label(self) -> str:
        """R3 v2 for a rule's hold; the reason for a hold a person added (prepayment)."""
        if self.rule_no is None:
            return reason_label(self.reason)
        return f"R{self.rule_no} v{self.rule_version}"

    @property
    def is_veto(self) -> bool:
        """Approving over this hold needs review:override: a rule's hold (not a check), or a rule that failed."""
        return is_veto(self.outcome, self.reason)

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


def is_veto(outcome: str, reason: str) -> bool:
    return outcome == "hold" or reason == Reason.RULE_ERROR


def hold_view(row: Any) -> HoldView:
    return HoldView(id=int(row.id), reason=str(row.reason), message=str(row.message),
                    rule_no=None if row.rule_no is None else int(row.rule_no),
                    rule_version=None if row.rule_version is None else int(row.rule_version),
                    outcome=str(row.outcome), check_name=row.check_name, created_at=_utc(row.created_at),
                    cleared_at=_utc(row.cleared_at), cleared_by=row.cleared_by, cleared_note=row.cleared_note)


@dataclass(frozen=True)
class RuleResultView:
    rule_no: int
    version: int
    name: str
    kind: str
    status: str                   # passed, approved, held, check, error, skipped
    message: str
    reason: str | None
    check: str | None

    @property
    def label(self) -> str:
        return f"R{self.rule_no} v{self.version}"

    @property
    def stops(self) -> bool:
        return self.status in ("held", "check", "error")


@dataclass(frozen=True)
class ReviewRun:
    id: int
    at: datetime
    trigger: str                  # intake, address_corrected, rerun
    rule_set_id: int
    approved: bool
    results: list[RuleResultView]


def review_run(row: Any) -> ReviewRun:
    results = [RuleResultView(rule_no=int(r.get("rule", 0)), version=int(r.get("version", 0)),
                              name=str(r.get("name", "")), kind=str(r.get("kind", "")),
                              status=str(r.get("status", "")), message=str(r.get("message", "")),
                              reason=r.get("reason"), check=r.get("check"))
               for r in (row.results or []) if isinstance(r, dict)]
    return ReviewRun(id=int(row.id), at=_utc(row.at), trigger=str(row.trigger), rule_set_id=int(row.rule_set_id),
                     approved=bool(row.approved), results=results)


@dataclass(frozen=True)
class CaseState:
    """A case's own row: who works it and where it stands."""

    status: str                   # open or closed
    reason: str
    role: str
    assignee: str | None
    waiting_for: str | None
    opened_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    resolution: str | None        # approved, cancelled, passed
    comment: str | None


def case_state(row: Any) -> CaseState:
    return CaseState(status=str(row.status), reason=str(row.reason), role=str(row.role), assignee=row.assignee,
                     waiting_for=row.waiting_for, opened_at=_utc(row.opened_at), due_at=_utc(row.due_at),
                     closed_at=_utc(row.closed_at), closed_by=row.closed_by, resolution=row.resolution,
                     comment=row.comment)


# -- the summary: open cases per reason -------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonGroup:
    reason: str
    label: str
    count: int
    breached: int                 # past their SLA due time
    oldest_opened_at: datetime | None

    def age(self, now: datetime) -> timedelta | None:
        return None if self.oldest_opened_at is None else now - self.oldest_opened_at


@dataclass(frozen=True)
class QueueSummary:
    groups: list[ReasonGroup]

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def breached(self) -> int:
        return sum(g.breached for g in self.groups)


def _open_cases() -> Any:
    return (review_cases.join(orders, orders.c.id == review_cases.c.order_id))


def queue_summary(conn: Connection, lifecycle: LifecycleConfig, now: datetime) -> QueueSummary:
    """Open cases grouped by reason (one query): how many, how many past their SLA, the oldest; most
    breached groups first, then the largest."""
    rows = conn.execute(
        select(review_cases.c.reason, func.count().label("total"),
               func.count(review_cases.c.order_id).filter(review_cases.c.due_at < now).label("breached"),
               func.min(review_cases.c.opened_at).label("oldest"))
        .select_from(_open_cases())
        .where(review_cases.c.status == "open", orders.c.stage.notin_(_FINISHED))
        .group_by(review_cases.c.reason)).all()
    groups = [ReasonGroup(reason=str(r.reason), label=reason_label(str(r.reason)), count=int(r.total),
                          breached=int(r.breached or 0), oldest_opened_at=_utc(r.oldest)) for r in rows]
    groups.sort(key=lambda g: (-g.breached, -g.count, g.label))
    return QueueSummary(groups)


# -- the list of cases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    reason: str | None = None
    role: str | None = None
    assignee: str | None = None   # "me", "none" (unassigned), or a user's email
    breached: bool = False
    q: str | None = None          # order number, customer account or part of the customer's name


@dataclass(frozen=True)
class CaseRow:
    order_id: int
    number: str
    customer_account: str
    customer_name: str
    currency: str
    total_minor: int
    stage: str
    reason: str                   # the case's group
    holds: list[HoldView]         # every open hold: all the reasons
    role: str
    assignee: str | None
    waiting_for: str | None
    opened_at: datetime
    due_at: datetime | None
    time_left: timedelta | None   # business time; negative once breached
    breached: bool

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(h.reason for h in self.holds))

    @property
    def vetoes(self) -> list[HoldView]:
        return [h for h in self.holds if h.is_veto]


@dataclass(frozen=True)
class CasePage:
    items: list[CaseRow]
    next_cursor: str | None


def assignee_value(text: str | None, actor: str | None) -> str | None:
    """The stored assignee for a filter or an assignment: "me" is the caller, an email is that user."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.lower() == "me":
        return actor
    return text if text.startswith("user:") else f"user:{text.lower()}"


def _case_filters(f: CaseFilters, actor: str | None, now: datetime) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.reason:
        clauses.append(review_cases.c.reason == f.reason)
    if f.role:
        clauses.append(review_cases.c.role == f.role)
    if f.assignee:
        if f.assignee.strip().lower() == "none":
            clauses.append(review_cases.c.assignee.is_(None))
        else:
            who_ = assignee_value(f.assignee, actor)
            if who_ is None:
                raise ValidationFailed("unknown_assignee", "'me' needs a signed-in user", "assignee")
            clauses.append(func.lower(review_cases.c.assignee) == who_.lower())
    if f.breached:
        clauses.append(review_cases.c.due_at < now)
    if f.q and f.q.strip():
        text = f.q.strip()
        options: list[ColumnElement[bool]] = [customers.c.account == text,
                                              func.lower(customers.c.name).like(contains(text.lower()), escape="\\")]
        number = parse_order_number(text)
        if number is not None:
            options.append(orders.c.id == number)
        clauses.append(or_(*options))
    return clauses


def list_cases(conn: Connection, filters: CaseFilters, *, actor: str | None, lifecycle: LifecycleConfig,
               now: datetime, cursor: str | None = None, limit: int = 50) -> CasePage:
    """Open cases, oldest first, with keyset pagination: two queries a page (the cases, their open holds)."""
    limit = max(1, min(limit, 200))
    query = (
        select(review_cases, orders.c.stage, orders.c.currency, orders.c.total_minor,
               customers.c.account, customers.c.name.label("customer_name"))
        .select_from(_open_cases().join(customers, customers.c.id == orders.c.customer_id))
        .where(review_cases.c.status == "open", orders.c.stage.notin_(_FINISHED),
               *_case_filters(filters, actor, now)))
    if cursor:
        at, last_id = decode_cursor(cursor)
        query = query.where(or_(review_cases.c.opened_at > at,
                                and_(review_cases.c.opened_at == at, review_cases.c.order_id > last_id)))
    rows = conn.execute(query.order_by(review_cases.c.opened_at, review_cases.c.order_id).limit(limit + 1)).all()
    page = rows[:limit]
    holds = open_holds_of(conn, [int(r.order_id) for r in page])
    items = []
    for r in page:
        due = _utc(r.due_at)
        items.append(CaseRow(
            order_id=int(r.order_id), number=order_number(int(r.order_id)), customer_account=r.account,
            customer_name=r.customer_name, currency=r.currency, total_minor=int(r.total_minor), stage=r.stage,
            reason=r.reason, holds=holds.get(int(r.order_id), []), role=r.role, assignee=r.assignee,
            waiting_for=r.waiting_for, opened_at=_utc(r.opened_at), due_at=due,
            time_left=lifecycle.time_left(due, now), breached=due is not None and due < now))
    next_cursor = encode_cursor(items[-1].opened_at, items[-1].order_id) if len(rows) > limit else None
    return CasePage(items, next_cursor)


def open_holds_of(conn: Connection, order_ids: list[int]) -> dict[int, list[HoldView]]:
    if not order_ids:
        return {}
    found: dict[int, list[HoldView]] = {}
    for row in conn.execute(select(order_holds).where(order_holds.c.order_id.in_(order_ids),
                                                      order_holds.c.cleared_at.is_(None))
                            .order_by(order_holds.c.order_id, order_holds.c.id)):
        found.setdefault(int(row.order_id), []).append(hold_view(row))
    return found


# -- one case ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str                   # override
    comment: str | None
    holds: list[str]              # R3 v2, ... (what was overridden)


@dataclass(frozen=True)
class CaseDetail:
    order_id: int
    number: str
    order: Any                    # the orders row (ship_to, totals, stage, ...)
    customer: Any                 # account, name, email
    channel: str
    lines: list[Any]
    case: CaseState
    holds: list[HoldView]         # open and cleared, oldest first
    reviews: list[ReviewRun]      # every review run, oldest first
    audit: list[AuditEntry]
    time_left: timedelta | None
    breached: bool

    @property
    def open_holds(self) -> list[HoldView]:
        return [h for h in self.holds if h.is_open]

    @property
    def cleared_holds(self) -> list[HoldView]:
        return [h for h in self.holds if not h.is_open]

    @property
    def vetoes(self) -> list[HoldView]:
        return [h for h in self.open_holds if h.is_veto]

    @property
    def is_open(self) -> bool:
        return self.case.status == "open"


def _audit_entry(row: Any) -> AuditEntry:
    before = row.before if isinstance(row.before, dict) else {}
    labels = [str(h.get("label", "")) for h in before.get("holds", []) if isinstance(h, dict)]
    return AuditEntry(at=_utc(row.at), actor=str(row.actor), action=str(row.action), comment=row.comment,
                      holds=labels)


def case_detail(conn: Connection, order_id: int, *, lifecycle: LifecycleConfig, now: datetime) -> CaseDetail:
    """One case in five queries: the case with its order, customer and channel; the lines; every hold; every
    review run; the audit of overrides."""
    row = conn.execute(
        select(review_cases, orders.c.id.label("oid"), channels.c.code.label("channel_code"),
               customers.c.account, customers.c.name.label("customer_name"), customers.c.email.label("customer_email"))
        .select_from(review_cases.join(orders, orders.c.id == review_cases.c.order_id)
                     .join(customers, customers.c.id == orders.c.customer_id)
                     .join(channels, channels.c.id == orders.c.channel_id))
        .where(review_cases.c.order_id == order_id)).first()
    if row is None:
        if conn.execute(select(orders.c.id).where(orders.c.id == order_id)).first() is None:
            raise NotFound("order_not_found", f"no order {order_id}", "order_id")
        raise NotFound("case_not_found", f"{order_number(order_id)} has no review case: review rules never held it",
                       "order_id")
    order = conn.execute(select(orders).where(orders.c.id == order_id)).one()
    lines = list(conn.execute(select(order_lines).where(order_lines.c.order_id == order_id)
                              .order_by(order_lines.c.line_no)))
    holds = [hold_view(h) for h in conn.execute(select(order_holds).where(order_holds.c.order_id == order_id)
                                                 .order_by(order_holds.c.id))]
    reviews = [review_run(r) for r in conn.execute(select(order_reviews).where(order_reviews.c.order_id == order_id)
                                                    .order_by(order_reviews.c.id))]
    audit = [_audit_entry(a) for a in conn.execute(select(review_audit).where(review_audit.c.order_id == order_id)
                                                    .order_by(review_audit.c.id))]
    state = case_state(row)
    return CaseDetail(
        order_id=order_id, number=order_number(order_id), order=order,
        customer={"account": row.account, "name": row.customer_name, "email": row.customer_email},
        channel=row.channel_code, lines=lines, case=state, holds=holds, reviews=reviews, audit=audit,
        time_left=lifecycle.time_left(state.due_at, now) if state.status == "open" else None,
        breached=state.status == "open" and state.due_at is not None and state.due_at < now)


# -- the order page's review section ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewPanel:
    order_id: int
    latest: ReviewRun | None      # the last review run's per-rule results
    runs: int                     # how many times the rules ran over this order
    holds: list[HoldView] = field(default_factory=list)  # open and cleared
    case: CaseState | None = None

    @property
    def open_holds(self) -> list[HoldView]:
        return [h for h in self.holds if h.is_open]

    @property
    def cleared_holds(self) -> list[HoldView]:
        return [h for h in self.holds if not h.is_open]

    @property
    def released_by(self) -> str | None:
        """Who let the order go: the person who closed its case, or the rules (passed at intake: None)."""
        if self.case is not None and self.case.status == "closed":
            return self.case.closed_by
        return None


def order_review_panel(conn: Connection, order_id: int) -> ReviewPanel | None:
    """What review did to an order (at most four queries); None when no rule ever ran over it and it has no case."""
    runs = conn.execute(select(order_reviews).where(order_reviews.c.order_id == order_id)
                        .order_by(order_reviews.c.id.desc()).limit(1)).first()
    count = int(conn.execute(select(func.count()).select_from(order_reviews)
                             .where(order_reviews.c.order_id == order_id)).scalar_one()) if runs is not None else 0
    holds = [hold_view(h) for h in conn.execute(select(order_holds).where(order_holds.c.order_id == order_id)
                                                 .order_by(order_holds.c.id))]
    case = conn.execute(select(review_cases).where(review_cases.c.order_id == order_id)).first()
    if runs is None and case is None and not holds:
        return None
    return ReviewPanel(order_id=order_id, latest=review_run(runs) if runs is not None else None, runs=count,
                       holds=holds, case=case_state(case) if case is not None else None)
