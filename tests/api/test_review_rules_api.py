"""Review rules over the API: the draft's life (made on the first edit, published, retired), versions that go up
only when a rule changes, the audit trail, refusals with field paths, who may write, and one draft however many
managers edit at once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from conveyor.review import rulesets
from conveyor.review.catalogue import standard_rules
from conveyor.review.tables import review_audit, review_rule_sets, review_rules

RULES = "/api/v1/review/rules"
DRAFT_RULES = "/api/v1/review/draft/rules"
PUBLISH = "/api/v1/review/draft/publish"
BIG = {"name": "Large orders", "kind": "order_value", "params": {"threshold": "5000"}, "priority": 50}


def add(client: Any, auth: Any, body: dict[str, Any] | None = None, role: str = "manager") -> dict[str, Any]:
    response = client.post(DRAFT_RULES, json=body or BIG, headers=auth(role))
    assert response.status_code == 201, response.text
    return dict(response.json())


def publish(client: Any, auth: Any, note: str = "as agreed") -> dict[str, Any]:
    response = client.post(PUBLISH, json={"note": note}, headers=auth("manager"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def statuses(container: Any) -> list[tuple[int, str]]:
    with container.db.read() as conn:
        return [(int(r.id), str(r.status)) for r in conn.execute(
            select(review_rule_sets.c.id, review_rule_sets.c.status).order_by(review_rule_sets.c.id))]


def audit_actions(client: Any, auth: Any) -> list[tuple[str, int | None]]:
    items = client.get("/api/v1/review/audit", headers=auth("manager")).json()["items"]
    return [(e["action"], e["rule_no"]) for e in items]


def test_a_draft_is_made_on_the_first_edit_published_and_then_retired(client, auth, container):
    assert client.get(RULES, headers=auth("manager")).json()["code"] == "rule_set_not_found"
    assert client.get(RULES, params={"set": "draft"}, headers=auth("manager")).status_code == 404

    rule = add(client, auth)
    assert (rule["rule_no"], rule["version"], rule["label"], rule["change"]) == (1, 1, "R1 v1", "new")
    assert (rule["params"], rule["outcome"], rule["reason"], rule["enabled"]) == (
        {"threshold": "5000.00"}, "hold", "order_value", True)  # the kind's usual outcome and reason
    assert "at or over the threshold" in rule["condition"] and "5000.00" in rule["condition"]
    draft = client.get(RULES, params={"set": "draft"}, headers=auth("customer_service")).json()
    assert draft["status"] == "draft" and [r["label"] for r in draft["rules"]] == ["R1 v1"]

    first = publish(client, auth, "hold large orders")
    assert (first["added"], first["changed"], first["removed"]) == ([1], [], [])
    assert first["rule_set"]["status"] == "published" and first["rule_set"]["note"] == "hold large orders"
    assert statuses(container) == [(1, "published")]
    in_force = client.get(RULES, headers=auth("customer_service")).json()
    assert (in_force["id"], in_force["published_by"]) == (1, "user:manager@test.example")
    assert client.get(RULES, params={"set": "draft"}, headers=auth("manager")).json()["code"] == "draft_not_found"

    add(client, auth, {"name": "Duplicates", "kind": "probable_duplicate", "priority": 10})
    assert statuses(container) == [(1, "published"), (2, "draft")]
    second = publish(client, auth, "also duplicates")
    assert (second["added"], second["changed"], second["removed"]) == ([2], [], [])
    assert statuses(container) == [(1, "retired"), (2, "published")]
    rules = client.get(RULES, headers=auth("manager")).json()["rules"]
    assert [(r["label"], r["priority"]) for r in rules] == [("R2 v1", 10), ("R1 v1", 50)]  # evaluation order
    assert client.get(RULES, params={"set": "1"}, headers=auth("manager")).json()["status"] == "retired"
    assert client.get(RULES, params={"set": "99"}, headers=auth("manager")).json()["code"] == "rule_set_not_found"


def test_versions_go_up_only_when_a_published_rule_changes(client, auth, container):
    add(client, auth)
    publish(client, auth)
    same = client.put(f"{DRAFT_RULES}/1", json=BIG, headers=auth("manager")).json()
    assert (same["version"], same["change"]) == (1, "unchanged")
    changed = client.put(f"{DRAFT_RULES}/1", json={**BIG, "params": {"threshold": "7500.00"}},
                         headers=auth("manager")).json()
    assert (changed["label"], changed["change"], changed["params"]) == ("R1 v2", "changed", {"threshold": "7500.00"})
    again = client.put(f"{DRAFT_RULES}/1", json={**BIG, "params": {"threshold": "9000"}}, headers=auth("manager"))
    assert again.json()["version"] == 2  # one more than published, however often the draft changes it
    back = client.put(f"{DRAFT_RULES}/1", json=BIG, headers=auth("manager")).json()
    assert (back["version"], back["change"]) == (1, "unchanged")  # changed back: the published version
    off = client.patch(f"{DRAFT_RULES}/1", json={"enabled": False}, headers=auth("manager")).json()
    assert (off["version"], off["enabled"], off["change"]) == (2, False, "changed")
    new = add(client, auth, {**BIG, "name": "Even larger"})
    assert (new["rule_no"], new["version"]) == (2, 1)
    published = publish(client, auth, "switched R1 off")
    assert (published["added"], published["changed"], published["removed"]) == ([2], [1], [])
    assert [r["label"] for r in published["rule_set"]["rules"]] == ["R1 v2", "R2 v1"]
    on = client.patch(f"{DRAFT_RULES}/1", json={"enabled": True}, headers=auth("manager")).json()
    assert on["version"] == 3  # the rule keeps counting from the version in force


def test_removing_a_rule_and_discarding_the_draft(client, auth, container):
    add(client, auth)
    add(client, auth, {**BIG, "name": "Second"})
    publish(client, auth)
    assert client.delete(f"{DRAFT_RULES}/1", headers=auth("manager")).status_code == 204
    draft = client.get(RULES, params={"set": "draft"}, headers=auth("manager")).json()
    assert [r["label"] for r in draft["rules"]] == ["R2 v1"]
    assert [(r["label"], r["change"]) for r in draft["removed"]] == [("R1 v1", "removed")]
    assert client.delete(f"{DRAFT_RULES}/1", headers=auth("manager")).json()["code"] == "rule_not_found"
    assert client.delete("/api/v1/review/draft", headers=auth("manager")).status_code == 204
    assert statuses(container) == [(1, "published")]
    assert client.delete("/api/v1/review/draft", headers=auth("manager")).json()["code"] == "draft_not_found"
    assert [r["label"] for r in client.get(RULES, headers=auth("manager")).json()["rules"]] == ["R1 v1", "R2 v1"]
    # a discarded draft's rule numbers are never given again
    assert add(client, auth, {**BIG, "name": "Third"})["rule_no"] == 3


def test_every_change_is_in_the_audit_trail_newest_first(client, auth, container):
    add(client, auth)
    client.put(f"{DRAFT_RULES}/1", json={**BIG, "priority": 60}, headers=auth("manager"))
    client.put(f"{DRAFT_RULES}/1", json={**BIG, "priority": 60}, headers=auth("manager"))  # no change: no row
    client.patch(f"{DRAFT_RULES}/1", json={"enabled": False}, headers=auth("manager"))
    client.patch(f"{DRAFT_RULES}/1", json={"enabled": True}, headers=auth("manager"))
    publish(client, auth, "first rules")
    add(client, auth, {**BIG, "name": "Temp"})
    client.delete(f"{DRAFT_RULES}/2", headers=auth("manager"))
    client.delete("/api/v1/review/draft", headers=auth("manager"))
    assert audit_actions(client, auth) == [
        ("discarded", None), ("rule_removed", 2), ("rule_added", 2), ("published", None), ("rule_enabled", 1),
        ("rule_disabled", 1), ("rule_changed", 1), ("rule_added", 1)]
    page = client.get("/api/v1/review/audit", params={"limit": 3}, headers=auth("customer_service")).json()
    assert len(page["items"]) == 3 and page["next_before"] == page["items"][-1]["id"]
    rest = client.get("/api/v1/review/audit", params={"before": page["next_before"]}, headers=auth("manager")).json()
    assert [e["action"] for e in rest["items"]][:2] == ["published", "rule_enabled"] and rest["next_before"] is None
    changed = next(e for e in rest["items"] if e["action"] == "rule_changed")
    assert (changed["before"]["priority"], changed["after"]["priority"]) == (50, 60)
    assert (changed["actor"], changed["rule_set_id"], changed["after"]["version"]) == (
        "user:manager@test.example", 1, 1)
    published = next(e for e in rest["items"] if e["action"] == "published")
    assert (published["comment"], published["after"]) == ("first rules", {"added": [1], "changed": [], "removed": []})
    by_rule = client.get("/api/v1/review/audit", params={"rule_no": 2}, headers=auth("manager")).json()["items"]
    assert [e["action"] for e in by_rule] == ["rule_removed", "rule_added"]


def test_a_bad_rule_is_refused_with_every_field_path_and_nothing_is_written(client, auth, container):
    response = client.post(DRAFT_RULES, headers=auth("manager"), json={
        "name": " ", "kind": "order_value", "params": {"threshold": "lots", "colour": "red"}, "outcome": "check",
        "priority": 5000})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    found = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert found == {("name", "required"), ("params.threshold", "invalid_param"), ("params.colour", "unknown_param"),
                     ("check", "check_required"), ("priority", "invalid_priority")}
    clauses = client.post(DRAFT_RULES, headers=auth("manager"), json={
        "name": "Odd", "kind": "condition", "params": {"clauses": [
            {"fact": "order.total", "op": "ge", "value": "500"}, {"fact": "ship_to.country", "op": "gt", "value": "US"},
            {"fact": "order.total", "op": "ge", "value": "much"}]}})
    assert clauses.status_code == 422
    assert {e["field"] for e in clauses.json()["errors"]} == {"params.clauses.1.op", "params.clauses.2.value"}
    unknown = client.post(DRAFT_RULES, headers=auth("manager"), json={"name": "X", "kind": "horoscope"})
    assert unknown.json()["errors"][0]["field"] == "kind"
    assert statuses(container) == []  # not even a draft


def test_refusals_without_a_draft_or_rule_and_for_an_empty_draft(client, auth, container):
    missing = client.put(f"{DRAFT_RULES}/7", json=BIG, headers=auth("manager"))
    assert (missing.status_code, missing.json()["code"]) == (404, "rule_not_found")
    assert client.patch(f"{DRAFT_RULES}/7", json={"enabled": False}, headers=auth("manager")).status_code == 404
    assert statuses(container) == []  # the draft made for the edit went with the refusal
    no_draft = client.post(PUBLISH, json={"note": "x"}, headers=auth("manager"))
    assert (no_draft.status_code, no_draft.json()["code"]) == (404, "draft_not_found")
    add(client, auth)
    for note, field in (("", "note"), (" " * 3, "note"), ("x" * 501, "note")):
        refused = client.post(PUBLISH, json={"note": note}, headers=auth("manager"))
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field
    client.delete(f"{DRAFT_RULES}/1", headers=auth("manager"))
    empty = client.post(PUBLISH, json={"note": "nothing"}, headers=auth("manager"))
    assert (empty.status_code, empty.json()["code"]) == (409, "empty_rule_set")
    assert [status for _, status in statuses(container)] == ["draft"]


def test_starting_from_the_standard_rules(client, auth, container):
    add(client, auth)
    response = client.post("/api/v1/review/draft/standard", headers=auth("manager"))
    assert response.status_code == 200, response.text
    body = response.json()
    expected = standard_rules()
    assert [r["name"] for r in body["rules"]] == [r["name"] for r in expected]
    assert [r["rule_no"] for r in body["rules"]] == list(range(2, 2 + len(expected)))  # new numbers
    assert {r["change"] for r in body["rules"]} == {"new"} and body["removed"] == []  # R1 was never published
    published = publish(client, auth, "standard rules")
    assert len(published["added"]) == len(expected)
    actions = audit_actions(client, auth)
    assert actions.count(("rule_removed", 1)) == 1 and sum(a == "rule_added" for a, _ in actions) == 1 + len(expected)


def test_the_catalogue_lists_kinds_params_facts_and_operators(client, auth):
    body = client.get("/api/v1/review/kinds", headers=auth("finance")).json()
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert kinds["order_value"]["params"][0]["name"] == "threshold"
    assert kinds["order_value"]["params"][0]["type"] == "money"
    assert kinds["velocity"]["params"][2]["choices"] == ["customer", "address"]
    assert "order.total" in {f["fact"] for f in body["condition_facts"]}
    assert {"ge", "in", "is"} <= {o["op"] for o in body["condition_ops"]}
    assert "rule_error" not in body["reasons"] and "credit" in body["reasons"]


@pytest.mark.parametrize("method,path,body", [
    ("POST", DRAFT_RULES, BIG), ("PUT", f"{DRAFT_RULES}/1", BIG), ("PATCH", f"{DRAFT_RULES}/1", {"enabled": False}),
    ("DELETE", f"{DRAFT_RULES}/1", None), ("POST", "/api/v1/review/draft/standard", None),
    ("POST", PUBLISH, {"note": "x"}), ("DELETE", "/api/v1/review/draft", None),
    ("POST", "/api/v1/review/what-if", {"days": 7}),
])
def test_customer_service_reads_the_rules_but_may_not_change_them(client, auth, container, method, path, body):
    add(client, auth)
    before = statuses(container)
    response = client.request(method, path, json=body, headers=auth("customer_service"))
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert statuses(container) == before
    assert client.get(RULES, params={"set": "draft"}, headers=auth("customer_service")).status_code == 200
    assert client.get(RULES, params={"set": "draft"}, headers=auth("warehouse")).status_code == 403


def test_publishing_puts_the_rules_in_force_in_this_process_at_once(client, auth, container):
    with container.db.read() as conn:
        assert container.review_rules.get(conn) is None  # cached: none published
    add(client, auth)
    publish(client, auth)
    with container.db.read() as conn:
        in_force = container.review_rules.get(conn)
    assert in_force is not None and [r.label for r in in_force.rules] == ["R1 v1"]


def test_two_managers_editing_at_once_share_one_draft(container, seeded):
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def edit(i: int) -> None:
        try:
            start.wait()
            rulesets.add_rule({**BIG, "name": f"Rule {i}"}, f"user:m{i}@test.example", uow=container.uow())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert statuses(container) == [(1, "draft")]
    with container.db.read() as conn:
        numbers = sorted(int(n) for n in conn.execute(select(review_rules.c.rule_no)).scalars())
        audited = conn.execute(select(func.count()).select_from(review_audit)).scalar_one()
    assert numbers == list(range(1, 9)) and audited == 8
