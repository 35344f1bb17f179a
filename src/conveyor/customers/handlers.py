"""Customer use cases: create and change a customer with its contacts and addresses; record and remove the
licences it holds (regulated products are sold only to a customer with a licence valid on the order date)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from conveyor.customers.domain import ACCOUNT_PATTERN, CustomerRecord, check_customer, check_licence
from conveyor.customers.schemas import CustomerIn, CustomerLicenceIn, CustomerPatch
from conveyor.customers.tables import customer_addresses, customer_contacts, customer_licences, customers
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


def find_customer(conn: Connection, account: str) -> int:
    """The id of the customer with this account number (as people quote it); 404 customer_not_found."""
    text = account.strip()
    row = None
    if ACCOUNT_PATTERN.match(text):
        row = conn.execute(select(customers.c.id).where(customers.c.account == text)).first()
    if row is None:
        raise NotFound("customer_not_found", f"there is no customer {account!r}", "account")
    return int(row.id)


def add_licence(conn: Connection, customer_id: int, data: CustomerLicenceIn, *, actor: str, at: datetime) -> int:
    """Records a licence the customer holds; returns its id. The same licence (kind, number and period)
    twice is refused (409 licence_exists)."""
    licence = check_licence(data.model_dump())
    _lock_customer(conn, customer_id)  # 404 when missing; one add at a time per customer
    same = select(customer_licences.c.id).where(
        customer_licences.c.customer_id == customer_id, customer_licences.c.kind == licence["kind"],
        customer_licences.c.number == licence["number"], customer_licences.c.valid_from == licence["valid_from"],
        customer_licences.c.valid_until == licence["valid_until"])
    if conn.execute(same.limit(1)).first():
        raise Conflict("licence_exists", f"the customer already has {licence['kind']} licence "
                                         f"{licence['number']!r} for the same period", "number")
    return int(conn.execute(insert(customer_licences).values(
        **licence, customer_id=customer_id, created_at=at, created_by=actor[:300])
        .returning(customer_licences.c.id)).scalar_one())


def remove_licence(conn: Connection, customer_id: int, licence_id: int) -> None:
    """Removes one of the customer's licences; 404 customer_not_found, or licence_not_found when the
    licence does not exist or belongs to another customer."""
    _lock_customer(conn, customer_id)
    removed = conn.execute(delete(customer_licences).where(customer_licences.c.id == licence_id,
                                                           customer_licences.c.customer_id == customer_id))
    if removed.rowcount != 1:
        raise NotFound("licence_not_found", f"the customer has no licence {licence_id}", "licence_id")


def _lock_customer(conn: Connection, customer_id: int) -> None:
    query = select(customers.c.id).where(customers.c.id == customer_id).with_for_update()
    if conn.execute(query).first() is None:
        raise customer_not_found(customer_id)


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
