"""Order routes under /api/v1: place, list, read, move through the lifecycle; the lifecycle configuration."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.orders import handlers, line_mapping, presenters, queries
from conveyor.orders import schemas as s
from conveyor.orders.commands import MoveOrder, PlaceOrder
from conveyor.orders.domain import MAX_CAPTURED_LINES
from conveyor.orders.lifecycle import Action, find_transition
from conveyor.orders.permissions import ACTION_PERMISSION
from conveyor.platform.pagination import RecordId
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["orders"])

ERRORS = problem_responses(400, 401, 403, 422)
NOT_FOUND = problem_responses(404, d404="No such order, or not one the caller may see (`order_not_found`).")
CONFLICT = problem_responses(
    409, d409="The action is not allowed from the order's current stage (`invalid_transition`), or the order "
              "changed stage meanwhile (`stage_changed`).")


def _detail(c: Container, order_id: int, principal: Principal) -> s.OrderOut:
    with c.db.read() as conn:
        config = c.lifecycle.get(conn)
        detail = queries.get_order(conn, order_id, principal=principal, lifecycle=config, now=c.clock.now())
    return presenters.order_out(detail)


@router.post("/orders", status_code=201, response_model=s.OrderOut,
             responses={200: {"description": "An existing order: same Idempotency-Key, or same channel and "
                                             "external_id", "model": s.OrderOut}, **ERRORS,
                        **problem_responses(409, d409="Not enough stock and the shortage policy is `reject` "
                                                      "(`insufficient_stock`, with the short lines).")})
async def place_order(body: s.OrderIn,
                      idempotency_key: str | None = Header(default=None, max_length=200),
                      principal: Principal = Require(Permission.ORDER_CREATE),
                      c: Container = Depends(container)) -> Response:
    """Places an order and reserves its stock in the same transaction. Safe to retry: send an
    `Idempotency-Key`, or an `external_id` unique in the channel.

    Concurrent requests are placed together, several orders per transaction (orders/intake.py); each keeps
    its own answer."""
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    intake = await asyncio.wrap_future(c.intake.submit(
        PlaceOrder(draft=body.to_draft(), actor=principal.actor, idempotency_key=idempotency_key,
                   request_hash=request_hash,
                   only_customer_id=None if principal.is_staff else principal.customer_id,
                   only_channel_id=None if principal.is_staff else principal.channel_id)))
    location = {"Location": f"/api/v1/orders/{intake.placed.order_id}"}
    if intake.detail is not None:
        # Serialised once here: returning the model would have FastAPI validate it again against response_model.
        return Response(presenters.order_out(intake.detail).model_dump_json(), status_code=201,
                        media_type="application/json", headers=location)
    out = await run_in_threadpool(_detail, c, intake.placed.order_id, principal)
    return Response(out.model_dump_json(), status_code=200, media_type="application/json",
                    headers={**location, "Idempotent-Replayed": "true"})


@router.get("/orders", response_model=s.OrderPageOut, responses=ERRORS)
def list_orders(
    stage: str | None = Query(None, description="one stage, e.g. under_review"),
    channel: str | None = Query(None, description="channel code"),
    customer: str | None = Query(None, description="customer account number"),
    created_from: date | None = Query(None, description="first day (UTC), inclusive"),
    created_to: date | None = Query(None, description="last day (UTC), inclusive"),
    q: str | None = Query(None, description="order number (SO-000123) or external id"),
    breached: bool = Query(False, description="only orders past their stage SLA"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = Require(Permission.ORDER_READ), c: Container = Depends(container),
) -> s.OrderPageOut:
    """Orders, newest first, with keyset pagination."""
    filters = queries.OrderFilters(stage, channel, customer, created_from, created_to, q, breached)
    with c.db.read() as conn:
        page = queries.list_orders(conn, filters, principal=principal, now=c.clock.now(), cursor=cursor,
                                   limit=limit)
    return s.OrderPageOut(items=[presenters.summary_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/orders/{order_id}", response_model=s.OrderOut, responses={**ERRORS, **NOT_FOUND})
def get_order(order_id: RecordId, principal: Principal = Require(Permission.ORDER_READ),
              c: Container = Depends(container)) -> s.OrderOut:
    """One order with its lines, addresses, SLA clock, allowed actions and timeline."""
    return _detail(c, order_id, principal)


def _action_route(action: Action) -> None:
    transition = find_transition(action)

    def act(order_id: RecordId, body: s.ActionIn | None = None,
            principal: Principal = Require(ACTION_PERMISSION[action]),
            c: Container = Depends(container)) -> s.OrderOut:
        handlers.move_order(
            MoveOrder(order_id=order_id, action=action.value, actor=principal.actor,
                      reason=body.reason if body else None),
            uow=c.uow(), config=c.lifecycle, scope=queries.scope_clause(principal))
        return _detail(c, order_id, principal)

    needs = " A reason is required." if transition.needs_reason else ""
    router.add_api_route(
        f"/orders/{{order_id}}/{action.value}", act, methods=["POST"], response_model=s.OrderOut,
        name=f"order_{action.value}", operation_id=f"order_{action.value}",
        summary=f"{transition.label} an order",
        description=f"Moves the order with the lifecycle action `{action.value}`.{needs}",
        responses={**ERRORS, **NOT_FOUND, **CONFLICT},
    )


for _action in Action:
    _action_route(_action)


@router.post("/orders/{order_id}/lines/{line_no}/map", response_model=s.OrderOut,
             responses={**ERRORS, **NOT_FOUND, **CONFLICT}, summary="Map an unmapped line to a product")
def map_line(order_id: RecordId, line_no: Annotated[int, Path(ge=1, le=MAX_CAPTURED_LINES)], body: s.MapLineIn,
             principal: Principal = Require(Permission.ORDER_REVIEW),
             c: Container = Depends(container)) -> s.OrderOut:
    """A line a channel named by an item we did not know gets its product; its stock is then reserved as
    for a backorder, and with `remember` the trading partner's item mapping is saved for their next orders.
    Release the order from its hold when every line is mapped."""
    line_mapping.map_line(line_mapping.MapLine(order_id=order_id, line_no=line_no, sku=body.sku,
                                               actor=principal.actor, remember=body.remember),
                          uow=c.uow(), scope=queries.scope_clause(principal))
    return _detail(c, order_id, principal)


@router.get("/board", response_model=list[s.BoardColumnOut], responses=ERRORS)
def board(principal: Principal = Require(Permission.ORDER_READ),
          c: Container = Depends(container)) -> list[s.BoardColumnOut]:
    """Orders per stage and how many are past their SLA."""
    with c.db.read() as conn:
        columns = queries.board(conn, c.lifecycle.get(conn), principal=principal, now=c.clock.now())
    return [s.BoardColumnOut(stage=col.stage, label=col.label, owner_role=col.owner_role,
                             sla_hours=col.sla_hours, count=col.count, breached=col.breached) for col in columns]
