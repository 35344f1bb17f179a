"""Runs a rule set over one order's facts: the decision and every rule's result. Pure, and never raises for a bad
rule: a rule that fails is an error result that holds the order (reason rule_error) and never approves it.

The semantics are model.py's: enabled rules in (priority, rule number) order; a met rule applies its outcome;
an approving rule skips every rule below it, while holds found above it stand.
"""

from __future__ import annotations

from collections.abc import Sequence

from conveyor.review.kinds import CHECKS
from conveyor.review.model import Decision, OrderFacts, Outcome, Reason, Rule, RuleResult, Status


def _order(rule: Rule) -> tuple[int, int]:
    # A malformed priority sorts as 0 instead of breaking the sort for every other rule.
    priority = rule.priority if isinstance(rule.priority, int) else 0
    return priority, rule.rule_no if isinstance(rule.rule_no, int) else 0


def evaluate(rules: Sequence[Rule], facts: OrderFacts) -> Decision:
    results: list[RuleResult] = []
    approved_by: Rule | None = None
    for rule in sorted((r for r in rules if r.enabled), key=_order):
        if approved_by is not None:
            results.append(_result(rule, Status.SKIPPED, f"not evaluated: approved by R{approved_by.rule_no} above"))
            continue
        result = _run(rule, facts)
        if result.status is Status.APPROVED:
            approved_by = rule
        results.append(result)
    return Decision(tuple(results))


def _run(rule: Rule, facts: OrderFacts) -> RuleResult:
    try:
        met, message = CHECKS[rule.kind](rule, facts)
        if not met:
            return _result(rule, Status.PASSED, message)
        if rule.outcome == Outcome.HOLD:
            return _result(rule, Status.HELD, message, str(rule.reason))
        if rule.outcome == Outcome.CHECK:
            return _result(rule, Status.CHECK, message, Reason.CHECK.value, rule.check)
        if rule.outcome == Outcome.APPROVE:
            return _result(rule, Status.APPROVED, message)
        raise ValueError(f"unknown outcome {rule.outcome!r}")
    except Exception as exc:   # any failure of one rule is that rule's error, never the intake's
        return _result(rule, Status.ERROR, f"rule error: {type(exc).__name__}: {exc}", Reason.RULE_ERROR.value)


def _result(rule: Rule, status: Status, message: str, reason: str | None = None,
            check: str | None = None) -> RuleResult:
    return RuleResult(rule_no=rule.rule_no, version=rule.version, name=rule.name, kind=rule.kind, status=status,
                      message=message, reason=reason, check=check)
