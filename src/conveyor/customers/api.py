"""Customers over JSON: list and search, create, read and change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from conveyor.bootstrap import Container
from conveyor.customers import handlers, queries
from conveyor.customers.schemas import CustomerIn, CustomerOut, CustomerPage, CustomerPatch
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])
CustomerId = Annotated[int, Path(ge=1, le=MAX_ID, description="the customer's id")]


@router.get("", response_model=CustomerPage, responses=problem_responses(401, 403, 422),
            summary="List and search customers")
def list_customers(
    q: str | None = Query(None, max_length=200, description="part of an account number, name or email"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    after: int | None = Query(None, ge=0, le=MAX_ID,
                              description="the `next_after` of the previous page"),
    principal: Principal = Require(Permission.CUSTOMER_READ),
    c: Container = Depends(container),
) -> CustomerPage:
    with c.db.read() as conn:
        return queries.list_customers(conn, q=q, limit=limit, after=after)


@router.post("", status_code=201, response_model=CustomerOut,
             responses=problem_responses(400, 401, 403, 409, 422), summary="Create a customer")
def create_customer(data: CustomerIn, response: Response,
                    principal: Principal = Require(Permission.CUSTOMER_WRITE),
                    c: Container = Depends(container)) -> CustomerOut:
    with c.db.write() as conn:
        customer_id = handlers.create_customer(conn, data, at=c.clock.now())
        customer = queries.get_customer(conn, customer_id)
    response.headers["Location"] = f"{router.prefix}/{customer_id}"
    return customer


@router.get("/{customer_id}", response_model=CustomerOut, responses=problem_responses(401, 403, 404, 422),
            summary="Get a customer")
def get_customer(customer_id: CustomerId, principal: Principal = Require(Permission.CUSTOMER_READ),
                 c: Container = Depends(container)) -> CustomerOut:
    with c.db.read() as conn:
        return queries.get_customer(conn, customer_id)


@router.patch("/{customer_id}", response_model=CustomerOut,
              responses=problem_responses(400, 401, 403, 404, 409, 422), summary="Change a customer")
def update_customer(customer_id: CustomerId, patch: CustomerPatch,
                    principal: Principal = Require(Permission.CUSTOMER_WRITE),
                    c: Container = Depends(container)) -> CustomerOut:
    with c.db.write() as conn:
        handlers.update_customer(conn, customer_id, patch, at=c.clock.now())
        return queries.get_customer(conn, customer_id)
