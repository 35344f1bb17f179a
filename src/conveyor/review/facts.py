"""Reading what review rules need about a batch of orders, with a fixed number of statements per batch.

Intake reviews orders before they are stored; what-if reviews stored ones. Both describe each order as a
`Subject` and get `OrderFacts` back. History is as of each order's own time: earlier orders of the customer
(cancelled ones not counted), recent orders of the customer and to the same address. Open exposure too: the
customer's orders placed before and not yet closed or cancelled at that time (an order's stage_entered_at is
when it reached its final stage, and nothing leaves a final stage).
Only what the rule set needs (`FactNeeds`) is read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.engine import Connection

from conveyor.catalog.tables import products
from conveyor.channels.tables import channels
from conveyor.customers.tables import customer_addresses, customer_licences, customers
from conveyor.orders.lifecycle import Stage
from conveyor.orders.tables import order_lines, orders
from conveyor.platform.db import custom_plans
from conveyor.review.addresses import address_key
from conveyor.review.catalogue import FactNeeds
from conveyor.review.model import CustomerFacts, HistoryFacts, Licence, LineFacts, OrderFacts

_CLOSED = (Stage.CLOSED.value, Stage.CANCELLED.value)


@dataclass(frozen=True)
class SubjectLine:
    line_no: int
    sku: str
    product_id: int | None
    quantity: int
    total_minor: int


@dataclass(frozen=True)
class Subject:
    """One order to review, as intake or the order table knows it."""

    customer_id: int
    channel: str
    currency: str
    total_minor: int
    lines: tuple[SubjectLine, ...]
    ship_to: Mapping[str, Any]
    bill_to: Mapping[str, Any]
    at: datetime
    order_id: int | None = None  # None: not stored yet (intake)
    shipping_service: str | None = None
    tags: tuple[str, ...] = ()
    duplicate_of: int | None = None
    stage: str | None = None  # a stored order's stage (its own total leaves the open exposure if still open)


_CUSTOMERS = select(customers.c.id, customers.c.account, customers.c.name, customers.c.credit_rating,
                    customers.c.payment_terms, customers.c.credit_limit_minor, customers.c.currency,
                    customers.c.created_at).where(customers.c.id.in_(bindparam("ids", expanding=True)))
_FLAGS = select(products.c.id, products.c.regulated, products.c.cold_chain, products.c.hazardous).where(
    products.c.id.in_(bindparam("ids", expanding=True)))
_LICENCES = select(customer_licences).where(customer_licences.c.customer_id.in_(bindparam("ids", expanding=True)))
_SAVED_ADDRESSES = select(customer_addresses).where(
    customer_addresses.c.customer_id.in_(bindparam("ids", expanding=True)))
_ORDERED_TO = (select(orders.c.customer_id, orders.c.address_key, func.min(orders.c.id).label("first_id"))
               .where(orders.c.customer_id.in_(bindparam("ids", expanding=True)),
                      orders.c.address_key.in_(bindparam("keys", expanding=True)))
               .group_by(orders.c.customer_id, orders.c.address_key))
# Orders before `cutoff`, per customer and currency (an index range on ix_orders_customer_created).
_HISTORY_BEFORE = (select(orders.c.customer_id, orders.c.currency, func.count().label("n"),
                          func.coalesce(func.sum(orders.c.total_minor), 0).label("total"))
                   .where(orders.c.customer_id.in_(bindparam("ids", expanding=True)),
                          orders.c.created_at < bindparam("cutoff"), orders.c.stage != Stage.CANCELLED.value)
                   .group_by(orders.c.customer_id, orders.c.currency))
_ORDERS_BETWEEN = (select(orders.c.id, orders.c.customer_id, orders.c.currency, orders.c.total_minor,
                          orders.c.created_at, orders.c.stage)
                   .where(orders.c.customer_id.in_(bindparam("ids", expanding=True)),
                          orders.c.created_at >= bindparam("since"), orders.c.created_at <= bindparam("until")))
_EXPOSURE = (select(orders.c.customer_id, orders.c.currency, func.coalesce(func.sum(orders.c.total_minor), 0)
                    .label("total"))
             .where(orders.c.customer_id.in_(bindparam("ids", expanding=True)), orders.c.stage.notin_(_CLOSED))
             .group_by(orders.c.customer_id, orders.c.currency))
# Orders that were open at some moment of [since, until]: placed by then, and not finished before `since`.
_OPEN_DURING = (select(orders.c.id, orders.c.customer_id, orders.c.currency, orders.c.total_minor,
                       orders.c.created_at, orders.c.stage, orders.c.stage_entered_at)
                .where(orders.c.customer_id.in_(bindparam("ids", expanding=True)),
                       orders.c.created_at <= bindparam("until"),
                       or_(orders.c.stage.notin_(_CLOSED), orders.c.stage_entered_at > bindparam("since"))))
_TO_ADDRESS = (select(orders.c.id, orders.c.address_key, orders.c.created_at)
               .where(orders.c.address_key.in_(bindparam("keys", expanding=True)),
                      orders.c.created_at >= bindparam("since"), orders.c.created_at <= bindparam("until")))


def build_facts(conn: Connection, subjects: Sequence[Subject], needs: FactNeeds) -> list[OrderFacts]:
    """Facts for each subject, in order; a handful of statements whatever the number of subjects."""
    if not subjects:
        return []
    ids = sorted({s.customer_id for s in subjects})
    keys = [address_key(s.ship_to) for s in subjects]
    with custom_plans(conn):  # per-batch lists over ever-growing order tables
        people = {int(r.id): r for r in conn.execute(_CUSTOMERS, {"ids": ids})}
        flags = _product_flags(conn, subjects)
        licences = _licences(conn, ids) if needs.licences else {}
        known = _known_addresses(conn, ids, sorted(set(keys))) if needs.known_addresses else {}
        history = _History.load(conn, ids, subjects, needs)
        to_address = _to_address(conn, subjects, keys, needs.address_hours) if needs.address_hours else {}
    result = []
    for s, key in zip(subjects, keys, strict=True):
        person = people[s.customer_id]
        customer = CustomerFacts(
            id=s.customer_id, account=str(person.account), name=str(person.name), rating=str(person.credit_rating),
            payment_terms=str(person.payment_terms), credit_limit_minor=int(person.credit_limit_minor),
            currency=str(person.currency), created_at=person.created_at,
            licences=tuple(licences.get(s.customer_id, ())),
            known_address_keys=frozenset(k for k, first in known.get(s.customer_id, {}).items()
                                         if s.order_id is None or first is None or first < s.order_id))
        result.append(OrderFacts(
            at=s.at, channel=s.channel, currency=s.currency, total_minor=s.total_minor,
            lines=tuple(LineFacts(line.line_no, line.sku, line.quantity, line.total_minor, line.product_id,
                                  *flags.get(line.product_id or 0, (False, False, False))) for line in s.lines),
            ship_to=s.ship_to, bill_to=s.bill_to, address_key=key, customer=customer,
            history=history.of(s, person.currency, needs, to_address.get(key, ())),
            order_id=s.order_id, shipping_service=s.shipping_service, tags=s.tags, duplicate_of=s.duplicate_of))
    return result


def _product_flags(conn: Connection, subjects: Sequence[Subject]) -> dict[int, tuple[bool, bool, bool]]:
    ids = sorted({line.product_id for s in subjects for line in s.lines if line.product_id is not None})
    if not ids:
        return {}
    return {int(r.id): (bool(r.regulated), bool(r.cold_chain), bool(r.hazardous))
            for r in conn.execute(_FLAGS, {"ids": ids})}


def _licences(conn: Connection, ids: list[int]) -> dict[int, list[Licence]]:
    found: dict[int, list[Licence]] = defaultdict(list)
    for r in conn.execute(_LICENCES, {"ids": ids}):
        found[int(r.customer_id)].append(Licence(r.kind, r.number, r.valid_from, r.valid_until))
    return found


def _known_addresses(conn: Connection, ids: list[int], keys: list[str]) -> dict[int, dict[str, int | None]]:
    """customer -> address key -> id of the first order sent there (None: a saved address)."""
    known: dict[int, dict[str, int | None]] = defaultdict(dict)
    for r in conn.execute(_ORDERED_TO, {"ids": ids, "keys": keys}):
        known[int(r.customer_id)][str(r.address_key)] = int(r.first_id)
    for r in conn.execute(_SAVED_ADDRESSES, {"ids": ids}):
        known[int(r.customer_id)][address_key(dict(r._mapping))] = None
    return known


def _to_address(conn: Connection, subjects: Sequence[Subject], keys: list[str],
                hours: int) -> dict[str, list[tuple[int, datetime]]]:
    since = min(s.at for s in subjects) - timedelta(hours=hours)
    until = max(s.at for s in subjects)
    found: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    for r in conn.execute(_TO_ADDRESS, {"keys": sorted(set(keys)), "since": since, "until": until}):
        found[str(r.address_key)].append((int(r.id), r.created_at))
    return found


@dataclass
class _History:
    before: dict[tuple[int, str], tuple[int, int]]  # (customer, currency) -> (orders, total) before the cutoff
    window: dict[int, list[Any]]  # customer -> their orders from the cutoff (or velocity start) on
    exposure: dict[tuple[int, str], int]  # intake: open now
    open_during: dict[int, list[Any]]  # stored orders: the customer's orders open at some time of the span
    cutoff: datetime

    @classmethod
    def load(cls, conn: Connection, ids: list[int], subjects: Sequence[Subject], needs: FactNeeds) -> _History:
        earliest = min(s.at for s in subjects)
        latest = max(s.at for s in subjects)
        # Intake: every subject is "now" and not stored, so all earlier orders are before the cutoff. What-if:
        # orders inside the batch's time span are read one by one and counted only before each order.
        cutoff = earliest if any(s.order_id is not None for s in subjects) else latest + timedelta(microseconds=1)
        before: dict[tuple[int, str], tuple[int, int]] = {}
        if needs.history:
            before = {(int(r.customer_id), str(r.currency)): (int(r.n), int(r.total))
                      for r in conn.execute(_HISTORY_BEFORE, {"ids": ids, "cutoff": cutoff})}
        window: dict[int, list[Any]] = defaultdict(list)
        since = min(cutoff, earliest - timedelta(hours=needs.customer_hours))
        if needs.history or needs.customer_hours:
            for r in conn.execute(_ORDERS_BETWEEN, {"ids": ids, "since": since, "until": latest}):
                window[int(r.customer_id)].append(r)
        exposure: dict[tuple[int, str], int] = {}
        open_during: dict[int, list[Any]] = defaultdict(list)
        if needs.exposure and any(s.order_id is not None for s in subjects):
            for row in conn.execute(_OPEN_DURING, {"ids": ids, "since": earliest, "until": latest}):
                open_during[int(row.customer_id)].append(row)
        elif needs.exposure:
            exposure = {(int(r.customer_id), str(r.currency)): int(r.total)
                        for r in conn.execute(_EXPOSURE, {"ids": ids})}
        return cls(before, window, exposure, open_during, cutoff)

    def of(self, s: Subject, customer_currency: str, needs: FactNeeds,
           to_address: Sequence[tuple[int, datetime]]) -> HistoryFacts:
        def earlier(order_id: int, at: datetime) -> bool:
            return at < s.at or (at == s.at and s.order_id is not None and order_id < s.order_id)

        count_all = sum(n for (c, _), (n, _) in self.before.items() if c == s.customer_id)
        count_cur, total_cur = self.before.get((s.customer_id, s.currency), (0, 0))
        recent: list[datetime] = []
        for r in self.window.get(s.customer_id, ()):
            if r.id == s.order_id or not earlier(int(r.id), r.created_at):
                continue
            if r.created_at >= self.cutoff and r.stage != Stage.CANCELLED.value:
                count_all += 1
                if r.currency == s.currency:
                    count_cur += 1
                    total_cur += int(r.total_minor)
            if needs.customer_hours and r.created_at > s.at - timedelta(hours=needs.customer_hours):
                recent.append(r.created_at)
        if s.order_id is None:
            exposure = self.exposure.get((s.customer_id, customer_currency), 0)
        else:  # as it stood when the order was placed
            exposure = sum(int(r.total_minor) for r in self.open_during.get(s.customer_id, ())
                           if r.currency == customer_currency and r.id != s.order_id
                           and earlier(int(r.id), r.created_at)
                           and (r.stage not in _CLOSED or r.stage_entered_at > s.at))
        return HistoryFacts(
            previous_orders=count_all, previous_total_minor=total_cur, previous_in_currency=count_cur,
            open_exposure_minor=exposure, recent_customer_orders=tuple(sorted(recent)),
            recent_address_orders=tuple(sorted(at for oid, at in to_address
                                               if oid != s.order_id and earlier(oid, at))))


_STORED = (select(orders.c.id, orders.c.customer_id, orders.c.currency, orders.c.total_minor, orders.c.ship_to,
                  orders.c.bill_to, orders.c.created_at, orders.c.shipping_service, orders.c.tags,
                  orders.c.stage, channels.c.code.label("channel"))
           .join(channels, channels.c.id == orders.c.channel_id)
           .where(orders.c.id.in_(bindparam("ids", expanding=True))).order_by(orders.c.id))
_STORED_LINES = select(order_lines.c.order_id, order_lines.c.line_no, order_lines.c.sku, order_lines.c.product_id,
                       order_lines.c.quantity, order_lines.c.total_minor).where(
    order_lines.c.order_id.in_(bindparam("ids", expanding=True))).order_by(order_lines.c.order_id,
                                                                           order_lines.c.line_no)


def subjects_of_orders(conn: Connection, order_ids: Sequence[int]) -> list[Subject]:
    """Stored orders as review subjects (a probable duplicate is known by its tag)."""
    if not order_ids:
        return []
    ids = sorted(set(order_ids))
    lines: dict[int, list[SubjectLine]] = defaultdict(list)
    for r in conn.execute(_STORED_LINES, {"ids": ids}):
        lines[int(r.order_id)].append(SubjectLine(int(r.line_no), str(r.sku), r.product_id, int(r.quantity),
                                                  int(r.total_minor)))
    return [Subject(customer_id=int(r.customer_id), channel=str(r.channel), currency=str(r.currency),
                    total_minor=int(r.total_minor), lines=tuple(lines[int(r.id)]), ship_to=r.ship_to,
                    bill_to=r.bill_to, at=r.created_at, order_id=int(r.id), shipping_service=r.shipping_service,
                    tags=tuple(r.tags or ()), stage=str(r.stage))
            for r in conn.execute(_STORED, {"ids": ids})]


def facts_for_orders(conn: Connection, order_ids: Sequence[int], needs: FactNeeds) -> dict[int, OrderFacts]:
    """Facts of stored orders (what-if, or review again after a correction), history as of each order's time."""
    subjects = subjects_of_orders(conn, order_ids)
    return {s.order_id: f for s, f in zip(subjects, build_facts(conn, subjects, needs), strict=True)
            if s.order_id is not None}


