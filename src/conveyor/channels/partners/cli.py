"""`conveyor partners ...`: list, add and show trading partners of an EDI channel, and map their buyer items to
our SKUs from a CSV file (all or nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from conveyor.channels.partners import handlers, queries
from conveyor.channels.partners.domain import (
    EDIFACT_DOCUMENTS,
    MAX_ITEMS,
    X12_DOCUMENTS,
    parse_documents,
    parse_units,
    read_item_csv,
)
from conveyor.channels.partners.handlers import LineProblem, RowsRefused
from conveyor.channels.partners.schemas import PartnerIn, PartnerItemPage, PartnerOut
from conveyor.kernel.errors import DomainError, FieldProblem, ProblemCollector
from conveyor.platform.console import make_console
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT

app = typer.Typer(help="Trading partners of EDI channels: who they are, their items and units.",
                  no_args_is_help=True)

MAX_REPORTED = 50
MAX_FILE_BYTES = 20_000_000
CHANNEL = Annotated[str, typer.Argument(help="the channel's code, e.g. edi-acme")]
PARTNER = Annotated[str, typer.Argument(help="the partner id, e.g. ZZ:ACME (X12) or 14:5412345000013 (EDIFACT)")]
JSON = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _fail(problems: list[FieldProblem]) -> None:
    for p in problems:
        typer.echo(f"{p.code}: {p.message}" + (f" ({p.field})" if p.field else ""), err=True)
    raise typer.Exit(2)


@app.command("list")
def list_partners(
    channel: CHANNEL,
    q: Annotated[str | None, typer.Option("--q", help="part of a partner id, name or account")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = DEFAULT_LIMIT,
    after: Annotated[int | None, typer.Option(help="continue after this id")] = None,
    as_json: JSON = False,
) -> None:
    """List the trading partners of CHANNEL."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            page = queries.list_partners(conn, handlers.find_channel(conn, channel), q=q, limit=limit, after=after)
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    table = Table("ID", "Partner id", "Name", "Customer", "Expects back", "Units", "Items", "Active")
    for p in page.items:
        table.add_row(str(p.id), p.partner_id, p.name, p.customer, ", ".join(p.documents), _units(p),
                      str(p.item_count), "yes" if p.active else "no")
    console = make_console()
    console.print(table)
    if page.next_after:
        console.print(f"More: --after {page.next_after}")


def _units(partner: PartnerOut) -> str:
    return ", ".join(f"{code}={eaches}" for code, eaches in partner.units.items())


@app.command("add")
def add_partner(
    channel: CHANNEL,
    partner_id: PARTNER,
    name: Annotated[str, typer.Option(help="who they are, shown to people")],
    customer: Annotated[str, typer.Option(help="the account number of the customer whose orders these are")],
    documents: Annotated[str, typer.Option(help=f"documents they expect back, comma-separated: X12 "
                                                f"{','.join(X12_DOCUMENTS)}; EDIFACT "
                                                f"{','.join(EDIFACT_DOCUMENTS)}")] = "",
    unit: Annotated[list[str] | None, typer.Option("--unit", help="a unit of theirs as CODE=EACHES, e.g. "
                                                                  "CS=12; repeat for more")] = None,
    our_id: Annotated[str | None, typer.Option(help="the id we answer as, when not the one they send to")] = None,
) -> None:
    """Add a trading partner to an EDI channel."""
    from conveyor.bootstrap import build

    problems = ProblemCollector()
    units = parse_units(unit or [], problems, "unit")
    if problems.problems:
        _fail(problems.problems)
    c = build()
    try:
        data = PartnerIn(partner_id=partner_id, name=name, customer=customer, our_id=our_id,
                         documents=parse_documents(documents), units=units)
        with c.db.write() as conn:
            found = handlers.find_channel(conn, channel)
            partner = queries.get_partner(conn, found, handlers.create_partner(conn, found, data, at=c.clock.now()))
    except DomainError as exc:
        _fail(exc.problems)
    except ValidationError as exc:
        _fail([FieldProblem(str(e["type"]), str(e["msg"]), ".".join(str(p) for p in e["loc"]))
               for e in exc.errors()])
    finally:
        c.db.dispose()
    typer.echo(f"added trading partner {partner.partner_id} ({partner.name}) to {channel} for customer "
               f"{partner.customer} (id {partner.id})")


@app.command("show")
def show_partner(channel: CHANNEL, partner_id: PARTNER, as_json: JSON = False) -> None:
    """Show a trading partner's profile and its item mappings."""
    from conveyor.bootstrap import build

    c = build()
    pages: list[PartnerItemPage] = []
    try:
        with c.db.read() as conn:
            found = handlers.find_channel(conn, channel)
            partner_pk = handlers.find_partner(conn, found, partner_id)
            partner = queries.get_partner(conn, found, partner_pk)
            after = None
            while True:
                pages.append(queries.list_items(conn, partner_pk, limit=MAX_LIMIT, after=after))
                if (after := pages[-1].next_after) is None:
                    break
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()
    items = [item for page in pages for item in page.items]
    if as_json:
        typer.echo(json.dumps({**partner.model_dump(mode="json"),
                               "mappings": [item.model_dump(mode="json") for item in items]},
                              indent=2, ensure_ascii=False))
        return
    console = make_console()
    console.print(f"[bold]{partner.partner_id}[/] {partner.name} · channel {partner.channel} · customer "
                  f"{partner.customer} ({partner.customer_name}) · {'active' if partner.active else 'inactive'}",
                  markup=True, highlight=False)
    console.print(f"our id: {partner.our_id or '(the receiver they send to)'}", highlight=False)
    console.print(f"expects back: {', '.join(partner.documents) or 'nothing'}", highlight=False)
    console.print(f"units: {_units(partner) or 'eaches only'}", highlight=False)
    table = Table("Buyer item", "SKU", "Product", title=f"{len(items)} item mappings")
    for item in items:
        table.add_row(item.buyer_item, item.sku, item.product_name)
    console.print(table)


@app.command("map")
def map_items(
    channel: CHANNEL,
    partner_id: PARTNER,
    file: Annotated[Path, typer.Argument(help="CSV of buyer_item,sku rows (a header row is optional)")],
    replace: Annotated[bool, typer.Option(help="make the file the partner's whole list: remove mappings that are "
                                               "not in it (default: add and change only)")] = False,
) -> None:
    """Map the partner's buyer items to our SKUs from FILE in one transaction: every row, or none."""
    from conveyor.bootstrap import build

    text, problems = _read(file)
    rows: list[tuple[int, str, str]] = []
    if not problems:
        rows, bad = read_item_csv(text)
        problems = [LineProblem(line, code, message) for line, code, message in bad]
        if len(rows) > MAX_ITEMS:
            problems.append(LineProblem(0, "too_many_items", f"at most {MAX_ITEMS} rows per file; split it"))
    result = None
    if not problems:
        c = build()
        try:
            with c.db.write() as conn:
                found_channel = handlers.find_channel(conn, channel)
                partner_pk = handlers.find_partner(conn, found_channel, partner_id, lock=True)
                result = handlers.map_rows(conn, partner_pk, rows, replace=replace, at=c.clock.now())
        except RowsRefused as refused:
            problems = refused.problems
        except DomainError as exc:
            problems = [LineProblem(0, p.code, p.message, p.field) for p in exc.problems]
        finally:
            c.db.dispose()
    if problems or result is None:
        for p in problems[:MAX_REPORTED]:
            field = f" ({p.field})" if p.field else ""
            typer.echo(f"{p.where(str(file))}: {p.code}: {p.message}{field}", err=True)
        if len(problems) > MAX_REPORTED:
            typer.echo(f"{file}: ... and {len(problems) - MAX_REPORTED} more problems", err=True)
        typer.echo(f"{file}: nothing mapped", err=True)
        raise typer.Exit(2)
    typer.echo(f"{file}: {result.added} added, {result.changed} changed, {result.unchanged} unchanged"
               + (f", {result.removed} removed" if replace else "") + f"; {result.total} mappings in all")


def _read(file: Path) -> tuple[str, list[LineProblem]]:
    """FILE as UTF-8 text, or the problems why it cannot be read."""
    if not file.is_file():
        return "", [LineProblem(0, "no_file", "no such file")]
    if file.stat().st_size > MAX_FILE_BYTES:
        return "", [LineProblem(0, "file_too_large", f"at most {MAX_FILE_BYTES} bytes")]
    try:
        return file.read_text(encoding="utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return "", [LineProblem(0, "invalid_encoding", f"the file is not UTF-8 text ({exc.reason})")]
