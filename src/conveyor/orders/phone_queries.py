"""What the phone-order screen reads: customers found as the clerk types (with their default shipping address),
products found by name, SKU or GTIN with what can be promised from the active warehouses, and the channels a
phone order may come in through.

Product search is catalog.queries.list_products (text_match); channels are channels.queries.list_channels. The
customer search here also looks at phone numbers (the customer's and its contacts'), which the customer list
does not, and reads only the one address the screen shows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, or_, select
from sqlalchemy.engine import Connection

from conveyor.catalog.queries import list_products
from conveyor.catalog.tables import products
from conveyor.channels.domain import ChannelKind
from conveyor.channels.queries import list_channels
from conveyor.channels.schemas import ChannelOut
from conveyor.customers.tables import customer_addresses, customer_contacts, customers
from conveyor.inventory.tables import stock_levels
from conveyor.platform.pagination import MAX_LIMIT, contains
from conveyor.warehouses.tables import warehouses

SHOWN = 8  # suggestions per typeahead
MIN_PHONE_DIGITS = 4  # a search with this many digits (and little else) also looks at phone numbers
ADDRESS_KEYS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone", "email")
_PHONE_PUNCTUATION = (" ", "-", ".", "(", ")", "/", "+")


@dataclass(frozen=True)
class PhoneCustomer:
    account: str
    name: str
    email: str | None
    phone: str | None
    currency: str
    ship_to: dict[str, Any] | None  # the default shipping address, or None when the customer has none
    contact_phone: str | None = None  # the first contact's phone when the customer record has none


@dataclass(frozen=True)
class PhoneItem:
    sku: str
    name: str
    gtin: str | None
    available: int  # available to promise over the active warehouses: on hand - reserved - safety, at least 0
    by_warehouse: tuple[tuple[str, int], ...] = field(default=())  # (warehouse code, units) where some are free


# -- customers ------------------------------------------------------------------------------------------


def _digits(column: Any) -> Any:
    """The column without the punctuation people put in phone numbers (portable: nested replace())."""
    for mark in _PHONE_PUNCTUATION:
        column = func.replace(column, mark, "")
    return column


def _phone_digits(q: str) -> str | None:
    """The digits to look for when `q` reads as (part of) a phone number, e.g. '06 1234' or '+31 (6) 12-34'.
    A leading 0 (the trunk prefix of a national number) is left out, so '020 555 0123' finds '+31 20 555 0123'."""
    digits = "".join(ch for ch in q if ch.isdigit())
    rest = "".join(ch for ch in q if not ch.isdigit() and ch not in _PHONE_PUNCTUATION)
    if len(digits) < MIN_PHONE_DIGITS or rest:
        return None
    national = digits.lstrip("0")
    return national if len(national) >= MIN_PHONE_DIGITS else digits


def _customer_match(q: str) -> ColumnElement[bool]:
    pattern = contains(q)
    found: list[ColumnElement[bool]] = [
        customers.c.account.ilike(pattern, escape="\\"), customers.c.name.ilike(pattern, escape="\\"),
        customers.c.email.ilike(pattern, escape="\\"),
        exists().where(customer_contacts.c.customer_id == customers.c.id,
                       or_(customer_contacts.c.email.ilike(pattern, escape="\\"),
                           customer_contacts.c.name.ilike(pattern, escape="\\"))),
    ]
    if digits := _phone_digits(q):
        phone = contains(digits)
        found.append(_digits(customers.c.phone).like(phone, escape="\\"))
        found.append(exists().where(customer_contacts.c.customer_id == customers.c.id,
                                    _digits(customer_contacts.c.phone).like(phone, escape="\\")))
    return or_(*found)


def find_customers(conn: Connection, q: str, limit: int = SHOWN) -> list[PhoneCustomer]:
    """Active customers whose account, name, email or phone (or a contact's) contains `q`, ignoring case and
    the spaces and dashes in phone numbers; an exact account first, then by name."""
    q = q.strip()
    if not q:
        return []
    query = (select(customers.c.id, customers.c.account, customers.c.name, customers.c.email, customers.c.phone,
                    customers.c.currency)
             .where(customers.c.active.is_(True), _customer_match(q))
             .order_by(case((func.upper(customers.c.account) == q.upper(), 0), else_=1), customers.c.name,
                       customers.c.id)
             .limit(max(1, min(limit, MAX_LIMIT))))
    return _with_addresses(conn, list(conn.execute(query)))


def customer_for_order(conn: Connection, account: str) -> PhoneCustomer | None:
    """The active customer with this account number, with its default shipping address."""
    if not account.strip():
        return None
    rows = list(conn.execute(
        select(customers.c.id, customers.c.account, customers.c.name, customers.c.email, customers.c.phone,
               customers.c.currency)
        .where(customers.c.account == account.strip(), customers.c.active.is_(True))))
    found = _with_addresses(conn, rows)
    return found[0] if found else None


def _with_addresses(conn: Connection, rows: Sequence[Any]) -> list[PhoneCustomer]:
    ids = [r.id for r in rows]
    addresses: dict[int, dict[str, Any]] = {}
    phones: dict[int, str] = {}
    if ids:
        for a in conn.execute(select(customer_addresses)
                              .where(customer_addresses.c.customer_id.in_(ids),
                                     customer_addresses.c.kind == "shipping",
                                     customer_addresses.c.is_default.is_(True))
                              .order_by(customer_addresses.c.id)):
            addresses.setdefault(a.customer_id, {key: getattr(a, key) for key in ADDRESS_KEYS})
        for c in conn.execute(select(customer_contacts.c.customer_id, customer_contacts.c.phone)
                              .where(customer_contacts.c.customer_id.in_(ids),
                                     customer_contacts.c.phone.is_not(None))
                              .order_by(customer_contacts.c.id)):
            phones.setdefault(c.customer_id, c.phone)
    return [PhoneCustomer(account=r.account, name=r.name, email=r.email, phone=r.phone, currency=r.currency,
                          ship_to=addresses.get(r.id), contact_phone=None if r.phone else phones.get(r.id))
            for r in rows]


# -- products and what can be promised ------------------------------------------------------------------


def find_items(conn: Connection, q: str, limit: int = SHOWN) -> list[PhoneItem]:
    """Active products whose SKU, name or GTIN contains `q` (the catalog's own search), a product whose SKU or
    GTIN is exactly `q` first (what a barcode scanner types), each with what can be promised."""
    q = q.strip()
    if not q:
        return []
    exact = list(conn.execute(select(products.c.id, products.c.sku, products.c.name, products.c.gtin)
                              .where(products.c.active.is_(True),
                                     or_(products.c.sku == q, products.c.gtin == q))))
    page = list_products(conn, q=q, limit=limit + len(exact) + 1).items  # a few more: inactive ones are left out
    found: dict[str, tuple[int, str, str, str | None]] = {r.sku: (r.id, r.sku, r.name, r.gtin) for r in exact}
    for p in page:
        if p.active and p.sku not in found:
            found[p.sku] = (p.id, p.sku, p.name, p.gtin)
    chosen = list(found.values())[:limit]
    return _with_availability(conn, chosen)


def items_by_sku(conn: Connection, skus: Iterable[str]) -> dict[str, PhoneItem]:
    """Products by SKU (active or not: a form coming back shows what it holds), with what can be promised."""
    wanted = sorted({s.strip() for s in skus if s.strip()})
    if not wanted:
        return {}
    rows = [(r.id, r.sku, r.name, r.gtin) for r in conn.execute(
        select(products.c.id, products.c.sku, products.c.name, products.c.gtin).where(products.c.sku.in_(wanted)))]
    return {item.sku: item for item in _with_availability(conn, rows)}


def _with_availability(conn: Connection, rows: Sequence[tuple[int, str, str, str | None]]) -> list[PhoneItem]:
    """Free units per product in the active warehouses (those intake reserves from), in their priority order."""
    by_product: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if rows:
        free = stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety
        for r in conn.execute(
                select(stock_levels.c.product_id, warehouses.c.code, free.label("free"))
                .join(warehouses, warehouses.c.id == stock_levels.c.warehouse_id)
                .where(stock_levels.c.product_id.in_([row[0] for row in rows]), warehouses.c.active.is_(True),
                       free > 0)
                .order_by(stock_levels.c.product_id, warehouses.c.priority, warehouses.c.id)):
            by_product[r.product_id].append((r.code, int(r.free)))
    return [PhoneItem(sku=sku, name=name, gtin=gtin, available=sum(units for _, units in by_product[pid]),
                      by_warehouse=tuple(by_product[pid])) for pid, sku, name, gtin in rows]


# -- channels -------------------------------------------------------------------------------------------


def order_channels(conn: Connection) -> tuple[list[ChannelOut], bool]:
    """The active channels a phone order may come in through: those of kind phone, or when there is none,
    every active channel. Also says whether they are phone channels."""
    active = [c for c in list_channels(conn, limit=MAX_LIMIT).items if c.active]
    phone = [c for c in active if c.kind == ChannelKind.PHONE.value]
    return (phone, True) if phone else (active, False)
