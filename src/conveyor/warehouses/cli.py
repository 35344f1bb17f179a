"""`conveyor warehouses ...`: list warehouses."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from conveyor.platform.console import make_console
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT
from conveyor.warehouses import queries

app = typer.Typer(help="Warehouses orders ship from: list them.", no_args_is_help=True)



@app.callback()
def warehouses() -> None:
    """Keeps `list` a sub-command (Typer would otherwise collapse a one-command app into it)."""


@app.command("list")
def list_warehouses(
    q: Annotated[str | None, typer.Option("--q", help="part of a code or name")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = DEFAULT_LIMIT,
    after: Annotated[int | None, typer.Option(help="continue after this id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """List warehouses, optionally filtered by --q."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            page = queries.list_warehouses(conn, q=q, limit=limit, after=after)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    table = Table("ID", "Code", "Name", "City", "Country", "Priority", "Time zone", "Active")
    for w in page.items:
        table.add_row(str(w.id), w.code, w.name, w.city, w.country, str(w.priority), w.timezone,
                      "yes" if w.active else "no")
    console = make_console()
    console.print(table)
    if page.next_after:
        console.print(f"More: --after {page.next_after}")
