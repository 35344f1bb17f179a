"""Reading trading-partner profiles for capture: one read per channel, then pure lookups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Connection

from conveyor.catalog.tables import products
from conveyor.channels.partners.domain import normalise_partner_id
from conveyor.channels.tables import partner_items, trading_partners
from conveyor.customers.tables import customers


@dataclass(frozen=True)
class Profile:
    id: int
    partner_id: str
    name: str
    customer_id: int
    customer_account: str
    our_id: str | None
    documents: tuple[str, ...]
    units: Mapping[str, Decimal]  # unit code (upper case) -> eaches per unit
    items: Mapping[str, str] = field(default_factory=dict)  # buyer item -> our SKU

    def expects(self, document: str) -> bool:
        return document.upper() in self.documents

    def eaches(self, unit: str | None) -> Decimal | None:
        """Eaches per `unit`; None when the unit is unknown. EA, PCE, C62, EACH, H87 and no unit are eaches."""
        if unit is None or unit.strip().upper() in EACH_UNITS:
            return Decimal(1)
        return self.units.get(unit.strip().upper())


EACH_UNITS = frozenset({"", "EA", "EACH", "PCE", "PC", "PCS", "C62", "H87", "UN", "UNT", "NAR"})


def load_profiles(conn: Connection, channel_id: int) -> dict[str, Profile]:
    """Every active partner of the channel by normalised partner id, with its item mappings."""
    rows = conn.execute(
        select(trading_partners, customers.c.account)
        .join(customers, customers.c.id == trading_partners.c.customer_id)
        .where(trading_partners.c.channel_id == channel_id, trading_partners.c.active.is_(True))
    ).all()
    if not rows:
        return {}
    items: dict[int, dict[str, str]] = {int(r.id): {} for r in rows}
    for item in conn.execute(
        select(partner_items.c.partner_id, partner_items.c.buyer_item, products.c.sku)
        .join(products, products.c.id == partner_items.c.product_id)
        .where(partner_items.c.partner_id.in_(list(items)))
    ):
        items[int(item.partner_id)][item.buyer_item] = item.sku
    return {normalise_partner_id(r.partner_id): Profile(
        id=int(r.id), partner_id=r.partner_id, name=r.name, customer_id=int(r.customer_id),
        customer_account=r.account, our_id=r.our_id, documents=tuple(d.upper() for d in (r.documents or [])),
        units={str(k).upper(): Decimal(str(v)) for k, v in (r.units or {}).items()}, items=items[int(r.id)])
        for r in rows}
