"""The exception queue over JSON under /api/v1: the queue with its reason groups, one case, the actions on a held
order, bulk actions, and an order's review panel."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import NotAllowed, NotFound
from conveyor.orders.queries import scope_clause
from conveyor.orders.tables import orders
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, RecordId
from conveyor.platform.problems import problem_responses
from conveyor.review import actions, queue
from conveyor.review import queue_schemas as s

router = APIRouter(prefix="/api/v1", tags=["review"])

READ = problem_responses(401, 403, 422)
CASE_404 = "No such order (`order_not_found`), or review rules never held it (`case_not_found`)."
ACT = problem_responses(
    400, 401, 403, 404, 409, 422, d404=CASE_404,
    d403="The role lacks the permission the route declares (`forbidden`), or approving would override a rule's "
         "veto without review:override (`override_not_allowed`).",
    d409="The case is closed already, e.g. another reviewer approved it (`case_closed`); the order was cancelled "
         "(`order_finished`) or changed stage meanwhile (`stage_changed`); the action does not fit (`not_a_check`, "
         "`hold_cleared`, `prepayment_requested`, `no_rule_set`, `not_on_hold`).",
    d422="A comment or reason is required (`reason_required`), or an input is invalid (`errors[]` lists each with "
         "its field path, e.g. `ship_to.postal_code`).")


def _summary_and_page(c: Container, principal: Principal, filters: queue.CaseFilters, cursor: str | None,
                      limit: int) -> s.QueueOut:
    now = c.clock.now()
    with c.db.read() as conn:
        lifecycle = c.lifecycle.get(conn)
        summary = queue.queue_summary(conn, lifecycle, now)
        page = queue.list_cases(conn, filters, actor=principal.actor, lifecycle=lifecycle, now=now, cursor=cursor,
                                limit=limit)
    return s.QueueOut(total=summary.total, breached=summary.breached,
                      groups=[s.ReasonGroupOut(reason=g.reason, label=g.label, count=g.count, breached=g.breached,
                                               oldest_opened_at=g.oldest_opened_at) for g in summary.groups],
                      items=[s.CaseSummaryOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/review/queue", response_model=s.QueueOut, responses=READ, summary="The exception queue")
def review_queue(
    reason: str | None = Query(None, max_length=30, description="one hold reason, e.g. credit"),
    role: str | None = Query(None, max_length=30, description="the role working the case, e.g. finance"),
    assignee: str | None = Query(None, max_length=254,
                                 description="`me`, `none` (unassigned) or a user's email"),
    breached: bool = Query(False, description="only cases past their SLA"),
    q: str | None = Query(None, max_length=200, description="order number, customer account or name"),
    cursor: str | None = Query(None, max_length=200, description="next_cursor of the previous page"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    principal: Principal = Require(Permission.ORDER_REVIEW), c: Container = Depends(container),
) -> s.QueueOut:
    """Open review cases: the counts per reason (how many past their SLA, the oldest), and the cases matching
    the filters, oldest first, each with every open hold, its role, assignee and business time left."""
    filters = queue.CaseFilters(reason=reason or None, role=role or None, assignee=assignee or None,
                                breached=breached, q=q or None)
    return _summary_and_page(c, principal, filters, cursor, limit)


@router.get("/review/cases/{order_id}", response_model=s.CaseOut,
            responses={**READ, **problem_responses(404, d404=CASE_404)}, summary="One review case")
def review_case(order_id: RecordId, principal: Principal = Require(Permission.ORDER_REVIEW),
                c: Container = Depends(container)) -> s.CaseOut:
    """The held order's essentials, its open and cleared holds (who cleared them, why), every review run with
    each rule's result (rule number, version, status, message) and the overrides made on it."""
    with c.db.read() as conn:
        detail = queue.case_detail(conn, order_id, lifecycle=c.lifecycle.get(conn), now=c.clock.now())
    return s.CaseOut.of(detail)


@router.post("/review/cases/{order_id}/approve", response_model=s.ActionOut, responses=ACT,
             summary="Approve a held order")
def approve(order_id: RecordId, body: s.CommentIn, principal: Principal = Require(Permission.ORDER_REVIEW),
            c: Container = Depends(container)) -> s.ActionOut:
    """Clears every open hold with the comment, closes the case and moves the order on (released, approved,
    its stock reserved). Over a rule's veto (a hold, not a check) or a rule error it needs review:override
    (managers, finance) and is audited as an override."""
    return s.ActionOut.of(actions.approve(order_id, actor=principal.actor, comment=body.comment,
                                          can_override=principal.can(Permission.REVIEW_OVERRIDE), uow=c.uow(),
                                          config=c.lifecycle))


@router.post("/review/cases/{order_id}/checks/{hold_id}", response_model=s.ActionOut, responses=ACT,
             summary="Record a check as done")
def record_check(order_id: RecordId, hold_id: RecordId, body: s.CommentIn,
                 principal: Principal = Require(Permission.ORDER_REVIEW),
                 c: Container = Depends(container)) -> s.ActionOut:
    """Clears one named check (e.g. "call the customer") with what was found; with no hold left the order
    moves on."""
    return s.ActionOut.of(actions.record_check(order_id, hold_id, actor=principal.actor, comment=body.comment,
                                               uow=c.uow(), config=c.lifecycle))


@router.post("/review/cases/{order_id}/address", response_model=s.ActionOut, responses=ACT,
             summary="Correct the ship-to address and review again")
def correct_address(order_id: RecordId, body: s.AddressCorrectionIn,
                    principal: Principal = Require(Permission.ORDER_REVIEW),
                    c: Container = Depends(container)) -> s.ActionOut:
    """Replaces the ship-to and runs the published rules again: when none holds the order any more it moves
    on; otherwise it stays held with the holds that still apply."""
    return s.ActionOut.of(actions.correct_address(order_id, actor=principal.actor, ship_to=body.ship_to.model_dump(),
                                                  comment=body.comment, uow=c.uow(), config=c.lifecycle))


@router.post("/review/cases/{order_id}/prepayment", response_model=s.ActionOut, responses=ACT,
             summary="Ask the customer for prepayment")
def ask_prepayment(order_id: RecordId, body: s.CommentIn, principal: Principal = Require(Permission.ORDER_REVIEW),
                   c: Container = Depends(container)) -> s.ActionOut:
    """Adds a prepayment hold, hands the case to finance marked "waiting for prepayment", and publishes
    `order.prepayment_requested` for the customer's notification. Finance approves once paid."""
    return s.ActionOut.of(actions.ask_prepayment(order_id, actor=principal.actor, comment=body.comment, uow=c.uow(),
                                                 config=c.lifecycle))


@router.post("/review/cases/{order_id}/cancel", response_model=s.ActionOut, responses=ACT,
             summary="Cancel a held order")
def cancel(order_id: RecordId, body: s.CancelIn, principal: Principal = Require(Permission.ORDER_CANCEL),
           c: Container = Depends(container)) -> s.ActionOut:
    """Cancels the order (a reason is required), clears its holds and closes its case."""
    return s.ActionOut.of(actions.cancel(order_id, actor=principal.actor, reason=body.reason, uow=c.uow(),
                                         config=c.lifecycle))


@router.post("/review/cases/{order_id}/assign", response_model=s.ActionOut, responses=ACT,
             summary="Assign a case to a person or a role")
def assign(order_id: RecordId, body: s.AssignIn, principal: Principal = Require(Permission.ORDER_REVIEW),
           c: Container = Depends(container)) -> s.ActionOut:
    """`assignee`: `me`, a user's email, or null for nobody; `role`: hand the case to that role's queue."""
    return s.ActionOut.of(actions.assign_one(order_id, assignee=queue.assignee_value(body.assignee, principal.actor),
                                             role=body.role, actor=principal.actor, uow=c.uow()))


@router.post("/review/bulk", response_model=s.BulkOut,
             responses=problem_responses(400, 401, 403, 422, d403="The role lacks order:review, or order:cancel "
                                                                  "for `cancel` (`forbidden`)."),
             summary="Approve, cancel or assign many cases at once")
def bulk(body: s.BulkIn, principal: Principal = Require(Permission.ORDER_REVIEW),
         c: Container = Depends(container)) -> s.BulkOut:
    """One action over up to 200 orders with one comment (approve), reason (cancel) or assignee/role (assign).
    Each order is handled on its own: one that fails (closed meanwhile, needs an override it lacks, unknown)
    gets its error code and message and the others go on."""
    text = body.reason if body.action == "cancel" else body.comment
    outcomes = actions.bulk(body.action, body.order_ids, actor=principal.actor, comment=text,
                            assignee=queue.assignee_value(body.assignee, principal.actor), role=body.role,
                            can_override=principal.can(Permission.REVIEW_OVERRIDE),
                            can_cancel=principal.can(Permission.ORDER_CANCEL), make_uow=c.uow, config=c.lifecycle)
    return s.BulkOut(done=sum(o.ok for o in outcomes), failed=sum(not o.ok for o in outcomes),
                     outcomes=[s.BulkItemOut.of(o) for o in outcomes])


@router.get("/orders/{order_id}/review", response_model=s.ReviewPanelOut,
            responses={**READ, **problem_responses(404, d404="No such order, or not one the caller may see "
                                                             "(`order_not_found`), or no rule ever ran over it "
                                                             "(`review_not_found`).")},
            summary="What review did to an order")
def order_review(order_id: RecordId, principal: Principal = Require(Permission.ORDER_READ),
                 c: Container = Depends(container)) -> s.ReviewPanelOut:
    """The last review run's per-rule results, the order's holds and who released it. Staff only: customers
    and partners see their orders, not why they were held."""
    with c.db.read() as conn:
        if conn.execute(select(orders.c.id).where(orders.c.id == order_id, scope_clause(principal))).first() is None:
            raise NotFound("order_not_found", f"no order {order_id}", "order_id")
        if not principal.is_staff:
            raise NotAllowed("forbidden", "only staff see why an order was held", None)
        panel = queue.order_review_panel(conn, order_id)
    if panel is None:
        raise NotFound("review_not_found", "no review rule ran over this order", "order_id")
    return s.ReviewPanelOut.of(panel)
