"""Review rules over JSON: the catalogue of rule kinds, the published and draft rule sets, editing the draft,
publishing it, what-if, and the audit trail.

Reading needs order:review; changing rules, publishing and what-if need review:configure (managers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from conveyor.platform.problems import problem_responses
from conveyor.review import rulesets
from conveyor.review.rules_schemas import (
    AuditPage,
    EnabledIn,
    KindsOut,
    PublishedOut,
    PublishIn,
    RuleIn,
    RuleOut,
    RuleSetOut,
    WhatIfIn,
    WhatIfOut,
    audit_out,
    kinds_out,
    rule_out,
    rule_set_out,
    what_if_out,
)
from conveyor.review.whatif import what_if

router = APIRouter(prefix="/api/v1/review", tags=["review"])

RULE_NO_MAX = 2**31 - 1
RuleNo = Annotated[int, Path(ge=1, le=RULE_NO_MAX, description="the rule's number: 7 for R7")]
_404_RULE = "No draft rule with this number (`rule_not_found`)."
_422_RULE = ("The rule breaks a rule of its kind; `errors[]` names every field at fault by its path, e.g. "
             "`params.threshold` or `params.clauses.1.value`. Nothing is written.")
_SET_PATTERN = r"^(draft|published|[1-9][0-9]{0,8})$"


def _rule(c: Container, rule_no: int) -> RuleOut:
    """The draft's rule as it is now, marked new/changed/unchanged against the published set."""
    with c.db.read() as conn:
        sets = rulesets.current(conn)
    assert sets.draft is not None and sets.changes is not None
    rule = sets.draft.rule(rule_no)
    assert rule is not None
    return rule_out(rule, sets.changes.status(rule_no))


@router.get("/kinds", response_model=KindsOut, responses=problem_responses(401, 403),
            summary="List the rule kinds, their parameters, and the facts and operators of conditions")
def list_kinds(principal: Principal = Require(Permission.ORDER_REVIEW)) -> KindsOut:
    return kinds_out()


@router.get("/rules", response_model=RuleSetOut,
            responses=problem_responses(401, 403, 404, 422, d404="No rule set is published yet, there is no draft "
                                                                 "(`draft_not_found`), or no rule set with that id "
                                                                 "(`rule_set_not_found`)."),
            summary="Get the published rule set, the draft, or any rule set by id")
def get_rules(set_: str = Query("published", alias="set", max_length=20, pattern=_SET_PATTERN,
                                description="`published` (in force), `draft` (with what it changes) or an id"),
              principal: Principal = Require(Permission.ORDER_REVIEW),
              c: Container = Depends(container)) -> RuleSetOut:
    """The rules in evaluation order. The draft's rules are marked new, changed or unchanged against the
    published set, and `removed` lists the published rules it takes out."""
    with c.db.read() as conn:
        rule_set = rulesets.find_rule_set(conn, set_)
        return rule_set_out(rule_set, rulesets.current(conn) if rule_set.status == "draft" else None)


@router.post("/draft/rules", status_code=201, response_model=RuleOut,
             responses=problem_responses(400, 401, 403, 422, d422=_422_RULE),
             summary="Add a rule to the draft (made from the published rules when there is none)")
def add_rule(data: RuleIn, principal: Principal = Require(Permission.REVIEW_CONFIGURE),
             c: Container = Depends(container)) -> RuleOut:
    """The rule gets a new rule number and version 1. It is in force once the draft is published."""
    rule = rulesets.add_rule(data.model_dump(), principal.actor, uow=c.uow())
    return _rule(c, rule.rule_no)


@router.put("/draft/rules/{rule_no}", response_model=RuleOut,
            responses=problem_responses(400, 401, 403, 404, 422, d404=_404_RULE, d422=_422_RULE),
            summary="Change a draft rule (every field; what is left out takes its default)")
def update_rule(rule_no: RuleNo, data: RuleIn, principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                c: Container = Depends(container)) -> RuleOut:
    """Its version becomes one more than the published one; changed back to as published, the published one."""
    rulesets.update_rule(rule_no, data.model_dump(), principal.actor, uow=c.uow())
    return _rule(c, rule_no)


@router.patch("/draft/rules/{rule_no}", response_model=RuleOut,
              responses=problem_responses(400, 401, 403, 404, 422, d404=_404_RULE),
              summary="Switch a draft rule on or off")
def set_enabled(rule_no: RuleNo, data: EnabledIn, principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                c: Container = Depends(container)) -> RuleOut:
    rulesets.set_enabled(rule_no, data.enabled, principal.actor, uow=c.uow())
    return _rule(c, rule_no)


@router.delete("/draft/rules/{rule_no}", status_code=204,
               responses=problem_responses(401, 403, 404, 422, d404=_404_RULE),
               summary="Remove a rule from the draft")
def remove_rule(rule_no: RuleNo, principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                c: Container = Depends(container)) -> Response:
    """The published set keeps the rule until the draft is published."""
    rulesets.remove_rule(rule_no, principal.actor, uow=c.uow())
    return Response(status_code=204)


@router.post("/draft/standard", response_model=RuleSetOut, responses=problem_responses(401, 403),
             summary="Replace the draft's rules with the standard rules")
def use_standard_rules(principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                       c: Container = Depends(container)) -> RuleSetOut:
    """A starting point to tune: credit, first and unusual orders, PO boxes, velocity, compliance, duplicates.
    They get new rule numbers; the draft's rules are removed."""
    draft = rulesets.use_standard_rules(principal.actor, uow=c.uow())
    with c.db.read() as conn:
        return rule_set_out(draft, rulesets.current(conn))


@router.post("/draft/publish", response_model=PublishedOut,
             responses=problem_responses(
                 400, 401, 403, 404, 409, 422, d404="There is no draft (`draft_not_found`).",
                 d409="The draft has no rules (`empty_rule_set`): with none every order would be approved unseen.",
                 d422="The note is missing or longer than 500 characters (`note`)."),
             summary="Publish the draft: its rules are in force from now on")
def publish(data: PublishIn, principal: Principal = Require(Permission.REVIEW_CONFIGURE),
            c: Container = Depends(container)) -> PublishedOut:
    """The published rule set before it is retired. Orders are reviewed by the new rules from the next one on
    (other server processes pick them up within seconds)."""
    published, changes = rulesets.publish(data.note, principal.actor, uow=c.uow(), cache=c.review_rules)
    return PublishedOut(rule_set=rule_set_out(published), added=list(changes.added), changed=list(changes.changed),
                        removed=list(changes.removed))


@router.delete("/draft", status_code=204,
               responses=problem_responses(401, 403, 404, d404="There is no draft (`draft_not_found`)."),
               summary="Discard the draft")
def discard_draft(principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                  c: Container = Depends(container)) -> Response:
    rulesets.discard_draft(principal.actor, uow=c.uow())
    return Response(status_code=204)


@router.post("/what-if", response_model=WhatIfOut,
             responses=problem_responses(
                 400, 401, 403, 404, 422,
                 d404="There is no draft (`draft_not_found`), no published set, or no such rule set "
                      "(`rule_set_not_found`)."),
             summary="Evaluate a rule set over recent orders without changing anything")
def run_what_if(data: WhatIfIn, principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                c: Container = Depends(container)) -> WhatIfOut:
    """Each order of the last `days` (the newest 20,000 at most) is evaluated with its facts as they were when it
    was placed, and compared with what its latest review decided. Nothing is written."""
    since = c.clock.now() - timedelta(days=data.days)
    with c.db.read() as conn:
        rule_set = rulesets.find_rule_set(conn, data.rule_set)
        report = what_if(conn, rule_set, since=since)
    return what_if_out(report, data.orders_limit)


@router.get("/audit", response_model=AuditPage, responses=problem_responses(401, 403, 422),
            summary="The review audit trail, newest first")
def audit(
    before: int | None = Query(None, ge=1, le=MAX_ID, description="the `next_before` of the previous page"),
    rule_no: int | None = Query(None, ge=1, le=RULE_NO_MAX, description="only the changes of this rule"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    principal: Principal = Require(Permission.ORDER_REVIEW),
    c: Container = Depends(container),
) -> AuditPage:
    """Every change of a rule, every publish and discard, and every override of a hold: who, when, the rule
    before and after, and the comment."""
    with c.db.read() as conn:
        entries, next_before = rulesets.audit_entries(conn, limit=limit, before=before, rule_no=rule_no)
    return AuditPage(items=[audit_out(e) for e in entries], next_before=next_before)
