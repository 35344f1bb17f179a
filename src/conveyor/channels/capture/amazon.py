"""Amazon seller orders (Selling Partner API, Orders v0) into `CapturedOrder`s. Pure: no database, no clock.

The Orders API gives one order in separate responses: getOrder (the header), getOrderItems (the lines, maybe
in pages), getOrderAddress (the ship-to, restricted data) and getOrderBuyerInfo (email and name, restricted
data). `capture_amazon` takes them as the API returns them (with or without the `payload` wrapper);
`capture_amazon_document` reads one JSON file combining them, what `conveyor import orders --format amazon`
reads:

    {"order": <getOrder response>, "items": <getOrderItems response, or a list of its pages>,
     "address": <getOrderAddress response, optional>, "buyer": <getOrderBuyerInfo response, optional>}

or a list of such objects. The mapping (full table in docs/marketplaces.md):

- external_id = AmazonOrderId; currency = OrderTotal.CurrencyCode (else the items' currency; every amount
  must be in that currency).
- Lines: SellerSKU as `sku`, ASIN as `buyer_item` (Amazon's catalogue number: a channel profile maps it to our
  SKU when the SKU is not ours), Title, QuantityOrdered. ItemPrice.Amount is the price of the whole line:
  unit price = Amount / QuantityOrdered, rounded up to the amount's decimals when it does not divide evenly,
  with the rounding added to the discount so the line still totals Amount. Discount = PromotionDiscount,
  tax = ItemTax - PromotionDiscountTax. Items with QuantityOrdered 0 (cancelled items) are left out and
  counted in `extra["cancelled_items"]`.
- Shipping = the sum of the items' ShippingPrice - ShippingDiscount; shipping tax (ShippingTax -
  ShippingDiscountTax) is kept in `extra["shipping_tax"]`.
- OrderStatus Canceled: ignored. Pending and PendingAvailability: ignored, because Amazon gives neither the
  address nor final prices before the payment is authorised; the order is captured when it is Unshipped.
  Unfulfillable: ignored. FulfillmentChannel AFN (Fulfilled by Amazon): ignored, Amazon ships it.
- Other Amazon documents (Multi-Channel Fulfillment orders, vendor purchase orders and shipments,
  notifications, the Orders API 2026-01-01 shape) are ignored with a reason; a getOrder response without
  its items (or items without the order) is rejected as incomplete.
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
    identifier,
    is_list,
    keys_of,
    load,
    object_at,
    quantity,
    rejected,
    text,
    timestamp,
    to_decimal,
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

IGNORED_STATUSES = {
    "Canceled": "was cancelled",
    "Pending": "is Pending: the payment is not authorised yet and Amazon gives no address; it is captured "
               "once it is Unshipped",
    "PendingAvailability": "is a pre-order not yet released (PendingAvailability); it is captured once it is "
                           "Unshipped",
    "Unfulfillable": "is Unfulfillable",
}


def capture_amazon(order: object, items: object, address: object | None = None, buyer: object | None = None, *,
                   name: str) -> Iterator[Captured]:
    """Yields the `CapturedOrder` (or `Rejected`/`Ignored`) of one order given as its SP-API responses."""
    yield _combined(order, items, address, buyer, "", name)


def capture_amazon_document(data: bytes | str | object, *, name: str) -> Iterator[Captured]:
    """Reads a combined document ({"order", "items", "address", "buyer"}) or a list of them; see the module."""
    control = Control(standard="amazon")
    try:
        document = load(data)
    except Invalid as problem:
        yield rejected(name, problem, control)
        return
    if is_list(document):
        pieces = as_list(document, "")
        if not pieces:
            yield Ignored(name, "an empty list: no orders", control)
        for index, piece in enumerate(pieces):
            yield _piece(piece, at("", index), name)
    elif isinstance(document, Mapping):
        yield _piece(document, "", name)
    else:
        yield Rejected(name, f"expected an Amazon order document (a JSON object or list), found "
                             f"{type_name(document)}", control=control, code="invalid_document")


def _piece(value: object, path: str, name: str) -> Captured:
    control = Control(standard="amazon")
    if not isinstance(value, Mapping):
        return rejected(name, Invalid(path, f"expected an Amazon order document (an object), found "
                                            f"{type_name(value)}", "invalid_document"), control)
    if "order" in value and "items" in value:
        return _combined(value["order"], value["items"], value.get("address"), value.get("buyer"), path, name)
    kind = _other_shape(value)
    if kind is None:
        return Ignored(where(name, path), f"not an Amazon order document (keys: {keys_of(value)})", control)
    if kind.startswith("incomplete:"):
        return rejected(name, Invalid(path, kind.removeprefix("incomplete:"), "incomplete_order"), control)
    return Ignored(where(name, path), kind, control)


_COMBINED = ('combine the responses as {"order": <getOrder>, "items": <getOrderItems>, "address": '
             '<getOrderAddress>, "buyer": <getOrderBuyerInfo>}')


def _other_shape(value: Mapping[str, Any]) -> str | None:
    """Why a document that is not a combined order is ignored ("incomplete:..." when it is rejected)."""
    if "NotificationType" in value:
        return (f"an SP-API notification ({str(value['NotificationType'])[:40]}): it says an order changed; "
                "fetch the order with getOrder and getOrderItems")
    if "errors" in value and "payload" not in value:
        return f"an SP-API error response: {str(value['errors'])[:200]}"
    inner = value.get("payload", value.get("order", value))
    if not isinstance(inner, Mapping):
        return None
    if "fulfillmentOrder" in inner or "fulfillmentConfiguration" in inner or (
            "orders" in inner and is_list(inner["orders"]) and any(
            isinstance(o, Mapping) and "fulfillmentConfiguration" in o for o in inner["orders"])):
        return "a Multi-Channel Fulfillment order: the seller asks Amazon to ship it, it is not a sale to capture"
    if "purchaseOrderNumber" in inner or "ordersStatus" in inner or (
            "orders" in inner and is_list(inner["orders"]) and any(
            isinstance(o, Mapping) and "purchaseOrderNumber" in o for o in inner["orders"])):
        return "an Amazon Vendor (retail) purchase order or its status: not a seller order"
    if "shipments" in inner or "vendorShipmentIdentifier" in inner:
        return "Amazon Vendor shipments: not an order"
    if "orderId" in inner and "orderItems" in inner:
        return ("an Orders API 2026-01-01 order (orderId, orderItems): not read yet; fetch it with the Orders v0 "
                "operations getOrder and getOrderItems")
    if "AmazonOrderId" in inner and "OrderItems" in inner:
        return f"incomplete:a getOrderItems response without its order (getOrder); {_COMBINED}"
    if "AmazonOrderId" in inner and ("OrderStatus" in inner or "PurchaseDate" in inner):
        return f"incomplete:a getOrder response without its items (getOrderItems); {_COMBINED}"
    if "Orders" in inner:
        return f"incomplete:a getOrders response lists orders without their items; {_COMBINED} for each order"
    if "AmazonOrderId" in inner and "ShippingAddress" in inner:
        return "a getOrderAddress response alone: the address of an order, not an order"
    if "AmazonOrderId" in inner and ("BuyerEmail" in inner or "BuyerName" in inner):
        return "a getOrderBuyerInfo response alone: the buyer of an order, not an order"
    return None


def _payload(value: object, path: str) -> tuple[Mapping[str, Any], str]:
    """The `payload` of an SP-API response (or the value itself when it has no wrapper), and its path."""
    response = as_object(value, path)
    if response.get("errors") and response.get("payload") is None:
        raise Invalid(at(path, "errors"), f"an SP-API error response: {str(response['errors'])[:200]}",
                      "amazon_error")
    if "payload" in response:
        return as_object(response["payload"], at(path, "payload")), at(path, "payload")
    return response, path


def _combined(order_value: object, items_value: object, address_value: object | None, buyer_value: object | None,
              path: str, name: str) -> Captured:
    control = Control(standard="amazon")
    external_id: str | None = None
    try:
        order, order_path = _payload(order_value, at(path, "order"))
        external_id = identifier(order, "AmazonOrderId", order_path, "AmazonOrderId")
        control = Control(standard="amazon", sender=text(order, "MarketplaceId", order_path))
        status = text(order, "OrderStatus", order_path)
        if status in IGNORED_STATUSES:
            return Ignored(where(name, path), f"Amazon order {external_id} {IGNORED_STATUSES[status]}", control)
        if text(order, "FulfillmentChannel", order_path) == "AFN":
            return Ignored(where(name, path), f"Amazon order {external_id} is Fulfilled by Amazon (AFN): Amazon "
                                              "ships it", control)
        return _map(order, order_path, external_id, items_value, address_value, buyer_value, path, name, control)
    except Invalid as problem:
        return rejected(name, problem, control, external_id)


def _map(order: Mapping[str, Any], order_path: str, external_id: str, items_value: object,
         address_value: object | None, buyer_value: object | None, path: str, name: str,
         control: Control) -> CapturedOrder:
    currency = _order_currency(order, order_path)
    raw_items = _items(items_value, at(path, "items"), external_id)
    if not raw_items:
        raise Invalid(at(path, "items"), "an order needs at least one line, there are no OrderItems",
                      "missing_field")
    currency = currency or _first_currency(raw_items)
    lines: list[CapturedLine] = []
    shipping, shipping_tax = [], []
    cancelled = 0
    for raw, item_path in raw_items:
        item = as_object(raw, item_path)
        ship, ship_tax = _item_shipping(item, item_path, currency)
        shipping.append(ship)
        shipping_tax.append(ship_tax)
        if _cancelled(item, item_path):
            cancelled += 1
            continue
        lines.append(_line(item, item_path, currency))
    if not lines:
        raise Invalid(at(path, "items"), "every item has QuantityOrdered 0 (all cancelled)", "missing_field")
    address, address_path = _part(address_value, at(path, "address"), external_id)
    buyer, buyer_path = _part(buyer_value, at(path, "buyer"), external_id)
    if address is not None and address.get("ShippingAddress") is not None:
        ship_to = _address(address["ShippingAddress"], at(address_path, "ShippingAddress"))
    else:  # getOrder carries the address too when it was called with a restricted data token
        ship_to = _address(order.get("ShippingAddress"), at(order_path, "ShippingAddress"))
    extra = _extra(order, order_path, buyer, buyer_path)
    if cancelled:
        extra["cancelled_items"] = cancelled
    if total(shipping_tax):
        extra["shipping_tax"] = total(shipping_tax)
    return CapturedOrder(
        external_id=external_id,
        customer=_customer(order, order_path, buyer, buyer_path, ship_to),
        lines=tuple(lines),
        currency=currency,
        ship_to=ship_to,
        shipping=total(shipping),
        ordered_at=timestamp(order, "PurchaseDate", order_path),
        where=where(name, path),
        control=control,
        extra=extra,
    )


def _order_currency(order: Mapping[str, Any], path: str) -> str | None:
    order_total = object_at(order, "OrderTotal", path)
    return text(order_total, "CurrencyCode", at(path, "OrderTotal")) if order_total else None


def _first_currency(items: list[tuple[Any, str]]) -> str | None:
    for raw, _path in items:
        if isinstance(raw, Mapping) and isinstance(raw.get("ItemPrice"), Mapping):
            code = raw["ItemPrice"].get("CurrencyCode")
            if isinstance(code, str) and code.strip():
                return code.strip()
    return None


def _items(value: object, path: str, external_id: str) -> list[tuple[Any, str]]:
    """The OrderItems of one getOrderItems response or of a list of its pages, with their JSON paths."""
    pages = [(page, at(path, index)) for index, page in enumerate(as_list(value, path))] if is_list(value) \
        else [(value, path)]
    found: list[tuple[Any, str]] = []
    for number, (page, page_path) in enumerate(pages):
        payload, payload_path = _payload(page, page_path)
        _same_order(payload, payload_path, external_id)
        if "OrderItems" not in payload or payload["OrderItems"] is None:
            raise Invalid(at(payload_path, "OrderItems"), "missing OrderItems", "missing_field")
        items_path = at(payload_path, "OrderItems")
        found.extend((raw, at(items_path, index)) for index, raw in enumerate(as_list(payload["OrderItems"],
                                                                                       items_path)))
        if number == len(pages) - 1 and text(payload, "NextToken", payload_path):
            raise Invalid(at(payload_path, "NextToken"), "more OrderItems pages follow (NextToken): give every page "
                                                          "of getOrderItems", "incomplete_order")
    return found


def _part(value: object | None, path: str, external_id: str) -> tuple[Mapping[str, Any] | None, str]:
    """The payload of the address or buyer response (and its path), checked to belong to the order."""
    if value is None:
        return None, path
    payload, payload_path = _payload(value, path)
    _same_order(payload, payload_path, external_id)
    return payload, payload_path


def _same_order(payload: Mapping[str, Any], path: str, external_id: str) -> None:
    other = text(payload, "AmazonOrderId", path)
    if other is not None and other != external_id:
        raise Invalid(at(path, "AmazonOrderId"), f"belongs to order {other}, not to order {external_id}",
                      "mismatched_documents")


def _cancelled(item: Mapping[str, Any], path: str) -> bool:
    """An item with QuantityOrdered 0: Amazon keeps cancelled items of an order that way."""
    value = item.get("QuantityOrdered")
    return value is not None and to_decimal(value, at(path, "QuantityOrdered")) == 0


def _money(item: Mapping[str, Any], key: str, path: str, currency: str | None) -> Decimal | None:
    """The Amount of a Money object ({"CurrencyCode", "Amount"}), checked to be in the order's currency."""
    money = object_at(item, key, path)
    if money is None:
        return None
    here = at(path, key)
    code = text(money, "CurrencyCode", here)
    if currency and code and code != currency:
        raise Invalid(at(here, "CurrencyCode"), f"{code} differs from the order's currency {currency}")
    return amount(money, "Amount", here)


def _item_shipping(item: Mapping[str, Any], path: str, currency: str | None) -> tuple[Decimal, Decimal]:
    price = _money(item, "ShippingPrice", path, currency) or Decimal(0)
    discount = _money(item, "ShippingDiscount", path, currency) or Decimal(0)
    tax = _money(item, "ShippingTax", path, currency) or Decimal(0)
    discount_tax = _money(item, "ShippingDiscountTax", path, currency) or Decimal(0)
    if discount > price:
        raise Invalid(at(path, "ShippingDiscount"), f"shipping discount {discount} is larger than the shipping "
                                                    f"price {price}")
    return price - discount, max(tax - discount_tax, Decimal(0))


def _line(item: Mapping[str, Any], path: str, currency: str | None) -> CapturedLine:
    qty = quantity(item, "QuantityOrdered", path)
    line_price = _money(item, "ItemPrice", path, currency)
    discount = _money(item, "PromotionDiscount", path, currency) or Decimal(0)
    tax = (_money(item, "ItemTax", path, currency) or Decimal(0)) - (
        _money(item, "PromotionDiscountTax", path, currency) or Decimal(0))
    if tax < 0:
        raise Invalid(at(path, "PromotionDiscountTax"), "PromotionDiscountTax is larger than ItemTax")
    price: Decimal | None = None
    if line_price is not None:
        price, rounding = unit_price(line_price, qty, currency)
        discount += rounding
    return CapturedLine(
        item=ItemRef(sku=text(item, "SellerSKU", path), buyer_item=text(item, "ASIN", path),
                     description=text(item, "Title", path)),
        quantity=qty,
        unit_price=price,
        discount=discount,
        tax=tax,
        line_ref=text(item, "OrderItemId", path),
        where=path,
    )


def _address(value: object, path: str) -> AddressDict | None:
    if value is None:
        return None
    found = as_object(value, path)
    second = [part for part in (text(found, "AddressLine2", path), text(found, "AddressLine3", path)) if part]
    address = compact(
        name=text(found, "Name", path),
        company=text(found, "CompanyName", path),
        line1=text(found, "AddressLine1", path),
        line2=", ".join(second) or None,
        city=text(found, "City", path),
        region=text(found, "StateOrRegion", path),
        postal_code=text(found, "PostalCode", path),
        country=country(text(found, "CountryCode", path)),
        phone=text(found, "Phone", path),
    )
    return address or None


def _customer(order: Mapping[str, Any], order_path: str, buyer: Mapping[str, Any] | None, buyer_path: str,
              ship_to: AddressDict | None) -> PartyRef:
    info = buyer
    info_path = buyer_path if buyer is not None else at(order_path, "BuyerInfo")
    if info is None:
        info = object_at(order, "BuyerInfo", order_path) or {}
    email = text(info, "BuyerEmail", info_path)
    name = text(info, "BuyerName", info_path) or (ship_to or {}).get("name")
    phone = (ship_to or {}).get("phone")
    return PartyRef(email=email, name=name, phone=phone)


def _extra(order: Mapping[str, Any], path: str, buyer: Mapping[str, Any] | None, buyer_path: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key, source in (("marketplace_id", "MarketplaceId"), ("sales_channel", "SalesChannel"),
                        ("fulfillment_channel", "FulfillmentChannel"), ("status", "OrderStatus"),
                        ("seller_order_id", "SellerOrderId"), ("order_type", "OrderType"),
                        ("ship_service_level", "ShipServiceLevel"), ("latest_ship_date", "LatestShipDate"),
                        ("latest_delivery_date", "LatestDeliveryDate")):
        value = text(order, source, path)
        if value is not None:
            extra[key] = value
    order_total = object_at(order, "OrderTotal", path)
    if order_total:
        document_total = amount(order_total, "Amount", at(path, "OrderTotal"))
        if document_total is not None:
            extra["document_total"] = document_total
    purchase_order = text(buyer, "PurchaseOrderNumber", buyer_path) if buyer else None
    if purchase_order:
        extra["purchase_order"] = purchase_order
    for key, source in (("business_order", "IsBusinessOrder"), ("prime", "IsPrime")):
        if order.get(source) is True:
            extra[key] = True
    return extra
