"""`conveyor orders ...`: find, show, place and move orders from scripts."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.table import Table

from conveyor.kernel.errors import DomainError
from conveyor.orders import handlers, presenters, queries
from conveyor.orders.commands import MoveOrder, PlaceOrder
from conveyor.orders.schemas import OrderIn
from conveyor.platform.console import make_console

app = typer.Typer(help="Orders: list, show, place, move through the lifecycle.", no_args_is_help=True)
console = make_console()
err = make_console(stderr=True)
ACTOR = "system:cli"


def _fail(error: DomainError, where: str | None = None) -> None:
    for problem in error.problems:
        at = f" at {problem.field}" if problem.field else ""
        err.print(f"{where + ': ' if where else ''}error: {problem.code}{at}: {problem.message}")
    raise typer.Exit(2)


@app.command("list")
def list_orders(
    stage: str = typer.Option(None, help="only this stage"),
    customer: str = typer.Option(None, help="customer account"),
    channel: str = typer.Option(None, help="channel code"),
    q: str = typer.Option(None, help="order number or external id"),
    breached: bool = typer.Option(False, help="only orders past their SLA"),
    limit: int = typer.Option(50, min=1, max=200),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List orders, newest first."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            page = queries.list_orders(conn, queries.OrderFilters(stage, channel, customer, q=q, breached=breached),
                                       principal=None, now=c.clock.now(), limit=limit)
    except DomainError as exc:
        _fail(exc)
    if as_json:
        console.print_json(json.dumps([presenters.summary_out(r).model_dump(mode="json") for r in page.items]))
        return
    table = Table("Number", "External id", "Customer", "Channel", "Stage", "Total", "Created", "SLA")
    for r in page.items:
        table.add_row(r.number, r.external_id, r.customer_name, r.channel, r.stage,
                      f"{presenters.s.money(r.total_minor, r.currency)} {r.currency}",
                      r.created_at.strftime("%Y-%m-%d %H:%M"), "[red]breached[/]" if r.breached else "")
    console.print(table)


@app.command()
def show(order_id: int, as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Show one order with its lines, SLA clock and timeline."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            detail = queries.get_order(conn, order_id, principal=None, lifecycle=c.lifecycle.get(conn),
                                       now=c.clock.now())
    except DomainError as exc:
        _fail(exc)
    out = presenters.order_out(detail)
    if as_json:
        console.print_json(out.model_dump_json())
        return
    console.print(f"[bold]{out.number}[/] {out.external_id} · {out.customer.name} · stage [bold]{out.stage}[/]"
                  f" · total {out.totals.total} {out.currency}")
    sla = out.sla
    console.print(f"SLA: owner {sla.owner_role}, due {sla.due_at or '-'}"
                  f"{' [red]BREACHED[/]' if sla.breached else ''}")
    for line in out.lines:
        console.print(f"  {line.line_no:>3} {line.sku:<12} {line.quantity:>5} × {line.unit_price:>10} = {line.total}")
    for t in out.timeline:
        console.print(f"  {t.at:%Y-%m-%d %H:%M} {t.actor:<32} {t.from_stage or '':>12} → {t.to_stage or ''}"
                      f"{'  (' + t.reason + ')' if t.reason else ''}")


@app.command()
def place(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="an order as JSON, as the API takes"),
          idempotency_key: str = typer.Option(None, help="makes a retry safe")) -> None:
    """Place an order from a JSON file (the body of POST /api/v1/orders)."""
    from conveyor.bootstrap import build

    try:
        body = OrderIn.model_validate_json(file.read_text())
    except ValidationError as exc:
        for e in exc.errors():
            err.print(f"{file}: error: {e['type']} at {'.'.join(map(str, e['loc']))}: {e['msg']}")
        raise typer.Exit(2) from None
    c = build()
    try:
        placed = handlers.place_order(PlaceOrder(draft=body.to_draft(), actor=ACTOR, idempotency_key=idempotency_key),
                                      uow=c.uow(), config=c.lifecycle, duplicate_window=c.duplicate_window,
                                      rules=c.review_rules)
    except DomainError as exc:
        _fail(exc, str(file))
    verb = "Placed" if placed.created else f"Already there ({placed.reason}):"
    console.print(f"{verb} order {placed.order_id}")


@app.command()
def move(order_id: int, action: str, reason: str = typer.Option(None, help="required for hold and cancel")) -> None:
    """Apply a lifecycle action: review, approve, reserve, pick, pack, ship, deliver, close, hold, release,
    cancel."""
    from conveyor.bootstrap import build

    c = build()
    try:
        moved = handlers.move_order(MoveOrder(order_id=order_id, action=action, actor=ACTOR, reason=reason),
                                    uow=c.uow(), config=c.lifecycle)
    except DomainError as exc:
        _fail(exc)
    console.print(f"Order {order_id}: {moved.from_stage} → {moved.to_stage}")


@app.command("map-line")
def map_line(order_id: int = typer.Argument(..., help="the order's id (SO-000123 is 123)"),
             line_no: int = typer.Argument(..., help="the line's number"),
             sku: str = typer.Argument(..., help="the catalog product the line is"),
             remember: bool = typer.Option(True, help="also map the trading partner's item to this product")) -> None:
    """Map an unmapped line (a channel's item we did not know) to a product; its stock is then reserved."""
    from conveyor.bootstrap import build
    from conveyor.orders.line_mapping import MapLine
    from conveyor.orders.line_mapping import map_line as run

    c = build()
    try:
        mapped = run(MapLine(order_id=order_id, line_no=line_no, sku=sku, actor=ACTOR, remember=remember),
                     uow=c.uow())
    except DomainError as exc:
        _fail(exc)
    finally:
        c.db.dispose()
    remembered = f"; remembered for {mapped.remembered_for}" if mapped.remembered_for else ""
    left = "every line is mapped now: release the order when ready" if mapped.unmapped_left == 0 \
        else f"{mapped.unmapped_left} line(s) still unmapped"
    console.print(f"Line {line_no} of order {order_id} is {mapped.sku}{remembered}; {left}")
