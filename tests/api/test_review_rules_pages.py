"""The review-rule screens, signed in through the browser flow: the rules page with the draft's differences, the
rule form made from each kind's parameters, adding and editing through it, messages next to the fields, the
draft's buttons (switch, remove, standard rules, publish, discard), what-if and the audit trail."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from conveyor.review import rulesets
from conveyor.review.store import draft_rule_set, published_rule_set
from conveyor.review.tables import review_rule_sets
from tests.api.test_reference_pages import HTML, csrf_token, page, sign_in

BIG = {"name": "Large orders", "kind": "order_value", "params.threshold": "5000", "outcome": "hold",
       "reason": "order_value", "check": "", "priority": "50", "enabled": "on"}


def post(client: Any, url: str, token: str, **data: Any) -> Any:
    return client.post(url, headers=HTML, follow_redirects=False, data={"csrf_token": token, **data})


def draft(container: Any) -> Any:
    with container.db.read() as conn:
        return draft_rule_set(conn)


def published(container: Any) -> Any:
    with container.db.read() as conn:
        return published_rule_set(conn)


def test_the_rules_page_starts_empty_with_the_way_to_a_first_draft(client):
    sign_in(client, "manager")
    html = page(client, "/review/rules")
    assert 'href="/review/rules"' in html and ">Review rules<" in html  # the nav entry
    assert "No rules are published yet" in html and "There is no draft" in html
    assert 'href="/review/rules/new"' in html and 'action="/review/rules/standard"' in html
    sign_in(client, "customer_service")
    html = page(client, "/review/rules")
    assert 'href="/review/rules/new"' not in html and "/review/rules/standard" not in html
    assert client.get("/review/rules/new", headers=HTML).status_code == 403
    sign_in(client, "warehouse")
    assert client.get("/review/rules", headers=HTML).status_code == 403


def test_the_form_has_a_field_for_each_parameter_by_its_type(client):
    sign_in(client, "manager")
    html = page(client, "/review/rules/new?kind=order_value")
    assert re.search(r'<input id="f-params.threshold" type="number"[^>]*name="params.threshold"', html)
    assert 'hx-get="/review/rules/new"' in html and 'hx-trigger="change"' in html  # a new kind reloads the form
    velocity = page(client, "/review/rules/new?kind=velocity")
    assert re.search(r'<select id="f-params.per" name="params.per"', velocity)
    assert re.search(r'<input id="f-params.hours" type="number"[^>]*min="1" max="720"', velocity)
    assert 'value="customer" selected' in velocity and 'value="fraud" selected' in velocity  # the kind's defaults
    postal = page(client, "/review/rules/new?kind=postal_code")
    assert '<textarea id="f-params.patterns" name="params.patterns"' in postal
    export = page(client, "/review/rules/new?kind=export_restriction")
    assert 'name="params.countries"' in export and "Comma-separated country codes" in export
    condition = page(client, "/review/rules/new?kind=condition")
    assert condition.count('name="clause_fact"') == 1 and 'value="order.total"' in condition
    assert "Add a clause" in condition and 'hx-vals=\'{"add_clause": "1"}\'' in condition


def test_changing_the_kind_reloads_its_fields_keeping_what_was_typed(client):
    sign_in(client, "manager")
    reloaded = client.get("/review/rules/new", headers={**HTML, "HX-Request": "true"}, params={
        "previous_kind": "order_value", "kind": "first_order", "name": "Watch first orders", "outcome": "hold",
        "reason": "order_value", "params.threshold": "250", "priority": "20", "enabled": "on"}).text
    assert 'name="params.threshold"' in reloaded and 'value="250"' in reloaded
    assert 'value="Watch first orders"' in reloaded and 'value="20"' in reloaded
    assert 'value="check" selected' in reloaded  # first orders are usually a check
    more = client.get("/review/rules/new", headers=HTML, params={
        "previous_kind": "condition", "kind": "condition", "clause_fact": "order.total", "clause_op": "ge",
        "clause_value": "500", "add_clause": "1"}).text
    assert more.count('name="clause_fact"') == 3 and 'value="500"' in more  # the row typed, and two empty ones


def test_a_rule_added_through_the_form_is_in_the_draft_marked_new(client, container):
    sign_in(client, "manager")
    token = csrf_token(page(client, "/review/rules/new"))
    response = post(client, "/review/rules/new", token, **BIG)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/review/rules?saved=added&rule=1#draft"
    rule = draft(container).rule(1)
    assert (rule.name, rule.params, rule.priority, rule.enabled) == ("Large orders", {"threshold": "5000.00"}, 50, True)
    html = page(client, response.headers["location"])
    assert "Rule R1 added to the draft." in html and 'class="badge change-new">new<' in html
    assert "Threshold: 5000.00" in html and "added R1" in html
    condition = post(client, "/review/rules/new", token, name="To the US", kind="condition", **{
        "params.match": "any"}, clause_fact=["ship_to.country", "order.tags", ""],
        clause_op=["in", "contains", ""], clause_value=["us, ca", "vip", ""], outcome="check",
        check="call the customer", reason="", priority="100", enabled="on")
    assert condition.status_code == 303, condition.text
    rule = draft(container).rule(2)
    assert rule.params == {"match": "any", "clauses": [{"fact": "ship_to.country", "op": "in", "value": ["US", "CA"]},
                                                       {"fact": "order.tags", "op": "contains", "value": "vip"}]}
    assert (rule.outcome.value, rule.check) == ("check", "call the customer")
    patterns = post(client, "/review/rules/new", token, name="Postcodes", kind="postal_code", outcome="hold",
                    **{"params.patterns": "nl = \\d{4} ?[A-Z]{2}\nBE=\\d{4}\n"}, priority="", enabled="on")
    assert patterns.status_code == 303, patterns.text
    assert draft(container).rule(3).params == {"patterns": {"BE": "\\d{4}", "NL": "\\d{4} ?[A-Z]{2}"}}


def test_a_bad_rule_comes_back_with_each_message_next_to_its_field(client, container):
    sign_in(client, "manager")
    token = csrf_token(page(client, "/review/rules/new"))
    response = post(client, "/review/rules/new", token, **{**BIG, "name": "", "params.threshold": "lots",
                                                            "outcome": "check", "priority": "high"})
    assert response.status_code == 422
    html = response.text
    for name, message in (("name", "a rule needs a name"), ("params.threshold", "must be an amount"),
                          ("check", "name the check"), ("priority", "whole number")):
        assert re.search(rf'id="err-{re.escape(name)}" class="error-list" role="alert">[^<]*{message}', html), name
        assert re.search(rf'name="{re.escape(name)}"[^>]*\s*aria-invalid="true"', html) or \
            f'aria-describedby="err-{name}"' in html, name
    assert 'value="lots"' in html  # what was typed is kept
    clauses = post(client, "/review/rules/new", token, name="Odd", kind="condition", clause_fact=["order.total"],
                   clause_op=["ge"], clause_value=["much"], outcome="hold", priority="1")
    assert clauses.status_code == 422 and "Clause 1: amount must be an amount" in clauses.text
    patterns = post(client, "/review/rules/new", token, name="PC", kind="postal_code", outcome="hold",
                    **{"params.patterns": "Netherlands"}, priority="1")
    assert patterns.status_code == 422 and "write one per line as CC=regex" in patterns.text
    assert draft(container) is None  # nothing was written


def test_editing_switching_removing_and_publishing_from_the_page(client, container):
    sign_in(client, "manager")
    token = csrf_token(page(client, "/review/rules/new"))
    post(client, "/review/rules/new", token, **BIG)
    post(client, "/review/rules/new", token, **{**BIG, "name": "Second"})
    refused = post(client, "/review/rules/publish", token, note="")
    assert refused.status_code == 422 and "note of 1 to 500" in refused.text
    assert post(client, "/review/rules/publish", token, note="first rules").status_code == 303
    assert [r.label for r in published(container).rules] == ["R1 v1", "R2 v1"]

    form = page(client, "/review/rules/1/edit")
    assert 'value="Large orders"' in form and 'value="5000.00"' in form
    saved = post(client, "/review/rules/1/edit", token, **{**BIG, "params.threshold": "8000"})
    assert saved.status_code == 303 and saved.headers["location"] == "/review/rules?saved=changed&rule=1#draft"
    assert post(client, "/review/rules/2/enabled", token, enabled="off").status_code == 303
    html = page(client, "/review/rules")
    assert 'class="badge change-changed">changed<' in html and "R1</strong> <small class=\"muted\">v2" in html
    assert "Switch on" in html  # R2 is off in the draft
    assert post(client, "/review/rules/2/remove", token).status_code == 303
    html = page(client, "/review/rules")
    assert 'class="removed"' in html and 'class="badge change-removed">removed<' in html
    assert "changed R1; removed R2" in html
    assert client.get("/review/rules/2/edit", headers=HTML).status_code == 404  # removed in the draft
    assert post(client, "/review/rules/publish", token, note="raise the bar").status_code == 303
    assert [r.label for r in published(container).rules] == ["R1 v2"] and draft(container) is None
    html = page(client, "/review/rules?saved=published")
    assert "Published: these rules review every order" in html and "raise the bar" in html


def test_standard_rules_discard_and_an_empty_draft(client, container):
    sign_in(client, "manager")
    token = csrf_token(page(client, "/review/rules"))
    assert post(client, "/review/rules/standard", token).status_code == 303
    html = page(client, "/review/rules?saved=standard")
    assert "Over credit limit" in html and "the standard rules" in html
    assert post(client, "/review/rules/discard", token).status_code == 303
    assert draft(container) is None
    rulesets.ensure_draft("user:t@x", uow=container.uow())
    empty = post(client, "/review/rules/publish", token, note="nothing")
    assert empty.status_code == 409 and "the draft has no rules" in empty.text
    with container.db.read() as conn:
        assert conn.execute(select(review_rule_sets.c.status)).scalars().all() == ["draft"]


def test_what_if_and_the_audit_trail_pages(client, container):
    sign_in(client, "manager")
    token = csrf_token(page(client, "/review/rules/new"))
    post(client, "/review/rules/new", token, **BIG)
    assert 'href="/review/what-if?days=30&amp;rule_set=draft"' in page(client, "/review/rules")
    form = page(client, "/review/what-if")
    assert 'name="days"' in form and '<option value="draft" selected>' in form and "Orders evaluated" not in form
    report = page(client, "/review/what-if?days=30&rule_set=draft")
    assert "Orders evaluated" in report and "R1 v1" in report
    missing = client.get("/review/what-if?days=30&rule_set=published", headers=HTML)
    assert missing.status_code == 404 and "no rule set is published yet" in missing.text
    post(client, "/review/rules/1/edit", token, **{**BIG, "priority": "60"})
    audit = page(client, "/review/audit")
    assert "rule changed" in audit and "priority: 50 → 60" in audit and "manager@test.example" in audit
    assert 'href="/review/audit?rule=1"' in audit
    sign_in(client, "customer_service")
    assert client.get("/review/what-if", headers=HTML).status_code == 403
    assert client.get("/review/audit", headers=HTML).status_code == 200
