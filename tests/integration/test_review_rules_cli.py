"""`conveyor review ...` against a real database: the rule commands write the same draft, versions and audit
trail as the API, print what they did, and refuse bad input with codes and field paths (exit 2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from conveyor.orders import handlers
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.review.cli import app as review_cli
from conveyor.review.store import draft_rule_set, published_rule_set
from conveyor.review.tables import review_audit
from conveyor.testing.factories import SAMPLE_ADDRESS


@pytest.fixture
def run(container: Any, seeded: dict[str, Any]) -> Any:
    runner = CliRunner()
    env = {"CONVEYOR_DATABASE_URL": container.db.url}

    def invoke(*args: str) -> Any:
        return runner.invoke(review_cli, list(args), env=env)

    return invoke


def ok(result: Any) -> str:
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def sets(container: Any) -> tuple[Any, Any]:
    with container.db.read() as conn:
        return published_rule_set(conn), draft_rule_set(conn)


def test_rules_are_added_changed_published_and_shown(run, container):
    out = ok(run("add-rule", "--kind", "order_value", "--name", "Large orders", "--param", "threshold=5000",
                 "--priority", "50"))
    assert "added R1 v1 'Large orders' to the draft" in out
    ok(run("add-rule", "--kind", "export_restriction", "--name", "Embargo", "-p", "countries=cu, ir",
           "-p", "applies_to=regulated"))
    ok(run("add-rule", "--kind", "postal_code", "--name", "Postcodes", "--param",
           "patterns=NL=\\d{4} ?[A-Z]{2},BE=\\d{4}"))
    ok(run("add-rule", "--kind", "condition", "--name", "US", "--outcome", "check", "--check", "call them",
           "--param", 'clauses=[{"fact": "ship_to.country", "op": "eq", "value": "us"}]', "--disabled"))
    _, draft = sets(container)
    assert draft.rule(2).params == {"countries": ["CU", "IR"], "applies_to": "regulated"}
    assert draft.rule(3).params == {"patterns": {"BE": "\\d{4}", "NL": "\\d{4} ?[A-Z]{2}"}}
    assert (draft.rule(4).outcome.value, draft.rule(4).check, draft.rule(4).enabled) == ("check", "call them", False)
    shown = json.loads(ok(run("rules", "--draft", "--json")))
    assert [(r["label"], r["change"]) for r in shown["rules"]] == [
        ("R1 v1", "new"), ("R2 v1", "new"), ("R3 v1", "new"), ("R4 v1", "new")]
    assert "Threshold: 5000.00" in ok(run("rules", "--draft"))
    assert "no rule set is published yet" in run("rules").stderr

    assert "published rule set 1 (4 rules): added R1, R2, R3, R4" in ok(run("publish", "--note", "first rules"))
    ok(run("set-rule", "1", "--param", "threshold=7500"))
    ok(run("disable", "2"))
    ok(run("enable", "4"))
    ok(run("remove-rule", "3"))
    shown = json.loads(ok(run("rules", "--draft", "--json")))
    assert [(r["label"], r["change"], r["enabled"]) for r in shown["rules"]] == [
        ("R1 v2", "changed", True), ("R2 v2", "changed", False), ("R4 v2", "changed", True)]
    assert [r["label"] for r in shown["removed"]] == ["R3 v1"]
    assert shown["rules"][0]["params"] == {"threshold": "7500.00"} and shown["rules"][0]["name"] == "Large orders"
    out = ok(run("publish", "--note", "tuned"))
    assert "changed R1, R2, R4; removed R3" in out
    published, draft = sets(container)
    assert [r.label for r in published.rules] == ["R1 v2", "R2 v2", "R4 v2"] and draft is None
    with container.db.read() as conn:
        actors = set(conn.execute(select(review_audit.c.actor)).scalars())
    assert len(actors) == 1 and actors.pop().startswith("system:cli")


def test_a_kind_change_standard_rules_and_discard(run, container):
    ok(run("add-rule", "--kind", "order_value", "--name", "Large", "-p", "threshold=100"))
    refused = run("set-rule", "1", "--kind", "first_order", "-p", "threshold=50")
    assert refused.exit_code == 2 and "(check)" in refused.stderr  # first orders are a check: which one?
    out = ok(run("set-rule", "1", "--kind", "first_order", "-p", "threshold=50", "--check", "call the customer"))
    assert "changed R1 v1 'Large'" in out
    rule = sets(container)[1].rule(1)
    assert (rule.kind.value, rule.params, rule.outcome.value, rule.reason) == (
        "first_order", {"threshold": "50.00"}, "check", "order_value")
    out = ok(run("standard"))
    assert "now holds the 12 standard rules: R2, R3" in out
    assert "discarded the draft" in ok(run("discard"))
    assert sets(container) == (None, None)
    assert "draft_not_found" in run("discard").stderr


def test_bad_input_is_refused_with_codes_and_paths(run, container):
    refused = run("add-rule", "--kind", "order_value", "--name", " ", "-p", "threshold=lots", "-p", "colour=red")
    assert refused.exit_code == 2
    for expected in ("required: a rule needs a name (name)", "(params.threshold)", "unknown_param: ",
                     "(params.colour)"):
        assert expected in refused.stderr, expected
    assert run("add-rule", "--kind", "order_value", "--name", "X", "-p", "threshold").exit_code == 2
    bad_json = run("add-rule", "--kind", "condition", "--name", "X", "-p", "clauses=[{oops")
    assert bad_json.exit_code == 2 and "invalid_json" in bad_json.stderr
    not_json = run("add-rule", "--kind", "condition", "--name", "X", "-p", "clauses=order.total>5")
    assert not_json.exit_code == 2 and "give clauses as JSON" in not_json.stderr
    assert "rule_not_found" in run("set-rule", "9", "--name", "Y").stderr
    assert "rule_not_found" in run("disable", "9").stderr
    assert sets(container) == (None, None)
    ok(run("add-rule", "--kind", "order_value", "--name", "X", "-p", "threshold=1"))
    ok(run("remove-rule", "1"))
    empty = run("publish", "--note", "nothing")
    assert empty.exit_code == 2 and "empty_rule_set" in empty.stderr
    assert "required" in run("publish", "--note", " ").stderr


def test_kinds_and_what_if(run, container, seeded):
    assert "order_value" in ok(run("kinds")) and "threshold (money, required)" in ok(run("kinds"))
    kinds = json.loads(ok(run("kinds", "--json")))
    assert len(kinds["kinds"]) == 18
    # The command measures days from the real time: place the orders an hour ago.
    container.clock.set(datetime.now(UTC) - timedelta(hours=1))
    for i, price in enumerate(("10.00", "900.00", "20.00")):
        draft = OrderDraft(channel="api", customer="C-001", currency="EUR", ship_to=SAMPLE_ADDRESS,
                           external_id=f"WI-{i}", lines=(LineDraft("SKU-1", 1, Decimal(price)),))
        handlers.place_order(PlaceOrder(draft=draft, actor="user:t@x"), uow=container.uow(), config=container.lifecycle)
    ok(run("add-rule", "--kind", "order_value", "--name", "Large", "-p", "threshold=500"))
    report = json.loads(ok(run("what-if", "--days", "2", "--json")))
    assert (report["evaluated"], report["would_hold"], report["not_reviewed"]) == (3, 1, 3)
    assert [o["total"] for o in report["orders"] if o["would"] == "hold"] == ["900.00"]
    assert "would hold 1" in ok(run("what-if", "--days", "2", "--rule-set", "draft"))
    assert "rule_set_not_found" in run("what-if", "--rule-set", "published").stderr
