"""`conveyor stock ...`: show and list stock, check the ledger, book changes and import them from CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table

from conveyor.inventory import csv_import, queries
from conveyor.inventory.receipts import StockCommand, book
from conveyor.inventory.schemas import (
    AdjustmentIn,
    CountIn,
    CsvKind,
    ReceiptIn,
    SafetyIn,
    SkuStock,
    TransferIn,
    VerifyResult,
)
from conveyor.kernel.errors import DomainError
from conveyor.platform.console import make_console
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT

app = typer.Typer(help="Stock: show, list, verify the ledger, book receipts, adjustments, counts and "
                       "transfers, import them from CSV.", no_args_is_help=True)

ACTOR = "system:cli"
SKU = Annotated[str, typer.Argument(help="the product's SKU")]
WAREHOUSE = Annotated[str, typer.Option("--warehouse", "-w", help="the warehouse's code")]
REFERENCE = Annotated[str, typer.Option("--reference", "-r", help="delivery note, ASN or count sheet number")]
JSON = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _fail(exc: DomainError) -> None:
    for p in exc.problems:
        field = f" ({p.field})" if p.field else ""
        typer.echo(f"{p.code}: {p.message}{field}", err=True)
    raise typer.Exit(2)


@app.command("show")
def show(sku: SKU, as_json: JSON = False) -> None:
    """One SKU in every warehouse, totals and its latest movements."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            stock = queries.sku_stock(conn, sku)
    except DomainError as exc:
        _fail(exc)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(stock.model_dump_json(indent=2))
        return
    _print_sku(stock)


def _print_sku(stock: SkuStock) -> None:
    console = make_console()
    console.print(f"[bold]{stock.sku}[/] {stock.name}")
    table = Table("Warehouse", "On hand", "Reserved", "Safety", "Available", "Incoming")
    for w in stock.warehouses:
        table.add_row(w.warehouse, str(w.on_hand), str(w.reserved), str(w.safety),
                      str(w.available) if w.available else "[red]0[/]", str(w.incoming))
    t = stock.totals
    table.add_row("Total", str(t.on_hand), str(t.reserved), str(t.safety), str(t.available), str(t.incoming),
                  style="bold")
    console.print(table)
    moves = Table("When", "Warehouse", "Kind", "On hand", "Reserved", "Reference", "Reason", "By")
    for m in stock.movements:
        moves.add_row(f"{m.at:%Y-%m-%d %H:%M}", m.warehouse, m.kind, f"{m.on_hand_delta:+d}",
                      f"{m.reserved_delta:+d}", m.reference or "", m.reason or "", m.actor)
    console.print(moves)


@app.command("list")
def list_stock(
    q: Annotated[str | None, typer.Option("--q", help="part of a SKU, name or GTIN")] = None,
    warehouse: Annotated[str | None, typer.Option("--warehouse", "-w", help="only this warehouse")] = None,
    short: Annotated[bool, typer.Option("--short", help="only rows with nothing available to promise")] = False,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="rows per page")] = DEFAULT_LIMIT,
    after: Annotated[str | None, typer.Option(help="continue after this cursor (printed below a full page)")] = None,
    as_json: JSON = False,
) -> None:
    """Stock per SKU and warehouse."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            page = queries.list_stock(conn, q=q, warehouse=warehouse, short_only=short, limit=limit, after=after)
    except DomainError as exc:
        _fail(exc)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    table = Table("SKU", "Name", "Warehouse", "On hand", "Reserved", "Safety", "Available", "Incoming")
    for s in page.items:
        table.add_row(s.sku, s.name, s.warehouse, str(s.on_hand), str(s.reserved), str(s.safety),
                      str(s.available) if s.available else "[red]0[/]", str(s.incoming))
    console = make_console()
    console.print(table)
    if page.next_after:
        console.print(f"More: --after {page.next_after}")


@app.command("verify")
def verify(as_json: JSON = False) -> None:
    """Check every balance against the sum of its movements; exit code 1 when any differs."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            found = queries.differences(conn)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(VerifyResult(ok=not found, differences=found).model_dump_json(indent=2))
    elif not found:
        typer.echo("ledger ok: every balance equals the sum of its movements")
    for d in found if not as_json else []:
        typer.echo(f"{d.sku} @ {d.warehouse}: on hand {d.on_hand} (ledger {d.on_hand_from_ledger}), "
                   f"reserved {d.reserved} (ledger {d.reserved_from_ledger})")
    if found:
        raise typer.Exit(1)


def _book(command_of: type[BaseModel], **fields: object) -> None:

    from conveyor.bootstrap import build

    try:
        command = cast(StockCommand, command_of.model_validate(fields))
    except ValidationError as exc:
        for e in exc.errors():
            typer.echo(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}", err=True)
        raise typer.Exit(2) from None
    c = build()
    try:
        with c.uow() as uow:
            book(uow, command, actor=ACTOR, at=c.clock.now())
            stock = queries.sku_stock(uow.conn, command.sku)
    except DomainError as exc:
        _fail(exc)
    finally:
        c.db.dispose()
    _print_sku(stock)


@app.command("receive")
def receive(sku: SKU, quantity: Annotated[int, typer.Argument(help="units received")], warehouse: WAREHOUSE,
            reference: REFERENCE,
            asn: Annotated[bool, typer.Option("--asn", help="only announce (advance ship notice)")] = False) -> None:
    """Book a receipt, or announce one with --asn (raises incoming only)."""
    _book(ReceiptIn, sku=sku, warehouse=warehouse, quantity=quantity, reference=reference, asn=asn)


@app.command("adjust")
def adjust(sku: SKU,
           delta: Annotated[int, typer.Argument(help="units added (5) or removed (after --, e.g. -- -2)")],
           warehouse: WAREHOUSE, reason: Annotated[str, typer.Option("--reason", help="why")]) -> None:
    """Change on hand by DELTA with a reason (damage, found stock, ...)."""
    _book(AdjustmentIn, sku=sku, warehouse=warehouse, delta=delta, reason=reason)


@app.command("count")
def count(sku: SKU, counted: Annotated[int, typer.Argument(help="units found on the shelf")], warehouse: WAREHOUSE,
          reference: REFERENCE) -> None:
    """Book a cycle count: on hand becomes COUNTED, the difference is booked."""
    _book(CountIn, sku=sku, warehouse=warehouse, counted=counted, reference=reference)


@app.command("transfer")
def transfer(sku: SKU, quantity: Annotated[int, typer.Argument(help="units moved")],
             from_warehouse: Annotated[str, typer.Option("--from", help="source warehouse code")],
             to_warehouse: Annotated[str, typer.Option("--to", help="target warehouse code")]) -> None:
    """Move free stock between warehouses."""
    _book(TransferIn, sku=sku, from_warehouse=from_warehouse, to_warehouse=to_warehouse, quantity=quantity)


@app.command("safety")
def safety(sku: SKU, units: Annotated[int, typer.Argument(help="safety stock, never promised")],
           warehouse: WAREHOUSE) -> None:
    """Set the safety stock of SKU in a warehouse."""
    _book(SafetyIn, sku=sku, warehouse=warehouse, safety=units)


class _Refused(Exception):
    """Rolls the import's one transaction back."""


@app.command("import")
def import_csv(
    kind: Annotated[CsvKind, typer.Argument(help="receipts, adjustments, counts or transfers")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="receipts: sku,warehouse,quantity,reference; adjustments: "
                                              "sku,warehouse,delta,reason; counts: sku,warehouse,counted,"
                                              "reference; transfers: sku,from_warehouse,to_warehouse,quantity")],
) -> None:
    """Book a CSV file in one transaction: every row, or none. Problems print as FILE:LINE: code: message."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.uow() as uow:
            rows = csv_import.import_stock(uow, kind, file.read_bytes(), actor=ACTOR, at=c.clock.now())
    except csv_import.CsvRefused as refused:
        problems = refused.line_problems
        for p in problems[:csv_import.MAX_REPORTED]:
            where = f"{file}:{p.line}" if p.line else str(file)
            column = f" ({p.column})" if p.column else ""
            typer.echo(f"{where}: {p.code}: {p.message}{column}", err=True)
        if len(problems) > csv_import.MAX_REPORTED:
            typer.echo(f"{file}: ... and {len(problems) - csv_import.MAX_REPORTED} more problems", err=True)
        typer.echo(f"{file}: nothing imported", err=True)
        raise typer.Exit(2) from None
    finally:
        c.db.dispose()
    typer.echo(f"{file}: booked {rows} {kind.value}")
