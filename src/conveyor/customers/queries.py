"""The read side of customers: search with keyset pagination, one customer, and a customer's licences.

A page runs four queries whatever its size: the customers, then all their contacts, all their addresses
and all their licences at once. Whether a licence is valid is worked out for `today` (the caller's clock)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from conveyor.customers.domain import licence_status
from conveyor.customers.handlers import customer_not_found
from conveyor.customers.schemas import (
    CustomerAddressOut,
    CustomerContactOut,
    CustomerLicenceOut,
    CustomerOut,
    CustomerPage,
)
from conveyor.customers.tables import customer_addresses, customer_contacts, customer_licences, customers
from conveyor.kernel.money import format_minor
from conveyor.platform.pagination import DEFAULT_LIMIT, clamp_limit, contains, page_of


def list_customers(conn: Connection, *, today: date, q: str | None = None, limit: int = DEFAULT_LIMIT,
                   after: int | None = None) -> CustomerPage:
    limit = clamp_limit(limit)
    query = select(customers).order_by(customers.c.id).limit(limit + 1)
    if after is not None:
        query = query.where(customers.c.id > after)
    if q and q.strip():
        pattern = contains(q.strip())
        query = query.where(or_(customers.c.account.ilike(pattern, escape="\\"),
                                customers.c.name.ilike(pattern, escape="\\"),
                                customers.c.email.ilike(pattern, escape="\\")))
    rows, next_after = page_of(list(conn.execute(query)), limit)
    return CustomerPage(items=_with_lists(conn, rows, today), next_after=next_after)


def get_customer(conn: Connection, customer_id: int, *, today: date) -> CustomerOut:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).first()
    if row is None:
        raise customer_not_found(customer_id)
    return _with_lists(conn, [row], today)[0]


def list_licences(conn: Connection, customer_id: int, *, today: date) -> list[CustomerLicenceOut]:
    """The customer's licences, by kind and then in the order they were recorded."""
    query = (select(customer_licences).where(customer_licences.c.customer_id == customer_id)
             .order_by(customer_licences.c.kind, customer_licences.c.id))
    return [licence_out(r, today) for r in conn.execute(query)]


def get_licence(conn: Connection, licence_id: int, *, today: date) -> CustomerLicenceOut:
    row = conn.execute(select(customer_licences).where(customer_licences.c.id == licence_id)).one()
    return licence_out(row, today)


def licence_out(row: Any, today: date) -> CustomerLicenceOut:
    status = licence_status(row.valid_from, row.valid_until, today)
    return CustomerLicenceOut(id=row.id, kind=row.kind, number=row.number, valid_from=row.valid_from,
                              valid_until=row.valid_until, status=status, valid_today=status == "valid",
                              created_at=row.created_at, created_by=row.created_by)


def _with_lists(conn: Connection, rows: list[Any], today: date) -> list[CustomerOut]:
    ids = [r.id for r in rows]
    contacts: dict[int, list[CustomerContactOut]] = defaultdict(list)
    addresses: dict[int, list[CustomerAddressOut]] = defaultdict(list)
    licences: dict[int, list[CustomerLicenceOut]] = defaultdict(list)
    if ids:
        for c in conn.execute(select(customer_contacts).where(customer_contacts.c.customer_id.in_(ids))
                              .order_by(customer_contacts.c.id)):
            contacts[c.customer_id].append(CustomerContactOut.model_validate(c))
        for a in conn.execute(select(customer_addresses).where(customer_addresses.c.customer_id.in_(ids))
                              .order_by(customer_addresses.c.id)):
            addresses[a.customer_id].append(CustomerAddressOut.model_validate(a))
        for lic in conn.execute(select(customer_licences).where(customer_licences.c.customer_id.in_(ids))
                                .order_by(customer_licences.c.kind, customer_licences.c.id)):
            licences[lic.customer_id].append(licence_out(lic, today))
    return [
        CustomerOut(
            id=r.id, account=r.account, name=r.name, email=r.email, phone=r.phone,
            credit_limit=format_minor(r.credit_limit_minor, r.currency), currency=r.currency,
            credit_rating=r.credit_rating, payment_terms=r.payment_terms, shortage_policy=r.shortage_policy,
            active=r.active, contacts=contacts[r.id], addresses=addresses[r.id], licences=licences[r.id],
            created_at=r.created_at, updated_at=r.updated_at,
        )
        for r in rows
    ]
