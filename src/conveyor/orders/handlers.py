"""Order use cases: place an order (idempotently), move it through the lifecycle, configure stages.

Each runs inside one unit of work: the order, its timeline entry and its outbox event commit together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from conveyor.catalog.tables import products
from conveyor.channels.tables import channels
from conveyor.customers.tables import customers
from conveyor.inventory.allocation import (
    LineNeed,
    ShortagePolicy,
    active_warehouses,
    fill_order_backorders,
    open_backorders,
    release_order,
    reserve_order,
    ship_order,
)
from conveyor.inventory.ledger import Move
from conveyor.kernel.errors import Conflict, FieldProblem, NotAllowed, NotFound, ProblemCollector, ValidationFailed
from conveyor.orders import config as lifecycle_config
from conveyor.orders.commands import ConfigureStage, MoveOrder, PlaceOrder
from conveyor.orders.config import ConfigCache, LifecycleConfig
from conveyor.orders.domain import Product, ValidOrder, order_number, validate_order
from conveyor.orders.events import OrderPlaced, OrderStageChanged, StageConfigured
from conveyor.orders.lifecycle import (
    TERMINAL,
    Action,
    LifecycleState,
    Stage,
    StageDefinition,
    find_transition,
    transition,
)
from conveyor.orders.tables import idempotency_keys, order_lines, order_timeline, orders
from conveyor.platform.uow import UnitOfWork

# The order path's statements, built once: constructing SQLAlchemy statements per call cost about as
# much as executing them (bench/orders_api.py).
_INSERT_ORDER = insert(orders).returning(orders.c.id)
_INSERT_LINES = insert(order_lines)
_INSERT_TIMELINE = insert(order_timeline)
_INSERT_KEY = insert(idempotency_keys)
_CHANNEL_BY_CODE = select(channels.c.id, channels.c.code, channels.c.active, channels.c.shortage_policy).where(
    channels.c.code == bindparam("code"))
_CUSTOMER_BY_ACCOUNT = select(customers.c.id, customers.c.active, customers.c.shortage_policy).where(
    customers.c.account == bindparam("account"))
_PRODUCTS_BY_SKU = select(products.c.id, products.c.sku, products.c.name, products.c.active).where(
    products.c.sku.in_(bindparam("skus", expanding=True)))
_KEY_LOOKUP = select(idempotency_keys.c.order_id, idempotency_keys.c.request_hash).where(
    idempotency_keys.c.key == bindparam("key"), idempotency_keys.c.principal == bindparam("principal"))
INVENTORY = "system:inventory"
_ORDER_BY_EXTERNAL_ID = select(orders.c.id).where(
    orders.c.channel_id == bindparam("channel_id"), orders.c.external_id == bindparam("external_id"))


@dataclass(frozen=True)
class Placed:
    order_id: int
    created: bool  # False: an existing order was returned (same idempotency key or channel + external id)
    reason: str | None = None


def _timeline(conn: Connection, *, order_id: int, at: datetime, actor: str, kind: str,
              action: str | None = None, from_stage: str | None = None, to_stage: str | None = None,
              reason: str | None = None, data: dict[str, Any] | None = None) -> None:
    conn.execute(_INSERT_TIMELINE, dict(
        order_id=order_id, at=at, actor=actor, kind=kind, action=action, from_stage=from_stage,
        to_stage=to_stage, reason=reason, data=data))


def _existing_by_key(conn: Connection, cmd: PlaceOrder) -> Placed | None:
    if not cmd.idempotency_key:
        return None
    row = conn.execute(_KEY_LOOKUP, {"key": cmd.idempotency_key, "principal": cmd.actor}).first()
    if row is None:
        return None
    if cmd.request_hash and row.request_hash != cmd.request_hash:
        raise ValidationFailed("idempotency_key_reused",
                               "this Idempotency-Key was used for a different request body",
                               "Idempotency-Key")
    return Placed(int(row.order_id), created=False, reason="idempotency_key")


def _existing_by_external_id(conn: Connection, channel_id: int, external_id: str) -> Placed | None:
    found = conn.execute(_ORDER_BY_EXTERNAL_ID, {"channel_id": channel_id, "external_id": external_id}).scalar()
    return Placed(int(found), created=False, reason="external_id") if found else None


def _resolve(conn: Connection, cmd: PlaceOrder) -> tuple[Any, Any, dict[str, Product]]:
    draft = cmd.draft
    problems = ProblemCollector()
    channel = conn.execute(_CHANNEL_BY_CODE, {"code": draft.channel}).first()
    if channel is None or not channel.active:
        problems.add("unknown_channel", f"no active channel {draft.channel!r}", "channel")
    customer = conn.execute(_CUSTOMER_BY_ACCOUNT, {"account": draft.customer}).first()
    if customer is None or not customer.active:
        problems.add("unknown_customer", f"no active customer with account {draft.customer!r}", "customer")
    skus = sorted({line.sku.strip() for line in draft.lines if line.sku.strip()})
    catalog = {
        r.sku: Product(r.id, r.sku, r.name, r.active)
        for r in conn.execute(_PRODUCTS_BY_SKU, {"skus": skus}).all()
    } if skus else {}
    if cmd.only_customer_id is not None and customer is not None and customer.id != cmd.only_customer_id:
        raise NotAllowed("forbidden_customer", "you can only place orders for your own account", "customer")
    if cmd.only_channel_id is not None and channel is not None and channel.id != cmd.only_channel_id:
        raise NotAllowed("forbidden_channel", "you can only place orders through your own channel", "channel")
    if problems.problems:
        try:  # report catalog problems together with channel/customer ones
            validate_order(draft, catalog)
        except ValidationFailed as exc:
            problems.problems.extend(exc.problems)
        problems.raise_if_any()
    return channel, customer, catalog


def _insert_order(conn: Connection, valid: ValidOrder, *, channel_id: int, customer_id: int, external_id: str,
                  actor: str, at: datetime, config: LifecycleConfig) -> int:
    draft, totals = valid.draft, valid.totals
    order_id = int(conn.execute(_INSERT_ORDER, dict(
        channel_id=channel_id, external_id=external_id, customer_id=customer_id, currency=draft.currency,
        stage=Stage.RECEIVED.value, held_from=None, stage_entered_at=at,
        stage_due_at=config.due_at(Stage.RECEIVED, at), priority=draft.priority,
        requested_delivery_date=draft.requested_delivery_date, bill_to=valid.bill_to.as_dict(),
        ship_to=valid.ship_to.as_dict(), notes=draft.notes, tags=list(valid.tags),
        subtotal_minor=totals.subtotal_minor, discount_minor=totals.discount_minor, tax_minor=totals.tax_minor,
        shipping_minor=totals.shipping_minor, total_minor=totals.total_minor, created_by=actor,
        created_at=at, updated_at=at,
    )).scalar_one())
    conn.execute(_INSERT_LINES, [
        dict(order_id=order_id, line_no=line.line_no, product_id=line.product_id, sku=line.sku, name=line.name,
             quantity=line.quantity, unit_price_minor=line.unit_price_minor, discount_minor=line.discount_minor,
             tax_minor=line.tax_minor, total_minor=line.total_minor)
        for line in valid.lines
    ])
    return order_id


def place_order(cmd: PlaceOrder, *, uow: UnitOfWork, config: ConfigCache) -> Placed:
    """Validates and stores a new order in stage 'received', or returns the order it duplicates."""
    try:
        with uow:
            return _place(cmd, uow=uow, config=config)
    except IntegrityError:
        # Another transaction stored the same order (or key) between our check and insert (PostgreSQL
        # READ COMMITTED); it won, so answer with its order.
        with uow:
            existing = _existing_by_key(uow.conn, cmd)
            if existing is None and cmd.draft.external_id:
                channel_id = uow.conn.execute(select(channels.c.id).where(
                    channels.c.code == cmd.draft.channel)).scalar()
                existing = _existing_by_external_id(uow.conn, channel_id, cmd.draft.external_id.strip())
            if existing is None:
                raise
            return existing


def _place(cmd: PlaceOrder, *, uow: UnitOfWork, config: ConfigCache) -> Placed:
    conn, at = uow.conn, uow.clock.now()
    existing = _existing_by_key(conn, cmd)
    if existing:
        return existing
    channel, customer, catalog = _resolve(conn, cmd)
    external_id = cmd.draft.external_id.strip() if cmd.draft.external_id else None
    if external_id and (existing := _existing_by_external_id(conn, channel.id, external_id)):
        _remember_key(conn, cmd, existing.order_id, at)
        return existing
    valid = validate_order(cmd.draft, catalog)
    external_id = external_id or f"{channel.code}-{uuid.uuid4().hex[:16]}"
    lifecycle = config.get(conn)
    order_id = _insert_order(conn, valid, channel_id=channel.id, customer_id=customer.id,
                             external_id=external_id, actor=cmd.actor, at=at, config=lifecycle)
    _timeline(conn, order_id=order_id, at=at, actor=cmd.actor, kind="created", to_stage=Stage.RECEIVED.value,
              reason=f"Received via channel {channel.code}",
              data={"external_id": external_id, "lines": len(valid.lines), "total_minor": valid.totals.total_minor,
                    "currency": cmd.draft.currency})
    _remember_key(conn, cmd, order_id, at)
    _reserve_at_intake(uow, order_id, valid, policy=ShortagePolicy(
        customer.shortage_policy or channel.shortage_policy or ShortagePolicy.HOLD), lifecycle=lifecycle)
    uow.publish(OrderPlaced(order_id=order_id, number=order_number(order_id), channel=channel.code,
                            external_id=external_id, customer_id=customer.id, currency=cmd.draft.currency,
                            total_minor=valid.totals.total_minor), key=str(order_id))
    return Placed(order_id, created=True)


def _reserve_at_intake(uow: UnitOfWork, order_id: int, valid: ValidOrder, *, policy: ShortagePolicy,
                       lifecycle: LifecycleConfig) -> None:
    """Holds the stock in the same transaction as the order; a short order follows its shortage policy."""
    conn, at = uow.conn, uow.clock.now()
    needs = [LineNeed(line.line_no, line.product_id, line.sku, line.quantity) for line in valid.lines]
    sources = active_warehouses(conn)  # one query: the order to take stock in, and codes for the timeline
    allocation = reserve_order(conn, order_id, needs, Move(actor=INVENTORY, at=at, reference=f"order:{order_id}"),
                               warehouse_ids=[w for w, _ in sources], priority=valid.draft.priority)
    if not allocation.complete and policy == ShortagePolicy.REJECT:
        raise Conflict("insufficient_stock", f"not enough stock: {allocation.describe_short()}", None, [
            FieldProblem("insufficient_stock", f"{missing} of {sku} not available", f"lines.{line_no - 1}.quantity")
            for line_no, sku, missing in allocation.short])
    names = dict(sources)
    held = "; ".join(f"line {n}: {q} at {names.get(w, w)}" for n, w, q in sorted(allocation.reserved))
    _timeline(conn, order_id=order_id, at=at, actor=INVENTORY, kind="decision",
              reason=("Stock reserved: " + held) if allocation.complete
              else f"Stock short ({allocation.describe_short()}); policy {policy.value}"
              + (f"; reserved {held}" if held else ""),
              data={"reserved": [list(r) for r in allocation.reserved], "short": [list(s) for s in allocation.short],
                    "policy": policy.value})
    if not allocation.complete and policy == ShortagePolicy.HOLD:
        _apply(uow, order_id, LifecycleState(Stage.RECEIVED), Action.HOLD.value, actor=INVENTORY,
               reason=f"Waiting for stock: {allocation.describe_short()}", lifecycle=lifecycle)


def _remember_key(conn: Connection, cmd: PlaceOrder, order_id: int, at: datetime) -> None:
    if cmd.idempotency_key:
        conn.execute(_INSERT_KEY, dict(
            key=cmd.idempotency_key, principal=cmd.actor, request_hash=cmd.request_hash or "",
            order_id=order_id, created_at=at))


@dataclass(frozen=True)
class Moved:
    order_id: int
    from_stage: Stage
    to_stage: Stage


def move_order(cmd: MoveOrder, *, uow: UnitOfWork, config: ConfigCache,
               scope: Any = None) -> Moved:
    """Applies a lifecycle action. The update is conditional on the stage read, so two people acting on
    one order at once cannot both win: the second gets a 409 and sees the new stage."""
    find_transition(cmd.action)  # unknown action -> 422 before touching the database
    with uow:
        conn = uow.conn
        query = select(orders.c.id, orders.c.stage, orders.c.held_from).where(orders.c.id == cmd.order_id)
        if scope is not None:
            query = query.where(scope)
        row = conn.execute(query).first()
        if row is None:
            raise NotFound("order_not_found", f"no order {cmd.order_id}", "order_id")
        before = LifecycleState(Stage(row.stage), Stage(row.held_from) if row.held_from else None)
        after = _apply(uow, cmd.order_id, before, cmd.action, actor=cmd.actor, reason=cmd.reason,
                       lifecycle=config.get(conn))
        return Moved(cmd.order_id, before.stage, after.stage)


def _apply(uow: UnitOfWork, order_id: int, before: LifecycleState, action_name: str, *, actor: str,
           reason: str | None, lifecycle: LifecycleConfig) -> LifecycleState:
    """One lifecycle move inside the caller's unit of work: the stage (conditional on the stage read), what
    the move does to the order's stock, the timeline entry and the outbox event."""
    conn, at = uow.conn, uow.clock.now()
    after = transition(before, action_name, reason=reason)
    action = find_transition(action_name).action
    changed = conn.execute(update(orders).where(and_(
        orders.c.id == order_id, orders.c.stage == before.stage.value)).values(
        stage=after.stage.value, held_from=after.held_from.value if after.held_from else None,
        stage_entered_at=at, stage_due_at=lifecycle.due_at(after.stage, at), updated_at=at)).rowcount
    if changed != 1:
        raise Conflict("stage_changed", "the order changed stage meanwhile; reload and try again", "action")
    _stock_effect(conn, order_id, action, Move(actor=actor, at=at, reference=f"order:{order_id}", reason=reason))
    _timeline(conn, order_id=order_id, at=at, actor=actor, kind="transition", action=action.value,
              from_stage=before.stage.value, to_stage=after.stage.value, reason=reason)
    uow.publish(OrderStageChanged(order_id=order_id, action=action.value, from_stage=before.stage.value,
                                  to_stage=after.stage.value, actor=actor, reason=reason), key=str(order_id))
    return after


def _stock_effect(conn: Connection, order_id: int, action: Action, move: Move) -> None:
    if action in (Action.CANCEL, Action.CLOSE):
        release_order(conn, order_id, move)
    elif action == Action.SHIP:
        ship_order(conn, order_id, move)
    elif action == Action.RESERVE and not fill_order_backorders(conn, order_id, move):
        missing = ", ".join(f"line {line_no}: {qty}" for _, line_no, _, qty in open_backorders(conn, order_id))
        raise Conflict("insufficient_stock", f"the order cannot be fully reserved yet ({missing} missing)",
                       "action")


def configure_stage(cmd: ConfigureStage, *, uow: UnitOfWork, config: ConfigCache) -> StageDefinition:
    """Changes a stage's owner and SLA; orders now in that stage get their due time recomputed."""
    stage = lifecycle_config.require_stage(cmd.stage)
    with uow:
        conn, at = uow.conn, uow.clock.now()
        current = lifecycle_config.load_config(conn)
        definition = replace(current.definition(stage), owner_role=cmd.owner_role, sla_hours=cmd.sla_hours,
                             label=cmd.label if cmd.label is not None else current.definition(stage).label,
                             description=cmd.description if cmd.description is not None
                             else current.definition(stage).description)
        lifecycle_config.save_stage(conn, definition, at=at, actor=cmd.actor)
        updated = lifecycle_config.load_config(conn)
        recompute_due_times(conn, updated, stage)
        uow.publish(StageConfigured(stage=stage.value, owner_role=definition.owner_role,
                                    sla_minutes=lifecycle_config.sla_minutes(definition.sla_hours),
                                    actor=cmd.actor), key=f"stage:{stage.value}")
    config.invalidate()
    return definition


def recompute_due_times(conn: Connection, lifecycle: LifecycleConfig, stage: Stage | None = None,
                        batch: int = 500) -> int:
    """Due times are stored for fast board queries; after a configuration change they are recomputed."""
    query = select(orders.c.id, orders.c.stage, orders.c.stage_entered_at).where(
        orders.c.stage.notin_([s.value for s in TERMINAL]))
    if stage is not None:
        query = query.where(orders.c.stage == stage.value)
    rows = conn.execute(query).all()
    stmt = update(orders).where(orders.c.id == bindparam("oid")).values(stage_due_at=bindparam("due"))
    for start in range(0, len(rows), batch):
        conn.execute(stmt, [{"oid": r.id, "due": lifecycle.due_at(r.stage, r.stage_entered_at)}
                            for r in rows[start:start + batch]])
    return len(rows)
