"""One lifecycle move inside a caller's unit of work, and the order timeline it writes.

Shared by the order use cases (placing, moving) and by inventory's backorder filler.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, update
from sqlalchemy.engine import Connection

from conveyor.inventory.allocation import fill_order_backorders, open_backorders, release_order, ship_order
from conveyor.inventory.events import ORDER_RELEASED
from conveyor.inventory.freed import publish_freed
from conveyor.inventory.ledger import Move
from conveyor.kernel.errors import Conflict
from conveyor.orders.config import LifecycleConfig
from conveyor.orders.events import OrderStageChanged
from conveyor.orders.lifecycle import Action, LifecycleState, find_transition, transition
from conveyor.orders.tables import order_timeline, orders
from conveyor.platform.uow import UnitOfWork

INVENTORY = "system:inventory"
REVIEW = "system:review"
INSERT_TIMELINE = insert(order_timeline)


def add_timeline(conn: Connection, *, order_id: int, at: datetime, actor: str, kind: str,
              action: str | None = None, from_stage: str | None = None, to_stage: str | None = None,
              reason: str | None = None, data: dict[str, Any] | None = None) -> None:
    conn.execute(INSERT_TIMELINE, dict(
        order_id=order_id, at=at, actor=actor, kind=kind, action=action, from_stage=from_stage,
        to_stage=to_stage, reason=reason, data=data))


def apply_move(uow: UnitOfWork, order_id: int, before: LifecycleState, action_name: str, *, actor: str,
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
    add_timeline(conn, order_id=order_id, at=at, actor=actor, kind="transition", action=action.value,
              from_stage=before.stage.value, to_stage=after.stage.value, reason=reason)
    uow.publish(OrderStageChanged(order_id=order_id, action=action.value, from_stage=before.stage.value,
                                  to_stage=after.stage.value, actor=actor, reason=reason), key=str(order_id))
    return after


def _stock_effect(conn: Connection, order_id: int, action: Action, move: Move) -> None:
    if action in (Action.CANCEL, Action.CLOSE):  # what the order gave back may fill waiting backorders
        publish_freed(conn, release_order(conn, order_id, move), reason=ORDER_RELEASED, at=move.at)
    elif action == Action.SHIP:
        ship_order(conn, order_id, move)
    elif action == Action.RESERVE and not fill_order_backorders(conn, order_id, move):
        missing = ", ".join(f"line {line_no}: {qty}" for _, line_no, _, qty in open_backorders(conn, order_id))
        raise Conflict("insufficient_stock", f"the order cannot be fully reserved yet ({missing} missing)",
                       "action")
