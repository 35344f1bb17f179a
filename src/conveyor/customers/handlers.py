"""Customer use cases: create and change a customer with its contacts and addresses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from conveyor.customers.domain import CustomerRecord, check_customer
from conveyor.customers.schemas import CustomerIn, CustomerPatch
from conveyor.customers.tables import customer_addresses, customer_contacts, customers
from conveyor.kernel.errors import Conflict, NotFound
from conveyor.kernel.money import format_minor


def create_customer(conn: Connection, data: CustomerIn, *, at: datetime) -> int:
    record = check_customer(data.model_dump())
    _refuse_duplicates(conn, record.fields["account"], customer_id=None)
    try:
        customer_id = int(conn.execute(insert(customers).values(**record.fields, created_at=at, updated_at=at)
                                       .returning(customers.c.id)).scalar_one())
    except IntegrityError:
        raise _account_taken(record.fields["account"]) from None
    _replace_lists(conn, customer_id, record)
    return customer_id


def update_customer(conn: Connection, customer_id: int, patch: CustomerPatch, *, at: datetime) -> None:
    query = select(customers).where(customers.c.id == customer_id).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise customer_not_found(customer_id)
    # Merge at the API's level (a decimal credit limit), so a new currency keeps the amount people see.
    current = {**row, "credit_limit": format_minor(row["credit_limit_minor"], row["currency"])}
    record = check_customer({**current, **patch.model_dump(exclude_unset=True)})
    _refuse_duplicates(conn, record.fields["account"], customer_id=customer_id)
    try:
        conn.execute(update(customers).where(customers.c.id == customer_id)
                     .values(**record.fields, updated_at=at))
    except IntegrityError:
        raise _account_taken(record.fields["account"]) from None
    _replace_lists(conn, customer_id, record)


def customer_not_found(customer_id: int) -> NotFound:
    return NotFound("customer_not_found", f"there is no customer {customer_id}", "id")


def _replace_lists(conn: Connection, customer_id: int, record: CustomerRecord) -> None:
    """Contacts and addresses belong to the customer: a list that was sent replaces the stored one.
    (Orders copy their addresses, so nothing refers to these rows.)"""
    if record.contacts is not None:
        conn.execute(delete(customer_contacts).where(customer_contacts.c.customer_id == customer_id))
        if record.contacts:
            conn.execute(insert(customer_contacts), [{**c, "customer_id": customer_id} for c in record.contacts])
    if record.addresses is not None:
        conn.execute(delete(customer_addresses).where(customer_addresses.c.customer_id == customer_id))
        if record.addresses:
            conn.execute(insert(customer_addresses),
                         [{**a, "customer_id": customer_id} for a in record.addresses])


def _account_taken(account: str) -> Conflict:
    return Conflict("account_taken", f"the account {account!r} is already used", "account")


def _refuse_duplicates(conn: Connection, account: str, *, customer_id: int | None) -> None:
    query = select(customers.c.id).where(customers.c.account == account)
    if customer_id is not None:
        query = query.where(customers.c.id != customer_id)
    if conn.execute(query.limit(1)).first():
        raise _account_taken(account)
