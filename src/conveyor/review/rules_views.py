"""Review-rule screens: the rules in force and the draft with what it changes, the rule form (its parameter
fields made from the kind's ParamSpecs), what-if, and the audit trail.

Views only parse, call rulesets/whatif and render; the checks live in catalogue.check_rule."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, ImmutableMultiDict

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError, FieldProblem, ValidationFailed
from conveyor.platform.forms import FORM_ERROR
from conveyor.platform.pagination import MAX_ID
from conveyor.platform.web import render
from conveyor.review import conditions, rulesets
from conveyor.review.catalogue import KINDS, KindInfo, ParamSpec, ParamType
from conveyor.review.model import Outcome, Rule, RuleKind
from conveyor.review.rules_schemas import rule_reasons
from conveyor.review.store import RuleSet
from conveyor.review.whatif import WhatIfReport, what_if

router = APIRouter(include_in_schema=False)

BASE = "/review/rules"
FORM = "rules_form.html"
DEFAULT_KIND = RuleKind.ORDER_VALUE
SCALARS = ("name", "kind", "outcome", "reason", "check", "priority")
NUMBERS = (ParamType.INT, ParamType.PERCENT, ParamType.HOURS, ParamType.DAYS)
ORDERS_PER_PAGE = 50
AUDIT_PER_PAGE = 50
_PATTERN_LINE = re.compile(r"^\s*([A-Za-z]{2})\s*[=:]\s*(.*?)\s*$")
RuleNo = Annotated[int, Path(ge=1, le=2**31 - 1)]


class Saved(StrEnum):
    """What the rules page confirms after a change (`?saved=`)."""

    ADDED = "added"
    CHANGED = "changed"
    ENABLED = "enabled"
    DISABLED = "disabled"
    REMOVED = "removed"
    STANDARD = "standard"
    PUBLISHED = "published"
    DISCARDED = "discarded"


SAVED = {
    Saved.ADDED: "Rule R{rule} added to the draft.", Saved.CHANGED: "Rule R{rule} changed in the draft.",
    Saved.ENABLED: "Rule R{rule} switched on in the draft.", Saved.DISABLED: "Rule R{rule} switched off in the draft.",
    Saved.REMOVED: "Rule R{rule} removed from the draft.",
    Saved.STANDARD: "The draft now holds the standard rules: tune them, try them with what-if, then publish.",
    Saved.PUBLISHED: "Published: these rules review every order from now on.",
    Saved.DISCARDED: "The draft was discarded; the published rules stay in force.",
}


async def posted_form(request: Request) -> FormData:
    """The posted form (the CSRF check has already parsed and cached it); keeps repeated fields."""
    return await request.form()


def _text(source: ImmutableMultiDict[str, Any], name: str) -> str:
    value = source.get(name)
    return value.strip() if isinstance(value, str) else ""


def _kind_info(kind: str) -> KindInfo | None:
    return KINDS.get(RuleKind(kind)) if kind in RuleKind._value2member_map_ else None


def _messages(exc: DomainError) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        errors.setdefault(problem.field or FORM_ERROR, []).append(problem.message)
    return {field: "; ".join(found) for field, found in errors.items()}


# The rule form: values as typed <-> the rule's fields ----------------------------------------------------

def param_text(spec: ParamSpec, value: Any) -> str:
    """A parameter's value as its form field shows it."""
    if value is None:
        return ""
    if spec.type in (ParamType.LIST, ParamType.COUNTRIES):
        return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    if spec.type is ParamType.PATTERNS:
        return "\n".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, Mapping) else str(value)
    return str(value)


def _clause_rows(value: Any) -> list[dict[str, str]]:
    rows = []
    for clause in value or []:
        if isinstance(clause, Mapping):
            shown = clause.get("value")
            text = ", ".join(str(v) for v in shown) if isinstance(shown, list | tuple) else \
                "" if shown is None else str(shown).lower() if isinstance(shown, bool) else str(shown)
            rows.append({"fact": str(clause.get("fact") or ""), "op": str(clause.get("op") or ""), "value": text})
    return rows


def default_values(info: KindInfo) -> dict[str, Any]:
    values: dict[str, Any] = {"name": "", "kind": info.kind.value, "outcome": info.default_outcome.value,
                              "reason": info.default_reason.value, "check": "", "priority": "100", "enabled": True,
                              "clauses": []}
    for spec in info.params:
        if spec.type is ParamType.CLAUSES:
            values["clauses"] = _clause_rows(spec.default)
        else:
            values[f"params.{spec.name}"] = param_text(spec, spec.default)
    return values


def rule_values(rule: Rule) -> dict[str, Any]:
    info = KINDS[rule.kind]
    values = {**default_values(info), "name": rule.name, "outcome": rule.outcome.value, "reason": rule.reason,
              "check": rule.check or "", "priority": str(rule.priority), "enabled": rule.enabled}
    for spec in info.params:
        if spec.type is ParamType.CLAUSES:
            values["clauses"] = _clause_rows(rule.params.get(spec.name))
        else:
            values[f"params.{spec.name}"] = param_text(spec, rule.params.get(spec.name))
    return values


def typed_values(source: ImmutableMultiDict[str, Any], info: KindInfo | None) -> dict[str, Any]:
    """What the form sent (or a reload of it asked for), as the form shows it again."""
    values: dict[str, Any] = {name: _text(source, name) for name in SCALARS}
    values["enabled"] = source.get("enabled") in ("on", "true", "1")
    facts, ops, texts = (source.getlist(f"clause_{part}") for part in ("fact", "op", "value"))
    rows = [{"fact": str(f).strip(), "op": str(o).strip(), "value": str(v).strip()}
            for f, o, v in zip(facts, ops, texts, strict=False)]
    values["clauses"] = [r for r in rows if r["fact"] or r["op"] or r["value"]]
    for spec in info.params if info else ():
        if spec.type is not ParamType.CLAUSES:
            raw = source.get(f"params.{spec.name}")
            values[f"params.{spec.name}"] = raw.strip() if isinstance(raw, str) else param_text(spec, spec.default)
    return values


def _patterns(text: str, path: str, problems: list[FieldProblem]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _PATTERN_LINE.match(line)
        if match is None:
            problems.append(FieldProblem("invalid_pattern", f"{line.strip()!r}: write one per line as CC=regex, "
                                                            "e.g. NL=\\d{4} ?[A-Z]{2}", path))
            continue
        found[match.group(1).upper()] = match.group(2)
    return found


def rule_fields(values: Mapping[str, Any], info: KindInfo | None) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The form's values as the API's rule fields, and the problems found reading them (pattern lines)."""
    problems: list[FieldProblem] = []
    params: dict[str, Any] = {}
    for spec in info.params if info else ():
        path = f"params.{spec.name}"
        text = str(values.get(path) or "")
        if spec.type is ParamType.CLAUSES:
            params[spec.name] = [dict(row) for row in values.get("clauses") or []]
        elif spec.type is ParamType.PATTERNS:
            params[spec.name] = _patterns(text, path, problems)
        elif spec.type in (ParamType.LIST, ParamType.COUNTRIES):
            params[spec.name] = [item.strip() for item in text.split(",") if item.strip()]
        elif spec.type is ParamType.TEXT:
            params[spec.name] = text
        else:
            params[spec.name] = text or None
    priority_text = str(values.get("priority") or "")
    priority: Any = None
    if priority_text:
        number = conditions.parse_int(priority_text)
        priority = number if number is not None else priority_text
    fields = {"name": values.get("name") or "", "kind": values.get("kind") or "", "params": params,
              "outcome": values.get("outcome") or None, "reason": values.get("reason") or None,
              "check": values.get("check") or None, "priority": priority, "enabled": bool(values.get("enabled"))}
    return fields, problems


def form_field(path: str) -> str:
    """An API field path as the form's field: `params.countries.2` -> params.countries, `params.clauses.1.value`
    -> clauses.1.value (the clause table's row 1)."""
    parts = path.split(".")
    if parts[0] == "params" and len(parts) >= 2:
        if parts[1] == "clauses" and len(parts) >= 3 and parts[2].isdigit():
            return ".".join(["clauses", *parts[2:4]])
        return f"params.{parts[1]}"
    return path


def form_errors(problems: list[FieldProblem], values: Mapping[str, Any], info: KindInfo | None) -> dict[str, str]:
    shown = set(SCALARS) | {f"params.{s.name}" for s in (info.params if info else ())}
    rows = len(values.get("clauses") or [])
    shown |= {f"clauses.{i}{part}" for i in range(rows) for part in ("", ".fact", ".op", ".value")}
    errors: dict[str, list[str]] = {}
    for p in problems:
        field = form_field(p.field) if p.field else FORM_ERROR
        message = p.message
        if field not in shown:
            field, message = FORM_ERROR, f"{p.field}: {p.message}" if p.field else p.message
        errors.setdefault(field, []).append(message)
    return {field: "; ".join(found) for field, found in errors.items()}


def _save(c: Container, principal: Principal, values: dict[str, Any], rule_no: int | None) -> Rule:
    fields, problems = rule_fields(values, _kind_info(str(values.get("kind") or "")))
    if problems:  # pattern lines that could not be read; the other fields' problems are shown with them
        try:
            rulesets.check_fields(fields)
        except ValidationFailed as exc:
            problems += exc.problems
        raise ValidationFailed.of(problems)
    if rule_no is None:
        return rulesets.add_rule(fields, principal.actor, uow=c.uow())
    return rulesets.update_rule(rule_no, fields, principal.actor, uow=c.uow())


def _form_page(request: Request, values: dict[str, Any], *, rule_no: int | None, errors: dict[str, str] | None = None,
               rule: Rule | None = None, status_code: int = 200) -> Response:
    info = _kind_info(str(values.get("kind") or "")) or KINDS[DEFAULT_KIND]
    action = f"{BASE}/new" if rule_no is None else f"{BASE}/{rule_no}/edit"
    groups: dict[str, list[KindInfo]] = {}
    for kind_info in KINDS.values():
        groups.setdefault(kind_info.group, []).append(kind_info)
    return render(request, FORM, {
        "values": values, "errors": errors or {}, "info": info, "rule_no": rule_no, "rule": rule, "action": action,
        "groups": groups, "outcomes": [o.value for o in Outcome], "reasons": rule_reasons(),
        "facts": [(name, fact.label, fact.type.value) for name, fact in conditions.FACTS.items()],
        "ops": list(conditions.OP_WORDS.items()),
        "fact_ops": {t.value: ", ".join(conditions.OP_WORDS[o] for o in ops) for t, ops in conditions.OPS.items()},
        "clause_rows": list(values.get("clauses") or []) + [{"fact": "", "op": "", "value": ""}]
        * (1 + int(values.get("add_clause") or 0)),
        "ParamType": ParamType,
    }, status_code=status_code)


def _reload(request: Request, base: dict[str, Any]) -> dict[str, Any]:
    """The form again after its kind was changed or a clause row added (a GET carrying what was typed); a new
    kind takes its own outcome and reason unless they were changed."""
    query = request.query_params
    kind = _text(query, "kind")
    info = _kind_info(kind)
    if info is None:
        return base
    values = typed_values(query, info)
    previous = _kind_info(_text(query, "previous_kind"))
    if previous is not None and previous.kind is not info.kind:
        if values["outcome"] in ("", previous.default_outcome.value):
            values["outcome"] = info.default_outcome.value
        if values["reason"] in ("", previous.default_reason.value):
            values["reason"] = info.default_reason.value
    values["add_clause"] = 1 if query.get("add_clause") else 0
    return values


@router.get("/review/rules/new")
def new_rule_page(request: Request, principal: Principal = Require(Permission.REVIEW_CONFIGURE)) -> Response:
    values = _reload(request, default_values(KINDS[DEFAULT_KIND]))
    if "previous_kind" not in request.query_params:  # a first visit, perhaps ?kind=...: that kind's defaults
        info = _kind_info(_text(request.query_params, "kind")) or KINDS[DEFAULT_KIND]
        values = default_values(info)
    return _form_page(request, values, rule_no=None)


@router.post("/review/rules/new")
def create_rule(request: Request, form: FormData = Depends(posted_form),
                principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                c: Container = Depends(container)) -> Response:
    values = typed_values(form, _kind_info(_text(form, "kind")))
    try:
        rule = _save(c, principal, values, None)
    except ValidationFailed as exc:
        errors = form_errors(exc.problems, values, _kind_info(str(values["kind"])))
        return _form_page(request, values, rule_no=None, errors=errors, status_code=422)
    return RedirectResponse(f"{BASE}?saved=added&rule={rule.rule_no}#draft", status_code=303)


@router.get("/review/rules/{rule_no}/edit")
def edit_rule_page(request: Request, rule_no: RuleNo, principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                   c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        rule = rulesets.rule_in_force_or_draft(conn, rule_no)
    values = rule_values(rule)
    if "previous_kind" in request.query_params:
        values = _reload(request, values)
    return _form_page(request, values, rule_no=rule_no, rule=rule)


@router.post("/review/rules/{rule_no}/edit")
def save_rule(request: Request, rule_no: RuleNo, form: FormData = Depends(posted_form),
              principal: Principal = Require(Permission.REVIEW_CONFIGURE),
              c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        rule = rulesets.rule_in_force_or_draft(conn, rule_no)
    values = typed_values(form, _kind_info(_text(form, "kind")))
    try:
        _save(c, principal, values, rule_no)
    except ValidationFailed as exc:
        errors = form_errors(exc.problems, values, _kind_info(str(values["kind"])))
        return _form_page(request, values, rule_no=rule_no, rule=rule, errors=errors, status_code=422)
    return RedirectResponse(f"{BASE}?saved=changed&rule={rule_no}#draft", status_code=303)


@router.post("/review/rules/{rule_no}/enabled")
def switch_rule(rule_no: RuleNo, form: FormData = Depends(posted_form),
                principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                c: Container = Depends(container)) -> Response:
    enabled = _text(form, "enabled") in ("on", "true", "1")
    rulesets.set_enabled(rule_no, enabled, principal.actor, uow=c.uow())
    return RedirectResponse(f"{BASE}?saved={'enabled' if enabled else 'disabled'}&rule={rule_no}#draft",
                            status_code=303)


@router.post("/review/rules/{rule_no}/remove")
def remove_rule(rule_no: RuleNo, principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                c: Container = Depends(container)) -> Response:
    rulesets.remove_rule(rule_no, principal.actor, uow=c.uow())
    return RedirectResponse(f"{BASE}?saved=removed&rule={rule_no}#draft", status_code=303)


@router.post("/review/rules/standard")
def use_standard_rules(principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                       c: Container = Depends(container)) -> Response:
    rulesets.use_standard_rules(principal.actor, uow=c.uow())
    return RedirectResponse(f"{BASE}?saved=standard#draft", status_code=303)


@router.post("/review/rules/publish")
def publish(request: Request, form: FormData = Depends(posted_form),
            principal: Principal = Require(Permission.REVIEW_CONFIGURE),
            c: Container = Depends(container)) -> Response:
    note = _text(form, "note")
    try:
        rulesets.publish(note, principal.actor, uow=c.uow(), cache=c.review_rules)
    except ValidationFailed as exc:
        return _rules_page(request, c, principal, publish_error=exc.message, note=note, status_code=422)
    except DomainError as exc:
        if exc.code != "empty_rule_set":
            raise
        return _rules_page(request, c, principal, publish_error=exc.message, note=note, status_code=409)
    return RedirectResponse(f"{BASE}?saved=published", status_code=303)


@router.post("/review/rules/discard")
def discard(principal: Principal = Require(Permission.REVIEW_CONFIGURE),
            c: Container = Depends(container)) -> Response:
    rulesets.discard_draft(principal.actor, uow=c.uow())
    return RedirectResponse(f"{BASE}?saved=discarded", status_code=303)


# The rules page ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    kind_label: str
    description: str
    params: str
    outcome: str
    change: str | None = None  # new, changed, unchanged, removed (draft rows)


def _rows(rule_set: RuleSet | None, changes: rulesets.Changes | None = None) -> list[RuleRow]:
    return [_row(r, changes.status(r.rule_no) if changes else None) for r in (rule_set.rules if rule_set else ())]


def _row(rule: Rule, change: str | None) -> RuleRow:
    info = KINDS.get(rule.kind)
    return RuleRow(rule, info.label if info else rule.kind.value, info.description if info else "",
                   rulesets.describe_params(rule.kind, rule.params), rulesets.outcome_text(rule), change)


def _rules_page(request: Request, c: Container, principal: Principal, *, saved: str | None = None,
                publish_error: str | None = None, note: str = "", status_code: int = 200) -> Response:
    with c.db.read() as conn:
        sets = rulesets.current(conn)
    return render(request, "rules.html", {
        "sets": sets, "published_rows": _rows(sets.published),
        "draft_rows": _rows(sets.draft, sets.changes) if sets.draft else [],
        "removed_rows": [_row(r, "removed") for r in sets.removed()],
        "can_configure": principal.can(Permission.REVIEW_CONFIGURE), "saved": saved,
        "publish_error": publish_error, "note": note, "base": BASE,
    }, status_code=status_code)


@router.get("/review/rules")
def rules_page(request: Request, saved: Saved | None = None,
               rule: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
               principal: Principal = Require(Permission.ORDER_REVIEW),
               c: Container = Depends(container)) -> Response:
    message = SAVED[saved].format(rule=rule) if saved is not None else None
    return _rules_page(request, c, principal, saved=message)


# What-if -------------------------------------------------------------------------------------------------

@router.get("/review/what-if")
def what_if_page(request: Request,
                 days: Annotated[int | None, Query(ge=1, le=365)] = None,
                 rule_set: Annotated[str, Query(max_length=20, pattern=r"^(draft|published|[1-9][0-9]{0,8})$")]
                 = "",
                 page: Annotated[int, Query(ge=1, le=10_000)] = 1,
                 principal: Principal = Require(Permission.REVIEW_CONFIGURE),
                 c: Container = Depends(container)) -> Response:
    report: WhatIfReport | None = None
    error: str | None = None
    with c.db.read() as conn:
        sets = rulesets.current(conn)
        chosen = rule_set or ("draft" if sets.draft else "published")
        if days is not None:
            try:
                found = rulesets.find_rule_set(conn, chosen)
                report = what_if(conn, found, since=c.clock.now() - timedelta(days=days))
            except DomainError as exc:
                error = exc.message
    orders = report.orders if report else ()
    pages = max(1, -(-len(orders) // ORDERS_PER_PAGE))
    page = min(page, pages)
    return render(request, "whatif.html", {
        "sets": sets, "days": days or 30, "rule_set": chosen, "report": report, "error": error,
        "page": page, "pages": pages, "shown": orders[(page - 1) * ORDERS_PER_PAGE:page * ORDERS_PER_PAGE],
        "names": {r.rule_no: r.name for r in report.rules} if report else {},
    }, status_code=404 if error else 200)


# The audit trail -----------------------------------------------------------------------------------------

def changed_fields(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field of a rule that changed: the audit page's "what changed"."""
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return []
    found = []
    for key in dict.fromkeys([*before, *after]):
        if key == "params" and isinstance(before.get(key), Mapping) and isinstance(after.get(key), Mapping):
            b, a = before[key], after[key]
            found += [(f"params.{k}", _shown(b.get(k)), _shown(a.get(k))) for k in dict.fromkeys([*b, *a])
                      if b.get(k) != a.get(k)]
        elif before.get(key) != after.get(key):
            found.append((str(key), _shown(before.get(key)), _shown(after.get(key))))
    return found


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        return " and ".join(conditions.describe(v) for v in value)
    return rulesets.param_text(value)


def _numbers(values: Any) -> str:
    return ", ".join(f"R{n}" for n in values) if isinstance(values, list) else ""


def audit_lines(entry: rulesets.AuditEntry) -> list[str]:
    """What an audit entry changed, in a few lines for the audit page."""
    before, after = entry.before, entry.after
    action = entry.action
    if action in (rulesets.Action.RULE_CHANGED, rulesets.Action.RULE_ENABLED, rulesets.Action.RULE_DISABLED):
        return [f"{field}: {old} → {new}" for field, old, new in changed_fields(before, after)]
    if action == rulesets.Action.RULE_ADDED and isinstance(after, Mapping):
        return [f"{after.get('name')} ({after.get('kind')}, v{after.get('version')})"]
    if action == rulesets.Action.RULE_REMOVED and isinstance(before, Mapping):
        return [f"{before.get('name')} (v{before.get('version')})"]
    if action in (rulesets.Action.PUBLISHED, rulesets.Action.DISCARDED) and isinstance(after, Mapping):
        parts = [f"{label} {_numbers(after.get(label))}" for label in ("added", "changed", "removed")
                 if after.get(label)]
        return ["; ".join(parts) or "no rule changed"]
    if action == "override":
        holds = before.get("holds") if isinstance(before, Mapping) else None
        lines = [f"{h.get('label', '')} {h.get('reason', '')}: {h.get('message', '')}".strip()
                 for h in holds or [] if isinstance(h, Mapping)]
        if isinstance(after, Mapping) and after.get("resolution"):
            lines.append(f"→ {after['resolution']}")
        return lines
    return [f"{field}: {old} → {new}" for field, old, new in changed_fields(before, after)]


@router.get("/review/audit")
def audit_page(request: Request, before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
               rule: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
               principal: Principal = Require(Permission.ORDER_REVIEW),
               c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        entries, next_before = rulesets.audit_entries(conn, limit=AUDIT_PER_PAGE, before=before, rule_no=rule)
    rows = [(e, audit_lines(e)) for e in entries]
    return render(request, "audit.html", {"rows": rows, "next_before": next_before, "rule": rule,
                                          "first": before is not None})
