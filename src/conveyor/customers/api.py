"""Customers over JSON: list and search, create, read and change; a customer's licences, named by the
customer's account number (`/api/v1/customers/C-100/licences`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from conveyor.bootstrap import Container
from conveyor.customers import handlers, queries
from conveyor.customers.schemas import (
    CustomerIn,
    CustomerLicenceIn,
    CustomerLicenceOut,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
)
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])
CustomerId = Annotated[int, Path(ge=1, le=MAX_ID, description="the customer's id")]
# `{account:path}` in the routes: an account may contain `/` (`C/100`), sent as is or as `%2F`.
Account = Annotated[str, Path(max_length=32, description="the customer's account number, e.g. `C-100`")]
LicenceId = Annotated[int, Path(ge=1, le=MAX_ID, description="the licence's id")]
_LICENCE_404 = "No customer with that account (`customer_not_found`)."


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
        return queries.list_customers(conn, q=q, limit=limit, after=after, today=c.clock.now().date())


@router.post("", status_code=201, response_model=CustomerOut,
             responses=problem_responses(400, 401, 403, 409, 422), summary="Create a customer")
def create_customer(data: CustomerIn, response: Response,
                    principal: Principal = Require(Permission.CUSTOMER_WRITE),
                    c: Container = Depends(container)) -> CustomerOut:
    with c.db.write() as conn:
        customer_id = handlers.create_customer(conn, data, at=c.clock.now())
        customer = queries.get_customer(conn, customer_id, today=c.clock.now().date())
    response.headers["Location"] = f"{router.prefix}/{customer_id}"
    return customer


@router.get("/{customer_id}", response_model=CustomerOut, responses=problem_responses(401, 403, 404, 422),
            summary="Get a customer")
def get_customer(customer_id: CustomerId, principal: Principal = Require(Permission.CUSTOMER_READ),
                 c: Container = Depends(container)) -> CustomerOut:
    with c.db.read() as conn:
        return queries.get_customer(conn, customer_id, today=c.clock.now().date())


@router.patch("/{customer_id}", response_model=CustomerOut,
              responses=problem_responses(400, 401, 403, 404, 409, 422), summary="Change a customer")
def update_customer(customer_id: CustomerId, patch: CustomerPatch,
                    principal: Principal = Require(Permission.CUSTOMER_WRITE),
                    c: Container = Depends(container)) -> CustomerOut:
    with c.db.write() as conn:
        handlers.update_customer(conn, customer_id, patch, at=c.clock.now())
        return queries.get_customer(conn, customer_id, today=c.clock.now().date())


@router.get("/{account:path}/licences", response_model=list[CustomerLicenceOut],
            responses=problem_responses(401, 403, 404, 422, d404=_LICENCE_404),
            summary="List a customer's licences")
def list_licences(account: Account, principal: Principal = Require(Permission.CUSTOMER_READ),
                  c: Container = Depends(container)) -> list[CustomerLicenceOut]:
    """Licences for regulated products, with whether each is valid today. Review rules hold an order for a
    regulated product unless the customer has a licence valid on the order date."""
    with c.db.read() as conn:
        customer_id = handlers.find_customer(conn, account)
        return queries.list_licences(conn, customer_id, today=c.clock.now().date())


@router.post("/{account:path}/licences", status_code=201, response_model=CustomerLicenceOut,
             responses=problem_responses(
                 400, 401, 403, 404, 409, 422, d404=_LICENCE_404,
                 d409="The customer already has this licence for the same period (`licence_exists`).",
                 d422="The licence breaks a rule; `errors[]` names each field (`kind`, `number`, `valid_from`, "
                      "`valid_until`). Nothing is written."),
             summary="Record a licence the customer holds")
def add_licence(account: Account, data: CustomerLicenceIn,
                principal: Principal = Require(Permission.CUSTOMER_WRITE),
                c: Container = Depends(container)) -> CustomerLicenceOut:
    with c.db.write() as conn:
        customer_id = handlers.find_customer(conn, account)
        licence_id = handlers.add_licence(conn, customer_id, data, actor=principal.actor, at=c.clock.now())
        return queries.get_licence(conn, licence_id, today=c.clock.now().date())


@router.delete("/{account:path}/licences/{licence_id}", status_code=204,
               responses=problem_responses(
                   401, 403, 404, 422,
                   d404="No customer with that account (`customer_not_found`), or the customer has no licence "
                        "with that id (`licence_not_found`)."),
               summary="Remove a customer's licence")
def remove_licence(account: Account, licence_id: LicenceId,
                   principal: Principal = Require(Permission.CUSTOMER_WRITE),
                   c: Container = Depends(container)) -> Response:
    with c.db.write() as conn:
        handlers.remove_licence(conn, handlers.find_customer(conn, account), licence_id)
    return Response(status_code=204)
