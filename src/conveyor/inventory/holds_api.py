"""Holds over JSON: set stock aside for a cart or a quote under your own reference, with an expiry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.engine import Connection

from conveyor.bootstrap import Container
from conveyor.catalog.tables import products
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.inventory import holds
from conveyor.inventory.ledger import Move
from conveyor.kernel.errors import Conflict, NotFound, ProblemCollector
from conveyor.platform.problems import problem_responses
from conveyor.warehouses.tables import warehouses

router = APIRouter(prefix="/api/v1/reservations", tags=["inventory"])

REFERENCE_PATTERN = r"^[A-Za-z0-9._:-]+$"
Reference = Annotated[str, Path(min_length=1, max_length=holds.MAX_REFERENCE, pattern=REFERENCE_PATTERN,
                                description="the caller's id of the cart or quote")]
NOT_FOUND = problem_responses(404, d404="No hold under this reference, or not one the caller placed "
                                        "(`hold_not_found`).")


class HoldLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64, examples=["SKU-1"])
    quantity: int = Field(ge=1, le=1_000_000, examples=[2])


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=holds.MAX_REFERENCE, pattern=REFERENCE_PATTERN,
                           description="your id of the cart or quote; placing it again returns the active hold",
                           examples=["cart-123"])
    ttl_seconds: int = Field(ge=1, le=holds.MAX_TTL_SECONDS, description="how long the stock is held (1 s to 7 days)",
                             examples=[900])
    lines: list[HoldLineIn] = Field(min_length=1, max_length=200)


class HeldLineOut(BaseModel):
    line: int = Field(description="1-based position of the line in the request")
    sku: str
    warehouse: str = Field(description="code of the warehouse holding these units")
    quantity: int = Field(description="units held now (0 once released or expired)")


class HoldOut(BaseModel):
    reference: str
    status: str = Field(description="active, released or expired", examples=["active"])
    expires_at: datetime = Field(description="when the units return to available stock (the sweeper runs every "
                                             "few seconds, so up to one sweep later)")
    created_at: datetime
    lines: list[HeldLineOut]


def _present(conn: Connection, hold: holds.Hold) -> HoldOut:
    skus = dict(conn.execute(select(products.c.id, products.c.sku).where(
        products.c.id.in_({line.product_id for line in hold.lines}))).all())
    codes = dict(conn.execute(select(warehouses.c.id, warehouses.c.code)).all())
    return HoldOut(reference=hold.reference, status=hold.status, expires_at=hold.expires_at,
                   created_at=hold.created_at,
                   lines=[HeldLineOut(line=line.line_no, sku=skus.get(line.product_id, str(line.product_id)),
                                      warehouse=codes.get(line.warehouse_id, str(line.warehouse_id)),
                                      quantity=line.quantity) for line in hold.lines])


def _product_ids(conn: Connection, lines: list[HoldLineIn]) -> list[tuple[int, int]]:
    found = dict(conn.execute(select(products.c.sku, products.c.id).where(
        products.c.sku.in_({line.sku for line in lines}), products.c.active.is_(True))).all())
    problems = ProblemCollector()
    for index, line in enumerate(lines):
        if line.sku not in found:
            problems.add("unknown_sku", f"no active product with SKU {line.sku!r}", f"lines.{index}.sku")
    problems.raise_if_any()
    return [(found[line.sku], line.quantity) for line in lines]


def _visible(conn: Connection, reference: str, principal: Principal) -> holds.Hold:
    """The hold, if there is one the caller may see: staff see every hold, others only their own."""
    hold = holds.get_hold(conn, reference)
    if hold is None or (not principal.is_staff and holds.placed_by(conn, reference) != principal.actor):
        raise NotFound("hold_not_found", f"no hold {reference!r}", "reference")
    return hold


@router.post("", status_code=201, response_model=HoldOut, summary="Hold stock for a cart or quote",
             responses={200: {"description": "The active hold already placed under this reference",
                              "model": HoldOut},
                        **problem_responses(400, 401, 403, 409, 422,
                                            d409="Not enough stock for every line (`insufficient_stock`, "
                                                 "`errors[]` names each short line; nothing was held), or "
                                                 "the reference is another caller's (`reference_taken`).")})
def place_hold(body: HoldIn, response: Response, principal: Principal = Require(Permission.ORDER_CREATE),
               c: Container = Depends(container)) -> HoldOut:
    """Holds every line or nothing, split across warehouses in priority order when needed. Safe to retry:
    a reference with an active hold answers 200 with that hold."""
    at = c.clock.now()
    with c.db.write() as conn:
        sku_lines = _product_ids(conn, body.lines)
        if not principal.is_staff and holds.placed_by(conn, body.reference) not in (None, principal.actor):
            existing = holds.get_hold(conn, body.reference)
            if existing is not None and existing.status == holds.ACTIVE:
                raise Conflict("reference_taken", "another caller holds stock under this reference", "reference")
        hold = holds.place_hold(conn, sku_lines=sku_lines, reference=body.reference, ttl_seconds=body.ttl_seconds,
                                move=Move(actor=principal.actor, at=at))
        out = _present(conn, hold)
    if not hold.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{router.prefix}/{hold.reference}"
    return out


@router.get("/{reference}", response_model=HoldOut, summary="Get a hold",
            responses={**problem_responses(401, 403, 422), **NOT_FOUND})
def get_hold(reference: Reference, principal: Principal = Require(Permission.ORDER_CREATE),
             c: Container = Depends(container)) -> HoldOut:
    """The active hold under the reference, else the latest released or expired one."""
    with c.db.read() as conn:
        return _present(conn, _visible(conn, reference, principal))


@router.delete("/{reference}", status_code=204, response_class=Response, summary="Release a hold",
               responses={**problem_responses(401, 403, 422), **NOT_FOUND})
def release_hold(reference: Reference, principal: Principal = Require(Permission.ORDER_CREATE),
                 c: Container = Depends(container)) -> Response:
    """Returns the held units to available stock now. Releasing a hold that already ended changes nothing."""
    at = c.clock.now()
    with c.db.write() as conn:
        _visible(conn, reference, principal)
        holds.release_hold(conn, reference, Move(actor=principal.actor, at=at, reason="released by the caller"))
    return Response(status_code=204)
