"""The order lifecycle as data.

`TRANSITIONS` is the single source of truth: which action moves an order from which stages to which
stage. Everything else here (allowed actions, error messages, diagram edges) is derived from it.

Stage definitions (label, owning role, SLA) are configuration defaults; a manager may change them later
and storing those changes is not this module's concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from conveyor.kernel.errors import FieldProblem, InvalidTransition, ValidationFailed


class Stage(StrEnum):
    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    RESERVED = "reserved"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CLOSED = "closed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


class Action(StrEnum):
    REVIEW = "review"
    APPROVE = "approve"
    RESERVE = "reserve"
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    DELIVER = "deliver"
    CLOSE = "close"
    HOLD = "hold"
    RELEASE = "release"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[Stage]
    target: Stage | None  # None: back to the stage the order was held from
    label: str
    needs_reason: bool = False


MAIN_FLOW: tuple[Stage, ...] = (
    Stage.RECEIVED,
    Stage.UNDER_REVIEW,
    Stage.APPROVED,
    Stage.RESERVED,
    Stage.PICKING,
    Stage.PACKED,
    Stage.SHIPPED,
    Stage.DELIVERED,
    Stage.CLOSED,
)

TERMINAL: frozenset[Stage] = frozenset({Stage.CLOSED, Stage.CANCELLED})

HOLDABLE: frozenset[Stage] = frozenset(
    {Stage.RECEIVED, Stage.UNDER_REVIEW, Stage.APPROVED, Stage.RESERVED, Stage.PICKING, Stage.PACKED}
)

CANCELLABLE: frozenset[Stage] = HOLDABLE | {Stage.ON_HOLD}


def _step(action: Action, source: Stage, target: Stage, label: str) -> Transition:
    return Transition(action, frozenset({source}), target, label, needs_reason=False)


TRANSITIONS: tuple[Transition, ...] = (
    _step(Action.REVIEW, Stage.RECEIVED, Stage.UNDER_REVIEW, "Start review"),
    _step(Action.APPROVE, Stage.UNDER_REVIEW, Stage.APPROVED, "Approve"),
    _step(Action.RESERVE, Stage.APPROVED, Stage.RESERVED, "Reserve stock"),
    _step(Action.PICK, Stage.RESERVED, Stage.PICKING, "Start picking"),
    _step(Action.PACK, Stage.PICKING, Stage.PACKED, "Pack"),
    _step(Action.SHIP, Stage.PACKED, Stage.SHIPPED, "Ship"),
    _step(Action.DELIVER, Stage.SHIPPED, Stage.DELIVERED, "Mark delivered"),
    _step(Action.CLOSE, Stage.DELIVERED, Stage.CLOSED, "Close"),
    Transition(Action.HOLD, HOLDABLE, Stage.ON_HOLD, "Put on hold", needs_reason=True),
    Transition(Action.RELEASE, frozenset({Stage.ON_HOLD}), None, "Release hold", needs_reason=False),
    Transition(Action.CANCEL, CANCELLABLE, Stage.CANCELLED, "Cancel", needs_reason=True),
)

_BY_ACTION: dict[Action, Transition] = {t.action: t for t in TRANSITIONS}


@dataclass(frozen=True)
class StageDefinition:
    stage: Stage
    label: str
    owner_role: str
    sla_hours: Decimal | None  # business hours; None: no SLA
    description: str


DEFAULT_STAGES: tuple[StageDefinition, ...] = (
    StageDefinition(Stage.RECEIVED, "Received", "customer_service", Decimal(1),
                    "The order has arrived from a channel and waits for a first look."),
    StageDefinition(Stage.UNDER_REVIEW, "Under review", "customer_service", Decimal(1),
                    "Customer service checks the customer, address, prices and payment."),
    StageDefinition(Stage.APPROVED, "Approved", "warehouse", Decimal(2),
                    "The order is accepted and waits for stock to be reserved."),
    StageDefinition(Stage.RESERVED, "Reserved", "warehouse", Decimal(4),
                    "Stock is set aside for every line; the order waits to be picked."),
    StageDefinition(Stage.PICKING, "Picking", "warehouse", Decimal(4),
                    "The warehouse is collecting the items from their locations."),
    StageDefinition(Stage.PACKED, "Packed", "warehouse", Decimal(2),
                    "The parcel is packed and waits for the carrier."),
    StageDefinition(Stage.SHIPPED, "Shipped", "manager", Decimal(40),
                    "The carrier has the parcel and is delivering it."),
    StageDefinition(Stage.DELIVERED, "Delivered", "finance", Decimal(16),
                    "The customer has the goods; finance settles and closes the order."),
    StageDefinition(Stage.CLOSED, "Closed", "finance", None,
                    "Everything is settled; the order is finished."),
    StageDefinition(Stage.ON_HOLD, "On hold", "customer_service", Decimal(4),
                    "Work is paused for a recorded reason until someone releases the order."),
    StageDefinition(Stage.CANCELLED, "Cancelled", "customer_service", None,
                    "The order was stopped for a recorded reason and will not be fulfilled."),
)

_DEFAULT_BY_STAGE: dict[Stage, StageDefinition] = {d.stage: d for d in DEFAULT_STAGES}


@dataclass(frozen=True)
class LifecycleState:
    stage: Stage
    held_from: Stage | None = None

    def __post_init__(self) -> None:
        stage = Stage(self.stage)
        held_from = None if self.held_from is None else Stage(self.held_from)
        if stage is Stage.ON_HOLD:
            if held_from is None:
                raise ValueError("an order on hold must remember the stage it was held from")
            if held_from not in HOLDABLE:
                raise ValueError(f"an order cannot have been held from {held_from.value}")
        elif held_from is not None:
            raise ValueError(f"only an order on hold has a held_from stage, not one that is {stage.value}")
        object.__setattr__(self, "stage", stage)
        object.__setattr__(self, "held_from", held_from)


def _stage_label(stage: Stage) -> str:
    return _DEFAULT_BY_STAGE[stage].label.lower()


def find_transition(action: Action | str) -> Transition:
    """The table row for an action; an unknown action name is a validation problem."""
    try:
        parsed = Action(action)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise ValidationFailed.of(
            [FieldProblem("unknown_action", f"unknown action {action!r}; known actions: {known}", "action")]
        ) from None
    return _BY_ACTION[parsed]


def allowed_actions(state: LifecycleState) -> list[Action]:
    """Actions that can be applied from the current stage, in table order."""
    return [t.action for t in TRANSITIONS if state.stage in t.sources]


def transition(state: LifecycleState, action: Action | str, *, reason: str | None = None) -> LifecycleState:
    """Apply an action, returning the new state. The given state is never changed."""
    move = find_transition(action)
    if state.stage not in move.sources:
        allowed = ", ".join(a.value for a in allowed_actions(state)) or "none"
        raise InvalidTransition(
            "invalid_transition",
            f"cannot {move.action.value} an order that is {_stage_label(state.stage)}; allowed: {allowed}",
            "action",
        )
    if move.needs_reason and (reason is None or not reason.strip()):
        message = f"a reason is required to {move.action.value} an order"
        raise ValidationFailed.of([FieldProblem("reason_required", message, "reason")])
    if move.target is None:
        if state.held_from is None:  # unreachable while the LifecycleState invariant holds
            raise InvalidTransition("invalid_transition", "the order does not know where it was held from",
                                    "action")
        return LifecycleState(state.held_from)
    if move.target is Stage.ON_HOLD:
        return LifecycleState(Stage.ON_HOLD, held_from=state.stage)
    return LifecycleState(move.target)


def _stage_order(stage: Stage) -> int:
    return list(Stage).index(stage)


def edges() -> list[tuple[Stage, Action, Stage]]:
    """Every allowed move, for drawing a diagram. `release` expands to on_hold -> each holdable stage."""
    result: list[tuple[Stage, Action, Stage]] = []
    for move in TRANSITIONS:
        for source in sorted(move.sources, key=_stage_order):
            if move.target is None:
                result.extend((source, move.action, back) for back in sorted(HOLDABLE, key=_stage_order))
            else:
                result.append((source, move.action, move.target))
    return result
