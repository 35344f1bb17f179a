"""The read side of customers: search with keyset pagination, and one customer.

A page runs three queries whatever its size: the customers, then all their contacts and all their
addresses at once."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from conveyor.customers.handlers import customer_not_found
from conveyor.customers.schemas import CustomerAddressOut, CustomerContactOut, CustomerOut, CustomerPage
from conveyor.customers.tables import customer_addresses, customer_contacts, customers
from conveyor.kernel.money import format_minor
from conveyor.platform.pagination import DEFAULT_LIMIT, clamp_limit, contains, page_of


def list_customers(conn: Connection, *, q: str | None = None, limit: int = DEFAULT_LIMIT,
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
    return CustomerPage(items=_with_lists(conn, rows), next_after=next_after)


def get_customer(conn: Connection, customer_id: int) -> CustomerOut:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).first()
    if row is None:
        raise customer_not_found(customer_id)
    return _with_lists(conn, [row])[0]


def _with_lists(conn: Connection, rows: list[Any]) -> list[CustomerOut]:
    ids = [r.id for r in rows]
    contacts: dict[int, list[CustomerContactOut]] = defaultdict(list)
    addresses: dict[int, list[CustomerAddressOut]] = defaultdict(list)
    if ids:
        for c in conn.execute(select(customer_contacts).where(customer_contacts.c.customer_id.in_(ids))
                              .order_by(customer_contacts.c.id)):
            contacts[c.customer_id].append(CustomerContactOut.model_validate(c))
        for a in conn.execute(select(customer_addresses).where(customer_addresses.c.customer_id.in_(ids))
                              .order_by(customer_addresses.c.id)):
            addresses[a.customer_id].append(CustomerAddressOut.model_validate(a))
    return [
        CustomerOut(
            id=r.id, account=r.account, name=r.name, email=r.email, phone=r.phone,
            credit_limit=format_minor(r.credit_limit_minor, r.currency), currency=r.currency,
            credit_rating=r.credit_rating, payment_terms=r.payment_terms, shortage_policy=r.shortage_policy,
            active=r.active,
            contacts=contacts[r.id], addresses=addresses[r.id], created_at=r.created_at, updated_at=r.updated_at,
        )
        for r in rows
    ]
