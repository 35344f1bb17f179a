"""Placing orders: one, or a whole batch in one transaction (group commit).

An order is checked (channel, customer, catalog, scope, duplicates), stored in stage 'received' with its
lines, timeline and outbox event, and its stock reserved in the same transaction, following the
customer's or channel's shortage policy. `place_orders` does this for many orders with a fixed number of
statements per batch rather than per order: one read of the reference data, one locking read of every
balance the batch needs (in the one balance order, so batches never deadlock), then pure planning in
arrival order, then one multi-row statement per table. Under load the intake queue (orders/intake.py)
hands concurrent requests to it together; `place_order` is the batch of one.

Each order keeps its own outcome: a bad or rejected order in a batch gets its error and is not written,
the others are stored. Two orders of one batch that claim the same Idempotency-Key, or the same channel
and external id, are placed one after the other in the same transaction, so the second sees the first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from conveyor.catalog.tables import products
from conveyor.channels.tables import channels
from conveyor.customers.tables import customers
from conveyor.inventory.allocation import (
    Allocation,
    LineNeed,
    PlannedOrder,
    ShortagePolicy,
    active_warehouses,
    book_planned,
    lock_free_stock,
    plan_order,
    take_planned,
)
from conveyor.kernel.errors import Conflict, DomainError, FieldProblem, NotAllowed, ProblemCollector, ValidationFailed
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.config import ConfigCache, LifecycleConfig
from conveyor.orders.domain import Product, ValidOrder, fingerprint, order_number, validate_order
from conveyor.orders.events import OrderPlaced
from conveyor.orders.lifecycle import Action, LifecycleState, Stage
from conveyor.orders.moves import INSERT_TIMELINE, INVENTORY, REVIEW, apply_move
from conveyor.orders.tables import idempotency_keys, order_lines, orders
from conveyor.platform.db import custom_plans
from conveyor.platform.outbox import publish_many
from conveyor.platform.uow import UnitOfWork

# Statements built once: constructing SQLAlchemy statements per call cost about as much as executing them.
_INSERT_ORDERS = insert(orders).returning(orders.c.id, sort_by_parameter_order=True)
_INSERT_LINES = insert(order_lines)
_INSERT_KEYS = insert(idempotency_keys)
_CHANNELS = select(channels.c.id, channels.c.code, channels.c.active, channels.c.shortage_policy).where(
    channels.c.code.in_(bindparam("codes", expanding=True)))
_CUSTOMERS = select(customers.c.id, customers.c.account, customers.c.name, customers.c.active,
                    customers.c.shortage_policy).where(
    customers.c.account.in_(bindparam("accounts", expanding=True)))
_PRODUCTS = select(products.c.id, products.c.sku, products.c.name, products.c.active).where(
    products.c.sku.in_(bindparam("skus", expanding=True)))
_KEYS = select(idempotency_keys.c.key, idempotency_keys.c.principal, idempotency_keys.c.order_id,
               idempotency_keys.c.request_hash).where(
    idempotency_keys.c.key.in_(bindparam("keys", expanding=True)),
    idempotency_keys.c.principal.in_(bindparam("principals", expanding=True)))
_EXTERNAL_IDS = select(orders.c.id, orders.c.channel_id, orders.c.external_id).where(
    orders.c.channel_id.in_(bindparam("channel_ids", expanding=True)),
    orders.c.external_id.in_(bindparam("external_ids", expanding=True)))
_FINGERPRINTS = select(orders.c.id, orders.c.fingerprint).where(
    orders.c.fingerprint.in_(bindparam("fingerprints", expanding=True)), orders.c.created_at >= bindparam("since")
).order_by(orders.c.id)
DUPLICATE_TAG = "probable-duplicate"
ATTEMPTS = 3  # a batch that loses a race on a unique key is run again; the rerun sees the winner's row


@dataclass(frozen=True)
class Placed:
    order_id: int
    created: bool  # False: an existing order was returned (same idempotency key or channel + external id)
    reason: str | None = None
    # A new order exactly as stored (rows as dicts), so the API can answer without reading it back; None
    # when a later step of the same transaction changed it (an inventory hold) or it is not new.
    stored: Stored | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Stored:
    order: dict[str, Any]
    channel: str
    customer: dict[str, Any]
    lines: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    held: list[tuple[int, str, int]]  # (line_no, warehouse code, units)
    missing: dict[int, int]  # line_no -> units backordered


Outcome = Placed | DomainError


def place_order(cmd: PlaceOrder, *, uow: UnitOfWork, config: ConfigCache,
                duplicate_window: timedelta | None = None) -> Placed:
    """Validates and stores a new order in stage 'received', or returns the order it duplicates."""
    outcome = place_orders([cmd], uow=uow, config=config, duplicate_window=duplicate_window)[0]
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def place_orders(cmds: Sequence[PlaceOrder], *, uow: UnitOfWork, config: ConfigCache,
                 duplicate_window: timedelta | None = None) -> list[Outcome]:
    """Places every command in one transaction; an outcome per command, in the same order.

    An order with the same customer, ship-to and lines as one placed within `duplicate_window` (or earlier
    in the batch) but under another id is a probable duplicate: it is stored, tagged and held for review,
    never merged or dropped. No window (or zero) turns that check off; the container supplies the
    configured one (`Container.duplicate_window`)."""
    for attempt in range(ATTEMPTS):
        try:
            with uow:
                lifecycle = config.get(uow.conn)
                outcomes: list[Outcome | None] = [None] * len(cmds)
                pending = list(range(len(cmds)))
                while pending:
                    pending = _round(cmds, pending, outcomes, uow, lifecycle, duplicate_window)
                return [o for o in outcomes if o is not None]
        except IntegrityError:
            # Another transaction stored one of these orders (or keys) between our check and insert
            # (PostgreSQL, READ COMMITTED): run the batch again; it now finds that order and answers with it.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@dataclass
class _Reference:
    """The rows a batch refers to, read once per round."""

    channels: dict[str, Any]
    customers: dict[str, Any]
    catalog: dict[str, Product]
    keys: dict[tuple[str, str], Any]
    external_ids: dict[tuple[int, str], int]

    @classmethod
    def load(cls, conn: Connection, cmds: list[PlaceOrder]) -> _Reference:
        codes = sorted({c.draft.channel for c in cmds})
        found_channels = {r.code: r for r in conn.execute(_CHANNELS, {"codes": codes})} if codes else {}
        accounts = sorted({c.draft.customer for c in cmds})
        found_customers = {r.account: r for r in conn.execute(_CUSTOMERS, {"accounts": accounts})} if accounts else {}
        skus = sorted({line.sku.strip() for c in cmds for line in c.draft.lines if line.sku.strip()})
        catalog = {r.sku: Product(r.id, r.sku, r.name, r.active)
                   for r in conn.execute(_PRODUCTS, {"skus": skus})} if skus else {}
        keyed = [c for c in cmds if c.idempotency_key]
        keys = {(r.key, r.principal): r for r in conn.execute(_KEYS, {
            "keys": sorted({c.idempotency_key for c in keyed}),
            "principals": sorted({c.actor for c in keyed})})} if keyed else {}
        wanted = [(found_channels[c.draft.channel].id, _external_id(c)) for c in cmds
                  if _external_id(c) and c.draft.channel in found_channels]
        external_ids = {(r.channel_id, r.external_id): int(r.id) for r in conn.execute(_EXTERNAL_IDS, {
            "channel_ids": sorted({ch for ch, _ in wanted}),
            "external_ids": sorted({ext for _, ext in wanted})})} if wanted else {}
        return cls(found_channels, found_customers, catalog, keys, external_ids)


@dataclass
class _Ready:
    """An order that passed every check, about to be stored."""

    index: int
    cmd: PlaceOrder
    valid: ValidOrder
    channel: Any
    customer: Any
    external_id: str
    policy: ShortagePolicy
    needs: list[LineNeed]
    fingerprint: str = ""
    duplicate_of: int | None = None  # a probable duplicate of this order (held for review)
    allocation: Allocation | None = None
    order_id: int = 0
    row: dict[str, Any] = field(default_factory=dict)  # as inserted
    lines: list[dict[str, Any]] = field(default_factory=list)
    created: dict[str, Any] = field(default_factory=dict)  # the 'created' timeline entry


def _external_id(cmd: PlaceOrder) -> str | None:
    return cmd.draft.external_id.strip() if cmd.draft.external_id and cmd.draft.external_id.strip() else None


def _claims(cmd: PlaceOrder) -> set[tuple[str, ...]]:
    claims: set[tuple[str, ...]] = set()
    if cmd.idempotency_key:
        claims.add(("key", cmd.idempotency_key, cmd.actor))
    if ext := _external_id(cmd):
        claims.add(("external_id", cmd.draft.channel, ext))
    return claims


def _round(cmds: Sequence[PlaceOrder], pending: list[int], outcomes: list[Outcome | None], uow: UnitOfWork,
           lifecycle: LifecycleConfig, duplicate_window: timedelta | None) -> list[int]:
    """Places the pending commands that claim no key or external id an earlier one of them claims; returns
    the rest, for the next round in the same transaction."""
    conn, at = uow.conn, uow.clock.now()
    with custom_plans(conn):  # keys and external ids are looked up in ever-growing tables
        reference = _Reference.load(conn, [cmds[i] for i in pending])
    claimed: set[tuple[str, ...]] = set()
    deferred: list[int] = []
    ready: list[_Ready] = []
    remembered: list[dict[str, Any]] = []
    for i in pending:
        claims = _claims(cmds[i])
        if claims & claimed:
            deferred.append(i)
            continue
        claimed |= claims
        try:
            checked = _check(cmds[i], reference, i)
        except DomainError as exc:
            outcomes[i] = exc
            continue
        if isinstance(checked, Placed):
            outcomes[i] = checked
            if checked.reason == "external_id" and cmds[i].idempotency_key:
                remembered.append(_key_row(cmds[i], checked.order_id, at))
        else:
            ready.append(checked)
    if remembered:
        conn.execute(_INSERT_KEYS, remembered)
    if ready:
        _store(uow, ready, outcomes, lifecycle, duplicate_window)
    return deferred


def _check(cmd: PlaceOrder, ref: _Reference, index: int) -> Placed | _Ready:
    """Everything about one order that needs no further reading: duplicates, references, scope, validity."""
    if cmd.idempotency_key and (known := ref.keys.get((cmd.idempotency_key, cmd.actor))) is not None:
        if cmd.request_hash and known.request_hash != cmd.request_hash:
            raise ValidationFailed("idempotency_key_reused",
                                   "this Idempotency-Key was used for a different request body", "Idempotency-Key")
        return Placed(int(known.order_id), created=False, reason="idempotency_key")
    draft = cmd.draft
    problems = ProblemCollector()
    channel = ref.channels.get(draft.channel)
    if channel is None or not channel.active:
        problems.add("unknown_channel", f"no active channel {draft.channel!r}", "channel")
    customer = ref.customers.get(draft.customer)
    if customer is None or not customer.active:
        problems.add("unknown_customer", f"no active customer with account {draft.customer!r}", "customer")
    if cmd.only_customer_id is not None and customer is not None and customer.id != cmd.only_customer_id:
        raise NotAllowed("forbidden_customer", "you can only place orders for your own account", "customer")
    if cmd.only_channel_id is not None and channel is not None and channel.id != cmd.only_channel_id:
        raise NotAllowed("forbidden_channel", "you can only place orders through your own channel", "channel")
    if problems.problems:
        try:  # report catalog problems together with channel/customer ones
            validate_order(draft, ref.catalog)
        except ValidationFailed as exc:
            problems.problems.extend(exc.problems)
        problems.raise_if_any()
    external_id = _external_id(cmd)
    if external_id and (existing := ref.external_ids.get((channel.id, external_id))):
        return Placed(existing, created=False, reason="external_id")
    valid = validate_order(draft, ref.catalog)
    policy = ShortagePolicy(customer.shortage_policy or channel.shortage_policy or ShortagePolicy.HOLD)
    needs = [LineNeed(line.line_no, line.product_id, line.sku, line.quantity) for line in valid.lines
             if line.product_id is not None]
    return _Ready(index, cmd, valid, channel, customer, external_id or f"{channel.code}-{uuid.uuid4().hex[:16]}",
                  policy, needs, fingerprint(customer.id, valid.ship_to, valid.lines))


def _key_row(cmd: PlaceOrder, order_id: int, at: datetime) -> dict[str, Any]:
    return dict(key=cmd.idempotency_key, principal=cmd.actor, request_hash=cmd.request_hash or "",
                order_id=order_id, created_at=at)


def _shortage(allocation: Allocation) -> Conflict:
    return Conflict("insufficient_stock", f"not enough stock: {allocation.describe_short()}", None, [
        FieldProblem("insufficient_stock", f"{missing} of {sku} not available", f"lines.{line_no - 1}.quantity")
        for line_no, sku, missing in allocation.short])


def _mark_duplicates(conn: Connection, ready: list[_Ready], at: datetime, window: timedelta | None) -> None:
    """Points each order at an earlier one with its fingerprint (stored within the window, or earlier in
    this batch): one indexed read per batch."""
    if window is None or window <= timedelta(0):
        return
    seen: dict[str, int] = {}
    with custom_plans(conn):
        found = conn.execute(_FINGERPRINTS, {"fingerprints": sorted({r.fingerprint for r in ready}),
                                             "since": at - window}).all()
    for row in found:
        seen.setdefault(row.fingerprint, int(row.id))
    in_batch: set[str] = set()
    for r in ready:  # arrival order: a later order of the batch is the duplicate of the earlier one
        if r.fingerprint in seen:
            r.duplicate_of = seen[r.fingerprint]
        elif r.fingerprint in in_batch:
            r.duplicate_of = -1  # the earlier one's id is known once it is inserted (_insert_orders)
        in_batch.add(r.fingerprint)


def _hold_reasons(r: _Ready) -> list[str]:
    """Why a new order waits in 'held' instead of 'received': short stock (hold policy), unmapped items,
    a probable duplicate."""
    assert r.allocation is not None
    reasons = []
    if not r.allocation.complete and r.policy == ShortagePolicy.HOLD:
        reasons.append(f"Waiting for stock: {r.allocation.describe_short()}")
    if unmapped := r.valid.unmapped:
        reasons.append("Item mapping: " + ", ".join(f"line {line.line_no} ({line.sku})" for line in unmapped)
                       + " not in the catalog")
    if r.duplicate_of is not None:
        reasons.append(f"Probable duplicate of {order_number(r.duplicate_of)}: same customer, ship-to and lines "
                       "under a different id")
    return reasons


def _store(uow: UnitOfWork, ready: list[_Ready], outcomes: list[Outcome | None],
           lifecycle: LifecycleConfig, duplicate_window: timedelta | None) -> None:
    conn, at = uow.conn, uow.clock.now()
    sources = active_warehouses(conn)
    warehouse_ids = [w for w, _ in sources]
    free = lock_free_stock(conn, {n.product_id for r in ready for n in r.needs}, warehouse_ids)
    accepted: list[_Ready] = []
    for r in ready:  # arrival order: an earlier order of the batch gets the stock first
        r.allocation = plan_order(r.needs, free, warehouse_ids)
        if not r.allocation.complete and r.policy == ShortagePolicy.REJECT:
            outcomes[r.index] = _shortage(r.allocation)  # nothing of it is written
            continue
        take_planned(free, r.needs, r.allocation)
        accepted.append(r)
    if not accepted:
        return
    _mark_duplicates(conn, accepted, at, duplicate_window)
    _insert_orders(conn, accepted, at, lifecycle)
    book_planned(conn, [PlannedOrder(r.order_id, r.needs, r.allocation, r.valid.draft.priority)
                        for r in accepted if r.allocation is not None], actor=INVENTORY, at=at)
    names = dict(sources)
    decisions = [_decision(r, names, at) for r in accepted]
    conn.execute(INSERT_TIMELINE, decisions)
    publish_many(conn, [(OrderPlaced(order_id=r.order_id, number=order_number(r.order_id), channel=r.channel.code,
                                     external_id=r.external_id, customer_id=r.customer.id,
                                     currency=r.cmd.draft.currency, total_minor=r.valid.totals.total_minor),
                         str(r.order_id)) for r in accepted], at=at)
    for r, decision in zip(accepted, decisions, strict=True):
        assert r.allocation is not None
        if reasons := _hold_reasons(r):
            # Inventory's own hold (stock only) ends when the backorders fill; any other reason needs a person.
            only_stock = len(reasons) == 1 and reasons[0].startswith("Waiting for stock")
            apply_move(uow, r.order_id, LifecycleState(Stage.RECEIVED), Action.HOLD.value,
                       actor=INVENTORY if only_stock else REVIEW, reason="; ".join(reasons), lifecycle=lifecycle)
            outcomes[r.index] = Placed(r.order_id, created=True)
            continue
        outcomes[r.index] = Placed(r.order_id, created=True, stored=Stored(
            order=r.row, channel=r.channel.code,
            customer={"id": r.customer.id, "account": r.customer.account, "name": r.customer.name},
            lines=r.lines, timeline=[r.created, decision],
            held=[(n, names.get(w, str(w)), q) for n, w, q in sorted(r.allocation.reserved)],
            missing={n: q for n, _, q in r.allocation.short}))


def _insert_orders(conn: Connection, accepted: list[_Ready], at: datetime, lifecycle: LifecycleConfig) -> None:
    """Orders (ids come back in parameter order), their lines, 'created' timeline entries and keys."""
    due = lifecycle.due_at(Stage.RECEIVED, at)
    earlier: dict[str, int] = {}  # fingerprint -> id of this batch's first order with it
    rows = [dict(
        channel_id=r.channel.id, external_id=r.external_id, customer_id=r.customer.id, currency=r.cmd.draft.currency,
        stage=Stage.RECEIVED.value, held_from=None, stage_entered_at=at, stage_due_at=due,
        priority=r.valid.draft.priority, requested_delivery_date=r.valid.draft.requested_delivery_date,
        bill_to=r.valid.bill_to.as_dict(), ship_to=r.valid.ship_to.as_dict(), notes=r.valid.draft.notes,
        tags=[*r.valid.tags, DUPLICATE_TAG] if r.duplicate_of is not None else list(r.valid.tags),
        subtotal_minor=r.valid.totals.subtotal_minor,
        discount_minor=r.valid.totals.discount_minor, tax_minor=r.valid.totals.tax_minor,
        shipping_minor=r.valid.totals.shipping_minor, total_minor=r.valid.totals.total_minor,
        fingerprint=r.fingerprint, created_by=r.cmd.actor, created_at=at, updated_at=at) for r in accepted]
    ids = conn.execute(_INSERT_ORDERS, rows).scalars().all()
    for r, row, order_id in zip(accepted, rows, ids, strict=True):
        r.order_id = int(order_id)
        if r.duplicate_of == -1:  # a duplicate of an order earlier in this batch: now it has an id
            r.duplicate_of = earlier.get(r.fingerprint)
        earlier.setdefault(r.fingerprint, r.order_id)
        r.row = {"id": r.order_id, **row}
        r.lines = [dict(order_id=r.order_id, line_no=line.line_no, product_id=line.product_id, sku=line.sku,
                        name=line.name, quantity=line.quantity, unit_price_minor=line.unit_price_minor,
                        discount_minor=line.discount_minor, tax_minor=line.tax_minor, total_minor=line.total_minor)
                   for line in r.valid.lines]
        r.created = dict(order_id=r.order_id, at=at, actor=r.cmd.actor, kind="created", action=None, from_stage=None,
                         to_stage=Stage.RECEIVED.value, reason=f"Received via channel {r.channel.code}",
                         data={"external_id": r.external_id, "lines": len(r.valid.lines),
                               "total_minor": r.valid.totals.total_minor, "currency": r.cmd.draft.currency})
    conn.execute(_INSERT_LINES, [line for r in accepted for line in r.lines])
    conn.execute(INSERT_TIMELINE, [r.created for r in accepted])
    keys = [_key_row(r.cmd, r.order_id, at) for r in accepted if r.cmd.idempotency_key]
    if keys:
        conn.execute(_INSERT_KEYS, keys)


def _decision(r: _Ready, names: dict[int, str], at: datetime) -> dict[str, Any]:
    """The inventory decision on the order's timeline: where each line is held, or what is short."""
    allocation = r.allocation
    assert allocation is not None
    held = "; ".join(f"line {n}: {q} at {names.get(w, w)}" for n, w, q in sorted(allocation.reserved))
    reason = (("Stock reserved: " + held) if allocation.complete
              else f"Stock short ({allocation.describe_short()}); policy {r.policy.value}"
              + (f"; reserved {held}" if held else ""))
    return dict(order_id=r.order_id, at=at, actor=INVENTORY, kind="decision", action=None, from_stage=None,
                to_stage=None, reason=reason,
                data={"reserved": [list(x) for x in allocation.reserved], "short": [list(x) for x in allocation.short],
                      "policy": r.policy.value})
