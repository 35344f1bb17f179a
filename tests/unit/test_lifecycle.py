"""The order lifecycle: business rules, the table's consistency, and a random walk over it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conveyor.kernel.errors import DomainError, InvalidTransition, ValidationFailed
from conveyor.orders.lifecycle import (
    CANCELLABLE,
    DEFAULT_STAGES,
    HOLDABLE,
    MAIN_FLOW,
    TERMINAL,
    TRANSITIONS,
    Action,
    LifecycleState,
    Stage,
    allowed_actions,
    edges,
    find_transition,
    transition,
)

ROLES = {"admin", "manager", "customer_service", "finance", "warehouse", "customer", "partner"}
MAIN_ACTIONS = [Action.REVIEW, Action.APPROVE, Action.RESERVE, Action.PICK, Action.PACK, Action.SHIP,
                Action.DELIVER, Action.CLOSE]


def at(stage: Stage) -> LifecycleState:
    return LifecycleState(stage)


def held(from_stage: Stage) -> LifecycleState:
    return LifecycleState(Stage.ON_HOLD, held_from=from_stage)


# -- the main flow ----------------------------------------------------------------------------------


def test_an_order_walks_the_main_flow_from_received_to_closed() -> None:
    state = at(Stage.RECEIVED)
    visited = [state.stage]
    for action in MAIN_ACTIONS:
        state = transition(state, action)
        visited.append(state.stage)
    assert tuple(visited) == MAIN_FLOW
    assert state == at(Stage.CLOSED)


@pytest.mark.parametrize(("before", "action", "after"), list(zip(MAIN_FLOW[:-1], MAIN_ACTIONS, MAIN_FLOW[1:],
                                                                 strict=True)))
def test_each_main_flow_step_moves_one_stage_forward(before: Stage, action: Action, after: Stage) -> None:
    assert transition(at(before), action) == at(after)


def test_actions_may_be_given_by_name() -> None:
    assert transition(at(Stage.RECEIVED), "review") == at(Stage.UNDER_REVIEW)


def test_cannot_ship_an_unapproved_order() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(at(Stage.UNDER_REVIEW), Action.SHIP)
    error = caught.value
    assert error.code == "invalid_transition"
    assert error.field == "action"
    assert error.status == 409
    assert "under review" in error.message
    assert "allowed: approve, hold, cancel" in error.message


def test_cannot_skip_review() -> None:
    with pytest.raises(InvalidTransition):
        transition(at(Stage.RECEIVED), Action.APPROVE)


def test_cannot_go_back_a_stage() -> None:
    with pytest.raises(InvalidTransition):
        transition(at(Stage.PACKED), Action.PICK)


def test_cannot_pick_before_stock_is_reserved() -> None:
    with pytest.raises(InvalidTransition, match="approved"):
        transition(at(Stage.APPROVED), Action.PICK)


def test_cannot_close_an_order_that_was_not_delivered() -> None:
    with pytest.raises(InvalidTransition, match="shipped"):
        transition(at(Stage.SHIPPED), Action.CLOSE)


def test_an_unknown_action_is_a_validation_problem() -> None:
    with pytest.raises(ValidationFailed) as caught:
        transition(at(Stage.RECEIVED), "teleport")
    assert caught.value.code == "unknown_action"
    assert caught.value.field == "action"
    assert "teleport" in caught.value.message


def test_find_transition_knows_every_action_and_refuses_others() -> None:
    for action in Action:
        assert find_transition(action).action is action
        assert find_transition(action.value).action is action
    with pytest.raises(ValidationFailed):
        find_transition("Approve")


def test_the_order_passed_in_is_not_changed() -> None:
    state = at(Stage.RECEIVED)
    transition(state, Action.REVIEW)
    assert state == at(Stage.RECEIVED)


# -- holds --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", sorted(HOLDABLE))
def test_an_order_can_be_held_from_any_stage_before_shipping(stage: Stage) -> None:
    assert transition(at(stage), Action.HOLD, reason="address check") == held(stage)


@pytest.mark.parametrize("stage", sorted(HOLDABLE))
def test_a_released_order_returns_to_the_stage_it_was_held_from(stage: Stage) -> None:
    on_hold = transition(at(stage), Action.HOLD, reason="payment pending")
    assert transition(on_hold, Action.RELEASE) == at(stage)


@pytest.mark.parametrize("stage", [Stage.SHIPPED, Stage.DELIVERED, Stage.CLOSED, Stage.CANCELLED])
def test_a_shipped_or_finished_order_cannot_be_held(stage: Stage) -> None:
    with pytest.raises(InvalidTransition):
        transition(at(stage), Action.HOLD, reason="too late")


def test_an_order_on_hold_cannot_be_held_again() -> None:
    with pytest.raises(InvalidTransition, match="on hold"):
        transition(held(Stage.APPROVED), Action.HOLD, reason="again")


@pytest.mark.parametrize("reason", [None, "", "   ", "\t\n"])
def test_holding_an_order_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        transition(at(Stage.APPROVED), Action.HOLD, reason=reason)
    assert caught.value.code == "reason_required"
    assert caught.value.field == "reason"


def test_only_an_order_on_hold_can_be_released() -> None:
    with pytest.raises(InvalidTransition, match="allowed: reserve, hold, cancel"):
        transition(at(Stage.APPROVED), Action.RELEASE)


def test_an_order_on_hold_cannot_progress_until_released() -> None:
    with pytest.raises(InvalidTransition, match="allowed: release, cancel"):
        transition(held(Stage.APPROVED), Action.RESERVE)


def test_releasing_needs_no_reason() -> None:
    assert transition(held(Stage.PICKING), Action.RELEASE, reason=None) == at(Stage.PICKING)


# -- cancellation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", sorted(CANCELLABLE))
def test_an_order_can_be_cancelled_until_it_ships(stage: Stage) -> None:
    state = held(Stage.RESERVED) if stage is Stage.ON_HOLD else at(stage)
    assert transition(state, Action.CANCEL, reason="customer changed their mind") == at(Stage.CANCELLED)


def test_cancelling_an_order_on_hold_forgets_where_it_was_held_from() -> None:
    cancelled = transition(held(Stage.PACKED), Action.CANCEL, reason="fraud")
    assert cancelled.held_from is None


@pytest.mark.parametrize("stage", [Stage.SHIPPED, Stage.DELIVERED, Stage.CLOSED, Stage.CANCELLED])
def test_cannot_cancel_a_shipped_or_finished_order(stage: Stage) -> None:
    with pytest.raises(InvalidTransition):
        transition(at(stage), Action.CANCEL, reason="please")


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_cancelling_an_order_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(ValidationFailed, match="reason") as caught:
        transition(at(Stage.RECEIVED), Action.CANCEL, reason=reason)
    assert caught.value.code == "reason_required"


def test_a_move_that_is_not_allowed_is_reported_before_a_missing_reason() -> None:
    with pytest.raises(InvalidTransition):
        transition(at(Stage.SHIPPED), Action.CANCEL)


@pytest.mark.parametrize("stage", sorted(TERMINAL))
def test_nothing_can_happen_to_a_closed_or_cancelled_order(stage: Stage) -> None:
    assert allowed_actions(at(stage)) == []
    for action in Action:
        with pytest.raises(InvalidTransition, match="allowed: none"):
            transition(at(stage), action, reason="try anyway")


# -- allowed actions and the state invariant ----------------------------------------------------------


def test_allowed_actions_follow_the_table_order() -> None:
    assert allowed_actions(at(Stage.RECEIVED)) == [Action.REVIEW, Action.HOLD, Action.CANCEL]
    assert allowed_actions(held(Stage.RECEIVED)) == [Action.RELEASE, Action.CANCEL]
    assert allowed_actions(at(Stage.SHIPPED)) == [Action.DELIVER]


def test_an_order_on_hold_must_remember_where_it_was_held_from() -> None:
    with pytest.raises(ValueError):
        LifecycleState(Stage.ON_HOLD)


@pytest.mark.parametrize("stage", [s for s in Stage if s is not Stage.ON_HOLD])
def test_only_an_order_on_hold_remembers_a_held_from_stage(stage: Stage) -> None:
    with pytest.raises(ValueError):
        LifecycleState(stage, held_from=Stage.RECEIVED)


@pytest.mark.parametrize("held_from", [Stage.ON_HOLD, Stage.SHIPPED, Stage.CLOSED, Stage.CANCELLED])
def test_an_order_cannot_have_been_held_from_a_stage_that_cannot_be_held(held_from: Stage) -> None:
    with pytest.raises(ValueError):
        LifecycleState(Stage.ON_HOLD, held_from=held_from)


def test_stored_stage_names_are_read_back_as_stages() -> None:
    state = LifecycleState("on_hold", held_from="packed")  # type: ignore[arg-type]
    assert state.stage is Stage.ON_HOLD
    assert state.held_from is Stage.PACKED


# -- the table and derived data -----------------------------------------------------------------------


def test_every_action_appears_exactly_once_in_the_table() -> None:
    assert sorted(t.action for t in TRANSITIONS) == sorted(Action)


def test_only_hold_and_cancel_need_a_reason() -> None:
    assert {t.action for t in TRANSITIONS if t.needs_reason} == {Action.HOLD, Action.CANCEL}


def test_every_transition_has_a_human_label() -> None:
    assert all(t.label.strip() and t.label[0].isupper() for t in TRANSITIONS)


def test_edges_cover_every_source_and_action_pair_in_the_table() -> None:
    drawn = edges()
    pairs = {(source, action) for source, action, _ in drawn}
    expected = {(source, t.action) for t in TRANSITIONS for source in t.sources}
    assert pairs == expected
    assert len(drawn) == len(set(drawn))
    for source, action, target in drawn:
        if action is Action.RELEASE:
            assert source is Stage.ON_HOLD and target in HOLDABLE
        else:
            assert find_transition(action).target is target


def test_release_edges_lead_back_to_every_holdable_stage() -> None:
    assert {target for _, action, target in edges() if action is Action.RELEASE} == HOLDABLE


def test_only_a_release_leads_back_to_received_and_only_terminal_stages_are_dead_ends() -> None:
    drawn = edges()
    assert {target for _, action, target in drawn if action is not Action.RELEASE} == set(Stage) - {
        Stage.RECEIVED
    }
    assert {source for source, _, _ in drawn} == set(Stage) - TERMINAL


def test_default_stages_cover_every_stage_exactly_once_in_display_order() -> None:
    stages = [d.stage for d in DEFAULT_STAGES]
    assert sorted(stages) == sorted(Stage)
    assert len(stages) == len(set(stages))
    assert tuple(stages) == (*MAIN_FLOW, Stage.ON_HOLD, Stage.CANCELLED)


def test_default_stages_have_known_owner_roles_and_sensible_slas() -> None:
    for definition in DEFAULT_STAGES:
        assert definition.owner_role in ROLES
        assert definition.label.strip() and definition.description.strip()
        assert definition.sla_hours is None or definition.sla_hours > 0
    by_stage = {d.stage: d for d in DEFAULT_STAGES}
    assert by_stage[Stage.CLOSED].sla_hours is None
    assert by_stage[Stage.CANCELLED].sla_hours is None
    assert by_stage[Stage.UNDER_REVIEW].label == "Under review"
    assert by_stage[Stage.ON_HOLD].label == "On hold"


# -- a random walk over the lifecycle -----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    source: Stage
    action: Action
    target: Stage


def expected_after(state: LifecycleState, action: str, reason: str | None) -> LifecycleState | None:
    """What the table says should happen; None when the move must be refused."""
    row = next((t for t in TRANSITIONS if t.action.value == action), None)
    if row is None or state.stage not in row.sources:
        return None
    if row.needs_reason and (reason is None or not reason.strip()):
        return None
    if row.target is None:
        assert state.held_from is not None
        return LifecycleState(state.held_from)
    if row.target is Stage.ON_HOLD:
        return LifecycleState(Stage.ON_HOLD, held_from=state.stage)
    return LifecycleState(row.target)


actions = st.sampled_from([a.value for a in Action]) | st.sampled_from(list(Action)) | st.text(max_size=8)
reasons = st.none() | st.sampled_from(["", "   ", "customer called", "stock count"]) | st.text(max_size=12)


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = LifecycleState(Stage.RECEIVED)
        self.timeline: list[Step] = []
        self.reached: list[Stage] = [Stage.RECEIVED]

    def _apply(self, action: str, reason: str | None) -> None:
        before = self.state
        expected = expected_after(before, action, reason)
        try:
            after = transition(before, action, reason=reason)
        except InvalidTransition as error:
            assert expected is None
            assert action in {a.value for a in Action}
            assert before.stage.value.replace("_", " ") in error.message
        except ValidationFailed as error:
            assert expected is None
            assert error.code in {"unknown_action", "reason_required"}
        else:
            assert after == expected
            self.timeline.append(Step(before.stage, Action(action), after.stage))
            self.reached.append(after.stage)
            self.state = after
            return
        assert self.state == before

    @rule(action=actions, reason=reasons)
    def anything(self, action: str, reason: str | None) -> None:
        self._apply(action, reason)

    @precondition(lambda self: self.state.stage not in TERMINAL)
    @rule(data=st.data(), reason=st.sampled_from(["damaged box", "customer request"]))
    def an_allowed_action(self, data: st.DataObject, reason: str) -> None:
        action = data.draw(st.sampled_from(allowed_actions(self.state)))
        self._apply(action.value, reason)

    @invariant()
    def the_stage_is_a_stage(self) -> None:
        assert isinstance(self.state.stage, Stage)

    @invariant()
    def held_from_is_set_exactly_when_on_hold(self) -> None:
        assert (self.state.held_from is not None) == (self.state.stage is Stage.ON_HOLD)
        if self.state.held_from is not None:
            assert self.state.held_from in HOLDABLE

    @invariant()
    def every_reached_stage_is_in_the_timeline(self) -> None:
        in_timeline = {Stage.RECEIVED} | {step.target for step in self.timeline}
        assert set(self.reached) <= in_timeline
        assert self.state.stage == (self.timeline[-1].target if self.timeline else Stage.RECEIVED)

    @invariant()
    def nothing_moves_out_of_a_terminal_stage(self) -> None:
        assert all(step.source not in TERMINAL for step in self.timeline)

    @invariant()
    def the_timeline_chains(self) -> None:
        for earlier, later in zip(self.timeline, self.timeline[1:], strict=False):
            assert earlier.target == later.source
        if self.timeline:
            assert self.timeline[0].source is Stage.RECEIVED

    @invariant()
    def every_step_is_an_edge_of_the_diagram(self) -> None:
        if self.timeline:
            last = self.timeline[-1]
            assert (last.source, last.action, last.target) in edges()


LifecycleMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLifecycleMachine = LifecycleMachine.TestCase


def test_every_lifecycle_error_is_a_domain_error() -> None:
    assert issubclass(InvalidTransition, DomainError)
    assert issubclass(ValidationFailed, DomainError)
