"""The exception queue on SQLite and PostgreSQL: held orders grouped by reason, and every action a reviewer takes
on them (approve, override, checks, address corrections, prepayment, cancel, assign, bulk), including two
reviewers approving one order at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from conveyor.inventory.tables import reservations
from conveyor.kernel.errors import DomainError
from conveyor.orders.tables import order_timeline, orders
from conveyor.platform.outbox import outbox
from conveyor.review import actions, queue
from conveyor.review.tables import order_holds, order_reviews, review_audit, review_cases
from conveyor.testing.review import ADDRESS, CALL_CHECK, PHONE_NEEDED, place, publish_rules

NO_PHONE = {k: v for k, v in ADDRESS.items() if k != "phone"}
MANAGER = "user:manager@test.example"
CS = "user:customer_service@test.example"


@pytest.fixture
def rules(container: Any, seeded: dict[str, Any]) -> int:
    return publish_rules(container)


def _stage(container: Any, order_id: int) -> str:
    with container.db.read() as conn:
        return str(conn.execute(select(orders.c.stage).where(orders.c.id == order_id)).scalar_one())


def _case(container: Any, order_id: int) -> Any:
    with container.db.read() as conn:
        return conn.execute(select(review_cases).where(review_cases.c.order_id == order_id)).one()


def _open_holds(container: Any, order_id: int) -> list[Any]:
    with container.db.read() as conn:
        return list(conn.execute(select(order_holds).where(order_holds.c.order_id == order_id,
                                                           order_holds.c.cleared_at.is_(None))
                                 .order_by(order_holds.c.id)))


def _cases(container: Any, **filters: Any) -> queue.CasePage:
    with container.db.read() as conn:
        return queue.list_cases(conn, queue.CaseFilters(**filters), actor=CS,
                                lifecycle=container.lifecycle.get(conn), now=container.clock.now())


def _summary(container: Any) -> dict[str, queue.ReasonGroup]:
    with container.db.read() as conn:
        found = queue.queue_summary(conn, container.lifecycle.get(conn), container.clock.now())
    return {g.reason: g for g in found.groups}


def _reserved(container: Any, order_id: int) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(reservations.c.quantity), 0)).where(
            reservations.c.order_id == order_id, reservations.c.status == "active")).scalar_one())


def _approve(container: Any, order_id: int, comment: str | None = "checked with the customer",
             can_override: bool = True, actor: str = MANAGER) -> actions.Outcome:
    return actions.approve(order_id, actor=actor, comment=comment, can_override=can_override,
                           uow=container.uow(), config=container.lifecycle)


def test_held_orders_appear_in_the_queue_grouped_by_reason(container, rules):
    big = place(container, unit_price="600.00")          # R3 veto (order value) and R5 check
    mid = place(container, unit_price="250.00")          # R5 check only
    nophone = place(container, ship_to=NO_PHONE)         # R7 address
    fine = place(container)                              # nothing holds it
    assert _stage(container, fine) == "reserved"
    groups = _summary(container)
    assert {r: (g.count, g.breached) for r, g in groups.items()} == {
        "order_value": (1, 0), "check": (1, 0), "address": (1, 0)}
    assert groups["address"].oldest_opened_at == container.clock.now()

    page = _cases(container)
    assert [r.order_id for r in page.items] == [big, mid, nophone]
    first = page.items[0]
    assert first.reason == "order_value" and first.reasons == ["order_value", "check"]
    assert [h.label for h in first.vetoes] == ["R3 v2"]
    assert first.customer_account == "C-001" and first.total_minor == 60000 and first.stage == "on_hold"
    assert first.time_left == timedelta(hours=4) and not first.breached  # the on-hold SLA: 4 business hours
    assert [r.order_id for r in _cases(container, reason="address").items] == [nophone]
    assert [r.order_id for r in _cases(container, q=f"SO-{mid:06d}").items] == [mid]
    assert [r.order_id for r in _cases(container, q="vries").items] == [big, mid, nophone]
    assert _cases(container, q="nobody").items == []

    # keyset paging, oldest first
    with container.db.read() as conn:
        lifecycle = container.lifecycle.get(conn)
        one = queue.list_cases(conn, queue.CaseFilters(), actor=CS, lifecycle=lifecycle, now=container.clock.now(),
                               limit=2)
        two = queue.list_cases(conn, queue.CaseFilters(), actor=CS, lifecycle=lifecycle, now=container.clock.now(),
                               cursor=one.next_cursor, limit=2)
    assert [r.order_id for r in one.items] == [big, mid] and [r.order_id for r in two.items] == [nophone]
    assert two.next_cursor is None

    # the SLA runs out in business time: 5 hours later every case is past due
    container.clock.advance(timedelta(hours=5))
    assert {r: g.breached for r, g in _summary(container).items()} == {"order_value": 1, "check": 1, "address": 1}
    late = _cases(container, breached=True).items
    assert len(late) == 3 and all(r.breached and r.time_left < timedelta(0) for r in late)

    with container.db.read() as conn:
        detail = queue.case_detail(conn, big, lifecycle=container.lifecycle.get(conn), now=container.clock.now())
        panel = queue.order_review_panel(conn, big)
        assert queue.order_review_panel(conn, fine).latest.approved  # type: ignore[union-attr]
    assert [h.label for h in detail.open_holds] == ["R3 v2", "R5 v1"]
    assert len(detail.reviews) == 1 and detail.reviews[0].trigger == "intake"
    assert [(r.label, r.status) for r in detail.reviews[0].results] == [
        ("R3 v2", "held"), ("R5 v1", "check"), ("R7 v1", "passed")]
    assert panel is not None and panel.case is not None and panel.case.status == "open"


def test_approve_needs_a_comment(container, rules):
    order_id = place(container, unit_price="250.00")
    for comment in (None, "", "   "):
        with pytest.raises(DomainError) as err:
            _approve(container, order_id, comment=comment)
        assert err.value.status == 422 and err.value.code == "reason_required" and err.value.field == "comment"
    assert _case(container, order_id).status == "open"


def test_a_rules_veto_needs_the_override_permission_and_is_audited(container, rules):
    order_id = place(container, unit_price="600.00")
    assert _reserved(container, order_id) == 0  # review first: no stock taken while held
    with pytest.raises(DomainError) as err:
        _approve(container, order_id, can_override=False, actor=CS)
    assert err.value.status == 403 and err.value.code == "override_not_allowed"
    assert "R3 v2" in err.value.message
    assert _stage(container, order_id) == "on_hold" and len(_open_holds(container, order_id)) == 2

    done = _approve(container, order_id, comment="Known customer, ordered for a fair")
    assert done.stage == "reserved" and not done.case_open
    assert _stage(container, order_id) == "reserved" and _reserved(container, order_id) == 1
    assert _open_holds(container, order_id) == []
    case = _case(container, order_id)
    assert (case.status, case.resolution, case.closed_by, case.comment) == (
        "closed", "approved", MANAGER, "Known customer, ordered for a fair")
    with container.db.read() as conn:
        audit = conn.execute(select(review_audit)).all()
        cleared = conn.execute(select(order_holds.c.cleared_by, order_holds.c.cleared_note)
                               .where(order_holds.c.order_id == order_id)).all()
        notes = list(conn.execute(select(order_timeline.c.reason).where(
            order_timeline.c.order_id == order_id, order_timeline.c.kind == "note")).scalars())
    assert len(audit) == 1
    entry = audit[0]
    assert (entry.action, entry.actor, entry.order_id, entry.rule_no, entry.comment) == (
        "override", MANAGER, order_id, 3, "Known customer, ordered for a fair")
    assert [(h["rule"], h["version"]) for h in entry.before["holds"]] == [(3, 2)]
    assert set(cleared) == {(MANAGER, "Known customer, ordered for a fair")}
    assert notes[0].startswith("Approved by manager@test.example overriding R3 v2 (")
    assert notes[0].endswith(": Known customer, ordered for a fair")
    assert _cases(container).items == []
    with container.db.read() as conn:
        panel = queue.order_review_panel(conn, order_id)
    assert panel is not None and panel.released_by == MANAGER and panel.open_holds == []

    with pytest.raises(DomainError) as again:  # a second approval finds the case closed
        _approve(container, order_id)
    assert again.value.status == 409 and again.value.code == "case_closed"


def test_approving_only_checks_needs_no_override_and_writes_no_audit(container, rules):
    order_id = place(container, unit_price="250.00")
    done = _approve(container, order_id, can_override=False, actor=CS)
    assert done.stage == "reserved"
    with container.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(review_audit)).scalar_one() == 0


def test_recording_the_last_check_moves_the_order_on(container, rules):
    order_id = place(container, unit_price="250.00")
    [hold] = _open_holds(container, order_id)
    with pytest.raises(DomainError) as err:
        actions.record_check(order_id, hold.id, actor=CS, comment="", uow=container.uow(), config=container.lifecycle)
    assert err.value.code == "reason_required"
    done = actions.record_check(order_id, hold.id, actor=CS, comment="Called Anna: the order is right",
                                uow=container.uow(), config=container.lifecycle)
    assert done.stage == "reserved" and not done.case_open
    case = _case(container, order_id)
    assert (case.status, case.resolution, case.closed_by) == ("closed", "approved", CS)
    with pytest.raises(DomainError) as twice:
        actions.record_check(order_id, hold.id, actor=CS, comment="again", uow=container.uow(),
                             config=container.lifecycle)
    assert twice.value.status == 409


def test_a_check_recorded_while_a_veto_stands_keeps_the_order_held(container, rules):
    order_id = place(container, unit_price="600.00")
    veto, check = _open_holds(container, order_id)
    with pytest.raises(DomainError) as err:
        actions.record_check(order_id, veto.id, actor=CS, comment="x", uow=container.uow(),
                             config=container.lifecycle)
    assert err.value.status == 409 and err.value.code == "not_a_check"
    done = actions.record_check(order_id, check.id, actor=CS, comment="called", uow=container.uow(),
                                config=container.lifecycle)
    assert done.case_open and done.stage == "on_hold"
    assert [h.id for h in _open_holds(container, order_id)] == [veto.id]
    with pytest.raises(DomainError) as missing:
        actions.record_check(order_id, 999_999, actor=CS, comment="x", uow=container.uow(),
                             config=container.lifecycle)
    assert missing.value.status == 404 and missing.value.code == "hold_not_found"


def test_correcting_the_address_reviews_again_and_moves_the_order_on(container, rules):
    order_id = place(container, ship_to=NO_PHONE)
    with pytest.raises(DomainError) as bad:
        actions.correct_address(order_id, actor=CS, ship_to={**NO_PHONE, "postal_code": "ABC", "city": ""},
                                comment=None, uow=container.uow(), config=container.lifecycle)
    assert bad.value.status == 422
    assert {p.field for p in bad.value.problems} == {"ship_to.postal_code", "ship_to.city"}

    still = actions.correct_address(order_id, actor=CS, ship_to={**NO_PHONE, "line1": "Prinsengracht 265"},
                                    comment="moved next door", uow=container.uow(), config=container.lifecycle)
    assert still.case_open and still.stage == "on_hold" and "no phone" in still.message
    [hold] = _open_holds(container, order_id)
    assert hold.rule_no == 7

    done = actions.correct_address(order_id, actor=CS, ship_to={**NO_PHONE, "phone": "+31 6 1234 5678"},
                                   comment="phone from the customer", uow=container.uow(),
                                   config=container.lifecycle)
    assert not done.case_open and done.stage == "reserved"
    with container.db.read() as conn:
        row = conn.execute(select(orders.c.ship_to, orders.c.address_key).where(orders.c.id == order_id)).one()
        runs = conn.execute(select(order_reviews.c.trigger, order_reviews.c.approved)
                            .where(order_reviews.c.order_id == order_id).order_by(order_reviews.c.id)).all()
    assert row.ship_to["phone"] == "+31 6 1234 5678" and row.address_key
    assert [tuple(r) for r in runs] == [("intake", False), ("address_corrected", False), ("address_corrected", True)]
    case = _case(container, order_id)
    assert (case.status, case.resolution) == ("closed", "passed")


def test_an_address_correction_that_still_fails_stays_held_with_the_new_holds(container, seeded):
    publish_rules(container, [PHONE_NEEDED, {
        "rule_no": 9, "version": 1, "name": "No PO boxes", "kind": "po_box", "params": {"services": []},
        "outcome": "hold", "reason": "address", "check_name": None, "priority": 40}])
    order_id = place(container, ship_to=NO_PHONE)
    [before] = _open_holds(container, order_id)
    assert before.rule_no == 7
    done = actions.correct_address(order_id, actor=CS, ship_to={**ADDRESS, "line1": "Postbus 12"},
                                   comment=None, uow=container.uow(), config=container.lifecycle)
    assert done.case_open and done.stage == "on_hold" and "PO box" in done.message
    [after] = _open_holds(container, order_id)
    assert after.rule_no == 9  # R7 passes now (a phone), R9 holds the PO box
    with container.db.read() as conn:
        cleared = conn.execute(select(order_holds.c.cleared_by, order_holds.c.cleared_note)
                               .where(order_holds.c.id == before.id)).one()
    assert tuple(cleared) == ("system:review", "the rule passes now")
    case = _case(container, order_id)
    assert (case.status, case.reason) == ("open", "address")
    assert [r.order_id for r in _cases(container, reason="address").items] == [order_id]


def test_an_address_correction_without_a_published_rule_set_is_refused(container, rules):
    order_id = place(container, ship_to=NO_PHONE)
    from sqlalchemy import update

    from conveyor.review.tables import review_rule_sets
    with container.db.write() as conn:
        conn.execute(update(review_rule_sets).values(status="retired"))
    with pytest.raises(DomainError) as err:
        actions.correct_address(order_id, actor=CS, ship_to=ADDRESS, comment=None, uow=container.uow(),
                                config=container.lifecycle)
    assert err.value.status == 409 and err.value.code == "no_rule_set"


def test_asking_for_prepayment_waits_for_finance_and_publishes_an_event(container, rules):
    order_id = place(container, unit_price="250.00")
    done = actions.ask_prepayment(order_id, actor=CS, comment="new customer, large order", uow=container.uow(),
                                  config=container.lifecycle)
    assert done.case_open
    case = _case(container, order_id)
    assert (case.waiting_for, case.role) == ("prepayment", "finance")
    holds = _open_holds(container, order_id)
    assert [(h.reason, h.rule_no, h.outcome) for h in holds] == [("check", 5, "check"), ("prepayment", None, "hold")]
    with container.db.read() as conn:
        event = conn.execute(select(outbox).where(outbox.c.event == "order.prepayment_requested")).one()
    assert event.key == str(order_id)
    assert event.payload["order_id"] == order_id and event.payload["total_minor"] == 25000
    assert event.payload["comment"] == "new customer, large order" and event.payload["actor"] == CS
    assert [r.waiting_for for r in _cases(container, role="finance").items] == ["prepayment"]
    with pytest.raises(DomainError) as twice:
        actions.ask_prepayment(order_id, actor=CS, comment=None, uow=container.uow(), config=container.lifecycle)
    assert twice.value.code == "prepayment_requested"
    # the prepayment hold is a veto: customer service cannot approve over it, finance can
    with pytest.raises(DomainError) as err:
        _approve(container, order_id, can_override=False, actor=CS)
    assert err.value.code == "override_not_allowed"
    assert _approve(container, order_id, comment="paid", actor="user:finance@test.example").stage == "reserved"


def test_cancel_closes_the_case_and_releases_the_order(container, rules):
    order_id = place(container, unit_price="600.00")
    with pytest.raises(DomainError) as err:
        actions.cancel(order_id, actor=CS, reason=" ", uow=container.uow(), config=container.lifecycle)
    assert err.value.code == "reason_required" and err.value.field == "reason"
    done = actions.cancel(order_id, actor=CS, reason="customer withdrew", uow=container.uow(),
                          config=container.lifecycle)
    assert done.stage == "cancelled" and not done.case_open
    assert _stage(container, order_id) == "cancelled" and _reserved(container, order_id) == 0
    assert _open_holds(container, order_id) == []
    case = _case(container, order_id)
    assert (case.status, case.resolution, case.comment) == ("closed", "cancelled", "customer withdrew")
    assert _summary(container) == {}


def test_assign_to_a_person_and_to_a_role(container, rules):
    a, b = place(container, unit_price="600.00"), place(container, unit_price="250.00")
    assigned = actions.assign([a, b], assignee="customer_service@test.example", role=None, actor=MANAGER,
                              uow=container.uow())
    assert assigned == [a, b]
    assert [r.order_id for r in _cases(container, assignee="me").items] == [a, b]  # CS is "me" here
    assert _cases(container, assignee="none").items == []
    actions.assign([b], assignee=None, role="finance", actor=MANAGER, uow=container.uow())
    case = _case(container, b)
    assert (case.assignee, case.role) == (None, "finance")
    for bad, code in (("nobody@x", "unknown_assignee"), ("warehouse@test.example", "assignee_cannot_review")):
        with pytest.raises(DomainError) as err:
            actions.assign([a], assignee=bad, role=None, actor=MANAGER, uow=container.uow())
        assert err.value.code == code and err.value.field == "assignee"
    with pytest.raises(DomainError) as err:
        actions.assign([a], assignee=None, role="warehouse", actor=MANAGER, uow=container.uow())
    assert err.value.code == "unknown_role"


def test_two_reviewers_approving_at_once_exactly_one_wins(container, rules):
    order_id = place(container, unit_price="600.00")
    n = 6
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = _approve(container, order_id, comment=f"approval {i}", actor=f"user:m{i}@test.example")
        except Exception as exc:  # asserted below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if isinstance(r, actions.Outcome)]
    lost = [r for r in results if not isinstance(r, actions.Outcome)]
    assert len(won) == 1, results
    assert all(isinstance(e, DomainError) and e.status == 409 and e.code == "case_closed" for e in lost), lost
    assert _stage(container, order_id) == "reserved" and _reserved(container, order_id) == 1
    with container.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(review_audit)).scalar_one() == 1
        releases = conn.execute(select(func.count()).select_from(order_timeline).where(
            order_timeline.c.order_id == order_id, order_timeline.c.action == "release")).scalar_one()
    assert releases == 1


def test_bulk_actions_go_on_past_a_bad_order(container, rules):
    a, b = place(container, unit_price="250.00"), place(container, unit_price="250.00")
    veto = place(container, unit_price="600.00")
    outcomes = actions.bulk("approve", [a, 999_999, veto, b, a], actor=CS, comment="all called back",
                            can_override=False, make_uow=container.uow, config=container.lifecycle)
    assert [(o.order_id, o.ok, o.code) for o in outcomes] == [
        (a, True, None), (999_999, False, "order_not_found"), (veto, False, "override_not_allowed"), (b, True, None)]
    assert _stage(container, a) == _stage(container, b) == "reserved" and _stage(container, veto) == "on_hold"

    with pytest.raises(DomainError) as err:
        actions.bulk("approve", [veto], actor=CS, comment="", make_uow=container.uow, config=container.lifecycle)
    assert err.value.code == "reason_required"
    with pytest.raises(DomainError) as err:
        actions.bulk("cancel", [veto], actor=CS, comment="no", can_cancel=False, make_uow=container.uow,
                     config=container.lifecycle)
    assert err.value.status == 403

    assigned = actions.bulk("assign", [veto, a], actor=MANAGER, assignee="finance@test.example",
                            make_uow=container.uow, config=container.lifecycle)
    assert [(o.ok, o.code) for o in assigned] == [(True, None), (False, "case_closed")]
    cancelled = actions.bulk("cancel", [veto], actor=MANAGER, comment="duplicate of a phone order", can_cancel=True,
                             make_uow=container.uow, config=container.lifecycle)
    assert [(o.ok, o.stage) for o in cancelled] == [(True, "cancelled")]


def test_an_order_cancelled_from_its_page_leaves_the_queue(container, rules):
    from conveyor.orders import handlers
    from conveyor.orders.commands import MoveOrder

    order_id = place(container, unit_price="250.00")
    handlers.move_order(MoveOrder(order_id=order_id, action="cancel", actor=MANAGER, reason="phone call"),
                        uow=container.uow(), config=container.lifecycle)
    assert _cases(container).items == [] and _summary(container) == {}
    with pytest.raises(DomainError) as err:
        _approve(container, order_id)
    assert err.value.status == 409 and err.value.code == "case_closed"


def test_the_rules_of_every_check_are_kept(container, seeded):
    publish_rules(container, [CALL_CHECK])
    order_id = place(container, unit_price="250.00")
    with container.db.read() as conn:
        detail = queue.case_detail(conn, order_id, lifecycle=container.lifecycle.get(conn), now=container.clock.now())
    [hold] = detail.open_holds
    assert (hold.label, hold.outcome, hold.check_name, hold.is_veto) == ("R5 v1", "check", "Call the customer", False)
    assert detail.vetoes == []


def test_the_queue_from_the_command_line(container, rules):
    import json

    from typer.testing import CliRunner

    import conveyor.review.queue_cli  # noqa: F401 - adds its commands to `conveyor review`
    from conveyor.review.cli import app as review_cli

    runner = CliRunner()
    env = {"CONVEYOR_DATABASE_URL": container.db.url}

    def run(*args: str) -> Any:
        return runner.invoke(review_cli, list(args), env=env)

    big, mid, other = place(container, unit_price="600.00"), place(container, unit_price="250.00"), place(
        container, unit_price="250.00")
    shown = run("queue", "--json")
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert [i["order_id"] for i in body["items"]] == [big, mid, other]
    assert run("queue", "--reason", "check").exit_code == 0
    case = run("case", f"SO-{big:06d}")
    assert case.exit_code == 0 and "R3 v2" in case.output and "Large order" in case.output, case.output
    assert run("case", "not-a-number").exit_code == 2

    refused = run("approve", f"SO-{big:06d}", "--comment", "ok", "--as", "customer_service@test.example")
    assert refused.exit_code == 2 and "override_not_allowed" in refused.output
    done = run("approve", str(big), "--comment", "regular customer")
    assert done.exit_code == 0 and "reserved" in done.output, done.output
    assert _case(container, big).closed_by.startswith("system:cli")

    [hold] = _open_holds(container, mid)
    checked = run("check", f"SO-{mid:06d}", str(hold.id), "--comment", "called", "--as", "finance@test.example")
    assert checked.exit_code == 0 and _case(container, mid).closed_by == "user:finance@test.example", checked.output
    assert run("cancel", str(other), "--reason", "x", "--as", "finance@test.example").exit_code == 2  # no order:cancel
    cancelled = run("cancel", str(other), "--reason", "customer withdrew")
    assert cancelled.exit_code == 0 and _stage(container, other) == "cancelled", cancelled.output
