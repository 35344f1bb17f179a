"""Turns read-side rows into API DTOs."""

from __future__ import annotations

from conveyor.orders import schemas as s
from conveyor.orders.config import LifecycleConfig
from conveyor.orders.lifecycle import DEFAULT_STAGES, LifecycleState, Stage, allowed_actions, edges
from conveyor.orders.queries import OrderDetail, OrderRow


def order_out(d: OrderDetail) -> s.OrderOut:
    o, cur = d.order, d.order.currency
    return s.OrderOut(
        id=o.id, number=d.number, channel=d.channel, external_id=o.external_id,
        customer=s.CustomerRef(account=d.customer.account, name=d.customer.name), stage=o.stage,
        held_from=o.held_from, priority=o.priority, currency=cur,
        totals=s.TotalsOut(subtotal=s.money(o.subtotal_minor, cur), discount=s.money(o.discount_minor, cur),
                           tax=s.money(o.tax_minor, cur), shipping=s.money(o.shipping_minor, cur),
                           total=s.money(o.total_minor, cur)),
        lines=[s.OrderLineOut(line_no=line.line_no, sku=line.sku, name=line.name, quantity=line.quantity,
                              unit_price=s.money(line.unit_price_minor, cur),
                              discount=s.money(line.discount_minor, cur), tax=s.money(line.tax_minor, cur),
                              total=s.money(line.total_minor, cur), mapped=line.product_id is not None,
                              **_line_stock(d, line.line_no))
               for line in d.lines],
        ship_to=s.AddressOut(**o.ship_to), bill_to=s.AddressOut(**o.bill_to),
        requested_delivery_date=o.requested_delivery_date, notes=o.notes, tags=list(o.tags or []),
        shipping_service=getattr(o, "shipping_service", None),
        sla=s.SlaOut(stage=d.sla.stage, owner_role=d.sla.owner_role, entered_at=d.sla.entered_at,
                     due_at=d.sla.due_at, breached=d.sla.breached,
                     business_seconds_left=d.sla.time_left.total_seconds() if d.sla.time_left is not None
                     else None),
        allowed_actions=d.allowed_actions,
        timeline=[s.TimelineEntryOut(at=t.at, actor=t.actor, kind=t.kind, action=t.action,
                                     from_stage=t.from_stage, to_stage=t.to_stage, reason=t.reason,
                                     data=t.data) for t in d.timeline],
        created_at=o.created_at, updated_at=o.updated_at,
    )


def _line_stock(d: OrderDetail, line_no: int) -> dict[str, object]:
    stock = d.stock.get(line_no)
    if stock is None:
        return {}
    return {"held": [s.HeldOut(warehouse=w, quantity=q, status=st) for w, q, st in stock.held],
            "missing": stock.missing}


def summary_out(r: OrderRow) -> s.OrderSummaryOut:
    return s.OrderSummaryOut(
        id=r.id, number=r.number, external_id=r.external_id, channel=r.channel,
        customer_account=r.customer_account, customer_name=r.customer_name, stage=r.stage, priority=r.priority,
        currency=r.currency, total=s.money(r.total_minor, r.currency), created_at=r.created_at,
        stage_due_at=r.stage_due_at, breached=r.breached)


def calendar_out(config: LifecycleConfig) -> s.CalendarOut:
    cal = config.calendar
    return s.CalendarOut(
        timezone=cal.timezone, working_days=sorted(d + 1 for d in cal.working_days),
        opens=cal.opens.strftime("%H:%M"), closes=cal.closes.strftime("%H:%M"),
        holidays=[s.HolidayIO(day=day, name=name) for day, name in sorted(config.holiday_names.items())])


def lifecycle_out(config: LifecycleConfig) -> s.LifecycleOut:
    stages = []
    for default in DEFAULT_STAGES:
        d = config.definition(default.stage)
        state = LifecycleState(d.stage, Stage.RECEIVED if d.stage == Stage.ON_HOLD else None)
        stages.append(s.StageOut(
            stage=d.stage.value, label=d.label, owner_role=d.owner_role,
            sla_hours=float(d.sla_hours) if d.sla_hours is not None else None, description=d.description,
            actions=[a.value for a in allowed_actions(state)]))
    moves = [s.MoveOut(from_stage=a.value, action=act.value, to_stage=b.value) for a, act, b in edges()]
    return s.LifecycleOut(stages=stages, moves=moves, calendar=calendar_out(config))
