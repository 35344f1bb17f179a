"""Review-rule DTOs for the API: the catalogue of kinds, rules and rule sets, what-if reports, the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from conveyor.kernel.money import format_minor
from conveyor.review import conditions, rulesets
from conveyor.review.catalogue import KINDS, SYSTEM_REASONS, KindInfo, ParamSpec
from conveyor.review.model import Outcome, Reason, Rule
from conveyor.review.rulesets import AuditEntry, RuleSets
from conveyor.review.store import RuleSet
from conveyor.review.whatif import OrderOutcome, WhatIfReport

_PARAMS = ("the kind's parameters by name (GET /api/v1/review/kinds lists them with types, defaults and help); "
           "amounts are decimal strings (\"5000.00\"), lists are arrays of texts, patterns an object of "
           "country code -> regular expression, clauses an array of {fact, op, value}")
_OUTCOME = "approve, hold or check; left out: the kind's usual outcome"
_REASON = "the hold reason code; left out: the kind's usual reason"
_CHECK = "the named check someone must record (outcome check only), e.g. \"call the customer\""
_PRIORITY = "lower runs first (-1000 to 1000); rules with the same priority run by rule number"
_SET = "`published` (in force), `draft` (being edited) or a rule set's id"


# The catalogue -------------------------------------------------------------------------------------------

class ParamSpecOut(BaseModel):
    name: str
    type: str = Field(description="money, int, percent, hours, days, text, choice, countries, list, patterns, "
                                  "clauses")
    label: str
    help: str
    default: Any = Field(description="used when the parameter is left out; null: it is required")
    required: bool
    choices: list[str] = Field(description="choice: the allowed values; list: the allowed items (empty: any)")
    minimum: int | None
    maximum: int | None


class KindOut(BaseModel):
    kind: str
    label: str
    group: str = Field(description="credit, value, address, fraud, compliance, duplicate or custom")
    description: str = Field(description="when the rule's condition is met")
    default_outcome: str
    default_reason: str
    params: list[ParamSpecOut]


class FactOut(BaseModel):
    fact: str = Field(examples=["order.total"])
    type: str = Field(description="money, int, text, list or bool: decides the operators")
    label: str
    ops: list[str]


class OpOut(BaseModel):
    op: str
    words: str = Field(description="how the rules screen writes it")


class KindsOut(BaseModel):
    kinds: list[KindOut]
    outcomes: list[str]
    reasons: list[str] = Field(description="the reason codes a rule may hold with")
    condition_facts: list[FactOut] = Field(description="what a `condition` rule's clauses may test")
    condition_ops: list[OpOut]


def _param_out(spec: ParamSpec) -> ParamSpecOut:
    return ParamSpecOut(name=spec.name, type=spec.type.value, label=spec.label, help=spec.help, default=spec.default,
                        required=spec.required, choices=list(spec.choices), minimum=spec.minimum,
                        maximum=spec.maximum)


def kind_out(info: KindInfo) -> KindOut:
    return KindOut(kind=info.kind.value, label=info.label, group=info.group, description=info.description,
                   default_outcome=info.default_outcome.value, default_reason=info.default_reason.value,
                   params=[_param_out(p) for p in info.params])


def rule_reasons() -> list[str]:
    return [r.value for r in Reason if r not in SYSTEM_REASONS]


def kinds_out() -> KindsOut:
    return KindsOut(
        kinds=[kind_out(info) for info in KINDS.values()], outcomes=[o.value for o in Outcome],
        reasons=rule_reasons(),
        condition_facts=[FactOut(fact=name, type=fact.type.value, label=fact.label, ops=list(conditions.OPS[fact.type]))
                         for name, fact in conditions.FACTS.items()],
        condition_ops=[OpOut(op=op, words=words) for op, words in conditions.OP_WORDS.items()])


# Rules and rule sets -------------------------------------------------------------------------------------

class RuleIn(BaseModel):
    """A rule as a manager writes it. Every field is checked at once; a refusal names each field at fault by its
    path (`params.threshold`, `params.clauses.1.value`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Large orders", "kind": "order_value", "params": {"threshold": "5000.00"}, "outcome": "hold",
         "reason": "order_value", "priority": 50},
        {"name": "Export to the US needs a check", "kind": "condition", "outcome": "check",
         "check": "confirm the export paperwork",
         "params": {"match": "all", "clauses": [{"fact": "ship_to.country", "op": "eq", "value": "US"},
                                                {"fact": "order.total", "op": "ge", "value": "1000.00"}]}}]})

    name: str = Field(max_length=1000, description="shown to reviewers, at most 120 characters")
    kind: str = Field(max_length=100, description="one of GET /api/v1/review/kinds")
    params: dict[str, Any] = Field({}, max_length=50, description=_PARAMS)
    outcome: str | None = Field(None, max_length=100, description=_OUTCOME)
    reason: str | None = Field(None, max_length=100, description=_REASON)
    check: str | None = Field(None, max_length=1000, description=_CHECK)
    priority: int = Field(100, ge=-1_000_000, le=1_000_000, description=_PRIORITY)
    enabled: bool = Field(True, description="a rule switched off stays in the set but is not evaluated")


class EnabledIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": False}]})

    enabled: bool


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"note": "Hold orders over 5,000 for a check"}]})

    note: str = Field(max_length=10_000, description="what changed and why, 1 to 500 characters")


class RuleOut(BaseModel):
    rule_no: int = Field(description="stable across versions and rule sets: R<rule_no>")
    label: str = Field(examples=["R7 v2"])
    version: int = Field(description="goes up when a published change alters the rule")
    name: str
    kind: str
    kind_label: str
    params: dict[str, Any] = Field(description=_PARAMS)
    condition: str = Field(description="when the rule's condition is met, in words")
    outcome: str
    reason: str
    check: str | None
    priority: int
    enabled: bool
    change: str | None = Field(None, description="in a draft, against the published set: new, changed, "
                                                 "unchanged or removed; null elsewhere")


class RuleSetOut(BaseModel):
    id: int
    status: str = Field(description="draft (being edited), published (in force) or retired")
    note: str | None = Field(description="what changed, written when publishing")
    created_at: datetime
    created_by: str
    published_at: datetime | None
    published_by: str | None
    rules: list[RuleOut] = Field(description="in evaluation order (priority, rule number)")
    removed: list[RuleOut] = Field([], description="in a draft: published rules it removes")


class PublishedOut(BaseModel):
    rule_set: RuleSetOut
    added: list[int] = Field(description="rule numbers new in this set")
    changed: list[int]
    removed: list[int]


def rule_out(rule: Rule, change: str | None = None) -> RuleOut:
    info = KINDS.get(rule.kind)
    return RuleOut(rule_no=rule.rule_no, label=rule.label, version=rule.version, name=rule.name,
                   kind=rule.kind.value, kind_label=info.label if info else rule.kind.value,
                   params=rulesets.fields_of(rule)["params"], condition=rulesets.describe_rule(rule),
                   outcome=rule.outcome.value, reason=rule.reason, check=rule.check, priority=rule.priority,
                   enabled=rule.enabled, change=change)


def rule_set_out(rule_set: RuleSet, sets: RuleSets | None = None) -> RuleSetOut:
    """A rule set; a draft compared with the published set when `sets` is given."""
    changes = sets.changes if sets is not None and rule_set.status == "draft" else None
    return RuleSetOut(
        id=rule_set.id, status=rule_set.status, note=rule_set.note, created_at=rule_set.created_at,
        created_by=rule_set.created_by, published_at=rule_set.published_at, published_by=rule_set.published_by,
        rules=[rule_out(r, changes.status(r.rule_no) if changes else None) for r in rule_set.rules],
        removed=[rule_out(r, "removed") for r in sets.removed()] if sets is not None and changes else [])


# What-if -------------------------------------------------------------------------------------------------

class WhatIfIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"days": 30, "rule_set": "draft", "orders_limit": 50}]})

    days: int = Field(30, ge=1, le=365, description="orders created in the last so many days")
    rule_set: str = Field("draft", max_length=20, pattern=r"^(draft|published|[1-9][0-9]{0,8})$",
                          description=_SET)
    orders_limit: int = Field(100, ge=0, le=5000,
                              description="at most this many orders in `orders` and in `changed` (the counts cover "
                                          "every order evaluated)")


class ReasonCount(BaseModel):
    reason: str
    orders: int


class RuleCountOut(BaseModel):
    rule_no: int
    label: str
    name: str
    fired: int = Field(description="orders on which its condition was met (or it failed)")
    errors: int = Field(description="orders on which it failed (held with reason rule_error)")


class HoldOut(BaseModel):
    rule: str = Field(examples=["R7 v2"])
    reason: str
    message: str


class OrderOutcomeOut(BaseModel):
    id: int
    number: str = Field(examples=["SO-000123"])
    created_at: datetime
    customer: str = Field(description="the customer's account")
    customer_name: str
    total: str = Field(description="decimal string in `currency`")
    currency: str
    would: str = Field(description="approve or hold")
    reasons: list[str] = Field(description="hold reason codes, each once")
    holds: list[HoldOut]
    actual: str = Field(description="what its latest review decided: approved, held or not reviewed")
    changed: bool = Field(description="reviewed, and these rules would decide the other way")


class WhatIfOut(BaseModel):
    rule_set_id: int
    rule_set_status: str
    since: datetime
    evaluated: int
    would_approve: int
    would_hold: int
    actually_approved: int
    actually_held: int
    not_reviewed: int
    changed_count: int
    truncated: bool = Field(description="more orders were placed in the period than were evaluated (the newest "
                                        "20,000 are)")
    holds_by_reason: list[ReasonCount]
    rules: list[RuleCountOut] = Field(description="each enabled rule, in evaluation order")
    changed: list[OrderOutcomeOut] = Field(description="orders whose outcome would change, newest first")
    orders: list[OrderOutcomeOut] = Field(description="the orders evaluated, newest first")


def order_outcome_out(o: OrderOutcome) -> OrderOutcomeOut:
    return OrderOutcomeOut(
        id=o.order_id, number=o.number, created_at=o.created_at, customer=o.customer_account,
        customer_name=o.customer_name, total=format_minor(o.total_minor, o.currency), currency=o.currency,
        would=o.would, reasons=list(o.reasons),
        holds=[HoldOut(rule=h.label, reason=h.reason, message=h.message) for h in o.holds], actual=o.actual,
        changed=o.changed)


def what_if_out(report: WhatIfReport, orders_limit: int) -> WhatIfOut:
    changed = report.changed
    return WhatIfOut(
        rule_set_id=report.rule_set_id, rule_set_status=report.rule_set_status, since=report.since,
        evaluated=report.evaluated, would_approve=report.would_approve, would_hold=report.would_hold,
        actually_approved=report.actually_approved, actually_held=report.actually_held,
        not_reviewed=report.not_reviewed, changed_count=len(changed), truncated=report.truncated,
        holds_by_reason=[ReasonCount(reason=r, orders=n) for r, n in report.holds_by_reason],
        rules=[RuleCountOut(rule_no=r.rule_no, label=r.label, name=r.name, fired=r.fired, errors=r.errors)
               for r in report.rules],
        changed=[order_outcome_out(o) for o in changed[:orders_limit]],
        orders=[order_outcome_out(o) for o in report.orders[:orders_limit]])


# The audit trail -----------------------------------------------------------------------------------------

class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(examples=["user:manager@conveyor.demo"])
    action: str = Field(description="rule_added, rule_changed, rule_removed, rule_enabled, rule_disabled, "
                                    "published, discarded, override")
    rule_set_id: int | None
    rule_no: int | None
    order_id: int | None = Field(description="overrides: the order whose hold was overridden")
    before: Any = Field(description="the rule's fields before the change (null when added)")
    after: Any = Field(description="the rule's fields after the change (null when removed); published: the rule "
                                   "numbers added, changed and removed")
    comment: str | None = Field(description="published: the note")


class AuditPage(BaseModel):
    items: list[AuditEntryOut] = Field(description="newest first")
    next_before: int | None = Field(description="pass as `before` for the next (older) page; null on the last")


def audit_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(id=entry.id, at=entry.at, actor=entry.actor, action=entry.action,
                         rule_set_id=entry.rule_set_id, rule_no=entry.rule_no, order_id=entry.order_id,
                         before=entry.before, after=entry.after, comment=entry.comment)
