"""The database reads a batch of captured orders needs, once per batch: items, customers, partners."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from conveyor.catalog.tables import products
from conveyor.channels.capture.model import CapturedOrder
from conveyor.channels.capture.resolve import Catalog, Customer, Reference, gtin_keys, new_account
from conveyor.channels.partners.profiles import Profile
from conveyor.customers.tables import customer_addresses, customers

_BY_SKU = select(products.c.sku).where(products.c.sku.in_(bindparam("skus", expanding=True)))
# Only for what the exact match missed: upper(sku) has no index, so this reads the products table.
_BY_SKU_ANY_CASE = select(products.c.sku).where(func.upper(products.c.sku).in_(bindparam("skus", expanding=True)))
_BY_GTIN = select(products.c.sku, products.c.gtin).where(products.c.gtin.in_(bindparam("gtins", expanding=True)))
_COLUMNS = (customers.c.id, customers.c.account, customers.c.currency, customers.c.email)


def load_reference(conn: Connection | None, batch: Sequence[CapturedOrder], *, channel_code: str, currency: str,
                   profiles: dict[str, Profile]) -> Reference:
    """Without a connection (a dry run on no database) nothing is found: every item is unmapped."""
    if conn is None:
        return Reference(channel_code, currency, Catalog({}, {}), profiles)
    texts = {t.strip() for o in batch for line in o.lines for t in (line.item.sku, line.item.vendor_item)
             if t and t.strip()}
    skus = {sku.upper(): sku for (sku,) in conn.execute(_BY_SKU, {"skus": sorted(texts)})} if texts else {}
    if missed := sorted({t.upper() for t in texts} - set(skus)):
        skus.update({sku.upper(): sku for (sku,) in conn.execute(_BY_SKU_ANY_CASE, {"skus": missed})})
    raw_gtins = sorted({line.item.gtin.strip() for o in batch for line in o.lines if line.item.gtin})
    candidates = sorted(set(raw_gtins) | set(gtin_keys(raw_gtins)) | {g.zfill(14) for g in gtin_keys(raw_gtins)}
                        | {g.zfill(13) for g in gtin_keys(raw_gtins)} | {g.zfill(12) for g in gtin_keys(raw_gtins)})
    gtins = {gtin_keys([r.gtin])[0]: r.sku for r in conn.execute(_BY_GTIN, {"gtins": candidates})} if raw_gtins else {}
    accounts = {o.customer.account.strip() for o in batch if o.customer.account}
    accounts |= {p.customer_account for p in profiles.values()}
    accounts |= {new_account(channel_code, o) for o in batch
                 if not o.customer.account and not o.customer.partner_id and (o.customer.email or o.customer.name)}
    emails = {o.customer.email.strip().lower() for o in batch if o.customer.email}  # ix_customers_email_lower
    rows: list[Any] = []
    if accounts:
        rows += conn.execute(select(*_COLUMNS).where(customers.c.account.in_(sorted(accounts)),
                                                     customers.c.active.is_(True))).all()
    if emails:
        rows += conn.execute(select(*_COLUMNS).where(func.lower(customers.c.email).in_(sorted(emails)),
                                                     customers.c.active.is_(True)).order_by(customers.c.id)).all()
    addresses = _default_ship_to(conn, {int(r.id) for r in rows})
    found = {int(r.id): Customer(r.account, r.currency, addresses.get(int(r.id))) for r in rows}
    by_account = {r.account: found[int(r.id)] for r in rows}
    by_email: dict[str, Customer] = {}
    for r in rows:
        if r.email:
            by_email.setdefault(r.email.strip().lower(), found[int(r.id)])
    return Reference(channel_code, currency, Catalog(skus, gtins), profiles, by_account, by_email)


def _default_ship_to(conn: Connection, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    found: dict[int, dict[str, Any]] = {}
    query = (select(customer_addresses).where(customer_addresses.c.customer_id.in_(sorted(ids)))
             .order_by(customer_addresses.c.customer_id, customer_addresses.c.kind.desc(),
                       customer_addresses.c.is_default.desc(), customer_addresses.c.id))
    for a in conn.execute(query):  # shipping before billing, the default first
        found.setdefault(int(a.customer_id), {k: getattr(a, k) for k in (
            "name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone") if getattr(a, k)})
    return found
