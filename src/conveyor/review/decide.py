"""What a review decision does to an order: its record, its holds, its exception-queue case, and moving an
approved order on (release, approve, reserve its stock).

Used by intake (orders/placing.py, a whole batch at once), by reviewing again after a correction, and by the
exception queue's actions.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from conveyor.channels.tables import channels
from conveyor.customers.tables import customers
from conveyor.inventory.allocation import (
    LineNeed,
    ShortagePolicy,
    book_order_lines,
    fill_order_backorders,
    open_backorders,
)
from conveyor.inventory.ledger import Move
from conveyor.kernel.errors import Conflict, NotFound
from conveyor.orders.config import LifecycleConfig
from conveyor.orders.lifecycle import Action, LifecycleState, Stage
from conveyor.orders.moves import INVENTORY, REVIEW, add_timeline, apply_move
from conveyor.orders.tables import order_lines, orders
from conveyor.platform.uow import UnitOfWork
from conveyor.review.catalogue import fact_needs
from conveyor.review.evaluate import evaluate
from conveyor.review.facts import facts_for_orders
from conveyor.review.model import Decision, Reason, RuleResult
from conveyor.review.store import RuleSet
from conveyor.review.tables import order_holds, order_reviews, review_cases

# Which role works which hold reason in the exception queue.
ROLE_BY_REASON: dict[str, str] = {
    Reason.CREDIT: "finance", Reason.PREPAYMENT: "finance", Reason.COMPLIANCE: "manager",
    Reason.RULE_ERROR: "manager",
}
DEFAULT_ROLE = "customer_service"

INSERT_REVIEW = insert(order_reviews)
INSERT_HOLD = insert(order_holds)
INSERT_CASE = insert(review_cases)


def role_for(reason: str) -> str:
    return ROLE_BY_REASON.get(reason, DEFAULT_ROLE)


def review_row(order_id: int, decision: Decision, rule_set: RuleSet, *, trigger: str, at: datetime,
               micros: int) -> dict[str, Any]:
    return dict(order_id=order_id, at=at, trigger=trigger, rule_set_id=rule_set.id, approved=decision.approved,
                results=[r.as_dict() for r in decision.results], micros=micros)


def review_entry(order_id: int, decision: Decision, rule_set: RuleSet, *, at: datetime,
                 prefix: str = "") -> dict[str, Any]:
    """The timeline entry: the outcome in words, and every rule's result with its id and version."""
    return dict(order_id=order_id, at=at, actor=REVIEW, kind="decision", action=None, from_stage=None,
                to_stage=None, reason=prefix + decision.summary() + f" ({rule_set.label})",
                data={"review": {"rule_set": rule_set.id, "approved": decision.approved,
                                 "results": [[r.rule_no, r.version, r.status.value] for r in decision.results]}})


def hold_row(order_id: int, result: RuleResult, at: datetime) -> dict[str, Any]:
    return dict(order_id=order_id, reason=result.reason or Reason.OTHER.value, message=result.message,
                rule_no=result.rule_no, rule_version=result.version,
                outcome="check" if result.check else "hold", check_name=result.check, created_at=at,
                cleared_at=None, cleared_by=None, cleared_note=None)


def case_row(order_id: int, reason: str, at: datetime, lifecycle: LifecycleConfig) -> dict[str, Any]:
    return dict(order_id=order_id, status="open", reason=reason, role=role_for(reason), assignee=None,
                waiting_for=None, opened_at=at, due_at=lifecycle.due_at(Stage.ON_HOLD, at), closed_at=None,
                closed_by=None, resolution=None, comment=None)


def hold_text(decision: Decision) -> str:
    return "; ".join(h.message for h in decision.holds)


_OPEN_HOLDS = select(order_holds).where(order_holds.c.order_id == bindparam("order_id"),
                                        order_holds.c.cleared_at.is_(None)).order_by(order_holds.c.id)
_CASE = select(review_cases).where(review_cases.c.order_id == bindparam("order_id"))


def open_holds(conn: Connection, order_id: int) -> list[Any]:
    return list(conn.execute(_OPEN_HOLDS, {"order_id": order_id}))


def clear_holds(conn: Connection, order_id: int, *, at: datetime, by: str, note: str | None,
                hold_ids: list[int] | None = None) -> int:
    """Clears the order's open holds (or only `hold_ids`); how many."""
    stmt = update(order_holds).where(order_holds.c.order_id == order_id, order_holds.c.cleared_at.is_(None))
    if hold_ids is not None:
        stmt = stmt.where(order_holds.c.id.in_(hold_ids))
    return int(conn.execute(stmt.values(cleared_at=at, cleared_by=by, cleared_note=note)).rowcount)


def open_case(conn: Connection, order_id: int, reason: str, at: datetime, lifecycle: LifecycleConfig) -> None:
    """Opens the order's case, or reopens a closed one. A case still open keeps its SLA clock, its role while
    it waits for something (prepayment), and its assignee; only its grouping reason follows the holds."""
    row = case_row(order_id, reason, at, lifecycle)
    case = conn.execute(_CASE, {"order_id": order_id}).first()
    if case is None:
        conn.execute(INSERT_CASE, row)
    elif case.status == "open":
        changes: dict[str, Any] = {"reason": reason}
        if case.waiting_for is None:
            changes["role"] = role_for(reason)
        conn.execute(update(review_cases).where(review_cases.c.order_id == order_id).values(**changes))
    else:
        conn.execute(update(review_cases).where(review_cases.c.order_id == order_id).values(
            **{k: v for k, v in row.items() if k not in ("order_id", "assignee")}))


def close_case(conn: Connection, order_id: int, *, at: datetime, by: str, resolution: str,
               comment: str | None) -> bool:
    return bool(conn.execute(update(review_cases).where(
        review_cases.c.order_id == order_id, review_cases.c.status == "open").values(
        status="closed", closed_at=at, closed_by=by, resolution=resolution, comment=comment,
        waiting_for=None)).rowcount)


def _state(conn: Connection, order_id: int) -> LifecycleState:
    row = conn.execute(select(orders.c.stage, orders.c.held_from).where(orders.c.id == order_id)).first()
    if row is None:
        raise NotFound("order_not_found", f"no order {order_id}", "order_id")
    return LifecycleState(Stage(row.stage), Stage(row.held_from) if row.held_from else None)


_POLICY = (select(customers.c.shortage_policy.label("customer"), channels.c.shortage_policy.label("channel"),
                  orders.c.priority)
           .join(customers, customers.c.id == orders.c.customer_id).join(channels, channels.c.id == orders.c.channel_id)
           .where(orders.c.id == bindparam("order_id")))


def continue_after_review(uow: UnitOfWork, order_id: int, *, actor: str, reason: str,
                          lifecycle: LifecycleConfig) -> LifecycleState:
    """Moves an order that review no longer stops on: out of the hold, approved, its stock reserved (booked
    now if review held it before reservation), and into 'reserved' when every line is held. Short stock then
    follows the shortage policy: hold (by inventory, released when stock arrives) or backorder (stays
    approved); an approved order is never rejected for stock."""
    conn, at = uow.conn, uow.clock.now()
    state = _state(conn, order_id)
    if state.stage is Stage.ON_HOLD:
        state = apply_move(uow, order_id, state, Action.RELEASE.value, actor=actor, reason=reason,
                           lifecycle=lifecycle)
    if state.stage is Stage.RECEIVED:
        state = apply_move(uow, order_id, state, Action.REVIEW.value, actor=actor, reason=None, lifecycle=lifecycle)
    if state.stage is Stage.UNDER_REVIEW:
        state = apply_move(uow, order_id, state, Action.APPROVE.value, actor=actor, reason=reason,
                           lifecycle=lifecycle)
    if state.stage is not Stage.APPROVED:
        return state
    lines = conn.execute(select(order_lines.c.line_no, order_lines.c.product_id, order_lines.c.sku,
                                order_lines.c.quantity).where(order_lines.c.order_id == order_id)).all()
    if any(line.product_id is None for line in lines):
        unmapped = ", ".join(f"line {line.line_no} ({line.sku})" for line in lines if line.product_id is None)
        return apply_move(uow, order_id, state, Action.HOLD.value, actor=REVIEW,
                          reason=f"Item mapping: {unmapped} not in the catalog", lifecycle=lifecycle)
    policy_row = conn.execute(_POLICY, {"order_id": order_id}).one()
    move = Move(actor=INVENTORY, at=at, reference=f"order:{order_id}", reason="approved after review")
    if book_order_lines(conn, order_id, [LineNeed(line.line_no, line.product_id, line.sku, line.quantity)
                                         for line in lines], int(policy_row.priority), at):
        add_timeline(conn, order_id=order_id, at=at, actor=INVENTORY, kind="decision",
                     reason="Reserving stock now that the order is approved")
    if fill_order_backorders(conn, order_id, move):
        return apply_move(uow, order_id, state, Action.RESERVE.value, actor=INVENTORY, reason=None,
                          lifecycle=lifecycle)
    missing = ", ".join(f"line {line_no}: {qty} short" for _, line_no, _, qty in open_backorders(conn, order_id))
    policy = ShortagePolicy(policy_row.customer or policy_row.channel or ShortagePolicy.HOLD)
    if policy is ShortagePolicy.BACKORDER:
        add_timeline(conn, order_id=order_id, at=at, actor=INVENTORY, kind="decision",
                     reason=f"Stock short ({missing}); policy backorder: the rest follows when stock arrives")
        return state
    return apply_move(uow, order_id, state, Action.HOLD.value, actor=INVENTORY,
                      reason=f"Waiting for stock: {missing}", lifecycle=lifecycle)


def review_again(uow: UnitOfWork, order_id: int, rule_set: RuleSet, *, trigger: str, actor: str,
                 lifecycle: LifecycleConfig, prefix: str = "") -> Decision:
    """Runs the rules again over a held order (after its address was corrected, say). Holds of rules that now
    pass are cleared, new ones added; holds a person added (prepayment) stay. With no hold left the order moves
    on (continue_after_review) and its case closes."""
    conn, at = uow.conn, uow.clock.now()
    state = _state(conn, order_id)
    if state.stage is not Stage.ON_HOLD:
        raise Conflict("not_on_hold", "only an order on hold is reviewed again", "order_id")
    started = time.perf_counter_ns()
    facts = facts_for_orders(conn, [order_id], fact_needs(rule_set.rules))[order_id]
    decision = evaluate(rule_set.rules, facts)
    micros = (time.perf_counter_ns() - started) // 1000
    conn.execute(INSERT_REVIEW, review_row(order_id, decision, rule_set, trigger=trigger, at=at, micros=micros))
    add_timeline(conn, **review_entry(order_id, decision, rule_set, at=at, prefix=prefix))
    current = {(h.rule_no, h.reason) for h in decision.holds}
    held = open_holds(conn, order_id)
    stale = [h for h in held if h.rule_no is not None and (h.rule_no, h.reason) not in current]
    if stale:
        clear_holds(conn, order_id, at=at, by=REVIEW, note="the rule passes now", hold_ids=[int(h.id) for h in stale])
    kept = [h for h in held if h not in stale]  # in id order: the first is the case's grouping reason
    still = {(h.rule_no, h.reason) for h in kept}
    new = [hold_row(order_id, h, at) for h in decision.holds if (h.rule_no, h.reason) not in still]
    if new:
        conn.execute(INSERT_HOLD, new)
    if kept or new:
        open_case(conn, order_id, str(kept[0].reason if kept else new[0]["reason"]), at, lifecycle)
        return decision
    close_case(conn, order_id, at=at, by=actor, resolution="passed", comment=prefix.strip() or None)
    continue_after_review(uow, order_id, actor=REVIEW, reason="Review rules pass now", lifecycle=lifecycle)
    return decision
