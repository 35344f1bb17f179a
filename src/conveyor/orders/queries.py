"""The read side of orders: lists, an order's page, the board. Plain SQL into DTOs, a fixed number of
queries per page, keyset pagination (no OFFSET), and the caller's data scope applied in SQL."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.engine import Connection

from conveyor.channels.tables import channels
from conveyor.customers.tables import customers
from conveyor.identity.principal import Principal
from conveyor.inventory.tables import backorders, reservations
from conveyor.kernel.errors import NotFound, ValidationFailed
from conveyor.orders.config import LifecycleConfig
from conveyor.orders.domain import order_number, parse_order_number
from conveyor.orders.lifecycle import DEFAULT_STAGES, LifecycleState, Stage, allowed_actions
from conveyor.orders.tables import order_lines, order_timeline, orders
from conveyor.warehouses.tables import warehouses

if TYPE_CHECKING:
    from conveyor.orders.placing import Stored


def scope_clause(principal: Principal | None) -> ColumnElement[bool]:
    """Customers see their own account's orders, partners their channel's; staff see everything."""
    if principal is None or principal.is_staff:
        return true()
    if principal.customer_id is not None:
        return orders.c.customer_id == principal.customer_id
    if principal.channel_id is not None:
        return orders.c.channel_id == principal.channel_id
    return orders.c.id < 0  # a customer or partner user linked to nothing sees nothing


@dataclass(frozen=True)
class OrderFilters:
    stage: str | None = None
    channel: str | None = None
    customer: str | None = None  # account number
    created_from: date | None = None
    created_to: date | None = None  # inclusive
    q: str | None = None  # order number or external id
    breached: bool = False


@dataclass(frozen=True)
class OrderRow:
    id: int
    number: str
    external_id: str
    channel: str
    customer_account: str
    customer_name: str
    stage: str
    priority: int
    currency: str
    total_minor: int
    created_at: datetime
    stage_due_at: datetime | None
    breached: bool


@dataclass(frozen=True)
class OrderPage:
    items: list[OrderRow]
    next_cursor: str | None


def encode_cursor(created_at: datetime, order_id: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{order_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, order_id = raw.rsplit("|", 1)
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at.astimezone(UTC), int(order_id)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("invalid_cursor", "the cursor is not one this API returned", "cursor") from None


def _filter_clauses(f: OrderFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.stage:
        try:
            clauses.append(orders.c.stage == Stage(f.stage).value)
        except ValueError:
            raise ValidationFailed("unknown_stage", f"stage must be one of {', '.join(Stage)}", "stage") from None
    if f.channel:
        clauses.append(channels.c.code == f.channel)
    if f.customer:
        clauses.append(customers.c.account == f.customer)
    if f.created_from:
        clauses.append(orders.c.created_at >= datetime.combine(f.created_from, time(0), UTC))
    if f.created_to:
        clauses.append(orders.c.created_at < datetime.combine(f.created_to + timedelta(days=1), time(0), UTC))
    if f.q and f.q.strip():
        text = f.q.strip()
        number = parse_order_number(text)
        options = [orders.c.external_id == text]
        if number is not None:
            options.append(orders.c.id == number)
        clauses.append(or_(*options))
    return clauses


def list_orders(conn: Connection, filters: OrderFilters, *, principal: Principal | None, now: datetime,
                cursor: str | None = None, limit: int = 50) -> OrderPage:
    limit = max(1, min(limit, 200))
    query = (
        select(orders.c.id, orders.c.external_id, channels.c.code.label("channel"),
               customers.c.account, customers.c.name.label("customer_name"), orders.c.stage, orders.c.priority,
               orders.c.currency, orders.c.total_minor, orders.c.created_at, orders.c.stage_due_at)
        .join(channels, channels.c.id == orders.c.channel_id)
        .join(customers, customers.c.id == orders.c.customer_id)
        .where(scope_clause(principal), *_filter_clauses(filters))
    )
    if filters.breached:
        query = query.where(orders.c.stage_due_at < now)
    if cursor:
        at, last_id = decode_cursor(cursor)
        query = query.where(or_(orders.c.created_at < at, and_(orders.c.created_at == at, orders.c.id < last_id)))
    rows = conn.execute(query.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit + 1)).all()
    items = [
        OrderRow(r.id, order_number(r.id), r.external_id, r.channel, r.account, r.customer_name, r.stage,
                 r.priority, r.currency, r.total_minor, _utc(r.created_at), _utc(r.stage_due_at),
                 breached=r.stage_due_at is not None and _utc(r.stage_due_at) < now)
        for r in rows[:limit]
    ]
    next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return OrderPage(items, next_cursor)


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class SlaClock:
    stage: str
    owner_role: str
    entered_at: datetime
    due_at: datetime | None
    time_left: timedelta | None  # business time; negative when breached
    breached: bool
    sla_hours: float | None


@dataclass(frozen=True)
class OrderDetail:
    order: Any
    number: str
    channel: str
    customer: Any
    lines: list[Any]
    timeline: list[Any]
    sla: SlaClock
    allowed_actions: list[str]
    stock: dict[int, LineStock]


@dataclass(frozen=True)
class LineStock:
    """Where a line's units are held, and how many are still missing (backordered)."""

    held: list[tuple[str, int, str]]  # (warehouse code, units, status: active or shipped)
    missing: int


def line_stocks(conn: Connection, order_ids: list[int]) -> dict[int, dict[int, LineStock]]:
    """Per order, per line: two queries for any number of orders (reservations with warehouse codes, and
    open backorders)."""
    held: dict[tuple[int, int], list[tuple[str, int, str]]] = {}
    for r in conn.execute(
        select(reservations.c.order_id, reservations.c.line_no, warehouses.c.code, reservations.c.quantity,
               reservations.c.status)
        .join(warehouses, warehouses.c.id == reservations.c.warehouse_id)
        .where(reservations.c.order_id.in_(order_ids), reservations.c.status.in_(["active", "shipped"]))
        .order_by(reservations.c.order_id, reservations.c.line_no, reservations.c.id)
    ):
        held.setdefault((r.order_id, r.line_no), []).append((r.code, r.quantity, r.status))
    missing = {(r.order_id, r.line_no): int(r.missing or 0) for r in conn.execute(
        select(backorders.c.order_id, backorders.c.line_no, func.sum(backorders.c.quantity).label("missing"))
        .where(backorders.c.order_id.in_(order_ids), backorders.c.filled_at.is_(None))
        .group_by(backorders.c.order_id, backorders.c.line_no))}
    stocks: dict[int, dict[int, LineStock]] = {order_id: {} for order_id in order_ids}
    for order_id, line_no in set(held) | set(missing):
        stocks[order_id][line_no] = LineStock(held.get((order_id, line_no), []), missing.get((order_id, line_no), 0))
    return stocks


def sla_clock(row: Any, lifecycle: LifecycleConfig, now: datetime) -> SlaClock:
    definition = lifecycle.definition(row.stage)
    due = _utc(row.stage_due_at)
    return SlaClock(
        stage=row.stage, owner_role=definition.owner_role, entered_at=_utc(row.stage_entered_at), due_at=due,
        time_left=lifecycle.time_left(due, now), breached=due is not None and now > due,
        sla_hours=float(definition.sla_hours) if definition.sla_hours is not None else None,
    )


def _detail(row: Any, *, channel: str, customer: Any, lines: list[Any], timeline: list[Any],
            stock: dict[int, LineStock], lifecycle: LifecycleConfig, now: datetime) -> OrderDetail:
    """An order's detail from its parts, read (get_orders) or just written (detail_of_stored)."""
    state = LifecycleState(Stage(row.stage), Stage(row.held_from) if row.held_from else None)
    return OrderDetail(order=row, number=order_number(row.id), channel=channel, customer=customer, lines=lines,
                       timeline=timeline, sla=sla_clock(row, lifecycle, now),
                       allowed_actions=[a.value for a in allowed_actions(state)], stock=stock)


def detail_of_stored(stored: Stored, lifecycle: LifecycleConfig, now: datetime) -> OrderDetail:
    """The detail of an order just placed, from the rows as written (placing.Stored): no read-back."""
    held: dict[int, list[tuple[str, int, str]]] = {}
    for line_no, code, units in stored.held:
        held.setdefault(line_no, []).append((code, units, "active"))
    return _detail(SimpleNamespace(**stored.order), channel=stored.channel, customer=SimpleNamespace(**stored.customer),
                   lines=[SimpleNamespace(**line) for line in stored.lines],
                   timeline=[SimpleNamespace(**entry) for entry in stored.timeline],
                   stock={n: LineStock(held.get(n, []), stored.missing.get(n, 0))
                          for n in set(held) | set(stored.missing)},
                   lifecycle=lifecycle, now=now)


def get_order(conn: Connection, order_id: int, *, principal: Principal | None, lifecycle: LifecycleConfig,
              now: datetime) -> OrderDetail:
    found = get_orders(conn, [order_id], principal=principal, lifecycle=lifecycle, now=now)
    if order_id not in found:
        raise NotFound("order_not_found", f"no order {order_id}", "order_id")
    return found[order_id]


def get_orders(conn: Connection, order_ids: list[int], *, principal: Principal | None, lifecycle: LifecycleConfig,
               now: datetime) -> dict[int, OrderDetail]:
    """Full detail of several orders (those the principal may see) in six queries, however many orders."""
    rows = conn.execute(
        select(orders, channels.c.code.label("channel_code"))
        .join(channels, channels.c.id == orders.c.channel_id)
        .where(orders.c.id.in_(order_ids), scope_clause(principal))
    ).all()
    if not rows:
        return {}
    ids = [int(r.id) for r in rows]
    found_customers = {r.id: r for r in conn.execute(
        select(customers.c.id, customers.c.account, customers.c.name, customers.c.email)
        .where(customers.c.id.in_({r.customer_id for r in rows})))}
    lines: dict[int, list[Any]] = {i: [] for i in ids}
    for line in conn.execute(select(order_lines).where(order_lines.c.order_id.in_(ids))
                             .order_by(order_lines.c.order_id, order_lines.c.line_no)):
        lines[line.order_id].append(line)
    timeline: dict[int, list[Any]] = {i: [] for i in ids}
    for entry in conn.execute(select(order_timeline).where(order_timeline.c.order_id.in_(ids))
                              .order_by(order_timeline.c.id)):
        timeline[entry.order_id].append(entry)
    stock = line_stocks(conn, ids)
    return {int(row.id): _detail(row, channel=row.channel_code, customer=found_customers[row.customer_id],
                                 lines=lines[row.id], timeline=timeline[row.id], stock=stock[row.id],
                                 lifecycle=lifecycle, now=now)
            for row in rows}


@dataclass(frozen=True)
class BoardColumn:
    stage: str
    label: str
    owner_role: str
    sla_hours: float | None
    count: int
    breached: int
    oldest_breached: list[Any]


def board(conn: Connection, lifecycle: LifecycleConfig, *, principal: Principal | None, now: datetime,
          per_column: int = 5) -> list[BoardColumn]:
    """Two queries: counts per stage, and the most overdue orders of every stage (a window function)."""
    counts = {
        r.stage: (r.total, r.breached or 0)
        for r in conn.execute(
            select(orders.c.stage, func.count().label("total"),
                   func.count(orders.c.id).filter(orders.c.stage_due_at < now).label("breached"))
            .where(scope_clause(principal)).group_by(orders.c.stage)
        ).all()
    }
    ranked = (
        select(orders.c.id, orders.c.stage, orders.c.stage_due_at, orders.c.priority,
               customers.c.name.label("customer_name"),
               func.row_number().over(partition_by=orders.c.stage, order_by=orders.c.stage_due_at)
               .label("pos"))
        .join(customers, customers.c.id == orders.c.customer_id)
        .where(orders.c.stage_due_at < now, scope_clause(principal))
        .subquery()
    )
    overdue: dict[str, list[Any]] = {}
    for r in conn.execute(select(ranked).where(ranked.c.pos <= per_column)
                          .order_by(ranked.c.stage, ranked.c.pos)).all():
        overdue.setdefault(r.stage, []).append({
            "id": r.id, "number": order_number(r.id), "customer_name": r.customer_name,
            "due_at": _utc(r.stage_due_at), "overdue": now - _utc(r.stage_due_at),
        })
    columns = []
    for d in (lifecycle.definition(s.stage) for s in DEFAULT_STAGES):
        total, late = counts.get(d.stage.value, (0, 0))
        columns.append(BoardColumn(d.stage.value, d.label, d.owner_role,
                                   float(d.sla_hours) if d.sla_hours is not None else None,
                                   total, late, overdue.get(d.stage.value, [])))
    return columns
