"""Captured order → the core's OrderDraft: customer, items, units, prices, addresses. Pure.

Items are tried as our SKU, then the seller's part number (vendor item), then the GTIN, then the partner's
buyer-item mapping (for the buyer item and the GTIN). A line that maps to nothing stays in the order,
unmapped, and the core holds the order for item mapping. Quantities are converted to eaches with the
partner's units; a unit nobody knows also leaves the line unmapped (its quantity as sent).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from conveyor.channels.capture.model import CapturedLine, CapturedOrder, ItemRef
from conveyor.channels.partners.domain import normalise_partner_id
from conveyor.channels.partners.profiles import EACH_UNITS, Profile
from conveyor.kernel.money import exponent
from conveyor.orders.domain import MAX_QUANTITY, LineDraft, OrderDraft


@dataclass(frozen=True)
class Catalog:
    skus: Mapping[str, str]  # sku -> sku (only those found), upper-cased keys for case-free matching
    gtins: Mapping[str, str]  # gtin -> sku

    def find(self, item: ItemRef, profile: Profile | None) -> str | None:
        for candidate in (item.sku, item.vendor_item):
            if candidate and (sku := self.skus.get(candidate.strip().upper())):
                return sku
        if item.gtin and (sku := self.gtins.get(_gtin_key(item.gtin))):
            return sku
        if profile is not None:
            for candidate in (item.buyer_item, item.gtin):
                if candidate and (sku := profile.items.get(candidate.strip())):
                    return sku
        return None


def _minor_unit(currency: str) -> Decimal:
    try:
        return Decimal(1).scaleb(-exponent(currency))
    except (KeyError, ValueError):
        return Decimal("0.01")


def _gtin_key(gtin: str) -> str:
    return gtin.strip().lstrip("0")


def gtin_keys(gtins: list[str]) -> list[str]:
    return [_gtin_key(g) for g in gtins]


@dataclass(frozen=True)
class Customer:
    account: str
    currency: str
    default_ship_to: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class NewCustomer:
    """A web-shop or marketplace buyer seen for the first time: created before the order is placed."""

    account: str
    name: str
    email: str | None
    phone: str | None


@dataclass
class Reference:
    """What a batch of captured orders refers to, read once (capture/reference.py)."""

    channel_code: str
    currency: str
    catalog: Catalog
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    by_account: Mapping[str, Customer] = field(default_factory=dict)
    by_email: Mapping[str, Customer] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolved:
    captured: CapturedOrder
    draft: OrderDraft
    new_customer: NewCustomer | None
    unmapped: int
    profile: Profile | None
    eaches: tuple[Decimal, ...]  # per line: eaches per document unit (1 when unmapped)
    warnings: tuple[str, ...] = ()  # a dry run's customer problems (a real capture rejects the order)


class Unresolvable(Exception):
    """The order cannot become a draft (no buyer, fractional eaches): rejected whole, with the reason."""


def new_account(channel_code: str, captured: CapturedOrder) -> str:
    """A stable account number for a buyer first seen on a web shop or marketplace."""
    key = (captured.customer.email or captured.customer.name or "").strip().lower()
    return f"{channel_code[:12].upper()}-{hashlib.blake2b(key.encode(), digest_size=5).hexdigest().upper()}"


def resolve(captured: CapturedOrder, ref: Reference, *, lenient: bool = False) -> Resolved:
    """Raises Unresolvable for an order that cannot be placed. `lenient` (dry runs): a customer that cannot
    be found is a warning on the order instead, so a file can be checked before its partner is set up."""
    warnings: list[str] = []
    try:
        profile, customer, new = _customer(captured, ref)
    except Unresolvable as exc:
        if not lenient:
            raise
        profile, customer, new = None, None, None
        warnings.append(str(exc))
    currency = (captured.currency or (customer.currency if customer else None) or ref.currency).strip().upper()
    lines: list[LineDraft] = []
    eaches: list[Decimal] = []
    unmapped = 0
    for n, line in enumerate(captured.lines, 1):
        draft_line, factor = _line(n, line, ref.catalog, profile, currency)
        unmapped += draft_line.unmapped
        lines.append(draft_line)
        eaches.append(factor)
    ship_to = captured.ship_to or (customer.default_ship_to if customer else None) or captured.bill_to or {}
    draft = OrderDraft(
        channel=ref.channel_code, customer=customer.account if customer else new.account if new else "",
        currency=currency, lines=tuple(lines), ship_to=dict(ship_to),
        bill_to=dict(captured.bill_to) if captured.bill_to else None, external_id=captured.external_id.strip()[:100],
        shipping=captured.shipping, requested_delivery_date=captured.requested_delivery_date,
        notes=captured.notes, tags=captured.tags, priority=_priority(captured), allow_unmapped=True)
    return Resolved(captured, draft, new, unmapped, profile, tuple(eaches), tuple(warnings))


def _priority(captured: CapturedOrder) -> int:
    """A CSV `priority` column (-10 to 10), checked by the reader; 0 when the document has none."""
    value = captured.extra.get("priority")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _customer(captured: CapturedOrder, ref: Reference) -> tuple[Profile | None, Customer | None, NewCustomer | None]:
    party = captured.customer
    profile = ref.profiles.get(normalise_partner_id(party.partner_id)) if party.partner_id else None
    customer: Customer | None = None
    new: NewCustomer | None = None
    if party.account:
        customer = ref.by_account.get(party.account.strip())
        if customer is None:
            raise Unresolvable(f"no customer with account {party.account.strip()!r}")
    elif profile is not None:
        customer = ref.by_account.get(profile.customer_account)
    elif party.partner_id:
        raise Unresolvable(f"unknown trading partner {party.partner_id!r}: add a partner profile for it "
                           "(conveyor partners add, or the channel's Trading partners page)")
    elif party.email and (found := ref.by_email.get(party.email.strip().lower())):
        customer = found
    elif party.email or party.name:
        account = new_account(ref.channel_code, captured)
        customer = ref.by_account.get(account)
        if customer is None:
            new = NewCustomer(account, (party.name or party.email or account).strip()[:200],
                              party.email.strip() if party.email else None, party.phone)
    if customer is None and new is None:
        raise Unresolvable("the order names no customer (no account, partner, e-mail or name)")
    return profile, customer, new


def _line(n: int, line: CapturedLine, catalog: Catalog, profile: Profile | None,
          currency: str) -> tuple[LineDraft, Decimal]:
    sku = catalog.find(line.item, profile)
    unit = (line.unit or "").strip().upper()
    factor = Decimal(1) if unit in EACH_UNITS else (profile.eaches(unit) if profile else None)
    unmapped = sku is None or factor is None
    factor = factor or Decimal(1)
    quantity = line.quantity * factor
    if quantity != quantity.to_integral_value():
        raise Unresolvable(f"{line.where or f'line {n}'}: {line.quantity} {unit or 'EA'} is not a whole number "
                           "of eaches")
    if not 0 < quantity <= MAX_QUANTITY:
        raise Unresolvable(f"{line.where or f'line {n}'}: quantity {line.quantity} is outside 1 to {MAX_QUANTITY}")
    try:
        # Order lines keep prices in the currency's minor units: a price per each with more decimals is rounded.
        price = ((line.unit_price or Decimal(0)) / factor).quantize(_minor_unit(currency), ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise Unresolvable(f"{line.where or f'line {n}'}: unit price {line.unit_price} is not a number") from exc
    label = sku or line.item.label()
    if unmapped and sku is not None:
        label = f"{sku} ({unit})"
    minor = _minor_unit(currency)
    return LineDraft(sku=label[:64], quantity=int(quantity), unit_price=price,
                     discount=line.discount.quantize(minor, ROUND_HALF_UP), tax=line.tax.quantize(minor, ROUND_HALF_UP),
                     description=line.item.description, unmapped=unmapped), factor
