"""Customer screens: a searchable list, a create form, and the customer page (credit terms and default
shipping and billing addresses are edited there; every address and contact is shown; licences are added
and removed there)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from conveyor.bootstrap import Container
from conveyor.customers import handlers, queries
from conveyor.customers.domain import CREDIT_RATINGS, PAYMENT_TERMS, check_customer, check_licence
from conveyor.customers.schemas import CustomerIn, CustomerLicenceIn, CustomerOut, CustomerPatch
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError, NotFound
from conveyor.platform.forms import field_errors, form_data, list_or_rows, text_fields, validate_form
from conveyor.platform.pagination import After, RecordId
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)

FORM = "customers/customer_form.html"
SCALARS = ("account", "name", "email", "phone", "credit_limit", "currency", "credit_rating", "payment_terms",
           "shortage_policy")
ADDRESS_KEYS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone", "email")
# The shortage policy select: value and label; the empty value follows the channel's policy.
SHORTAGE_CHOICES = (("", "Channel's policy"), ("hold", "Hold the order"),
                    ("backorder", "Ship what is there, backorder the rest"), ("reject", "Reject the order"))
DEFAULT_KINDS = ("shipping", "billing")  # the form's two address blocks, fields named e.g. shipping_city
FORM_FIELDS = {*SCALARS, "active", *(f"{kind}_{key}" for kind in DEFAULT_KINDS for key in ADDRESS_KEYS)}
LICENCE_FIELDS = ("kind", "number", "valid_from", "valid_until")  # the add-a-licence form, named as in the API


class LicenceSaved(StrEnum):
    """What the Licences section confirms after a change (`?licence=`)."""

    ADDED = "added"
    REMOVED = "removed"


LICENCE_SAVED = {LicenceSaved.ADDED: "Licence added.", LicenceSaved.REMOVED: "Licence removed."}


def _customer_data(form: dict[str, str]) -> dict[str, Any]:
    data = text_fields(form, SCALARS)
    data["currency"] = (data["currency"] or "").upper() or None
    return {**data, "credit_limit": data["credit_limit"] or "0", "active": "active" in form}


def _default_addresses(form: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The address blocks that were filled in, and which block each list position came from."""
    addresses, blocks = [], []
    for kind in DEFAULT_KINDS:
        fields = text_fields(form, [f"{kind}_{key}" for key in ADDRESS_KEYS])
        if any(fields.values()):
            values = {key: fields[f"{kind}_{key}"] for key in ADDRESS_KEYS}
            addresses.append({"kind": kind, "is_default": True, **{k: v for k, v in values.items() if v}})
            blocks.append(kind)
    return addresses, blocks


def _to_form_field(blocks: list[str]) -> Any:
    def to_field(path: str) -> str:
        parts = path.split(".")
        if parts[0] == "addresses" and len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) < len(blocks):
            return f"{blocks[int(parts[1])]}_{parts[2]}"
        return path
    return to_field


def _form_values(customer: CustomerOut) -> dict[str, Any]:
    values: dict[str, Any] = customer.model_dump(include=set(SCALARS) | {"active"})
    for kind in DEFAULT_KINDS:
        if address := customer.default_address(kind):
            values.update({f"{kind}_{key}": getattr(address, key) for key in ADDRESS_KEYS})
    return values


def _form(request: Request, customer: CustomerOut | None, values: dict[str, Any], errors: dict[str, str], *,
          can_write: bool, saved: bool = False, licence_saved: str | None = None,
          licence_values: dict[str, Any] | None = None, licence_errors: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    return render(request, FORM, {
        "customer": customer, "values": values, "errors": errors, "ratings": CREDIT_RATINGS,
        "terms": PAYMENT_TERMS, "shortage_choices": SHORTAGE_CHOICES, "kinds": DEFAULT_KINDS,
        "can_write": can_write, "saved": saved, "licence_saved": licence_saved,
        "licence_values": licence_values or {}, "licence_errors": licence_errors or {},
    }, status_code=status_code)


@router.get("/customers")
def customers_page(request: Request, q: str | None = None, after: After = None,
                   principal: Principal = Require(Permission.CUSTOMER_READ),
                   c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        page = queries.list_customers(conn, q=q, after=after, today=c.clock.now().date())
    context = {"page": page, "q": q or "", "can_write": principal.can(Permission.CUSTOMER_WRITE)}
    return list_or_rows(request, "customer-results", "customers/customers.html", "customers/_customer_rows.html",
                        context)


@router.get("/customers/new")
def new_customer_page(request: Request, principal: Principal = Require(Permission.CUSTOMER_WRITE)) -> Response:
    values = {"credit_limit": "0.00", "currency": "EUR", "credit_rating": "B", "payment_terms": "prepaid",
              "active": True}
    return _form(request, None, values, {}, can_write=True)


@router.post("/customers/new")
def create_customer(request: Request, form: dict[str, str] = Depends(form_data),
                    principal: Principal = Require(Permission.CUSTOMER_WRITE),
                    c: Container = Depends(container)) -> Response:
    data = _customer_data(form)
    addresses, blocks = _default_addresses(form)
    try:
        customer = validate_form(CustomerIn, {**{k: v for k, v in data.items() if v is not None},
                                              "addresses": addresses}, check_customer)
        with c.db.write() as conn:
            customer_id = handlers.create_customer(conn, customer, at=c.clock.now())
    except DomainError as exc:
        errors = field_errors(exc, _to_form_field(blocks), FORM_FIELDS)
        return _form(request, None, form | data, errors, can_write=True, status_code=422)
    return RedirectResponse(f"/customers/{customer_id}?saved=1", status_code=303)


@router.get("/customers/{customer_id}")
def customer_page(request: Request, customer_id: RecordId, saved: bool = False, licence: LicenceSaved | None = None,
                  principal: Principal = Require(Permission.CUSTOMER_READ),
                  c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        customer = queries.get_customer(conn, customer_id, today=c.clock.now().date())
    return _form(request, customer, _form_values(customer), {}, saved=saved,
                 licence_saved=LICENCE_SAVED[licence] if licence else None,
                 can_write=principal.can(Permission.CUSTOMER_WRITE))


@router.post("/customers/{customer_id}")
def save_customer(request: Request, customer_id: RecordId, form: dict[str, str] = Depends(form_data),
                  principal: Principal = Require(Permission.CUSTOMER_WRITE),
                  c: Container = Depends(container)) -> Response:
    data = _customer_data(form)
    defaults, blocks = _default_addresses(form)
    try:
        with c.db.write() as conn:
            current = queries.get_customer(conn, customer_id, today=c.clock.now().date())
            # The form edits the two default addresses; every other address is kept as it is.
            others = [a.model_dump(exclude={"id"}) for a in current.addresses
                      if not (a.is_default and a.kind in DEFAULT_KINDS)]
            patch = validate_form(CustomerPatch, {**data, "addresses": defaults + others}, check_customer)
            handlers.update_customer(conn, customer_id, patch, at=c.clock.now())
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        with c.db.read() as conn:
            customer = queries.get_customer(conn, customer_id, today=c.clock.now().date())
        errors = field_errors(exc, _to_form_field(blocks), FORM_FIELDS)
        return _form(request, customer, form | data, errors, can_write=True, status_code=422)
    return RedirectResponse(f"/customers/{customer_id}?saved=1", status_code=303)


@router.post("/customers/{customer_id}/licences")
def add_licence(request: Request, customer_id: RecordId, form: dict[str, str] = Depends(form_data),
                principal: Principal = Require(Permission.CUSTOMER_WRITE),
                c: Container = Depends(container)) -> Response:
    values = text_fields(form, LICENCE_FIELDS)
    try:
        licence = validate_form(CustomerLicenceIn, {k: v for k, v in values.items() if v is not None},
                                check_licence)
        with c.db.write() as conn:
            handlers.add_licence(conn, customer_id, licence, actor=principal.actor, at=c.clock.now())
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        with c.db.read() as conn:
            customer = queries.get_customer(conn, customer_id, today=c.clock.now().date())
        return _form(request, customer, _form_values(customer), {}, can_write=True, licence_values=values,
                     licence_errors=field_errors(exc, shown=LICENCE_FIELDS), status_code=422)
    return RedirectResponse(f"/customers/{customer_id}?licence=added#licences", status_code=303)


@router.post("/customers/{customer_id}/licences/{licence_id}/remove")
def remove_licence(request: Request, customer_id: RecordId, licence_id: RecordId,
                   principal: Principal = Require(Permission.CUSTOMER_WRITE),
                   c: Container = Depends(container)) -> Response:
    with c.db.write() as conn:
        handlers.remove_licence(conn, customer_id, licence_id)
    return RedirectResponse(f"/customers/{customer_id}?licence=removed#licences", status_code=303)
