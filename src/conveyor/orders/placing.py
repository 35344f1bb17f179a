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

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
from conveyor.orders.events import OrderPlaced, OrderStageChanged
from conveyor.orders.lifecycle import Action, LifecycleState, Stage
from conveyor.orders.moves import INSERT_TIMELINE, INVENTORY, REVIEW, apply_move
from conveyor.orders.tables import idempotency_keys, order_lines, orders
from conveyor.platform.db import custom_plans
from conveyor.platform.outbox import publish_many
from conveyor.platform.uow import UnitOfWork
from conveyor.review import decide
from conveyor.review.addresses import address_key
from conveyor.review.catalogue import fact_needs
from conveyor.review.evaluate import evaluate
from conveyor.review.facts import Subject, SubjectLine, build_facts
from conveyor.review.model import Decision, HistoryFacts, OrderFacts
from conveyor.review.store import RuleSet, RuleSetCache

# Statements built once: constructing SQLAlchemy statements per call cost about as much as executing them.
_INSERT_ORDERS = insert(orders).returning(orders.c.id, sort_by_parameter_order=True)
_INSERT_LINES = insert(order_lines)
_INSERT_KEYS = insert(idempotency_keys)
_CHANNELS = select(channels.c.id, channels.c.code, channels.c.active, channels.c.shortage_policy,
                   channels.c.reserve_before_review).where(
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
                duplicate_window: timedelta | None = None, rules: RuleSetCache | None = None) -> Placed:
    """Validates and stores a new order, or returns the order it duplicates (see place_orders)."""
    outcome = place_orders([cmd], uow=uow, config=config, duplicate_window=duplicate_window, rules=rules)[0]
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def place_orders(cmds: Sequence[PlaceOrder], *, uow: UnitOfWork, config: ConfigCache,
                 duplicate_window: timedelta | None = None, rules: RuleSetCache | None = None) -> list[Outcome]:
    """Places every command in one transaction; an outcome per command, in the same order.

    With a published review rule set (`rules`, the container's cache), each valid order is reviewed in the
    same transaction, after validation and before its stock is reserved: an approved order goes on to
    'approved', or 'reserved' when all its stock is held; one the rules stop goes on hold with the reasons
    and an exception-queue case, and its stock waits for the approval unless its channel reserves before
    review. Without a published rule set orders wait in 'received' for a person.

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
                rule_set = rules.get(uow.conn) if rules is not None else None
                while pending:
                    pending = _round(cmds, pending, outcomes, uow, lifecycle, duplicate_window, rule_set)
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
    decision: Decision | None = None  # the review rules' decision (None: no rule set published)
    review_micros: int = 0
    stock_deferred: bool = False  # review held it before reservation: its stock is reserved once approved
    allocation: Allocation | None = None
    stage: Stage = Stage.RECEIVED  # the stage it is stored in
    entries: list[dict[str, Any]] = field(default_factory=list)  # its timeline entries as written
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
           lifecycle: LifecycleConfig, duplicate_window: timedelta | None, rule_set: RuleSet | None) -> list[int]:
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
        _store(uow, ready, outcomes, lifecycle, duplicate_window, rule_set)
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
    """Why a new order is stored on hold: short stock (hold policy), unmapped items, and without review rules
    a probable duplicate (with rules, the duplicate rule decides). Review's own reasons come first."""
    assert r.allocation is not None
    reasons = [f"{h.name} (R{h.rule_no} v{h.version}): {h.message}" for h in r.decision.holds] \
        if r.decision is not None else []
    if not r.allocation.complete and r.policy == ShortagePolicy.HOLD:
        reasons.append(f"Waiting for stock: {r.allocation.describe_short()}")
    if unmapped := r.valid.unmapped:
        reasons.append("Item mapping: " + ", ".join(f"line {line.line_no} ({line.sku})" for line in unmapped)
                       + " not in the catalog")
    if r.duplicate_of is not None and r.decision is None:
        reasons.append(f"Probable duplicate of {order_number(r.duplicate_of)}: same customer, ship-to and lines "
                       "under a different id")
    return reasons


def _review(conn: Connection, ready: list[_Ready], rule_set: RuleSet, at: datetime) -> None:
    """Runs the rules over every order of the batch: a fixed number of reads for the facts, then pure
    evaluation. Orders earlier in the batch count as the customer's (and the address's) earlier orders."""
    subjects = [Subject(
        customer_id=r.customer.id, channel=r.channel.code, currency=r.cmd.draft.currency,
        total_minor=r.valid.totals.total_minor,
        lines=tuple(SubjectLine(line.line_no, line.sku, line.product_id, line.quantity, line.total_minor)
                    for line in r.valid.lines),
        ship_to=r.valid.ship_to.as_dict(), bill_to=r.valid.bill_to.as_dict(), at=at,
        shipping_service=r.valid.draft.shipping_service, tags=r.valid.tags,
        duplicate_of=r.duplicate_of) for r in ready]
    facts = build_facts(conn, subjects, fact_needs(rule_set.rules))
    seen: dict[int, list[_Ready]] = {}
    to_address: dict[str, int] = {}
    for r, f in zip(ready, facts, strict=True):
        earlier = seen.setdefault(r.customer.id, [])
        f = _with_batch_history(f, earlier, to_address.get(f.address_key, 0))
        started = time.perf_counter_ns()
        r.decision = evaluate(rule_set.rules, f)
        r.review_micros = (time.perf_counter_ns() - started) // 1000
        earlier.append(r)
        to_address[f.address_key] = to_address.get(f.address_key, 0) + 1


def _with_batch_history(f: OrderFacts, earlier: list[_Ready], same_address: int) -> OrderFacts:
    if not earlier and not same_address:
        return f
    h = f.history
    same = [r for r in earlier if r.cmd.draft.currency == f.currency]
    return replace(f, history=HistoryFacts(
        previous_orders=h.previous_orders + len(earlier),
        previous_total_minor=h.previous_total_minor + sum(r.valid.totals.total_minor for r in same),
        previous_in_currency=h.previous_in_currency + len(same),
        open_exposure_minor=h.open_exposure_minor + sum(r.valid.totals.total_minor for r in earlier
                                                        if r.cmd.draft.currency == f.customer.currency),
        recent_customer_orders=h.recent_customer_orders + (f.at,) * len(earlier),
        recent_address_orders=h.recent_address_orders + (f.at,) * same_address))


def _store(uow: UnitOfWork, ready: list[_Ready], outcomes: list[Outcome | None],
           lifecycle: LifecycleConfig, duplicate_window: timedelta | None, rule_set: RuleSet | None) -> None:
    conn, at = uow.conn, uow.clock.now()
    _mark_duplicates(conn, ready, at, duplicate_window)
    if rule_set is not None:
        _review(conn, ready, rule_set, at)
    sources = active_warehouses(conn)
    warehouse_ids = [w for w, _ in sources]
    free = lock_free_stock(conn, {n.product_id for r in ready for n in r.needs}, warehouse_ids)
    accepted: list[_Ready] = []
    for r in ready:  # arrival order: an earlier order of the batch gets the stock first
        if r.decision is not None and not r.decision.approved and not r.channel.reserve_before_review:
            r.allocation, r.stock_deferred = Allocation(), True  # reserved when a person approves it
            accepted.append(r)
            continue
        r.allocation = plan_order(r.needs, free, warehouse_ids)
        if not r.allocation.complete and r.policy == ShortagePolicy.REJECT:
            outcomes[r.index] = _shortage(r.allocation)  # nothing of it is written
            continue
        take_planned(free, r.needs, r.allocation)
        accepted.append(r)
    if not accepted:
        return
    _forget_rejected_twins(accepted)
    holds = {r.index: _hold_reasons(r) for r in accepted}
    for r in accepted:
        r.stage = _stage(r, bool(holds[r.index]))
    _insert_orders(conn, accepted, at, lifecycle)
    book_planned(conn, [PlannedOrder(r.order_id, r.needs, r.allocation, r.valid.draft.priority)
                        for r in accepted if r.allocation is not None and not r.stock_deferred],
                 actor=INVENTORY, at=at)
    names = dict(sources)
    for r in accepted:
        _timeline(r, names, at, rule_set)
    conn.execute(INSERT_TIMELINE, [entry for r in accepted for entry in r.entries])
    events = [(OrderPlaced(order_id=r.order_id, number=order_number(r.order_id), channel=r.channel.code,
                           external_id=r.external_id, customer_id=r.customer.id, currency=r.cmd.draft.currency,
                           total_minor=r.valid.totals.total_minor), str(r.order_id)) for r in accepted]
    events += [(OrderStageChanged(  # approved by the rules: one event for the moves made at intake
        order_id=r.order_id, action=(Action.RESERVE if r.stage is Stage.RESERVED else Action.APPROVE).value,
        from_stage=Stage.RECEIVED.value, to_stage=r.stage.value,
        actor=INVENTORY if r.stage is Stage.RESERVED else REVIEW, reason=None), str(r.order_id))
        for r in accepted if r.stage in (Stage.APPROVED, Stage.RESERVED) and not holds[r.index]]
    publish_many(conn, events, at=at)
    if rule_set is not None:
        _record_reviews(conn, accepted, rule_set, at, lifecycle)
    for r in accepted:
        assert r.allocation is not None
        if reasons := holds[r.index]:
            # Inventory's own hold (stock only) ends when the backorders fill; any other reason needs a person.
            only_stock = len(reasons) == 1 and reasons[0].startswith("Waiting for stock")
            apply_move(uow, r.order_id, LifecycleState(r.stage), Action.HOLD.value,
                       actor=INVENTORY if only_stock else REVIEW, reason="; ".join(reasons), lifecycle=lifecycle)
            outcomes[r.index] = Placed(r.order_id, created=True)
            continue
        outcomes[r.index] = Placed(r.order_id, created=True, stored=Stored(
            order=r.row, channel=r.channel.code,
            customer={"id": r.customer.id, "account": r.customer.account, "name": r.customer.name},
            lines=r.lines, timeline=r.entries,
            held=[(n, names.get(w, str(w)), q) for n, w, q in sorted(r.allocation.reserved)],
            missing={n: q for n, _, q in r.allocation.short}))


def _forget_rejected_twins(accepted: list[_Ready]) -> None:
    """A duplicate of an earlier order of the batch that was refused (short stock) is no duplicate after all."""
    kept: set[str] = set()
    for r in accepted:
        if r.duplicate_of == -1 and r.fingerprint not in kept:
            r.duplicate_of = None
        kept.add(r.fingerprint)


def _stage(r: _Ready, held: bool) -> Stage:
    """The stage an order is stored in (before any hold): 'received' without review rules; 'under review'
    when the rules stop it; else 'approved', or 'reserved' when every line's stock is held."""
    assert r.allocation is not None
    if r.decision is None:
        return Stage.RECEIVED
    if not r.decision.approved:
        return Stage.UNDER_REVIEW
    return Stage.RESERVED if r.allocation.complete and not held else Stage.APPROVED


def _record_reviews(conn: Connection, accepted: list[_Ready], rule_set: RuleSet, at: datetime,
                    lifecycle: LifecycleConfig) -> None:
    """Every order's review results; for those the rules held, their holds and an exception-queue case."""
    conn.execute(decide.INSERT_REVIEW, [
        decide.review_row(r.order_id, r.decision, rule_set, trigger="intake", at=at, micros=r.review_micros)
        for r in accepted if r.decision is not None])
    held = [r for r in accepted if r.decision is not None and not r.decision.approved]
    if held:
        conn.execute(decide.INSERT_HOLD, [decide.hold_row(r.order_id, h, at) for r in held
                                          for h in r.decision.holds if r.decision is not None])
        conn.execute(decide.INSERT_CASE, [decide.case_row(r.order_id, str(r.decision.holds[0].reason), at, lifecycle)
                                          for r in held if r.decision is not None])


def _insert_orders(conn: Connection, accepted: list[_Ready], at: datetime, lifecycle: LifecycleConfig) -> None:
    """Orders (ids come back in parameter order), their lines and keys."""
    earlier: dict[str, int] = {}  # fingerprint -> id of this batch's first order with it
    rows = [dict(
        channel_id=r.channel.id, external_id=r.external_id, customer_id=r.customer.id, currency=r.cmd.draft.currency,
        stage=r.stage.value, held_from=None, stage_entered_at=at, stage_due_at=lifecycle.due_at(r.stage, at),
        priority=r.valid.draft.priority, requested_delivery_date=r.valid.draft.requested_delivery_date,
        bill_to=r.valid.bill_to.as_dict(), ship_to=r.valid.ship_to.as_dict(), notes=r.valid.draft.notes,
        tags=[*r.valid.tags, DUPLICATE_TAG] if r.duplicate_of is not None else list(r.valid.tags),
        subtotal_minor=r.valid.totals.subtotal_minor,
        discount_minor=r.valid.totals.discount_minor, tax_minor=r.valid.totals.tax_minor,
        shipping_minor=r.valid.totals.shipping_minor, total_minor=r.valid.totals.total_minor,
        fingerprint=r.fingerprint, shipping_service=r.valid.draft.shipping_service,
        address_key=address_key(r.valid.ship_to.as_dict()),
        created_by=r.cmd.actor, created_at=at, updated_at=at) for r in accepted]
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
    conn.execute(_INSERT_LINES, [line for r in accepted for line in r.lines])
    keys = [_key_row(r.cmd, r.order_id, at) for r in accepted if r.cmd.idempotency_key]
    if keys:
        conn.execute(_INSERT_KEYS, keys)


def _entry(r: _Ready, at: datetime, actor: str, kind: str, reason: str | None, *, action: str | None = None,
           from_stage: Stage | None = None, to_stage: Stage | None = None,
           data: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(order_id=r.order_id, at=at, actor=actor, kind=kind, action=action,
                from_stage=from_stage.value if from_stage else None, to_stage=to_stage.value if to_stage else None,
                reason=reason, data=data)


def _timeline(r: _Ready, names: dict[int, str], at: datetime, rule_set: RuleSet | None) -> None:
    """The order's first timeline entries, in order: created; with review, the review and its decision (and
    the approval); the stock decision; 'reserved' when all stock is held."""
    r.entries = [_entry(r, at, r.cmd.actor, "created", f"Received via channel {r.channel.code}",
                        to_stage=Stage.RECEIVED,
                        data={"external_id": r.external_id, "lines": len(r.valid.lines),
                              "total_minor": r.valid.totals.total_minor, "currency": r.cmd.draft.currency})]
    if r.decision is not None and rule_set is not None:
        r.entries.append(_entry(r, at, REVIEW, "transition", None, action=Action.REVIEW.value,
                                from_stage=Stage.RECEIVED, to_stage=Stage.UNDER_REVIEW))
        r.entries.append(decide.review_entry(r.order_id, r.decision, rule_set, at=at))
        if r.decision.approved:
            r.entries.append(_entry(r, at, REVIEW, "transition", r.decision.summary(), action=Action.APPROVE.value,
                                    from_stage=Stage.UNDER_REVIEW, to_stage=Stage.APPROVED))
    r.entries.append(_decision(r, names, at))
    if r.stage is Stage.RESERVED:
        r.entries.append(_entry(r, at, INVENTORY, "transition", None, action=Action.RESERVE.value,
                                from_stage=Stage.APPROVED, to_stage=Stage.RESERVED))
    r.created = r.entries[0]


def _decision(r: _Ready, names: dict[int, str], at: datetime) -> dict[str, Any]:
    """The inventory decision on the order's timeline: where each line is held, or what is short."""
    allocation = r.allocation
    assert allocation is not None
    if r.stock_deferred:
        return _entry(r, at, INVENTORY, "decision", "Stock not reserved yet: it is reserved when the order is "
                      "approved", data={"reserved": [], "short": [], "policy": r.policy.value, "deferred": True})
    held = "; ".join(f"line {n}: {q} at {names.get(w, w)}" for n, w, q in sorted(allocation.reserved))
    reason = (("Stock reserved: " + held) if allocation.complete
              else f"Stock short ({allocation.describe_short()}); policy {r.policy.value}"
              + (f"; reserved {held}" if held else ""))
    return _entry(r, at, INVENTORY, "decision", reason,
                  data={"reserved": [list(x) for x in allocation.reserved],
                        "short": [list(x) for x in allocation.short], "policy": r.policy.value})
