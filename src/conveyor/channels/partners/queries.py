"""The read side of trading partners: a channel's partners with keyset pagination, one partner, and a
partner's item mappings. Two queries per page: the partners (with their customer), then their item counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from conveyor.catalog.tables import products
from conveyor.channels.partners.handlers import ChannelRef, partner_not_found
from conveyor.channels.partners.schemas import PartnerItemOut, PartnerItemPage, PartnerOut, PartnerPage
from conveyor.channels.tables import partner_items, trading_partners
from conveyor.customers.tables import customers
from conveyor.platform.pagination import DEFAULT_LIMIT, clamp_limit, contains, page_of

_PARTNER = select(trading_partners, customers.c.account, customers.c.name.label("customer_name")).join(
    customers, customers.c.id == trading_partners.c.customer_id)


def list_partners(conn: Connection, channel: ChannelRef, *, q: str | None = None, active: bool | None = None,
                  limit: int = DEFAULT_LIMIT, after: int | None = None) -> PartnerPage:
    limit = clamp_limit(limit)
    query = _PARTNER.where(trading_partners.c.channel_id == channel.id).order_by(trading_partners.c.id)
    if after is not None:
        query = query.where(trading_partners.c.id > after)
    if active is not None:
        query = query.where(trading_partners.c.active.is_(active))
    if q and q.strip():
        pattern = contains(q.strip())
        query = query.where(or_(trading_partners.c.partner_id.ilike(pattern, escape="\\"),
                                trading_partners.c.name.ilike(pattern, escape="\\"),
                                customers.c.account.ilike(pattern, escape="\\")))
    rows, next_after = page_of(list(conn.execute(query.limit(limit + 1))), limit)
    return PartnerPage(items=_out(conn, channel, rows), next_after=next_after)


def get_partner(conn: Connection, channel: ChannelRef, partner_pk: int) -> PartnerOut:
    row = conn.execute(_PARTNER.where(trading_partners.c.id == partner_pk,
                                      trading_partners.c.channel_id == channel.id)).first()
    if row is None:
        raise partner_not_found(channel.code, str(partner_pk))
    return _out(conn, channel, [row])[0]


def list_items(conn: Connection, partner_pk: int, *, q: str | None = None, limit: int = DEFAULT_LIMIT,
               after: int | None = None) -> PartnerItemPage:
    """The partner's mappings in the order they were made; `q` is part of a buyer item or SKU."""
    limit = clamp_limit(limit)
    query = (select(partner_items.c.id, partner_items.c.buyer_item, products.c.sku,
                    products.c.name.label("product_name"))
             .join(products, products.c.id == partner_items.c.product_id)
             .where(partner_items.c.partner_id == partner_pk).order_by(partner_items.c.id).limit(limit + 1))
    if after is not None:
        query = query.where(partner_items.c.id > after)
    if q and q.strip():
        pattern = contains(q.strip())
        query = query.where(or_(partner_items.c.buyer_item.ilike(pattern, escape="\\"),
                                products.c.sku.ilike(pattern, escape="\\")))
    rows, next_after = page_of(list(conn.execute(query)), limit)
    return PartnerItemPage(items=[PartnerItemOut(id=r.id, buyer_item=r.buyer_item, sku=r.sku,
                                                 product_name=r.product_name) for r in rows],
                           next_after=next_after)


def _out(conn: Connection, channel: ChannelRef, rows: list[Any]) -> list[PartnerOut]:
    ids = [int(r.id) for r in rows]
    counts: dict[int, int] = {}
    if ids:
        counts = {int(r.partner_id): int(r.n) for r in conn.execute(
            select(partner_items.c.partner_id, func.count().label("n"))
            .where(partner_items.c.partner_id.in_(ids)).group_by(partner_items.c.partner_id))}
    return [PartnerOut(
        id=r.id, channel=channel.code, partner_id=r.partner_id, name=r.name, customer=r.account,
        customer_name=r.customer_name, our_id=r.our_id, documents=list(r.documents or []),
        units={str(k): int(v) for k, v in (r.units or {}).items()}, active=r.active,
        item_count=counts.get(int(r.id), 0), created_at=r.created_at, updated_at=r.updated_at) for r in rows]


CUSTOMER_CHOICES = 500


def customer_choices(conn: Connection) -> list[tuple[str, str]]:
    """(account, name) of active customers for the partner form's account picker, by account."""
    return [(r.account, r.name) for r in conn.execute(
        select(customers.c.account, customers.c.name).where(customers.c.active.is_(True))
        .order_by(customers.c.account).limit(CUSTOMER_CHOICES))]
