"""The exception queue's actions on a held order: approve (overriding a rule's veto needs review:override),
record a check, correct the ship-to address and review again, ask for prepayment, cancel, assign; and the bulk
form of approve, cancel and assign.

Each action runs in one unit of work and starts by locking the order and its review case (SELECT ... FOR UPDATE
on PostgreSQL; SQLite's write transaction holds the database lock): two reviewers acting on one order at once are
served one after the other, and the second finds the case closed (409 `case_closed`) instead of approving twice.
The moves themselves are decide.py's: continue_after_review releases, approves and reserves; review_again runs
the published rules over a corrected order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from conveyor.identity.permissions import ROLE_PERMISSIONS, STAFF_ROLES, Permission, Role
from conveyor.identity.tables import users
from conveyor.kernel.address import check_address
from conveyor.kernel.errors import Conflict, DomainError, NotAllowed, NotFound, ProblemCollector, ValidationFailed
from conveyor.orders.config import ConfigCache
from conveyor.orders.domain import order_number
from conveyor.orders.lifecycle import TERMINAL, Action, LifecycleState, Stage
from conveyor.orders.moves import add_timeline, apply_move
from conveyor.orders.tables import orders
from conveyor.platform.uow import UnitOfWork
from conveyor.review import decide
from conveyor.review.addresses import address_key
from conveyor.review.events import PrepaymentRequested
from conveyor.review.model import Reason
from conveyor.review.queue import HoldView, hold_view, who
from conveyor.review.store import published_rule_set
from conveyor.review.tables import order_holds, order_reviews, review_audit, review_cases

MAX_COMMENT = 1000
MAX_BULK = 200
QUEUE_ROLES = ("customer_service", "finance", "manager")  # the roles a case can be handed to
WAITING_PREPAYMENT = "prepayment"


@dataclass(frozen=True)
class Outcome:
    """Where an order stands after an action."""

    order_id: int
    number: str
    stage: str
    case_open: bool
    message: str


@dataclass(frozen=True)
class BulkOutcome:
    order_id: int
    number: str
    ok: bool
    stage: str | None = None
    code: str | None = None       # the error's code when not ok (case_closed, override_not_allowed, ...)
    message: str = ""


# -- shared steps -----------------------------------------------------------------------------------------


def _text(value: str | None, name: str, *, action: str, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed("reason_required", f"a {name} is required to {action}", name)
        return None
    if len(text) > MAX_COMMENT:
        raise ValidationFailed("too_long", f"the {name} is longer than {MAX_COMMENT} characters", name)
    return text


def _lock_open_case(conn: Connection, order_id: int) -> Any:
    """The order's case, locked for this transaction; 404 without one, 409 once closed or when the order
    was cancelled or closed meanwhile. The order's row is locked first, then the case's: the order in which a
    lifecycle move elsewhere (e.g. cancel on the order page, which closes the case) takes them, so the two never
    deadlock on PostgreSQL."""
    number = order_number(order_id)
    stage = conn.execute(select(orders.c.stage).where(orders.c.id == order_id).with_for_update()).scalar()
    if stage is None:
        raise NotFound("order_not_found", f"no order {order_id}", "order_id")
    case = conn.execute(select(review_cases).where(review_cases.c.order_id == order_id).with_for_update()).first()
    if case is None:
        raise NotFound("case_not_found", f"{number} has no review case: review rules never held it", "order_id")
    if case.status != "open":
        raise Conflict("case_closed", f"the review case of {number} is closed already ({case.resolution} by "
                                      f"{who(case.closed_by)}); reload to see where it stands", "order_id")
    if Stage(stage) in TERMINAL:
        raise Conflict("order_finished", f"{number} is {stage} already", "order_id")
    return case


def _stage(conn: Connection, order_id: int) -> str:
    return str(conn.execute(select(orders.c.stage).where(orders.c.id == order_id)).scalar_one())


def _case_open(conn: Connection, order_id: int) -> bool:
    return conn.execute(select(review_cases.c.status).where(review_cases.c.order_id == order_id)).scalar() == "open"


def _regroup(conn: Connection, case: Any, remaining: Sequence[Any]) -> None:
    """After some holds were cleared the case is grouped under the first hold still open (its role too, unless
    the case waits for something, e.g. prepayment with finance)."""
    if not remaining or remaining[0].reason == case.reason:
        return
    values: dict[str, Any] = {"reason": remaining[0].reason}
    if case.waiting_for is None:
        values["role"] = decide.role_for(str(remaining[0].reason))
    conn.execute(update(review_cases).where(review_cases.c.order_id == case.order_id).values(**values))


def _labels(holds: Sequence[HoldView]) -> str:
    return ", ".join(f"{h.label} ({h.message})" for h in holds)


# -- approve ----------------------------------------------------------------------------------------------


def approve(order_id: int, *, actor: str, comment: str | None, can_override: bool, uow: UnitOfWork,
            config: ConfigCache) -> Outcome:
    """Approves a held order with a comment: clears every open hold, closes the case and moves the order on
    (released, approved, its stock reserved, or held for stock). A rule's veto (a hold, not a check) or a
    rule error needs `can_override` (review:override); approving over one is audited as an override."""
    text = _text(comment, "comment", action="approve", required=True)
    with uow:
        conn, at = uow.conn, uow.clock.now()
        case = _lock_open_case(conn, order_id)
        lifecycle = config.get(conn)
        holds = [hold_view(h) for h in decide.open_holds(conn, order_id)]
        vetoes = [h for h in holds if h.is_veto]
        if vetoes and not can_override:
            raise NotAllowed("override_not_allowed",
                             f"approving {order_number(order_id)} overrides {_labels(vetoes)}: that needs the "
                             "permission review:override (managers, finance)", None)
        if vetoes:
            rule_set_id = conn.execute(select(order_reviews.c.rule_set_id).where(order_reviews.c.order_id == order_id)
                                       .order_by(order_reviews.c.id.desc()).limit(1)).scalar()
            conn.execute(insert(review_audit).values(
                at=at, actor=actor, action="override", rule_set_id=rule_set_id, rule_no=vetoes[0].rule_no,
                order_id=order_id,
                before={"holds": [{"id": h.id, "label": h.label, "rule": h.rule_no, "version": h.rule_version,
                                   "reason": h.reason, "message": h.message} for h in vetoes]},
                after={"resolution": "approved", "case_reason": case.reason}, comment=text))
        decide.clear_holds(conn, order_id, at=at, by=actor, note=text)
        decide.close_case(conn, order_id, at=at, by=actor, resolution="approved", comment=text)
        overriding = (" overriding " + ", ".join(f"{h.label} ({h.message})" for h in vetoes)) if vetoes else ""
        add_timeline(conn, order_id=order_id, at=at, actor=actor, kind="note",
                     reason=f"Approved by {who(actor)}{overriding}: {text}",
                     data={"review": {"resolution": "approved", "cleared": [h.id for h in holds],
                                      "overridden": [h.label for h in vetoes]}})
        state = decide.continue_after_review(uow, order_id, actor=actor, reason=f"Approved after review: {text}",
                                             lifecycle=lifecycle)
        return Outcome(order_id, order_number(order_id), state.stage.value, False,
                       f"{order_number(order_id)} approved; now {state.stage.value}")


# -- record a check ---------------------------------------------------------------------------------------


def record_check(order_id: int, hold_id: int, *, actor: str, comment: str | None, uow: UnitOfWork,
                 config: ConfigCache) -> Outcome:
    """Records a named check (e.g. "call the customer") as done: clears that hold. With no hold left the case
    closes and the order moves on."""
    text = _text(comment, "comment", action="record a check", required=True)
    with uow:
        conn, at = uow.conn, uow.clock.now()
        case = _lock_open_case(conn, order_id)
        row = conn.execute(select(order_holds).where(order_holds.c.id == hold_id,
                                                     order_holds.c.order_id == order_id)).first()
        if row is None:
            raise NotFound("hold_not_found", f"{order_number(order_id)} has no hold {hold_id}", "hold_id")
        hold = hold_view(row)
        if not hold.is_open:
            raise Conflict("hold_cleared", f"this hold was cleared already by {who(hold.cleared_by)}", "hold_id")
        if hold.outcome != "check":
            raise Conflict("not_a_check", f"{hold.label} is not a check to record: {hold.message}; approve the "
                                          "order instead (it needs review:override)", "hold_id")
        decide.clear_holds(conn, order_id, at=at, by=actor, note=text, hold_ids=[hold_id])
        name = hold.check_name or hold.message
        add_timeline(conn, order_id=order_id, at=at, actor=actor, kind="note",
                     reason=f"Check \u201c{name}\u201d ({hold.label}) recorded by {who(actor)}: {text}",
                     data={"review": {"check": name, "hold": hold_id}})
        remaining = decide.open_holds(conn, order_id)
        if remaining:
            _regroup(conn, case, remaining)
            return Outcome(order_id, order_number(order_id), _stage(conn, order_id), True,
                           f"check recorded; {len(remaining)} hold(s) left")
        decide.close_case(conn, order_id, at=at, by=actor, resolution="approved", comment=text)
        state = decide.continue_after_review(uow, order_id, actor=actor, reason=f"Checks done: {text}",
                                             lifecycle=config.get(conn))
        return Outcome(order_id, order_number(order_id), state.stage.value, False,
                       f"check recorded; {order_number(order_id)} now {state.stage.value}")


# -- correct the ship-to address --------------------------------------------------------------------------


def _one_line(address: Mapping[str, Any]) -> str:
    parts = [address.get(k) for k in ("name", "company", "line1", "line2", "postal_code", "city", "region",
                                      "country", "phone")]
    return ", ".join(str(p) for p in parts if p)


def correct_address(order_id: int, *, actor: str, ship_to: Mapping[str, Any], comment: str | None,
                    uow: UnitOfWork, config: ConfigCache) -> Outcome:
    """Corrects the ship-to of a held order and runs the published rules again: holds of rules that pass now
    are cleared; with none left the order moves on, else it stays held with the holds that still apply."""
    problems = ProblemCollector()
    address = check_address(dict(ship_to), problems, "ship_to")
    note = _text(comment, "comment", action="correct the address", required=False)
    problems.raise_if_any()
    assert address is not None
    with uow:
        conn, at = uow.conn, uow.clock.now()
        _lock_open_case(conn, order_id)
        rule_set = published_rule_set(conn)
        if rule_set is None:
            raise Conflict("no_rule_set", "no review rule set is published: the order cannot be reviewed again",
                           None)
        lifecycle = config.get(conn)
        old = conn.execute(select(orders.c.ship_to).where(orders.c.id == order_id)).scalar_one()
        new = address.as_dict()
        conn.execute(update(orders).where(orders.c.id == order_id).values(
            ship_to=new, address_key=address_key(new), updated_at=at))
        add_timeline(conn, order_id=order_id, at=at, actor=actor, kind="note",
                     reason=f"Ship-to corrected by {who(actor)}: {_one_line(old or {})} \u2192 {_one_line(new)}"
                            + (f" ({note})" if note else ""),
                     data={"ship_to": {"before": old, "after": new}})
        decision = decide.review_again(uow, order_id, rule_set, trigger="address_corrected", actor=actor,
                                       lifecycle=lifecycle, prefix=f"Address corrected by {who(actor)}: ")
        still = _case_open(conn, order_id)
        stage = _stage(conn, order_id)
        message = (f"address corrected; still held: {decide.hold_text(decision)}" if still and decision.holds
                   else "address corrected; still held" if still
                   else f"address corrected; the rules pass now: {order_number(order_id)} now {stage}")
        return Outcome(order_id, order_number(order_id), stage, still, message)


# -- ask for prepayment -----------------------------------------------------------------------------------


def ask_prepayment(order_id: int, *, actor: str, comment: str | None, uow: UnitOfWork,
                   config: ConfigCache) -> Outcome:
    """Holds the order until the customer pays first: a hold with reason prepayment (approving over it needs
    review:override, i.e. finance confirms the payment), the case handed to finance and marked waiting, and an
    `order.prepayment_requested` event for the customer's notification."""
    note = _text(comment, "comment", action="ask for prepayment", required=False)
    with uow:
        conn, at = uow.conn, uow.clock.now()
        _lock_open_case(conn, order_id)
        waiting = conn.execute(select(order_holds.c.id).where(
            order_holds.c.order_id == order_id, order_holds.c.reason == Reason.PREPAYMENT.value,
            order_holds.c.cleared_at.is_(None))).first()
        if waiting is not None:
            raise Conflict("prepayment_requested", f"{order_number(order_id)} already waits for prepayment",
                           "order_id")
        message = f"Prepayment requested by {who(actor)}" + (f": {note}" if note else "")
        conn.execute(decide.INSERT_HOLD, dict(
            order_id=order_id, reason=Reason.PREPAYMENT.value, message=message, rule_no=None, rule_version=None,
            outcome="hold", check_name=None, created_at=at, cleared_at=None, cleared_by=None, cleared_note=None))
        conn.execute(update(review_cases).where(review_cases.c.order_id == order_id).values(
            waiting_for=WAITING_PREPAYMENT, role=decide.role_for(Reason.PREPAYMENT.value)))
        add_timeline(conn, order_id=order_id, at=at, actor=actor, kind="note",
                     reason=f"{message}; the order waits for the customer's payment (finance)",
                     data={"review": {"waiting_for": WAITING_PREPAYMENT}})
        order = conn.execute(select(orders.c.customer_id, orders.c.currency, orders.c.total_minor)
                             .where(orders.c.id == order_id)).one()
        uow.publish(PrepaymentRequested(order_id=order_id, number=order_number(order_id),
                                        customer_id=int(order.customer_id), currency=order.currency,
                                        total_minor=int(order.total_minor), actor=actor, comment=note),
                    key=str(order_id))
        return Outcome(order_id, order_number(order_id), _stage(conn, order_id), True,
                       "prepayment requested; the case waits for finance")


# -- cancel -----------------------------------------------------------------------------------------------


def cancel(order_id: int, *, actor: str, reason: str | None, uow: UnitOfWork, config: ConfigCache) -> Outcome:
    """Cancels a held order (the lifecycle's cancel: what it had reserved goes back), clears its holds and
    closes its case."""
    text = _text(reason, "reason", action="cancel", required=True)
    assert text is not None
    with uow:
        conn, at = uow.conn, uow.clock.now()
        _lock_open_case(conn, order_id)
        row = conn.execute(select(orders.c.stage, orders.c.held_from).where(orders.c.id == order_id)).one()
        state = LifecycleState(Stage(row.stage), Stage(row.held_from) if row.held_from else None)
        after = apply_move(uow, order_id, state, Action.CANCEL.value, actor=actor, reason=text,
                           lifecycle=config.get(conn))
        decide.clear_holds(conn, order_id, at=at, by=actor, note=f"cancelled: {text}")
        decide.close_case(conn, order_id, at=at, by=actor, resolution="cancelled", comment=text)
        return Outcome(order_id, order_number(order_id), after.stage.value, False,
                       f"{order_number(order_id)} cancelled")


# -- assign -----------------------------------------------------------------------------------------------


def check_assignee(conn: Connection, assignee: str | None) -> str | None:
    """`user:<email>` of an active staff user who may work the queue; None unassigns."""
    if assignee is None:
        return None
    email = assignee[5:] if assignee.startswith("user:") else assignee
    row = conn.execute(select(users.c.email, users.c.role, users.c.active)
                       .where(func.lower(users.c.email) == email.strip().lower())).first()
    if row is None or not row.active:
        raise ValidationFailed("unknown_assignee", f"no active user {email!r}", "assignee")
    role = Role(row.role)
    if role not in STAFF_ROLES or Permission.ORDER_REVIEW not in ROLE_PERMISSIONS[role]:
        raise ValidationFailed("assignee_cannot_review",
                               f"{email} ({role.label}) cannot work the exception queue", "assignee")
    return f"user:{row.email}"


def check_role(role: str | None) -> str | None:
    if role is None or not role.strip():
        return None
    if role.strip() not in QUEUE_ROLES:
        raise ValidationFailed("unknown_role", f"role must be one of {', '.join(QUEUE_ROLES)}", "role")
    return role.strip()


def assign(order_ids: Sequence[int], *, assignee: str | None, role: str | None, actor: str,
           uow: UnitOfWork) -> list[int]:
    """Hands open cases to a user (`user:<email>` or an email; None: nobody) and, with `role`, to that role's
    queue. The orders whose cases were open and are assigned now."""
    role = check_role(role)
    with uow:
        conn = uow.conn
        who_ = check_assignee(conn, assignee)
        values: dict[str, Any] = {"assignee": who_}
        if role is not None:
            values["role"] = role
        ids = sorted(set(order_ids))
        open_ids = [int(r.order_id) for r in conn.execute(
            select(review_cases.c.order_id).where(review_cases.c.order_id.in_(ids), review_cases.c.status == "open")
            .order_by(review_cases.c.order_id).with_for_update())]
        if open_ids:
            conn.execute(update(review_cases).where(review_cases.c.order_id.in_(open_ids),
                                                    review_cases.c.status == "open").values(**values))
        return open_ids


def assign_one(order_id: int, *, assignee: str | None, role: str | None, actor: str, uow: UnitOfWork) -> Outcome:
    """assign() for one case, with 404/409 when it is not there or not open."""
    role = check_role(role)
    with uow:
        conn = uow.conn
        _lock_open_case(conn, order_id)
        who_ = check_assignee(conn, assignee)
        values: dict[str, Any] = {"assignee": who_}
        if role is not None:
            values["role"] = role
        conn.execute(update(review_cases).where(review_cases.c.order_id == order_id).values(**values))
        target = who(who_) if who_ else "nobody"
        return Outcome(order_id, order_number(order_id), _stage(conn, order_id), True,
                       f"assigned to {target}" + (f" ({role})" if role else ""))


# -- bulk -------------------------------------------------------------------------------------------------

BULK_ACTIONS = ("approve", "cancel", "assign")


def bulk(action: str, order_ids: Sequence[int], *, actor: str, comment: str | None = None,
         assignee: str | None = None, role: str | None = None, can_override: bool = False,
         can_cancel: bool = False, make_uow: Callable[[], UnitOfWork], config: ConfigCache) -> list[BulkOutcome]:
    """One action over many orders with one comment (approve), reason (cancel) or assignee/role (assign). Each
    order runs in its own unit of work, so one that fails (closed meanwhile, needs an override) does not stop
    the others: an outcome per order, in the order given."""
    if action not in BULK_ACTIONS:
        raise ValidationFailed("unknown_action", f"action must be one of {', '.join(BULK_ACTIONS)}", "action")
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        raise ValidationFailed("required", "choose at least one order", "order_ids")
    if len(ids) > MAX_BULK:
        raise ValidationFailed("too_many", f"at most {MAX_BULK} orders at once", "order_ids")
    if action == "cancel" and not can_cancel:
        raise NotAllowed("forbidden", "cancelling orders needs the permission order:cancel", "action")
    # What is wrong for every order is refused once, before any order is touched.
    _text(comment, "reason" if action == "cancel" else "comment", action=action, required=action != "assign")
    role = check_role(role) if action == "assign" else None
    if action == "assign":
        with make_uow() as uow:
            check_assignee(uow.conn, assignee)
    outcomes: list[BulkOutcome] = []
    for order_id in ids:
        try:
            if action == "approve":
                done = approve(order_id, actor=actor, comment=comment, can_override=can_override, uow=make_uow(),
                               config=config)
            elif action == "cancel":
                done = cancel(order_id, actor=actor, reason=comment, uow=make_uow(), config=config)
            else:
                done = assign_one(order_id, assignee=assignee, role=role, actor=actor, uow=make_uow())
        except DomainError as exc:
            outcomes.append(BulkOutcome(order_id, order_number(order_id), False, code=exc.code, message=exc.message))
            continue
        outcomes.append(BulkOutcome(order_id, done.number, True, stage=done.stage, message=done.message))
    return outcomes
