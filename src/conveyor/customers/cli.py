"""`conveyor customers ...`: list customer accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from conveyor.customers import queries
from conveyor.platform.console import make_console
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT

app = typer.Typer(help="Customer accounts, their credit terms and addresses: list them.", no_args_is_help=True)



@app.callback()
def customers() -> None:
    """Keeps `list` a sub-command (Typer would otherwise collapse a one-command app into it)."""


@app.command("list")
def list_customers(
    q: Annotated[str | None, typer.Option("--q", help="part of an account number, name or email")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = DEFAULT_LIMIT,
    after: Annotated[int | None, typer.Option(help="continue after this id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (with contacts and addresses)")] = False,
) -> None:
    """List customers, optionally filtered by --q."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            page = queries.list_customers(conn, q=q, limit=limit, after=after)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    table = Table("ID", "Account", "Name", "Email", "Credit limit", "Terms", "Rating", "Ships to", "Active")
    for cu in page.items:
        ship = cu.default_address("shipping")
        table.add_row(str(cu.id), cu.account, cu.name, cu.email or "", f"{cu.credit_limit} {cu.currency}",
                      cu.payment_terms, cu.credit_rating, f"{ship.city}, {ship.country}" if ship else "",
                      "yes" if cu.active else "no")
    console = make_console()
    console.print(table)
    if page.next_after:
        console.print(f"More: --after {page.next_after}")
