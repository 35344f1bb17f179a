"""The exception queue's screens: the queue (reason groups, filters, SLA clocks, bulk actions) and one case (the
order's essentials, every rule's result of every review run, the holds and the reviewer's actions).

Views only parse, call a query or an action and render; the rules live in review/queue.py and review/actions.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError, NotFound, ValidationFailed
from conveyor.orders.config import LifecycleConfig
from conveyor.platform.forms import form_data
from conveyor.platform.pagination import MAX_ID
from conveyor.platform.web import render
from conveyor.review import actions, queue

router = APIRouter(include_in_schema=False)

FILTERS = ("reason", "role", "mine", "breached", "q")
ADDRESS_FIELDS = ("name", "company", "line1", "line2", "postal_code", "city", "region", "country", "phone", "email")
ROLE_CHOICES = [(r, queue.ROLE_LABELS[r]) for r in actions.QUEUE_ROLES]
DONE = {
    "check": "Check recorded.", "address": "Address corrected; the rules ran again.",
    "prepayment": "Prepayment requested: the case waits for finance.", "assign": "Assignment saved.",
}


def _stage_labels(config: LifecycleConfig) -> dict[str, str]:
    return {d.stage.value: d.label for d in config.ordered()}


def _wants_partial(request: Request) -> bool:
    return (request.headers.get("hx-request") == "true"
            and request.headers.get("hx-history-restore-request") != "true")


def _check_id(order_id: int) -> None:
    if not 0 < order_id <= MAX_ID:
        raise NotFound("order_not_found", f"no order {order_id}", "order_id")


def _flag(value: str | None) -> str:
    return "true" if (value or "").strip().lower() in ("true", "on", "1", "yes") else ""


# -- the queue --------------------------------------------------------------------------------------------


def _filter_values(source: Any) -> dict[str, str]:
    values = {name: str(source.get(name) or "").strip() for name in FILTERS}
    values["mine"] = _flag(values["mine"])
    values["breached"] = _flag(values["breached"])
    return values


def _queue_link(values: dict[str, str], **extra: str) -> str:
    params = {k: v for k, v in {**values, **extra}.items() if v}
    return "/review/queue" + (f"?{urlencode(params)}" if params else "")


def _queue_page(request: Request, c: Container, principal: Principal, values: dict[str, str], *, cursor: str = "",
                bulk: list[actions.BulkOutcome] | None = None, bulk_action: str = "",
                bulk_error: str | None = None, closed: Any = None, status_code: int = 200) -> Response:
    errors: dict[str, str] = {}
    now = c.clock.now()
    page = queue.CasePage([], None)
    with c.db.read() as conn:
        config = c.lifecycle.get(conn)
        summary = queue.queue_summary(conn, config, now)
        filters = queue.CaseFilters(reason=values["reason"] or None, role=values["role"] or None,
                                    assignee="me" if values["mine"] else None, breached=bool(values["breached"]),
                                    q=values["q"] or None)
        try:
            page = queue.list_cases(conn, filters, actor=principal.actor, lifecycle=config, now=now,
                                    cursor=cursor or None)
        except ValidationFailed as exc:
            errors = {p.field or "_form": p.message for p in exc.problems}
    reasons = sorted({*queue.REASON_LABELS, *(g.reason for g in summary.groups)}, key=queue.reason_label)
    context = {
        "summary": summary, "page": page, "values": values, "errors": errors, "now": now,
        "labels": _stage_labels(config), "reason_label": queue.reason_label, "roles": queue.ROLE_LABELS,
        "role_choices": ROLE_CHOICES, "reasons": [(r, queue.reason_label(r)) for r in reasons],
        "who": queue.who, "cursor": cursor, "first_url": _queue_link(values) if cursor else None,
        "next_url": _queue_link(values, cursor=page.next_cursor) if page.next_cursor else None,
        "link": _queue_link, "can_cancel": principal.can(Permission.ORDER_CANCEL),
        "can_override": principal.can(Permission.REVIEW_OVERRIDE), "bulk": bulk, "bulk_action": bulk_action,
        "bulk_error": bulk_error, "closed": closed,
    }
    if _wants_partial(request):
        return render(request, "queue_results.html", context)
    return render(request, "queue.html", context, status_code=status_code)


@router.get("/review/queue")
def queue_page(request: Request, cursor: str = "", closed: int = 0,
               principal: Principal = Require(Permission.ORDER_REVIEW),
               c: Container = Depends(container)) -> Response:
    closed_case = None
    if 0 < closed <= MAX_ID:  # the case just approved or cancelled on its page: say where the order went
        try:
            with c.db.read() as conn:
                closed_case = queue.case_detail(conn, closed, lifecycle=c.lifecycle.get(conn), now=c.clock.now())
        except NotFound:
            closed_case = None
    return _queue_page(request, c, principal, _filter_values(request.query_params), cursor=cursor,
                       closed=closed_case)


def _order_ids(form: Any) -> list[int]:
    ids: list[int] = []
    for value in form.getlist("order_ids"):
        try:
            order_id = int(str(value))
        except ValueError:
            continue
        if 0 < order_id <= MAX_ID:
            ids.append(order_id)
    return ids


@router.post("/review/bulk")
async def bulk_action(request: Request, principal: Principal = Require(Permission.ORDER_REVIEW),
                      c: Container = Depends(container)) -> Response:
    """The queue's bulk bar: approve (with a comment), cancel (with a reason) or assign the ticked cases."""
    form = await request.form()
    values = _filter_values(form)
    choice = str(form.get("action") or "")
    text = str(form.get("comment") or "").strip() or None
    ids = _order_ids(form)
    action, assignee, role = choice, None, None
    if choice == "assign_me":
        action, assignee = "assign", principal.actor
    elif choice == "assign_role":
        action, role = "assign", str(form.get("role") or "") or None
    elif choice == "unassign":
        action = "assign"
    outcomes: list[actions.BulkOutcome] | None = None
    error = None
    try:
        outcomes = await run_in_threadpool(
            actions.bulk, action, ids, actor=principal.actor, comment=text, assignee=assignee, role=role,
            can_override=principal.can(Permission.REVIEW_OVERRIDE), can_cancel=principal.can(Permission.ORDER_CANCEL),
            make_uow=c.uow, config=c.lifecycle)
    except DomainError as exc:
        error = exc.message
    return await run_in_threadpool(_queue_page, request, c, principal, values, bulk=outcomes, bulk_action=choice,
                                   bulk_error=error)


# -- one case ---------------------------------------------------------------------------------------------


def _address_values(ship_to: dict[str, Any] | None) -> dict[str, str]:
    return {k: str((ship_to or {}).get(k) or "") for k in ADDRESS_FIELDS}


def _case_page(request: Request, c: Container, principal: Principal, order_id: int, *, failed: str | None = None,
               error: DomainError | None = None, values: dict[str, str] | None = None, done: str | None = None,
               status_code: int = 200) -> Response:
    _check_id(order_id)
    now = c.clock.now()
    with c.db.read() as conn:
        config = c.lifecycle.get(conn)
        detail = queue.case_detail(conn, order_id, lifecycle=config, now=now)
    field_errors: dict[str, str] = {}
    if error is not None:
        for problem in error.problems:
            name = (problem.field or "").removeprefix("ship_to.")
            field_errors.setdefault(name if name in ADDRESS_FIELDS else "_form", problem.message)
    return render(request, "case.html", {
        "d": detail, "o": detail.order, "c": detail.case, "labels": _stage_labels(config), "now": now,
        "reason_label": queue.reason_label, "roles": queue.ROLE_LABELS, "role_choices": ROLE_CHOICES,
        "who": queue.who, "can_override": principal.can(Permission.REVIEW_OVERRIDE),
        "can_cancel": principal.can(Permission.ORDER_CANCEL), "failed": failed,
        "error": error.message if error is not None else None, "field_errors": field_errors,
        "address": values if failed == "address" and values is not None else _address_values(detail.order.ship_to),
        "form": values or {}, "done": DONE.get(done or ""), "actor": principal.actor,
        "reviews": list(reversed(detail.reviews)),
    }, status_code=status_code)


@router.get("/review/cases/{order_id}")
def case_page(request: Request, order_id: int, done: str = "", principal: Principal = Require(Permission.ORDER_REVIEW),
              c: Container = Depends(container)) -> Response:
    return _case_page(request, c, principal, order_id, done=done)


def _after(order_id: int, outcome: actions.Outcome, done: str) -> Response:
    if not outcome.case_open:  # the case is closed: back to the queue, which says where the order went
        return RedirectResponse(f"/review/queue?closed={order_id}", status_code=303)
    return RedirectResponse(f"/review/cases/{order_id}?done={done}", status_code=303)


def _refused(request: Request, c: Container, principal: Principal, order_id: int, failed: str, exc: DomainError,
             values: dict[str, str]) -> Response:
    return _case_page(request, c, principal, order_id, failed=failed, error=exc, values=values,
                      status_code=exc.status)


@router.post("/review/cases/{order_id}/approve")
def approve(request: Request, order_id: int, form: dict[str, str] = Depends(form_data),
            principal: Principal = Require(Permission.ORDER_REVIEW), c: Container = Depends(container)) -> Response:
    _check_id(order_id)
    try:
        outcome = actions.approve(order_id, actor=principal.actor, comment=form.get("comment"),
                                  can_override=principal.can(Permission.REVIEW_OVERRIDE), uow=c.uow(),
                                  config=c.lifecycle)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return _refused(request, c, principal, order_id, "approve", exc, form)
    return _after(order_id, outcome, "approve")


@router.post("/review/cases/{order_id}/checks/{hold_id}")
def record_check(request: Request, order_id: int, hold_id: int, form: dict[str, str] = Depends(form_data),
                 principal: Principal = Require(Permission.ORDER_REVIEW),
                 c: Container = Depends(container)) -> Response:
    _check_id(order_id)
    if not 0 < hold_id <= MAX_ID:
        raise NotFound("hold_not_found", f"no hold {hold_id}", "hold_id")
    try:
        outcome = actions.record_check(order_id, hold_id, actor=principal.actor, comment=form.get("comment"),
                                       uow=c.uow(), config=c.lifecycle)
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.code != "hold_not_found":
            raise
        return _refused(request, c, principal, order_id, f"check-{hold_id}", exc, form)
    return _after(order_id, outcome, "check")


@router.post("/review/cases/{order_id}/address")
def correct_address(request: Request, order_id: int, form: dict[str, str] = Depends(form_data),
                    principal: Principal = Require(Permission.ORDER_REVIEW),
                    c: Container = Depends(container)) -> Response:
    _check_id(order_id)
    ship_to = {k: (form.get(k) or "").strip() or None for k in ADDRESS_FIELDS}
    try:
        outcome = actions.correct_address(order_id, actor=principal.actor, ship_to=ship_to,
                                          comment=form.get("comment"), uow=c.uow(), config=c.lifecycle)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return _refused(request, c, principal, order_id, "address", exc,
                        {k: str(form.get(k) or "") for k in (*ADDRESS_FIELDS, "comment")})
    return _after(order_id, outcome, "address")


@router.post("/review/cases/{order_id}/prepayment")
def ask_prepayment(request: Request, order_id: int, form: dict[str, str] = Depends(form_data),
                   principal: Principal = Require(Permission.ORDER_REVIEW),
                   c: Container = Depends(container)) -> Response:
    _check_id(order_id)
    try:
        outcome = actions.ask_prepayment(order_id, actor=principal.actor, comment=form.get("comment"), uow=c.uow(),
                                         config=c.lifecycle)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return _refused(request, c, principal, order_id, "prepayment", exc, form)
    return _after(order_id, outcome, "prepayment")


@router.post("/review/cases/{order_id}/cancel")
def cancel(request: Request, order_id: int, form: dict[str, str] = Depends(form_data),
           principal: Principal = Require(Permission.ORDER_CANCEL), c: Container = Depends(container)) -> Response:
    _check_id(order_id)
    try:
        outcome = actions.cancel(order_id, actor=principal.actor, reason=form.get("reason"), uow=c.uow(),
                                 config=c.lifecycle)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return _refused(request, c, principal, order_id, "cancel", exc, form)
    return _after(order_id, outcome, "cancel")


@router.post("/review/cases/{order_id}/assign")
def assign(request: Request, order_id: int, form: dict[str, str] = Depends(form_data),
           principal: Principal = Require(Permission.ORDER_REVIEW), c: Container = Depends(container)) -> Response:
    _check_id(order_id)
    choice = form.get("assign") or ""
    assignee = principal.actor if choice == "me" else None
    role = choice.removeprefix("role:") if choice.startswith("role:") else None
    try:
        outcome = actions.assign_one(order_id, assignee=assignee, role=role, actor=principal.actor, uow=c.uow())
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return _refused(request, c, principal, order_id, "assign", exc, form)
    return _after(order_id, outcome, "assign")
