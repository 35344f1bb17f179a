"""WooCommerce orders (REST API v3 JSON, webhook bodies, legacy v3 API) into `CapturedOrder`s. Pure.

Accepted documents: a webhook body or REST response (one order object), a list of orders, a batch response
(`{"create": [...], "update": [...], "delete": [...]}`), and the legacy API's `{"order": {...}}` and
`{"orders": [...]}`, as bytes, text or parsed JSON. The mapping (full table in docs/marketplaces.md):

- external_id is the order `id`; `number` (legacy `order_number`) goes to `extra["number"]`, and to the tag
  "woocommerce:<number>" when a numbering plugin makes it differ from the id.
- Customer and bill-to from `billing` (legacy `billing_address`), ship-to from `shipping` (legacy
  `shipping_address`); an all-empty shipping address (virtual products) gives no ship-to.
- Lines: `sku`, `name` (HTML entities such as &ndash; decoded), `variation_id` or else `product_id` as
  `buyer_item` (so a channel profile can map lines without SKU), `quantity`. WooCommerce line amounts are
  always without tax: unit price = `subtotal` / quantity (before coupons), discount = `subtotal - total`
  (the coupons, which WooCommerce allocates to lines), tax = `total_tax`. Without subtotal/total, `price`.
- Shipping = the sum of `shipping_lines[].total` (after shipping discounts, without tax); the shipping tax is
  kept in `extra["shipping_tax"]`. Fees (`fee_lines`) are kept in `extra["fees"]`, not added as lines.
- `discount_total` larger than the coupons on the lines: the rest goes to `extra["unallocated_discount"]`,
  not applied.
- Status cancelled, refunded, failed, trash: ignored. pending (awaiting payment) and checkout-draft: ignored
  too, because the payment may never come; WooCommerce sends order.updated when the order moves to
  processing or on-hold, and that one is captured. processing, on-hold, completed (and unknown statuses):
  captured.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from conveyor.channels.capture.jsondoc import (
    Invalid,
    amount,
    as_list,
    as_object,
    at,
    compact,
    country,
    identifier,
    is_list,
    join_name,
    keys_of,
    list_at,
    load,
    object_at,
    quantity,
    rejected,
    tag,
    text,
    timestamp,
    total,
    type_name,
    unit_price,
    where,
)
from conveyor.channels.capture.model import (
    AddressDict,
    Captured,
    CapturedLine,
    CapturedOrder,
    Control,
    Ignored,
    ItemRef,
    PartyRef,
    Rejected,
)

# Webhook topics whose body is a whole order. order.deleted sends only {"id": ...}.
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})

IGNORED_STATUSES = {
    "cancelled": "was cancelled",
    "refunded": "was refunded",
    "failed": "failed (payment failed or declined)",
    "trash": "is in the trash",
    "pending": "awaits payment (pending); it is captured when it moves to processing or on-hold (order.updated)",
    "checkout-draft": "is a checkout not yet placed (checkout-draft)",
    "draft": "is a draft, not yet placed",
}
# Keys only an order has; a bare object without any of them is another resource (a customer, a product...).
_ORDER_KEYS = ("line_items", "order_key", "order_number", "customer_note", "payment_method")
_BATCH_KEYS = ("create", "update", "delete")


def capture_woocommerce(data: bytes | str | object, *, name: str, delivery_id: str | None = None,
                        shop: str | None = None, topic: str | None = None) -> Iterator[Captured]:
    """Yields one `CapturedOrder`, `Rejected` or `Ignored` per order-sized piece of a WooCommerce document.

    `name` names the document in `where`; `shop` is the shop (X-WC-Webhook-Source) and `delivery_id` the
    X-WC-Webhook-Delivery-ID, both kept in `Control`. With `topic` (X-WC-Webhook-Topic), a topic that carries
    no order (order.deleted, product.*, ...) is ignored without reading the body.
    """
    control = Control(standard="woocommerce", sender=shop, delivery_id=delivery_id)
    if topic is not None and topic not in ORDER_TOPICS:
        yield Ignored(name, f"WooCommerce webhook topic {topic!r} does not carry an order to capture "
                            "(subscribe to order.created and order.updated)", control)
        return
    try:
        document = load(data)
    except Invalid as problem:
        yield rejected(name, problem, control)
        return
    yield from _pieces(document, name, control)


def _pieces(document: object, name: str, control: Control) -> Iterator[Captured]:
    if is_list(document):
        yield from _many(as_list(document, ""), "", name, control, bare=True)
        return
    if not isinstance(document, Mapping):
        yield Rejected(name, f"expected a WooCommerce order (a JSON object or list), found {type_name(document)}",
                       control=control, code="invalid_document")
        return
    if "id" in document or any(key in document for key in _ORDER_KEYS):
        yield from _bare(document, "", name, control)
    elif "orders" in document:
        yield from _list_under(document, "orders", name, control, bare=False)
    elif "order" in document:
        yield _order(document["order"], "order", name, control)
    elif any(key in document for key in _BATCH_KEYS):
        yield from _batch(document, name, control)
    elif "order_statuses" in document:
        yield Ignored(name, "not an order: the list of WooCommerce order statuses", control)
    else:
        yield from _bare(document, "", name, control)


def _batch(document: Mapping[str, Any], name: str, control: Control) -> Iterator[Captured]:
    """A batch response: orders created and updated are captured, deleted ones ignored."""
    for key in _BATCH_KEYS:
        if key not in document:
            continue
        if key != "delete":
            yield from _list_under(document, key, name, control, bare=True)
            continue
        deleted = document[key]
        if not is_list(deleted):
            yield rejected(name, Invalid(key, f"expected a list of orders, found {type_name(deleted)}"), control)
            continue
        for index in range(len(as_list(deleted, key))):
            yield Ignored(where(name, at(key, index)), "an order deleted in WooCommerce (batch delete)", control)


def _list_under(document: Mapping[str, Any], key: str, name: str, control: Control, *,
                bare: bool) -> Iterator[Captured]:
    value = document[key]
    if not is_list(value):
        yield rejected(name, Invalid(key, f"expected a list of orders, found {type_name(value)}"), control)
        return
    yield from _many(as_list(value, key), key, name, control, bare=bare)


def _many(values: list[Any], path: str, name: str, control: Control, *, bare: bool) -> Iterator[Captured]:
    if not values:
        yield Ignored(where(name, path), "an empty list: no orders", control)
    for index, value in enumerate(values):
        if bare:
            yield from _bare(value, at(path, index), name, control)
        else:
            yield _order(value, at(path, index), name, control)


def _bare(value: object, path: str, name: str, control: Control) -> Iterator[Captured]:
    if isinstance(value, Mapping):
        reason = _not_an_order(value)
        if reason:
            yield Ignored(where(name, path), reason, control)
            return
    yield _order(value, path, name, control)


def _not_an_order(value: Mapping[str, Any]) -> str | None:
    if "refunded_by" in value or "refunded_payment" in value:
        return "a WooCommerce refund, not an order"
    if "error" in value or ("code" in value and "message" in value and "line_items" not in value):
        found = value.get("error", value)
        message = found.get("message") if isinstance(found, Mapping) else found
        return f"a WooCommerce error response: {str(message)[:200]}"
    if not any(key in value for key in _ORDER_KEYS):
        return f"not a WooCommerce order (keys: {keys_of(value)})"
    return None


def _order(value: object, path: str, name: str, control: Control) -> Captured:
    external_id: str | None = None
    try:
        order = as_object(value, path)
        external_id = identifier(order, "id", path, "order id")
        status = text(order, "status", path)
        if status in IGNORED_STATUSES:
            return Ignored(where(name, path), f"order {external_id} {IGNORED_STATUSES[status]}", control)
        return _map(order, external_id, status, path, name, control)
    except Invalid as problem:
        return rejected(name, problem, control, external_id)


def _map(order: Mapping[str, Any], external_id: str, status: str | None, path: str, name: str,
         control: Control) -> CapturedOrder:
    if order.get("line_items") is None:
        raise Invalid(at(path, "line_items"), "missing line_items: an order needs at least one line", "missing_field")
    raw_lines = as_list(order["line_items"], at(path, "line_items"))
    if not raw_lines:
        raise Invalid(at(path, "line_items"), "an order needs at least one line, line_items is empty",
                      "missing_field")
    currency = text(order, "currency", path)
    lines: list[CapturedLine] = []
    coupons: list[Decimal] = []
    for index, raw in enumerate(raw_lines):
        line, coupon = _line(raw, at(at(path, "line_items"), index), currency)
        lines.append(line)
        coupons.append(coupon)
    billing_key = "billing" if "billing" in order else "billing_address"
    shipping_key = "shipping" if "shipping" in order else "shipping_address"
    number = text(order, "number", path) or text(order, "order_number", path)
    extra = _extra(order, path, number, status, total(coupons))
    return CapturedOrder(
        external_id=external_id,
        customer=_customer(order, billing_key, path),
        lines=tuple(lines),
        currency=currency,
        ship_to=_address(order, shipping_key, path),
        bill_to=_address(order, billing_key, path),
        shipping=_shipping(order, path, extra),
        notes=text(order, "customer_note", path) or text(order, "note", path),
        ordered_at=(timestamp(order, "date_created_gmt", path, utc=True) or timestamp(order, "created_at", path)
                    or timestamp(order, "date_created", path)),
        tags=tag("woocommerce", number) if number and number != external_id else (),
        where=where(name, path),
        control=control,
        extra=extra,
    )


def _line(raw: object, path: str, currency: str | None) -> tuple[CapturedLine, Decimal]:
    """The line, and the coupon discount WooCommerce allocated to it."""
    item = as_object(raw, path)
    qty = quantity(item, "quantity", path)
    subtotal = amount(item, "subtotal", path)
    line_total = amount(item, "total", path)
    coupon = rounding = Decimal(0)
    if subtotal is None and line_total is None:
        price = amount(item, "price", path)
    else:
        gross = max(value for value in (subtotal, line_total) if value is not None)
        price, rounding = unit_price(gross, qty, currency)
        coupon = gross - (line_total if line_total is not None else gross)
    description = text(item, "name", path)
    product = _nonzero(text(item, "variation_id", path)) or _nonzero(text(item, "product_id", path))
    line = CapturedLine(
        item=ItemRef(sku=text(item, "sku", path), buyer_item=product,
                     description=html.unescape(description) if description else None),
        quantity=qty,
        unit_price=price,
        discount=coupon + rounding,
        tax=amount(item, "total_tax", path) or Decimal(0),
        line_ref=text(item, "id", path),
        where=path,
    )
    return line, coupon


def _nonzero(value: str | None) -> str | None:
    return None if value in (None, "0") else value


def _shipping(order: Mapping[str, Any], path: str, extra: dict[str, Any]) -> Decimal:
    amounts, taxes = [], []
    for index, raw in enumerate(list_at(order, "shipping_lines", path)):
        line_path = at(at(path, "shipping_lines"), index)
        line = as_object(raw, line_path)
        amounts.append(amount(line, "total", line_path) or Decimal(0))
        taxes.append(amount(line, "total_tax", line_path) or Decimal(0))
    shipping_tax = amount(order, "shipping_tax", path)
    if shipping_tax is None:
        shipping_tax = total(taxes)
    if shipping_tax:
        extra["shipping_tax"] = shipping_tax
    return total(amounts)


def _extra(order: Mapping[str, Any], path: str, number: str | None, status: str | None,
           coupons: Decimal) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    customer_id = _nonzero(text(order, "customer_id", path))
    for key, value in (("number", number), ("status", status), ("customer_id", customer_id),
                       ("payment_method", text(order, "payment_method", path)),
                       ("document_total", amount(order, "total", path))):
        if value is not None:
            extra[key] = value
    codes = []
    for index, raw in enumerate(list_at(order, "coupon_lines", path)):
        coupon_path = at(at(path, "coupon_lines"), index)
        code = text(as_object(raw, coupon_path), "code", coupon_path)
        if code:
            codes.append(code)
    if codes:
        extra["discount_codes"] = tuple(codes)
    fees = []
    for index, raw in enumerate(list_at(order, "fee_lines", path)):
        fee_path = at(at(path, "fee_lines"), index)
        fees.append(amount(as_object(raw, fee_path), "total", fee_path, negative=True) or Decimal(0))
    if fees:
        extra["fees"] = total(fees)
    discount = amount(order, "discount_total", path)
    if discount is None:
        discount = amount(order, "total_discount", path)
    if discount is not None and discount > coupons:
        extra["unallocated_discount"] = discount - coupons
    return extra


def _customer(order: Mapping[str, Any], billing_key: str, path: str) -> PartyRef:
    billing = object_at(order, billing_key, path) or {}
    here = at(path, billing_key)
    customer = object_at(order, "customer", path) or {}  # legacy API only
    return PartyRef(
        email=text(billing, "email", here) or text(customer, "email", at(path, "customer")),
        name=join_name(text(billing, "first_name", here), text(billing, "last_name", here)),
        phone=text(billing, "phone", here),
    )


def _address(order: Mapping[str, Any], key: str, path: str) -> AddressDict | None:
    found = object_at(order, key, path)
    if found is None:
        return None
    here = at(path, key)
    address = compact(
        name=join_name(text(found, "first_name", here), text(found, "last_name", here)),
        company=text(found, "company", here),
        line1=text(found, "address_1", here),
        line2=text(found, "address_2", here),
        city=text(found, "city", here),
        region=text(found, "state", here),
        postal_code=text(found, "postcode", here),
        country=country(text(found, "country", here)),
        phone=text(found, "phone", here),
    )
    return address or None
