"""Order screens: the order list, an order's page and its lifecycle actions, the board, and the lifecycle
page where a manager changes owners, SLAs and the business calendar.

Views only parse, call a query or handler and render; the rules live in queries, handlers and config.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission, Role
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import Conflict, DomainError, NotFound, ProblemCollector, ValidationFailed
from conveyor.orders import diagram, handlers, line_mapping, presenters, queries
from conveyor.orders.commands import ConfigureStage, MoveOrder
from conveyor.orders.config import LifecycleConfig, load_config, require_stage, save_calendar
from conveyor.orders.lifecycle import Action, find_transition
from conveyor.orders.line_mapping import NOT_MAPPABLE
from conveyor.orders.permissions import ACTION_PERMISSION
from conveyor.platform.web import render
from conveyor.review import queue as review_queue

router = APIRouter(include_in_schema=False)

ROLES = [(role.value, role.label) for role in Role]
ROLE_LABELS = dict(ROLES)
WEEKDAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]
FILTER_NAMES = ("stage", "channel", "customer", "created_from", "created_to", "q", "breached")
FORM_ERROR = "_form"
MAX_ID = 2**63 - 1  # a larger number in the URL is no order, not a database overflow


async def posted_form(request: Request) -> FormData:
    """The posted form (the CSRF check has already parsed and cached it); keeps repeated fields."""
    return await request.form()


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _messages(exc: DomainError) -> dict[str, str]:
    """Messages keyed by form field; several problems with one field are joined."""
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        errors.setdefault(problem.field or FORM_ERROR, []).append(problem.message)
    return {field: "; ".join(found) for field, found in errors.items()}


def _wants_partial(request: Request) -> bool:
    """htmx asks for the results only; a history restore (cache miss) needs the whole page."""
    return (request.headers.get("hx-request") == "true"
            and request.headers.get("hx-history-restore-request") != "true")


def _stage_labels(config: LifecycleConfig) -> dict[str, str]:
    return {d.stage.value: d.label for d in config.ordered()}


# -- the order list -------------------------------------------------------------------------------------


def _date(values: dict[str, str], name: str, problems: ProblemCollector) -> date | None:
    if not values[name]:
        return None
    try:
        return date.fromisoformat(values[name])
    except ValueError:
        problems.add("invalid_date", f"{values[name]!r} is not a date (YYYY-MM-DD)", name)
        return None


def parse_filters(values: dict[str, str]) -> queries.OrderFilters:
    problems = ProblemCollector()
    created_from = _date(values, "created_from", problems)
    created_to = _date(values, "created_to", problems)
    problems.raise_if_any()
    return queries.OrderFilters(
        stage=values["stage"] or None, channel=values["channel"] or None, customer=values["customer"] or None,
        created_from=created_from, created_to=created_to, q=values["q"] or None,
        breached=values["breached"] == "true",
    )


def _link(values: dict[str, str], **extra: str) -> str:
    params = {k: v for k, v in {**values, **extra}.items() if v}
    return "/orders" + (f"?{urlencode(params)}" if params else "")


@router.get("/orders")
def orders_page(request: Request, cursor: str = "", principal: Principal = Require(Permission.ORDER_READ),
                c: Container = Depends(container)) -> Response:
    values = {name: request.query_params.get(name, "").strip() for name in FILTER_NAMES}
    values["breached"] = "true" if values["breached"].lower() in ("true", "on", "1", "yes") else ""
    errors: dict[str, str] = {}
    page = queries.OrderPage([], None)
    with c.db.read() as conn:
        config = c.lifecycle.get(conn)
        try:
            page = queries.list_orders(conn, parse_filters(values), principal=principal, now=c.clock.now(),
                                       cursor=cursor or None)
        except ValidationFailed as exc:
            errors = _messages(exc)
    context = {
        "page": page, "values": values, "errors": errors, "labels": _stage_labels(config),
        "cursor": cursor, "first_url": _link(values) if cursor else None,
        "next_url": _link(values, cursor=page.next_cursor) if page.next_cursor else None,
    }
    if _wants_partial(request):  # htmx does not swap error statuses: answer 200 with the message
        return render(request, "orders/_results.html", context)
    return render(request, "orders/list.html", context, status_code=422 if errors else 200)


# -- an order's page and its actions --------------------------------------------------------------------


def _check_id(order_id: int) -> None:
    if not 0 < order_id <= MAX_ID:
        raise NotFound("order_not_found", f"no order {order_id}", "order_id")


def _order_page(request: Request, c: Container, principal: Principal, order_id: int, *,
                error: str | None = None, failed: str | None = None, reason: str = "",
                status_code: int = 200) -> Response:
    _check_id(order_id)
    with c.db.read() as conn:
        config = c.lifecycle.get(conn)
        detail = queries.get_order(conn, order_id, principal=principal, lifecycle=config, now=c.clock.now())
        # The review section (exception queue): which rules ran, what held it, who released it; staff only.
        review = review_queue.order_review_panel(conn, order_id) if principal.is_staff else None
    # An order review holds is released only through its case (a comment; overriding a rule needs a permission).
    in_queue = review is not None and review.case is not None and review.case.status == "open"
    actions = []
    for name in detail.allowed_actions:
        action = Action(name)
        if in_queue and action in (Action.RELEASE, Action.APPROVE):
            continue
        if principal.can(ACTION_PERMISSION[action]):
            move = find_transition(action)
            actions.append({"action": action.value, "label": move.label, "needs_reason": move.needs_reason})
    return render(request, "orders/order.html", {
        "d": detail, "o": detail.order, "actions": actions, "labels": _stage_labels(config),
        "roles": ROLE_LABELS, "error": error, "failed": failed, "reason": reason,
        "can_map": principal.can(Permission.ORDER_REVIEW) and detail.order.stage not in NOT_MAPPABLE,
        "review": review, "review_who": review_queue.who, "review_reason": review_queue.reason_label,
    }, status_code=status_code)


@router.get("/orders/{order_id}")
def order_page(request: Request, order_id: int, principal: Principal = Require(Permission.ORDER_READ),
               c: Container = Depends(container)) -> Response:
    return _order_page(request, c, principal, order_id)


def _action_route(action: Action) -> None:
    def act(request: Request, order_id: int, form: FormData = Depends(posted_form),
            principal: Principal = Require(ACTION_PERMISSION[action]),
            c: Container = Depends(container)) -> Response:
        _check_id(order_id)
        reason = _text(form, "reason")
        try:
            handlers.move_order(
                MoveOrder(order_id=order_id, action=action.value, actor=principal.actor, reason=reason or None),
                uow=c.uow(), config=c.lifecycle, scope=queries.scope_clause(principal))
        except (Conflict, ValidationFailed) as exc:  # wrong stage, no reason, changed meanwhile
            return _order_page(request, c, principal, order_id, error=exc.message, failed=action.value,
                               reason=reason, status_code=exc.status)
        return RedirectResponse(f"/orders/{order_id}", status_code=303)

    router.add_api_route(f"/orders/{{order_id}}/actions/{action.value}", act, methods=["POST"],
                         name=f"order_page_{action.value}")


for _action in Action:
    _action_route(_action)


@router.post("/orders/{order_id}/lines/{line_no}/map")
def map_line(request: Request, order_id: int, line_no: int, form: FormData = Depends(posted_form),
             principal: Principal = Require(Permission.ORDER_REVIEW), c: Container = Depends(container)) -> Response:
    """The order page's "map to product" form on an unmapped line."""
    _check_id(order_id)
    try:
        line_mapping.map_line(line_mapping.MapLine(order_id=order_id, line_no=line_no, sku=_text(form, "sku"),
                                                   actor=principal.actor, remember="remember" in form),
                              uow=c.uow(), scope=queries.scope_clause(principal))
    except (Conflict, ValidationFailed) as exc:
        return _order_page(request, c, principal, order_id, error=exc.message, failed=f"map-{line_no}",
                           status_code=exc.status)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


# -- the board ------------------------------------------------------------------------------------------


@router.get("/board")
def board_page(request: Request, principal: Principal = Require(Permission.ORDER_READ),
               c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        columns = queries.board(conn, c.lifecycle.get(conn), principal=principal, now=c.clock.now())
    return render(request, "orders/board.html", {"columns": columns, "roles": ROLE_LABELS})


# -- the lifecycle page ---------------------------------------------------------------------------------


def _hours_text(hours: float | None) -> str:
    return "" if hours is None else f"{hours:g}"


def _lifecycle_page(request: Request, c: Container, principal: Principal, *, saved: str | None = None,
                    stage_form: tuple[str, dict[str, str], dict[str, str]] | None = None,
                    calendar_form: tuple[dict[str, Any], dict[str, str]] | None = None,
                    status_code: int = 200) -> Response:
    with c.db.read() as conn:
        config = c.lifecycle.get(conn)
    overview = presenters.lifecycle_out(config)
    stage_values = {s.stage: {"owner_role": s.owner_role, "sla_hours": _hours_text(s.sla_hours)}
                    for s in overview.stages}
    stage_errors: dict[str, dict[str, str]] = {}
    if stage_form:
        stage, values, errors = stage_form
        stage_values[stage], stage_errors[stage] = values, errors
    cal = overview.calendar
    calendar_values: dict[str, Any] = {
        "timezone": cal.timezone, "working_days": set(cal.working_days), "opens": cal.opens, "closes": cal.closes,
        "holidays": "\n".join(f"{h.day.isoformat()} {h.name}" for h in cal.holidays),
    }
    calendar_errors: dict[str, str] = {}
    if calendar_form:
        calendar_values, calendar_errors = calendar_form
    return render(request, "orders/lifecycle.html", {
        "svg": Markup(diagram.lifecycle_svg(config.stages)), "stages": overview.stages, "calendar": cal,
        "action_labels": {a.value: find_transition(a).label for a in Action}, "roles": ROLES,
        "role_labels": ROLE_LABELS, "weekdays": WEEKDAYS, "weekday_names": dict(WEEKDAYS),
        "can_configure": principal.can(Permission.LIFECYCLE_CONFIGURE),
        "saved": saved if saved in stage_values or saved == "calendar" else None,
        "saved_label": _stage_labels(config).get(saved or ""),
        "stage_values": stage_values, "stage_errors": stage_errors,
        "calendar_values": calendar_values, "calendar_errors": calendar_errors,
    }, status_code=status_code)


@router.get("/lifecycle")
def lifecycle_page(request: Request, saved: str | None = None,
                   principal: Principal = Require(Permission.LIFECYCLE_READ),
                   c: Container = Depends(container)) -> Response:
    return _lifecycle_page(request, c, principal, saved=saved)


def parse_sla_hours(text: str) -> Decimal | None:
    """Empty means no SLA; anything else must be a plain number of business hours."""
    if not text:
        return None
    try:
        hours = Decimal(text.replace(",", "."))
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite():
        raise ValidationFailed("invalid_sla", f"{text!r} is not a number of hours, e.g. 4 or 1.5 "
                                              "(leave empty for no SLA)", "sla_hours")
    return hours


@router.post("/lifecycle/stages/{stage}")
def configure_stage(request: Request, stage: str, form: FormData = Depends(posted_form),
                    principal: Principal = Require(Permission.LIFECYCLE_CONFIGURE),
                    c: Container = Depends(container)) -> Response:
    stage = require_stage(stage).value
    values = {"owner_role": _text(form, "owner_role"), "sla_hours": _text(form, "sla_hours")}
    try:
        handlers.configure_stage(
            ConfigureStage(stage=stage, owner_role=values["owner_role"],
                           sla_hours=parse_sla_hours(values["sla_hours"]), actor=principal.actor),
            uow=c.uow(), config=c.lifecycle)
    except ValidationFailed as exc:
        return _lifecycle_page(request, c, principal, stage_form=(stage, values, _messages(exc)),
                               status_code=422)
    return RedirectResponse(f"/lifecycle?saved={stage}#stage-{stage}", status_code=303)


def parse_holidays(text: str) -> list[tuple[date, str]]:
    """One holiday a line, `YYYY-MM-DD Name`; blank lines are skipped. Problems name the line."""
    problems = ProblemCollector()
    found: list[tuple[date, str]] = []
    first_line: dict[date, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split(None, 1)
        if not parts:
            continue
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            problems.add("invalid_holiday", f"line {number}: {parts[0]!r} is not a date; write "
                                            "YYYY-MM-DD and a name, e.g. 2026-12-25 Christmas Day", "holidays")
            continue
        name = parts[1].strip() if len(parts) > 1 else "Holiday"
        if len(name) > 100:
            problems.add("invalid_holiday", f"line {number}: the name is longer than 100 characters", "holidays")
        elif day in first_line:
            problems.add("duplicate_holiday", f"line {number}: {day.isoformat()} is already on line "
                                              f"{first_line[day]}", "holidays")
        else:
            first_line[day] = number
            found.append((day, name))
    problems.raise_if_any()
    return found


def _working_days(form: FormData) -> list[int]:
    try:
        return sorted({int(str(value)) for value in form.getlist("working_days")})
    except ValueError:
        raise ValidationFailed("invalid_working_days", "working days are 1 (Monday) to 7 (Sunday)",
                               "working_days") from None


@router.post("/lifecycle/calendar")
def configure_calendar(request: Request, form: FormData = Depends(posted_form),
                       principal: Principal = Require(Permission.LIFECYCLE_CONFIGURE),
                       c: Container = Depends(container)) -> Response:
    values: dict[str, Any] = {name: _text(form, name) for name in ("timezone", "opens", "closes", "holidays")}
    values["holidays"] = str(form.get("holidays") or "")
    try:
        values["working_days"] = set(_working_days(form))
        holiday_list = parse_holidays(values["holidays"])
        with c.uow() as uow:
            save_calendar(uow.conn, timezone=values["timezone"], working_days=sorted(values["working_days"]),
                          opens=values["opens"], closes=values["closes"], holiday_list=holiday_list,
                          at=c.clock.now(), actor=principal.actor)
            handlers.recompute_due_times(uow.conn, load_config(uow.conn))
    except ValidationFailed as exc:
        values.setdefault("working_days", set())
        return _lifecycle_page(request, c, principal, calendar_form=(values, _messages(exc)), status_code=422)
    c.lifecycle.invalidate()
    return RedirectResponse("/lifecycle?saved=calendar#calendar", status_code=303)

