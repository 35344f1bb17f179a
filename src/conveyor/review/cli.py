"""`conveyor review ...`: the review rules from a terminal: show them, edit the draft, try it with what-if,
publish it.

Parameters are given as `--param key=value`, repeated. Lists (countries, SKUs, services, fields) are a comma list
(`--param countries=CU,IR`) or JSON (`--param 'countries=["CU","IR"]'`); postal-code patterns are `CC=regex`
pairs separated by commas (`--param 'patterns=NL=\\d{4} ?[A-Z]{2},BE=\\d{4}'`) or a JSON object; a condition's
clauses are JSON (`--param 'clauses=[{"fact":"order.total","op":"ge","value":"500.00"}]'`). `key=` with nothing
after it clears a parameter (a list becomes empty, anything else takes its default). `conveyor review kinds`
lists every kind's parameters.
"""

from __future__ import annotations

import getpass
import json
import re
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from conveyor.kernel.errors import DomainError, FieldProblem
from conveyor.kernel.money import format_minor
from conveyor.platform.console import make_console
from conveyor.review import rulesets
from conveyor.review.catalogue import KINDS, ParamType
from conveyor.review.model import RuleKind
from conveyor.review.rules_schemas import kinds_out, rule_set_out, what_if_out
from conveyor.review.store import RuleSet, draft_rule_set
from conveyor.review.whatif import what_if

app = typer.Typer(help="Automatic order review: the rules (draft, what-if, publish) and their audit trail.",
                  no_args_is_help=True)

JSON = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
RULE_NO = Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="the rule's number: 7 for R7")]
PARAM = Annotated[list[str] | None, typer.Option(
    "--param", "-p", help="a parameter as KEY=VALUE; repeat for more. Lists: comma list or JSON; patterns: "
                          "CC=regex pairs or JSON; clauses: JSON")]
_PATTERN_SPLIT = re.compile(r",(?=\s*[A-Za-z]{2}\s*[=:])")
_PATTERN_PAIR = re.compile(r"^\s*([A-Za-z]{2})\s*[=:]\s*(.*?)\s*$")


def actor() -> str:
    """Who is changing the rules: `system:cli:<login name>` (`system:cli` when the login name is unknown)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = ""
    return f"system:cli:{user}" if user else "system:cli"


def _fail(problems: list[FieldProblem]) -> None:
    for p in problems:
        typer.echo(f"{p.code}: {p.message}" + (f" ({p.field})" if p.field else ""), err=True)
    raise typer.Exit(2)


# --param KEY=VALUE ---------------------------------------------------------------------------------------

def parse_params(kind: str, items: list[str]) -> tuple[dict[str, Any], list[FieldProblem]]:
    """--param values as the rule's params, typed by the kind's parameter specs."""
    info = KINDS.get(RuleKind(kind)) if kind in RuleKind._value2member_map_ else None
    specs = {s.name: s for s in info.params} if info else {}
    params: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        path = f"params.{key}"
        if not sep or not key:
            problems.append(FieldProblem("invalid_param", f"{item!r}: write a parameter as KEY=VALUE", "param"))
            continue
        raw = raw.strip()
        spec = specs.get(key)
        if raw.startswith(("[", "{")):
            try:
                params[key] = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.append(FieldProblem("invalid_json", f"{key}: not valid JSON ({exc.msg})", path))
            continue
        if spec is None:
            params[key] = raw  # check_rule names it: unknown_param
        elif not raw:
            params[key] = [] if spec.type in (ParamType.LIST, ParamType.COUNTRIES) else None
        elif spec.type in (ParamType.LIST, ParamType.COUNTRIES):
            params[key] = [part.strip() for part in raw.split(",") if part.strip()]
        elif spec.type is ParamType.PATTERNS:
            pairs = {}
            for part in _PATTERN_SPLIT.split(raw):
                match = _PATTERN_PAIR.match(part)
                if match is None:
                    problems.append(FieldProblem("invalid_pattern", f"{part!r}: write patterns as CC=regex", path))
                else:
                    pairs[match.group(1).upper()] = match.group(2)
            params[key] = pairs
        elif spec.type is ParamType.CLAUSES:
            problems.append(FieldProblem("invalid_param", "give clauses as JSON: "
                                         '[{"fact": "order.total", "op": "ge", "value": "500.00"}]', path))
        else:
            params[key] = raw
    return params, problems


# Showing -------------------------------------------------------------------------------------------------

def _print_rule_set(rule_set: RuleSet, sets: rulesets.RuleSets | None) -> None:
    out = rule_set_out(rule_set, sets)
    console = make_console()
    head = f"[bold]Rule set {out.id}[/] ({out.status})"
    if out.published_at:
        head += f" · published {out.published_at:%Y-%m-%d %H:%M} UTC by {out.published_by}"
    if out.note:
        head += f" · {out.note}"
    console.print(head, highlight=False)
    if sets is not None and sets.changes is not None and out.status == "draft":
        console.print(f"against the rules in force: {sets.changes.summary()}", highlight=False)
    table = Table("Prio", "Rule", "Change", "Name", "Kind", "Condition", "Outcome", "On")
    for r in [*out.rules, *out.removed]:
        outcome = f"check: {r.check}" if r.outcome == "check" else "approve" if r.outcome == "approve" \
            else f"hold: {r.reason}"
        table.add_row(str(r.priority), r.label, r.change if r.change not in (None, "unchanged") else "", r.name,
                      r.kind_label, rulesets.describe_params(RuleKind(r.kind), r.params), outcome,
                      "yes" if r.enabled else "no")
    console.print(table)


@app.command("rules")
def show_rules(draft: Annotated[bool, typer.Option("--draft", help="the draft instead of the rules in force")] = False,
               as_json: JSON = False) -> None:
    """Show the rules in force (or the draft, with what it changes)."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            rule_set = rulesets.find_rule_set(conn, "draft" if draft else "published")
            sets = rulesets.current(conn)
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(rule_set_out(rule_set, sets).model_dump_json(indent=2))
        return
    _print_rule_set(rule_set, sets)


@app.command("kinds")
def show_kinds(as_json: JSON = False) -> None:
    """List the rule kinds and their parameters (name, type, default)."""
    out = kinds_out()
    if as_json:
        typer.echo(out.model_dump_json(indent=2))
        return
    table = Table("Kind", "Label", "Group", "Usually", "Parameters")
    for k in out.kinds:
        params = "; ".join(f"{p.name} ({p.type}{', required' if p.required else ''}"
                           f"{', default ' + json.dumps(p.default) if p.default not in (None, '', [], {}) else ''})"
                           for p in k.params)
        table.add_row(k.kind, k.label, k.group, f"{k.default_outcome}: {k.default_reason}", params or "-")
    console = make_console()
    console.print(table)
    console.print("Condition facts: " + ", ".join(f.fact for f in out.condition_facts), highlight=False)


# Editing the draft ---------------------------------------------------------------------------------------

def _uow_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    from conveyor.bootstrap import build

    c = build()
    try:
        return fn(*args, uow=c.uow(), **kwargs)
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()


@app.command("add-rule")
def add_rule(
    kind: Annotated[str, typer.Option(help="the rule's kind (conveyor review kinds)")],
    name: Annotated[str, typer.Option(help="what reviewers see")],
    param: PARAM = None,
    outcome: Annotated[str | None, typer.Option(help="hold, check or approve (default: the kind's usual)")] = None,
    reason: Annotated[str | None, typer.Option(help="the hold reason code (default: the kind's usual)")] = None,
    check: Annotated[str | None, typer.Option(help="with --outcome check: the check to record")] = None,
    priority: Annotated[int, typer.Option(help="lower runs first (-1000 to 1000)")] = 100,
    disabled: Annotated[bool, typer.Option("--disabled", help="add it switched off")] = False,
) -> None:
    """Add a rule to the draft (made from the rules in force when there is none)."""
    params, problems = parse_params(kind, param or [])
    if problems:
        _fail(problems)
    rule = _uow_call(rulesets.add_rule, {"name": name, "kind": kind, "params": params, "outcome": outcome,
                                         "reason": reason, "check": check, "priority": priority,
                                         "enabled": not disabled}, actor())
    typer.echo(f"added {rule.label} {rule.name!r} to the draft")


@app.command("set-rule")
def set_rule(
    rule_no: RULE_NO,
    kind: Annotated[str | None, typer.Option(help="a new kind (its parameters start from --param only)")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    param: PARAM = None,
    outcome: Annotated[str | None, typer.Option(help="hold, check or approve")] = None,
    reason: Annotated[str | None, typer.Option(help="the hold reason code")] = None,
    check: Annotated[str | None, typer.Option(help="with outcome check: the check to record")] = None,
    priority: Annotated[int | None, typer.Option(help="lower runs first")] = None,
) -> None:
    """Change a rule in the draft: only what is given changes (parameters one by one)."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            current = rulesets.rule_in_force_or_draft(conn, rule_no)
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()
    fields = rulesets.fields_of(current)
    new_kind = kind or fields["kind"]
    params, problems = parse_params(new_kind, param or [])
    if problems:
        _fail(problems)
    if new_kind != fields["kind"]:
        fields["params"] = {}
        if outcome is None:
            fields["outcome"] = None
        if reason is None:
            fields["reason"] = None
    given = {"kind": new_kind, "name": name, "outcome": outcome, "reason": reason, "check": check,
             "priority": priority}
    fields.update({k: v for k, v in given.items() if v is not None})
    fields["params"] = {**fields["params"], **params}
    rule = _uow_call(rulesets.update_rule, rule_no, fields, actor())
    typer.echo(f"changed {rule.label} {rule.name!r} in the draft")


def _switch(rule_no: int, enabled: bool) -> None:
    rule = _uow_call(rulesets.set_enabled, rule_no, enabled, actor())
    typer.echo(f"{rule.label} {rule.name!r} is switched {'on' if enabled else 'off'} in the draft")


@app.command("enable")
def enable(rule_no: RULE_NO) -> None:
    """Switch a rule on in the draft."""
    _switch(rule_no, True)


@app.command("disable")
def disable(rule_no: RULE_NO) -> None:
    """Switch a rule off in the draft (it stays in the set but is not evaluated)."""
    _switch(rule_no, False)


@app.command("remove-rule")
def remove_rule(rule_no: RULE_NO) -> None:
    """Remove a rule from the draft."""
    rule = _uow_call(rulesets.remove_rule, rule_no, actor())
    typer.echo(f"removed R{rule.rule_no} {rule.name!r} from the draft")


@app.command("standard")
def standard() -> None:
    """Replace the draft's rules with the standard rules (under new rule numbers)."""
    draft = _uow_call(rulesets.use_standard_rules, actor())
    typer.echo(f"the draft (rule set {draft.id}) now holds the {len(draft.rules)} standard rules: "
               + ", ".join(f"R{r.rule_no}" for r in draft.rules))


@app.command("publish")
def publish(note: Annotated[str, typer.Option(help="what changed and why (1 to 500 characters)")]) -> None:
    """Publish the draft: its rules are in force from now on (the rules in force now are retired)."""
    from conveyor.bootstrap import build

    c = build()
    try:
        published, changes = rulesets.publish(note, actor(), uow=c.uow(), cache=c.review_rules)
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()
    typer.echo(f"published rule set {published.id} ({len(published.rules)} rules): {changes.summary()}")


@app.command("discard")
def discard() -> None:
    """Throw the draft away; the rules in force stay."""
    draft = _uow_call(rulesets.discard_draft, actor())
    typer.echo(f"discarded the draft (rule set {draft.id})")


# What-if -------------------------------------------------------------------------------------------------

@app.command("what-if")
def run_what_if(
    days: Annotated[int, typer.Option(min=1, max=365, help="orders created in the last so many days")] = 30,
    rule_set: Annotated[str | None, typer.Option(
        "--rule-set", help="draft, published or a rule set's id [default: the draft, else the published]")] = None,
    orders: Annotated[int, typer.Option(min=0, max=20_000, help="list at most this many changed orders")] = 50,
    as_json: JSON = False,
) -> None:
    """Evaluate a rule set over recent orders (as they were when placed) and compare with what happened."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            found = rulesets.find_rule_set(conn, rule_set or (
                "draft" if draft_rule_set(conn) is not None else "published"))
            report = what_if(conn, found, since=c.clock.now() - timedelta(days=days))
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(what_if_out(report, orders).model_dump_json(indent=2))
        return
    console = make_console()
    console.print(f"[bold]Rule set {report.rule_set_id}[/] ({report.rule_set_status}) over the orders of the last "
                  f"{days} days" + (" (the newest only)" if report.truncated else ""), highlight=False)
    console.print(f"evaluated {report.evaluated}: would approve {report.would_approve}, would hold "
                  f"{report.would_hold}; actually approved {report.actually_approved}, held {report.actually_held}, "
                  f"not reviewed {report.not_reviewed}; outcome would change for {len(report.changed)}",
                  highlight=False)
    if report.holds_by_reason:
        console.print("holds by reason: " + ", ".join(f"{r} {n}" for r, n in report.holds_by_reason),
                      highlight=False)
    rules = Table("Rule", "Name", "Fired", "Errors", title="Rules")
    for r in report.rules:
        rules.add_row(r.label, r.name, str(r.fired), str(r.errors or ""))
    console.print(rules)
    changed = report.changed
    if changed:
        table = Table("Order", "Customer", "Total", "Would", "Actually", "Why",
                      title=f"Outcome would change ({len(changed)})")
        for o in changed[:orders]:
            table.add_row(o.number, o.customer_account, f"{format_minor(o.total_minor, o.currency)} {o.currency}",
                          o.would, o.actual, "; ".join(f"{h.label} {h.reason}" for h in o.holds))
        console.print(table)


# The exception queue's commands (queue, case, approve, ...) join this sub-app; imported last because that module
# imports `app` and `actor` from here.
from conveyor.review import queue_cli as _queue_cli  # noqa: E402, F401
