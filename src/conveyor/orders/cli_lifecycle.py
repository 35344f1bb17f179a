"""`conveyor lifecycle ...`: show stages, owners and SLAs; change them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import typer
from rich.table import Table

from conveyor.kernel.errors import DomainError
from conveyor.orders import handlers
from conveyor.orders.commands import ConfigureStage
from conveyor.orders.lifecycle import LifecycleState, Stage, allowed_actions
from conveyor.platform.console import make_console

app = typer.Typer(help="The order lifecycle: stages, owners, SLAs.", no_args_is_help=True)
console = make_console()
err = make_console(stderr=True)


@app.command()
def show() -> None:
    """Stages with owner role, SLA in business hours, and the actions allowed from each."""
    from conveyor.bootstrap import build

    c = build()
    with c.db.read() as conn:
        config = c.lifecycle.get(conn)
    table = Table("Stage", "Label", "Owner", "SLA (business h)", "Actions")
    for d in config.ordered():
        state = LifecycleState(d.stage, Stage.RECEIVED if d.stage == Stage.ON_HOLD else None)
        table.add_row(d.stage.value, d.label, d.owner_role, "-" if d.sla_hours is None else f"{d.sla_hours:g}",
                      ", ".join(a.value for a in allowed_actions(state)))
    console.print(table)
    cal = config.calendar
    days = ",".join(str(d + 1) for d in sorted(cal.working_days))
    console.print(f"Calendar: {cal.timezone}, days {days}, {cal.opens:%H:%M}-{cal.closes:%H:%M}, "
                  f"{len(cal.holidays)} holidays")


@app.command("set-sla")
def set_sla(stage: str, hours: str = typer.Argument(..., help="business hours, or 'none'"),
            owner: str = typer.Option(None, help="owner role")) -> None:
    """Change a stage's SLA (and owner); due times of orders in the stage are recomputed."""
    from conveyor.bootstrap import build

    c = build()
    try:
        sla = None if hours.lower() == "none" else Decimal(hours)
    except InvalidOperation:
        err.print(f"error: invalid_sla: {hours!r} is not a number of hours")
        raise typer.Exit(2) from None
    with c.db.read() as conn:
        current = c.lifecycle.get(conn)
    known = stage in {s.value for s in Stage}
    owner_role = owner or (current.definition(stage).owner_role if known else "")
    try:
        definition = handlers.configure_stage(
            ConfigureStage(stage=stage, owner_role=owner_role, sla_hours=sla, actor="system:cli"),
            uow=c.uow(), config=c.lifecycle)
    except DomainError as exc:
        for p in exc.problems:
            err.print(f"error: {p.code}{' at ' + p.field if p.field else ''}: {p.message}")
        raise typer.Exit(2) from None
    console.print(f"{definition.stage.value}: owner {definition.owner_role}, SLA {definition.sla_hours or 'none'}")
