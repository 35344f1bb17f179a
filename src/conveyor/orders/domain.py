"""The canonical order: validation of a draft, line pricing and totals. Pure: no I/O, no clock."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from conveyor.kernel.address import Address, check_address
from conveyor.kernel.errors import ProblemCollector
from conveyor.kernel.money import is_currency, to_minor

MAX_LINES = 500  # typed or sent through the API
MAX_CAPTURED_LINES = 20_000  # a trading partner's purchase order (a store replenishment can be that long)
MAX_QUANTITY = 1_000_000
MAX_TAGS = 20
SKU_MAX = 64
NAME_MAX = 200
_TAG = re.compile(r"^[\w][\w .:/-]{0,39}$")


@dataclass(frozen=True)
class LineDraft:
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    description: str | None = None  # the channel's text for the item; names an unmapped line
    unmapped: bool = False  # capture could not map it (e.g. an unknown unit): held for item mapping as well


@dataclass(frozen=True)
class OrderDraft:
    """What a channel hands to the core: every adapter only translates into this."""

    channel: str
    customer: str  # account number
    currency: str
    lines: tuple[LineDraft, ...]
    ship_to: Mapping[str, Any]
    bill_to: Mapping[str, Any] | None = None  # defaults to ship_to
    external_id: str | None = None
    shipping: Decimal = Decimal(0)
    requested_delivery_date: date | None = None
    notes: str | None = None
    tags: tuple[str, ...] = ()
    priority: int = 0
    shipping_service: str | None = None  # e.g. "express", "cold-chain"; review checks cold-chain items against it
    # Channel capture: a line whose SKU is not in the catalog is kept unmapped (the order is held for item
    # mapping) instead of refusing the order. The API and screens leave this off: there a wrong SKU is a typo.
    allow_unmapped: bool = False


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    active: bool


@dataclass(frozen=True)
class PricedLine:
    line_no: int
    product_id: int | None  # None: not mapped to a catalog product yet
    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    discount_minor: int
    tax_minor: int

    @property
    def gross_minor(self) -> int:
        return self.quantity * self.unit_price_minor

    @property
    def total_minor(self) -> int:
        return self.gross_minor - self.discount_minor + self.tax_minor


@dataclass(frozen=True)
class Totals:
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    shipping_minor: int

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor + self.tax_minor + self.shipping_minor


@dataclass(frozen=True)
class ValidOrder:
    draft: OrderDraft
    lines: tuple[PricedLine, ...]
    ship_to: Address
    bill_to: Address
    totals: Totals
    tags: tuple[str, ...] = field(default=())

    @property
    def unmapped(self) -> tuple[PricedLine, ...]:
        return tuple(line for line in self.lines if line.product_id is None)


def compute_totals(lines: tuple[PricedLine, ...] | list[PricedLine], shipping_minor: int) -> Totals:
    return Totals(
        subtotal_minor=sum(line.gross_minor for line in lines),
        discount_minor=sum(line.discount_minor for line in lines),
        tax_minor=sum(line.tax_minor for line in lines),
        shipping_minor=shipping_minor,
    )


def _amount(value: Decimal, currency: str, problems: ProblemCollector, path: str) -> int | None:
    try:
        minor = to_minor(value, currency)
    except ValueError as exc:
        problems.add("invalid_amount", str(exc), path)
        return None
    if minor < 0:
        problems.add("negative_amount", "must not be negative", path)
        return None
    return minor


def check_draft_shape(draft: OrderDraft, problems: ProblemCollector) -> None:
    """Checks that need no catalog: lines present, quantities, currency, tags, priority."""
    if not draft.lines:
        problems.add("order_has_no_lines", "an order needs at least one line", "lines")
    limit = MAX_CAPTURED_LINES if draft.allow_unmapped else MAX_LINES
    if len(draft.lines) > limit:
        problems.add("too_many_lines", f"an order has at most {limit} lines", "lines")
    if not is_currency(draft.currency):
        problems.add("unknown_currency", f"{draft.currency!r} is not an ISO 4217 currency code", "currency")
    for i, line in enumerate(draft.lines):
        if line.quantity <= 0:
            problems.add("invalid_quantity", "quantity must be at least 1", f"lines.{i}.quantity")
        elif line.quantity > MAX_QUANTITY:
            problems.add("invalid_quantity", f"quantity must be at most {MAX_QUANTITY}", f"lines.{i}.quantity")
        if not line.sku.strip():
            problems.add("required", "sku is required", f"lines.{i}.sku")
    if draft.external_id is not None and not (0 < len(draft.external_id.strip()) <= 100):
        problems.add("invalid_external_id", "external_id must be 1 to 100 characters", "external_id")
    if draft.shipping_service is not None and not 0 < len(draft.shipping_service.strip()) <= 40:
        problems.add("invalid_shipping_service", "shipping_service must be 1 to 40 characters", "shipping_service")
    if not -10 <= draft.priority <= 10:
        problems.add("invalid_priority", "priority must be between -10 and 10", "priority")
    if len(draft.tags) > MAX_TAGS:
        problems.add("too_many_tags", f"at most {MAX_TAGS} tags", "tags")
    for i, tag in enumerate(draft.tags):
        if not _TAG.match(tag):
            problems.add("invalid_tag", "tags are 1-40 letters, digits, spaces or . : / - _", f"tags.{i}")


def validate_order(draft: OrderDraft, catalog: Mapping[str, Product]) -> ValidOrder:
    """Validates a draft against the catalog and prices it; raises ValidationFailed listing every problem."""
    problems = ProblemCollector()
    check_draft_shape(draft, problems)
    ship_to = check_address(dict(draft.ship_to), problems, "ship_to")
    bill_to = check_address(dict(draft.bill_to), problems, "bill_to") if draft.bill_to is not None else ship_to
    currency_ok = is_currency(draft.currency)
    priced: list[PricedLine] = []
    for i, line in enumerate(draft.lines):
        product = catalog.get(line.sku.strip())
        if product is not None and draft.allow_unmapped and (line.unmapped or not product.active):
            product = None  # captured: held for item mapping, like an unknown item
        elif line.sku.strip() and product is None and not draft.allow_unmapped:
            problems.add("unknown_sku", f"no product with SKU {line.sku!r}", f"lines.{i}.sku")
        elif product is not None and not product.active:
            problems.add("inactive_sku", f"product {line.sku!r} is not sold any more", f"lines.{i}.sku")
        if not currency_ok:
            continue
        unit = _amount(line.unit_price, draft.currency, problems, f"lines.{i}.unit_price")
        discount = _amount(line.discount, draft.currency, problems, f"lines.{i}.discount")
        tax = _amount(line.tax, draft.currency, problems, f"lines.{i}.tax")
        if unit is None or discount is None or tax is None or line.quantity <= 0:
            continue
        if product is None and not (draft.allow_unmapped and line.sku.strip()):
            continue
        if discount > unit * line.quantity:
            problems.add("discount_exceeds_price", "the discount is larger than the line's price",
                         f"lines.{i}.discount")
            continue
        if product is None:
            name = (line.description or line.sku).strip()[:NAME_MAX] or line.sku.strip()
            priced.append(PricedLine(i + 1, None, line.sku.strip()[:SKU_MAX], name, line.quantity, unit, discount, tax))
        else:
            priced.append(PricedLine(i + 1, product.id, product.sku, product.name, line.quantity, unit, discount,
                                     tax))
    shipping = _amount(draft.shipping, draft.currency, problems, "shipping") if currency_ok else None
    problems.raise_if_any()
    assert ship_to is not None and bill_to is not None and shipping is not None
    tags = tuple(dict.fromkeys(t.strip() for t in draft.tags))
    return ValidOrder(draft, tuple(priced), ship_to, bill_to, compute_totals(priced, shipping), tags)


def fingerprint(customer_id: int, ship_to: Address, lines: tuple[PricedLine, ...] | list[PricedLine]) -> str:
    """Same customer, same ship-to, same items and quantities: the same fingerprint, whatever the order's id.
    Finds an order sent twice under different ids (a probable duplicate, for review)."""
    place = "|".join(str(v or "").strip().lower() for v in (
        ship_to.name, ship_to.line1, ship_to.line2, ship_to.city, ship_to.postal_code, ship_to.country))
    items = sorted((line.sku.strip().lower(), line.quantity) for line in lines)
    text = f"{customer_id}#{place}#" + ";".join(f"{sku}x{quantity}" for sku, quantity in items)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def order_number(order_id: int) -> str:
    """The number people quote: derived from the id, so it never disagrees with it."""
    return f"SO-{order_id:06d}"


_NUMBER = re.compile(r"^\s*(?:SO-?)?0*(\d{1,18})\s*$", re.IGNORECASE)


def parse_order_number(text: str) -> int | None:
    match = _NUMBER.match(text)
    return int(match.group(1)) if match else None
