"""`conveyor review queue|case|approve|cancel|check`: the exception queue from a terminal.

Commands are added to `conveyor.review.cli.app` (imported by that module). Orders are named by number
(`SO-000123`, `123`). The actor is `system:cli:<login name>`, trusted like an administrator (it has the
database); `--as EMAIL` acts as that user instead, with that user's permissions (approving over a rule's veto
needs review:override, cancelling needs order:cancel).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import func, select

from conveyor.identity.permissions import ROLE_PERMISSIONS, Permission, Role
from conveyor.identity.tables import users
from conveyor.kernel.errors import DomainError
from conveyor.kernel.money import format_minor
from conveyor.orders.domain import parse_order_number
from conveyor.platform.console import make_console
from conveyor.review import actions, queue
from conveyor.review import queue_schemas as s
from conveyor.review.cli import actor as cli_actor
from conveyor.review.cli import app

__all__ = ["app"]

console = make_console()
err = make_console(stderr=True)

ORDER = Annotated[str, typer.Argument(help="the order's number, e.g. SO-000123 (or 123)")]
AS = Annotated[str | None, typer.Option("--as", help="act as this user (email), with that user's permissions")]
JSON = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _fail(error: DomainError) -> None:
    for problem in error.problems:
        at = f" at {problem.field}" if problem.field else ""
        err.print(f"error: {problem.code}{at}: {problem.message}", highlight=False)
    raise typer.Exit(2)


def _order_id(text: str) -> int:
    order_id = parse_order_number(text)
    if order_id is None or order_id < 1:
        err.print(f"error: invalid_order_number: {text!r} is not an order number like SO-000123", highlight=False)
        raise typer.Exit(2)
    return order_id


def _who(c: Any, email: str | None) -> tuple[str, frozenset[Permission]]:
    """The actor and its permissions: the CLI itself (everything), or the user named by --as."""
    if email is None:
        return cli_actor(), frozenset(Permission)
    with c.db.read() as conn:
        row = conn.execute(select(users.c.email, users.c.role, users.c.active)
                           .where(func.lower(users.c.email) == email.strip().lower())).first()
    if row is None or not row.active:
        err.print(f"error: unknown_user: no active user {email!r}", highlight=False)
        raise typer.Exit(2)
    return f"user:{row.email}", ROLE_PERMISSIONS[Role(row.role)]


def _need(permissions: frozenset[Permission], permission: Permission, actor: str) -> None:
    if permission not in permissions:
        err.print(f"error: forbidden: {queue.who(actor)} lacks the permission {permission.value}", highlight=False)
        raise typer.Exit(2)


def _done(outcome: actions.Outcome) -> None:
    console.print(f"{outcome.number}: {outcome.message} (stage {outcome.stage}"
                  f"{', case open' if outcome.case_open else ', case closed'})", highlight=False)


@app.command("queue")
def show_queue(
    reason: Annotated[str | None, typer.Option(help="only cases of this reason, e.g. credit")] = None,
    role: Annotated[str | None, typer.Option(help="only cases this role works, e.g. finance")] = None,
    breached: Annotated[bool, typer.Option("--breached", help="only cases past their SLA")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: JSON = False,
) -> None:
    """The exception queue: open cases per reason, then the cases themselves, oldest first."""
    from conveyor.bootstrap import build

    c = build()
    now = c.clock.now()
    try:
        with c.db.read() as conn:
            lifecycle = c.lifecycle.get(conn)
            summary = queue.queue_summary(conn, lifecycle, now)
            page = queue.list_cases(conn, queue.CaseFilters(reason=reason, role=role, breached=breached), actor=None,
                                    lifecycle=lifecycle, now=now, limit=limit)
    except DomainError as exc:
        _fail(exc)
    finally:
        c.db.dispose()
    if as_json:
        out = s.QueueOut(total=summary.total, breached=summary.breached,
                         groups=[s.ReasonGroupOut(reason=g.reason, label=g.label, count=g.count, breached=g.breached,
                                                  oldest_opened_at=g.oldest_opened_at) for g in summary.groups],
                         items=[s.CaseSummaryOut.of(r) for r in page.items], next_cursor=page.next_cursor)
        console.print_json(out.model_dump_json())
        return
    groups = Table("Reason", "Open", "Past SLA", "Oldest", title=f"{summary.total} open, {summary.breached} past SLA")
    for g in summary.groups:
        age = g.age(now)
        groups.add_row(g.label, str(g.count), f"[red]{g.breached}[/]" if g.breached else "0",
                       _duration(age.total_seconds()) if age is not None else "")
    console.print(groups)
    table = Table("Order", "Customer", "Total", "Holds", "Role", "Assignee", "SLA")
    for r in page.items:
        left = r.time_left.total_seconds() if r.time_left is not None else None
        sla = "" if left is None else f"[red]overdue {_duration(-left)}[/]" if r.breached else f"{_duration(left)} left"
        table.add_row(r.number, f"{r.customer_name} ({r.customer_account})",
                      f"{format_minor(r.total_minor, r.currency)} {r.currency}",
                      ", ".join(f"{h.label} {h.reason}" for h in r.holds), r.role,
                      queue.who(r.assignee) + (f" [waiting for {r.waiting_for}]" if r.waiting_for else ""), sla)
    console.print(table)


def _duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m"


@app.command("case")
def show_case(order: ORDER, as_json: JSON = False) -> None:
    """One case: the order, its holds (open and cleared) and every rule's result of every review run."""
    from conveyor.bootstrap import build

    order_id = _order_id(order)
    c = build()
    try:
        with c.db.read() as conn:
            detail = queue.case_detail(conn, order_id, lifecycle=c.lifecycle.get(conn), now=c.clock.now())
    except DomainError as exc:
        _fail(exc)
    finally:
        c.db.dispose()
    out = s.CaseOut.of(detail)
    if as_json:
        console.print_json(out.model_dump_json())
        return
    case = out.case
    console.print(f"[bold]{out.number}[/] {out.customer.name} ({out.customer.account}) · {out.total} {out.currency}"
                  f" · stage {out.stage} · case {case.status}"
                  + (f" ({case.resolution} by {queue.who(case.closed_by)})" if case.status == "closed" else ""),
                  highlight=False)
    console.print(f"reason {case.reason}, role {case.role}, assignee {queue.who(case.assignee) or '-'}"
                  + (f", waiting for {case.waiting_for}" if case.waiting_for else ""), highlight=False)
    holds = Table("Hold", "Label", "Reason", "Kind", "Message", "Cleared", title="Holds")
    for h in [*out.open_holds, *out.cleared_holds]:
        holds.add_row(str(h.id), h.label, h.reason, "veto" if h.veto else "check", h.message,
                      f"{queue.who(h.cleared_by)}: {h.cleared_note or ''}" if h.cleared_at else "open")
    console.print(holds)
    for run in out.reviews:
        table = Table("Rule", "Name", "Status", "Message",
                      title=f"{run.at:%Y-%m-%d %H:%M} {run.trigger} · rule set {run.rule_set_id} · "
                            f"{'approved' if run.approved else 'held'}")
        for r in run.results:
            table.add_row(r.label, r.name, r.status, r.message)
        console.print(table)


@app.command("approve")
def approve(order: ORDER, comment: Annotated[str, typer.Option(help="why the order may go on (required)")],
            as_user: AS = None) -> None:
    """Approve a held order: clears its holds, closes its case, moves it on. Over a rule's veto this is an
    override (audited); with --as the user needs review:override."""
    from conveyor.bootstrap import build

    order_id = _order_id(order)
    c = build()
    try:
        actor, permissions = _who(c, as_user)
        _need(permissions, Permission.ORDER_REVIEW, actor)
        _done(actions.approve(order_id, actor=actor, comment=comment,
                              can_override=Permission.REVIEW_OVERRIDE in permissions, uow=c.uow(), config=c.lifecycle))
    except DomainError as exc:
        _fail(exc)
    finally:
        c.db.dispose()


@app.command("cancel")
def cancel(order: ORDER, reason: Annotated[str, typer.Option(help="why (required)")], as_user: AS = None) -> None:
    """Cancel a held order: clears its holds and closes its case."""
    from conveyor.bootstrap import build

    order_id = _order_id(order)
    c = build()
    try:
        actor, permissions = _who(c, as_user)
        _need(permissions, Permission.ORDER_CANCEL, actor)
        _done(actions.cancel(order_id, actor=actor, reason=reason, uow=c.uow(), config=c.lifecycle))
    except DomainError as exc:
        _fail(exc)
    finally:
        c.db.dispose()


@app.command("check")
def check(order: ORDER, hold_id: Annotated[int, typer.Argument(min=1, help="the hold's id (see `review case`)")],
          comment: Annotated[str, typer.Option(help="what the check found (required)")], as_user: AS = None) -> None:
    """Record a named check as done; with no hold left the order moves on."""
    from conveyor.bootstrap import build

    order_id = _order_id(order)
    c = build()
    try:
        actor, permissions = _who(c, as_user)
        _need(permissions, Permission.ORDER_REVIEW, actor)
        _done(actions.record_check(order_id, hold_id, actor=actor, comment=comment, uow=c.uow(), config=c.lifecycle))
    except DomainError as exc:
        _fail(exc)
    finally:
        c.db.dispose()
