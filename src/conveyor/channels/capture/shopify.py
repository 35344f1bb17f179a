"""Shopify orders (Admin REST JSON, webhook bodies) into `CapturedOrder`s. Pure: no database, no clock.

Accepted documents: a webhook body (one order object), `{"order": {...}}`, `{"orders": [...]}`, or a list of
orders, as bytes, text or parsed JSON. The mapping (see docs/marketplaces.md for the full table):

- external_id is the order `id` (stable, unique per shop); the order `name` ("#1001", what the merchant and the
  buyer quote) becomes the tag "shopify:1001" and is kept verbatim in `extra["name"]`.
- Lines: `sku`, `title` (with " - variant_title"), `variant_id` as `buyer_item` (so a channel profile can map
  lines without SKU), `quantity`, `price` as unit price, discount = the sum of `discount_allocations` (else
  `total_discount`), tax = the sum of `tax_lines`.
- Shipping = the sum of `shipping_lines[].price` less their `discount_allocations` (else `price -
  discounted_price`); their tax is kept in `extra["shipping_tax"]` (the order core has no shipping tax).
- Order-level discounts: Shopify allocates every discount to lines and shipping (`discount_allocations`).
  When `total_discounts` is larger than what is allocated (old orders, some apps), the remainder is kept in
  `extra["unallocated_discount"]` and NOT applied: nothing is spread over lines by guesswork.
- `taxes_included: true`: prices already contain the tax, and the core adds line tax on top; so lines carry
  tax 0 and the included tax is kept in `extra["included_tax"]`.
- Cancelled orders (`cancelled_at` set) are ignored; refunds, fulfillments, transactions, draft orders and
  other Shopify resources are ignored; broken orders are rejected with the JSON path.
"""

from __future__ import annotations

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
    flag,
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

# Webhook topics whose body is a whole order. Subscribe to orders/create; the others are harmless (a re-sent
# order is recognised by its id, a cancelled one is ignored).
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/cancelled"})

# Top-level keys of Shopify resources that are not orders.
_OTHER_RESOURCES = {
    "refund": "refund", "refunds": "refunds", "fulfillment": "fulfillment", "fulfillments": "fulfillments",
    "fulfillment_event": "fulfillment event", "fulfillment_events": "fulfillment events",
    "fulfillment_order": "fulfillment order", "fulfillment_orders": "fulfillment orders",
    "transaction": "transaction", "transactions": "transactions", "draft_order": "draft order",
    "draft_orders": "draft orders", "shipping_zones": "shipping zones", "customer": "customer",
    "customers": "customers", "product": "product", "products": "products", "checkout": "checkout",
    "checkouts": "checkouts", "order_edit": "order edit", "risks": "order risks", "count": "count",
}
# Keys only an order has (a bare object without any of them is some other resource).
_ORDER_KEYS = ("line_items", "order_number", "financial_status", "total_price", "subtotal_price")


def capture_shopify(data: bytes | str | object, *, name: str, delivery_id: str | None = None,
                    shop: str | None = None, topic: str | None = None) -> Iterator[Captured]:
    """Yields one `CapturedOrder`, `Rejected` or `Ignored` per order-sized piece of a Shopify document.

    `name` names the document in `where` (a file name, or e.g. "webhook 1b2c..."); `shop` is the shop domain
    (X-Shopify-Shop-Domain) and `delivery_id` the X-Shopify-Webhook-Id, both kept in `Control`. With `topic`
    (X-Shopify-Topic), a topic that carries no order is ignored without reading the body.
    """
    control = Control(standard="shopify", sender=shop, delivery_id=delivery_id)
    if topic is not None and topic not in ORDER_TOPICS:
        yield Ignored(name, f"Shopify webhook topic {topic!r} does not carry an order (subscribe to orders/create)",
                      control)
        return
    try:
        document = load(data)
    except Invalid as problem:
        yield rejected(name, problem, control)
        return
    yield from _pieces(document, name, control)


def _pieces(document: object, name: str, control: Control) -> Iterator[Captured]:
    if is_list(document):
        orders = as_list(document, "")
        if not orders:
            yield Ignored(name, "an empty list: no orders", control)
        for index, value in enumerate(orders):
            yield from _bare(value, at("", index), name, control)
        return
    if not isinstance(document, Mapping):
        yield Rejected(name, f"expected a Shopify order (a JSON object or list), found {type_name(document)}",
                       control=control, code="invalid_document")
        return
    if "id" in document or any(key in document for key in _ORDER_KEYS):
        yield from _bare(document, "", name, control)
    elif "orders" in document:
        orders_value = document["orders"]
        if not is_list(orders_value):
            yield rejected(name, Invalid("orders", f"expected a list of orders, found {type_name(orders_value)}"),
                           control)
            return
        if not orders_value:
            yield Ignored(where(name, "orders"), "an empty list: no orders", control)
        for index, value in enumerate(orders_value):
            yield _order(value, at("orders", index), name, control)
    elif "order" in document:
        yield _order(document["order"], "order", name, control)
    elif "errors" in document:
        yield Ignored(name, f"a Shopify error response: {str(document['errors'])[:200]}", control)
    else:
        for key, what in _OTHER_RESOURCES.items():
            if key in document:
                yield Ignored(name, f"not an order: Shopify {what} (top-level key {key!r})", control)
                return
        yield from _bare(document, "", name, control)


def _bare(value: object, path: str, name: str, control: Control) -> Iterator[Captured]:
    """A bare object (a webhook body, an element of a list): an order, or a resource that is not one."""
    if isinstance(value, Mapping):
        reason = _not_an_order(value)
        if reason:
            yield Ignored(where(name, path), reason, control)
            return
    yield _order(value, path, name, control)


def _not_an_order(value: Mapping[str, Any]) -> str | None:
    if "refund_line_items" in value:
        return "a Shopify refund, not an order"
    if "invoice_url" in value or "invoice_sent_at" in value:
        return "a Shopify draft order: it is sent as a new order (orders/create) when completed"
    if "abandoned_checkout_url" in value:
        return "a Shopify checkout: not an order until it is completed (then sent as orders/create)"
    if "tracking_number" in value or "tracking_numbers" in value:
        return "a Shopify fulfillment, not an order"
    if "kind" in value and "order_id" in value:
        return "a Shopify transaction, not an order"
    if "order_id" in value:
        return "a Shopify resource belonging to an order (it has order_id), not an order"
    if not any(key in value for key in _ORDER_KEYS):
        return f"not a Shopify order (keys: {keys_of(value)})"
    return None


def _order(value: object, path: str, name: str, control: Control) -> Captured:
    external_id: str | None = None
    try:
        order = as_object(value, path)
        external_id = identifier(order, "id", path, "order id")
        cancelled = text(order, "cancelled_at", path)
        if cancelled:
            reason = text(order, "cancel_reason", path)
            return Ignored(where(name, path), f"order {external_id} was cancelled at {cancelled}"
                           + (f" ({reason})" if reason else ""), control)
        return _map(order, external_id, path, name, control)
    except Invalid as problem:
        return rejected(name, problem, control, external_id)


def _map(order: Mapping[str, Any], external_id: str, path: str, name: str, control: Control) -> CapturedOrder:
    if order.get("line_items") is None:
        raise Invalid(at(path, "line_items"), "missing line_items: an order needs at least one line", "missing_field")
    raw_lines = as_list(order["line_items"], at(path, "line_items"))
    if not raw_lines:
        raise Invalid(at(path, "line_items"), "an order needs at least one line, line_items is empty",
                      "missing_field")
    taxes_included = flag(order, "taxes_included", path)
    lines: list[CapturedLine] = []
    included_tax: list[Decimal] = []
    for index, raw in enumerate(raw_lines):
        line = _line(raw, at(at(path, "line_items"), index))
        if taxes_included:
            included_tax.append(line.tax)
            line = CapturedLine(line.item, line.quantity, line.unit_price, line.unit, line.discount, Decimal(0),
                                line.line_ref, line.where)
        lines.append(line)
    shipping, shipping_discount, shipping_tax = _shipping(order, path)
    extra: dict[str, Any] = {}
    order_name = text(order, "name", path)
    for key, value in (("name", order_name), ("order_number", text(order, "order_number", path)),
                       ("financial_status", text(order, "financial_status", path)),
                       ("fulfillment_status", text(order, "fulfillment_status", path)),
                       ("document_total", amount(order, "total_price", path))):
        if value is not None:
            extra[key] = value
    _discounts(order, path, lines, shipping_discount, extra)
    if taxes_included:
        extra["taxes_included"] = True
        extra["included_tax"] = total([*included_tax, shipping_tax])
    elif shipping_tax:
        extra["shipping_tax"] = shipping_tax
    test = flag(order, "test", path)
    if test:
        extra["test"] = True
    customer, customer_id = _customer(order, path)
    if customer_id:
        extra["customer_id"] = customer_id
    return CapturedOrder(
        external_id=external_id,
        customer=customer,
        lines=tuple(lines),
        currency=text(order, "currency", path),
        ship_to=_address(order, "shipping_address", path),
        bill_to=_address(order, "billing_address", path),
        shipping=shipping,
        notes=text(order, "note", path),
        ordered_at=timestamp(order, "created_at", path),
        tags=tag("shopify", order_name) + (("test",) if test else ()),
        where=where(name, path),
        control=control,
        extra=extra,
    )


def _line(raw: object, path: str) -> CapturedLine:
    item = as_object(raw, path)
    title = text(item, "title", path)
    variant = text(item, "variant_title", path)
    description = f"{title} - {variant}" if title and variant else title or variant or text(item, "name", path)
    allocations = item.get("discount_allocations")
    if allocations is not None:
        discount = _allocated(allocations, at(path, "discount_allocations"))
    else:
        discount = amount(item, "total_discount", path) or Decimal(0)
    return CapturedLine(
        item=ItemRef(sku=text(item, "sku", path), buyer_item=text(item, "variant_id", path), description=description),
        quantity=quantity(item, "quantity", path),
        unit_price=amount(item, "price", path),
        discount=discount,
        tax=_taxes(item, path),
        line_ref=text(item, "id", path),
        where=path,
    )


def _allocated(value: object, path: str) -> Decimal:
    """The sum of `discount_allocations[].amount`."""
    amounts = []
    for index, raw in enumerate(as_list(value, path)):
        allocation = as_object(raw, at(path, index))
        found = amount(allocation, "amount", at(path, index))
        if found is None:
            raise Invalid(at(at(path, index), "amount"), "missing discount amount", "missing_field")
        amounts.append(found)
    return total(amounts)


def _taxes(parent: Mapping[str, Any], path: str) -> Decimal:
    """The sum of `tax_lines[].price`."""
    amounts = []
    for index, raw in enumerate(list_at(parent, "tax_lines", path)):
        line_path = at(at(path, "tax_lines"), index)
        amounts.append(amount(as_object(raw, line_path), "price", line_path) or Decimal(0))
    return total(amounts)


def _shipping(order: Mapping[str, Any], path: str) -> tuple[Decimal, Decimal, Decimal]:
    """(shipping after its discounts, the shipping discounts, the tax on shipping)."""
    prices, discounts, taxes = [], [], []
    for index, raw in enumerate(list_at(order, "shipping_lines", path)):
        line_path = at(at(path, "shipping_lines"), index)
        line = as_object(raw, line_path)
        price = amount(line, "price", line_path) or Decimal(0)
        if line.get("discount_allocations") is not None:
            discount = _allocated(line["discount_allocations"], at(line_path, "discount_allocations"))
        else:
            discounted = amount(line, "discounted_price", line_path)
            discount = price - discounted if discounted is not None else Decimal(0)
        if discount > price or discount < 0:
            raise Invalid(line_path, f"shipping discount {discount} does not fit the shipping price {price}")
        prices.append(price)
        discounts.append(discount)
        taxes.append(_taxes(line, line_path))
    discount_total = total(discounts)
    return total(prices) - discount_total, discount_total, total(taxes)


def _discounts(order: Mapping[str, Any], path: str, lines: list[CapturedLine], shipping_discount: Decimal,
               extra: dict[str, Any]) -> None:
    """Discount codes, and the part of `total_discounts` that no line or shipping line carries."""
    codes = []
    for index, raw in enumerate(list_at(order, "discount_codes", path)):
        code = text(as_object(raw, at(at(path, "discount_codes"), index)), "code", at(at(path, "discount_codes"),
                                                                                        index))
        if code:
            codes.append(code)
    if codes:
        extra["discount_codes"] = tuple(codes)
    order_discount = amount(order, "total_discounts", path)
    if order_discount is None:
        return
    allocated = total([*(line.discount for line in lines), shipping_discount])
    if order_discount > allocated:
        extra["unallocated_discount"] = order_discount - allocated


def _customer(order: Mapping[str, Any], path: str) -> tuple[PartyRef, str | None]:
    customer = object_at(order, "customer", path) or {}
    customer_path = at(path, "customer")
    billing = object_at(order, "billing_address", path) or {}
    shipping = object_at(order, "shipping_address", path) or {}
    email = (text(order, "email", path) or text(order, "contact_email", path)
             or text(customer, "email", customer_path))
    name = (join_name(text(customer, "first_name", customer_path), text(customer, "last_name", customer_path))
            or _person(billing, at(path, "billing_address")) or _person(shipping, at(path, "shipping_address")))
    phone = (text(customer, "phone", customer_path) or text(order, "phone", path)
             or text(billing, "phone", at(path, "billing_address")))
    return PartyRef(email=email, name=name, phone=phone), text(customer, "id", customer_path)


def _person(address: Mapping[str, Any], path: str) -> str | None:
    return text(address, "name", path) or join_name(text(address, "first_name", path),
                                                    text(address, "last_name", path))


def _address(order: Mapping[str, Any], key: str, path: str) -> AddressDict | None:
    found = object_at(order, key, path)
    if found is None:
        return None
    here = at(path, key)
    address = compact(
        name=_person(found, here),
        company=text(found, "company", here),
        line1=text(found, "address1", here),
        line2=text(found, "address2", here),
        city=text(found, "city", here),
        region=text(found, "province_code", here) or text(found, "province", here),
        postal_code=text(found, "zip", here),
        country=country(text(found, "country_code", here)),
        phone=text(found, "phone", here),
    )
    return address or None
