"""Automatic order review as values: rules, the facts they read, and what they decided. Pure: no I/O, no clock.

A rule is a built-in check (`RuleKind`) with parameters a manager sets on a screen, or a `condition` over the
order, its customer and its lines. When a rule's condition is met, its outcome applies:
- `approve`: the order is approved by this rule; rules below it are not evaluated (holds found by rules
  above it still stand);
- `hold`: the order is held with the rule's reason code;
- `check`: the order is held until someone records the named check (e.g. "call the customer") as done.
Rules run in priority order (lower number first, then rule number). A rule that fails with an error holds the
order with reason `rule_error`; it never approves it. An order that no rule holds is approved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class RuleKind(StrEnum):
    CREDIT_LIMIT = "credit_limit"            # open exposure + this order over the customer's credit limit
    CREDIT_RATING = "credit_rating"          # customer's rating worse than allowed, or terms needing a check
    ORDER_VALUE = "order_value"              # order total at or over a threshold
    ORDER_QUANTITY = "order_quantity"        # total units or units on one line at or over a threshold
    FIRST_ORDER = "first_order"              # the customer's first order, at or over a value
    UNUSUAL_ORDER = "unusual_order"          # far larger than this customer's usual order
    ADDRESS_FIELDS = "address_fields"        # fields a country's carriers need (phone, region, ...)
    POSTAL_CODE = "postal_code"              # postal code does not match the country's format
    PO_BOX = "po_box"                        # a PO box with a shipping service that refuses them
    NEW_SHIP_TO = "new_ship_to"              # ship-to is none of the customer's known addresses
    VELOCITY = "velocity"                    # too many orders per customer or address within some hours
    COUNTRY_MISMATCH = "country_mismatch"    # billing and shipping countries differ
    NEW_CUSTOMER_HIGH_VALUE = "new_customer_high_value"  # a recent customer with a high-value order
    LICENCE = "licence"                      # a regulated SKU without a valid customer licence on the order date
    COLD_CHAIN = "cold_chain"                # a cold-chain SKU without a temperature-controlled service
    EXPORT_RESTRICTION = "export_restriction"  # shipping to a restricted country
    PROBABLE_DUPLICATE = "probable_duplicate"  # capture flagged it as a probable duplicate
    CONDITION = "condition"                  # a manager's own condition over order, customer and lines


class Outcome(StrEnum):
    APPROVE = "approve"
    HOLD = "hold"
    CHECK = "check"


class Reason(StrEnum):
    """Hold reason codes: the exception queue groups by them."""

    CREDIT = "credit"
    ORDER_VALUE = "order_value"
    ADDRESS = "address"
    FRAUD = "fraud"
    COMPLIANCE = "compliance"
    DUPLICATE = "duplicate"
    CHECK = "check"                  # a named check is required
    OTHER = "other"
    RULE_ERROR = "rule_error"        # a rule failed to evaluate: held, never approved
    PREPAYMENT = "prepayment"        # a reviewer asked the customer to pay first


class Status(StrEnum):
    """One rule's result on one order."""

    PASSED = "passed"        # condition not met
    APPROVED = "approved"    # condition met, outcome approve: evaluation stopped here
    HELD = "held"            # condition met, outcome hold
    CHECK = "check"          # condition met, outcome check
    ERROR = "error"          # the rule raised: held with reason rule_error
    SKIPPED = "skipped"      # below an approving rule: not evaluated


@dataclass(frozen=True)
class Rule:
    rule_no: int               # stable across versions and rule sets; shown as R<rule_no>
    version: int               # goes up with every published change of this rule
    name: str
    kind: RuleKind
    params: Mapping[str, Any]  # checked and normalised by catalogue.check_rule
    outcome: Outcome
    reason: str                # a Reason value (the hold's reason code when the outcome is hold)
    priority: int = 100        # lower runs first
    enabled: bool = True
    check: str | None = None   # the named check, when the outcome is check

    @property
    def label(self) -> str:
        return f"R{self.rule_no} v{self.version}"


@dataclass(frozen=True)
class Licence:
    kind: str                  # e.g. "pharmacy", "alcohol"; matched against the rule's licence kind if it sets one
    number: str
    valid_from: date | None = None
    valid_until: date | None = None  # inclusive

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until)


@dataclass(frozen=True)
class CustomerFacts:
    id: int
    account: str
    name: str
    rating: str                # A (best) to E
    payment_terms: str         # prepaid, net15, net30, net60
    credit_limit_minor: int    # in the customer's currency
    currency: str
    created_at: datetime
    licences: tuple[Licence, ...] = ()
    known_address_keys: frozenset[str] = frozenset()  # saved addresses and earlier orders' ship-tos


@dataclass(frozen=True)
class HistoryFacts:
    """The customer's orders before this one (cancelled ones not counted)."""

    previous_orders: int = 0
    previous_total_minor: int = 0          # sum of their totals in this order's currency
    previous_in_currency: int = 0          # how many of them are in this order's currency
    open_exposure_minor: int = 0           # orders not closed or cancelled, in the customer's currency
    recent_customer_orders: tuple[datetime, ...] = ()  # created_at of the customer's recent orders
    recent_address_orders: tuple[datetime, ...] = ()   # created_at of recent orders to this ship-to, any customer

    @property
    def average_total_minor(self) -> int | None:
        if self.previous_in_currency == 0:
            return None
        return self.previous_total_minor // self.previous_in_currency


@dataclass(frozen=True)
class LineFacts:
    line_no: int
    sku: str
    quantity: int
    total_minor: int
    product_id: int | None = None   # None: not mapped to the catalog
    regulated: bool = False
    cold_chain: bool = False
    hazardous: bool = False


@dataclass(frozen=True)
class OrderFacts:
    """Everything a rule may read about one order."""

    at: datetime                      # when the order was placed (the order date for licences)
    channel: str
    currency: str
    total_minor: int
    lines: tuple[LineFacts, ...]
    ship_to: Mapping[str, Any]        # Address.as_dict() shape
    bill_to: Mapping[str, Any]
    address_key: str                  # review.addresses.address_key(ship_to)
    customer: CustomerFacts
    history: HistoryFacts = field(default_factory=HistoryFacts)
    order_id: int | None = None       # None during intake (not stored yet)
    shipping_service: str | None = None
    tags: tuple[str, ...] = ()
    duplicate_of: int | None = None   # capture found an earlier order with the same fingerprint


@dataclass(frozen=True)
class RuleResult:
    rule_no: int
    version: int
    name: str
    kind: RuleKind
    status: Status
    message: str                       # why, in words a reviewer understands
    reason: str | None = None          # hold reason code (held, check, error)
    check: str | None = None

    @property
    def stops(self) -> bool:
        return self.status in (Status.HELD, Status.CHECK, Status.ERROR)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule_no, "version": self.version, "name": self.name, "kind": self.kind.value,
                "status": self.status.value, "message": self.message, "reason": self.reason, "check": self.check}


@dataclass(frozen=True)
class Decision:
    results: tuple[RuleResult, ...]

    @property
    def holds(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.stops)

    @property
    def approved(self) -> bool:
        return not self.holds

    @property
    def approved_by(self) -> RuleResult | None:
        return next((r for r in self.results if r.status is Status.APPROVED), None)

    def summary(self) -> str:
        if self.approved:
            by = self.approved_by
            return f"Approved by {by.name} (R{by.rule_no} v{by.version})" if by else \
                f"Approved: {len(self.results)} rules passed"
        return "Held: " + "; ".join(f"{h.message} (R{h.rule_no} v{h.version})" for h in self.holds)
