"""What every channel adapter produces: captured orders, rejections and ignored documents. Pure.

An adapter reads a document (a webhook body, a file of REST JSON, an X12 interchange, an EDIFACT
interchange, a CSV or Excel file) and yields, in document order, one item per order-sized piece:

- `CapturedOrder`: a purchase order translated as faithfully as the document allows. Nothing is looked up:
  the customer and the items are references (`PartyRef`, `ItemRef`) that the core resolves against the
  catalog, the customers and the trading-partner profiles. A line whose item cannot be resolved is kept
  (the order is held for item mapping), never dropped.
- `Rejected`: a piece that is broken (syntax, envelope, missing or invalid required data). Nothing of it is
  imported. `where` names the file and the line, segment or JSON path; `reason` says what was expected and
  what was found.
- `Ignored`: a well-formed piece that is not an order (an 810 invoice or a 997 in an X12 file, a refund
  JSON), listed so the user sees it was seen.

`Control` carries the envelope identity of EDI documents (and webhook delivery ids) for idempotency and
for the acknowledgements the standards expect back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# The address keys the core understands (conveyor.kernel.address.Address): name, line1, city, postal_code,
# country (ISO 3166-1 alpha-2) and optionally company, line2, region, phone. Adapters put what the document
# has under these keys, leave out what it does not have, and never invent values.
AddressDict = Mapping[str, Any]


@dataclass(frozen=True)
class ItemRef:
    """How the document names an item. The core tries, in this order: sku, vendor_item (the seller's part
    number, usually our SKU), gtin (EAN/UPC/GTIN-8..14), then the partner profile's buyer_item mapping."""

    sku: str | None = None
    vendor_item: str | None = None
    gtin: str | None = None
    buyer_item: str | None = None
    description: str | None = None

    def label(self) -> str:
        """The best text to show for this item, e.g. on an unmapped line."""
        for value in (self.sku, self.vendor_item, self.gtin, self.buyer_item, self.description):
            if value:
                return value
        return "(no item id)"


@dataclass(frozen=True)
class CapturedLine:
    item: ItemRef
    quantity: Decimal  # in `unit`; the core converts with the partner's unit of measure table
    unit_price: Decimal | None = None  # per `unit`, in the order's currency; None when the document has none
    unit: str | None = None  # the document's unit-of-measure code (EA, CS, PCE, ...); None means each
    discount: Decimal = Decimal(0)  # for the whole line
    tax: Decimal = Decimal(0)  # for the whole line
    line_ref: str | None = None  # the document's own line id (PO101, LIN01, line_items[].id), echoed in acks
    where: str = ""  # e.g. "segment 14 (PO1)", "line 7", "line_items[2]"


@dataclass(frozen=True)
class PartyRef:
    """Who ordered. The core resolves, in order: account, then partner_id through the trading-partner profile,
    then email, and otherwise creates a customer from name/email/phone (web shops and marketplaces)."""

    account: str | None = None
    partner_id: str | None = None  # EDI: "ISA06 qualifier:id" style, e.g. "ZZ:ACME" or a GLN "14:5412345000013"
    email: str | None = None
    name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Control:
    """Envelope identity: idempotency (a re-sent document creates nothing new) and acknowledgements."""

    standard: str  # "x12", "edifact", "shopify", "woocommerce", "amazon", "csv"
    sender: str | None = None  # X12 ISA05:ISA06 / EDIFACT UNB02; webhook: shop domain or source URL
    receiver: str | None = None
    interchange: str | None = None  # ISA13 / UNB05
    group: str | None = None  # GS06 / UNG05
    transaction: str | None = None  # ST02 / UNH01
    message_type: str | None = None  # "850", "ORDERS:D:96A:UN:EAN008"
    version: str | None = None  # GS08 "004010VICS" / UNB01 "UNOC:3"
    delivery_id: str | None = None  # webhook delivery id (X-Shopify-Webhook-Id, X-WC-Webhook-Delivery-ID)

    def key(self) -> str:
        """One string naming this document piece uniquely for its sender (used in the capture log)."""
        parts = [self.standard, self.sender or "", self.receiver or "", self.interchange or "", self.group or "",
                 self.transaction or "", self.delivery_id or ""]
        return "|".join(parts)


@dataclass(frozen=True)
class CapturedOrder:
    external_id: str  # the buyer's order number (BEG03, BGM02, Shopify id/name, AmazonOrderId, CSV order id)
    customer: PartyRef
    lines: tuple[CapturedLine, ...]
    currency: str | None = None  # None: the channel's or partner's default
    ship_to: AddressDict | None = None
    bill_to: AddressDict | None = None
    shipping: Decimal = Decimal(0)
    notes: str | None = None
    requested_delivery_date: date | None = None
    ordered_at: datetime | None = None
    tags: tuple[str, ...] = ()
    where: str = ""  # e.g. "orders.x12: interchange 000000001, group 1, transaction 0001 (segments 3-40)"
    control: Control | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # adapter-specific facts worth keeping (ack needs)

    @property
    def units(self) -> Decimal:
        return sum((line.quantity for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class Rejected:
    where: str
    reason: str
    external_id: str | None = None
    control: Control | None = None
    code: str = "rejected"  # machine-readable: e.g. "x12_syntax", "missing_element", "invalid_json"


@dataclass(frozen=True)
class Ignored:
    where: str
    reason: str
    control: Control | None = None


Captured = CapturedOrder | Rejected | Ignored


# What the core decided about a captured order, for the acknowledgements a partner expects back
# (X12 855, EDIFACT ORDRSP). Built by the core after placing; read by the acknowledgement writers.
LINE_STATUSES = ("accepted", "changed", "backordered", "rejected")
ORDER_STATUSES = ("accepted", "changed", "rejected")


@dataclass(frozen=True)
class LineDecision:
    line_ref: str | None  # CapturedLine.line_ref, echoed back
    status: str  # one of LINE_STATUSES
    quantity: Decimal  # the quantity confirmed (0 when rejected), in the line's document unit
    ordered: Decimal  # the quantity the partner ordered, in the same unit
    unit: str | None = None
    unit_price: Decimal | None = None
    item: ItemRef = field(default_factory=ItemRef)
    reason: str | None = None


@dataclass(frozen=True)
class OrderDecision:
    status: str  # one of ORDER_STATUSES: accepted (every line as ordered), changed (some lines not), rejected
    external_id: str  # the partner's order number
    order_number: str | None  # ours (SO-000123), None when rejected
    lines: tuple[LineDecision, ...]
    reason: str | None = None
