"""Order use cases: place an order (idempotently; orders/placing.py), move it through the lifecycle, configure
stages.

Each runs inside one unit of work: the order, its timeline entry and its outbox event commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from conveyor.kernel.errors import Conflict, NotFound
from conveyor.orders import config as lifecycle_config
from conveyor.orders.commands import ConfigureStage, MoveOrder
from conveyor.orders.config import ConfigCache, LifecycleConfig
from conveyor.orders.events import StageConfigured
from conveyor.orders.lifecycle import TERMINAL, Action, LifecycleState, Stage, StageDefinition, find_transition
from conveyor.orders.moves import INVENTORY, apply_move
from conveyor.orders.placing import Placed, place_order, place_orders
from conveyor.orders.tables import orders
from conveyor.platform.uow import UnitOfWork
from conveyor.review.decide import clear_holds, close_case
from conveyor.review.tables import review_cases

__all__ = ["INVENTORY", "Moved", "Placed", "configure_stage", "move_order", "place_order", "place_orders",
           "recompute_due_times"]


_OPEN_CASE = select(review_cases.c.order_id).where(review_cases.c.order_id == bindparam("order_id"),
                                                  review_cases.c.status == "open")


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
        action = find_transition(cmd.action).action
        case_open = conn.execute(_OPEN_CASE, {"order_id": cmd.order_id}).first() is not None
        if case_open and action in (Action.RELEASE, Action.APPROVE):
            raise Conflict("review_case_open", "review rules hold this order: approve it in the exception queue "
                           "(with a comment; overriding a rule needs the review:override permission)", "action")
        after = apply_move(uow, cmd.order_id, before, cmd.action, actor=cmd.actor, reason=cmd.reason,
                       lifecycle=config.get(conn))
        if case_open and after.stage is Stage.CANCELLED:
            at = uow.clock.now()
            clear_holds(conn, cmd.order_id, at=at, by=cmd.actor, note=cmd.reason)
            close_case(conn, cmd.order_id, at=at, by=cmd.actor, resolution="cancelled", comment=cmd.reason)
        return Moved(cmd.order_id, before.stage, after.stage)


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
