"""`conveyor channels ...`: list sales channels and create one."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from conveyor.channels import handlers, queries
from conveyor.channels.domain import KINDS
from conveyor.channels.schemas import ChannelIn
from conveyor.kernel.errors import DomainError
from conveyor.platform.console import make_console
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT

app = typer.Typer(help="Sales channels orders arrive from: list them, create one.", no_args_is_help=True)


@app.command("list")
def list_channels(
    q: Annotated[str | None, typer.Option("--q", help="part of a code or name")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = DEFAULT_LIMIT,
    after: Annotated[int | None, typer.Option(help="continue after this id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """List channels, optionally filtered by --q."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            page = queries.list_channels(conn, q=q, limit=limit, after=after)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    table = Table("ID", "Code", "Name", "Kind", "Currency", "Active")
    for ch in page.items:
        table.add_row(str(ch.id), ch.code, ch.name, ch.kind, ch.default_currency, "yes" if ch.active else "no")
    console = make_console()
    console.print(table)
    if page.next_after:
        console.print(f"More: --after {page.next_after}")


@app.command("create")
def create_channel(
    code: Annotated[str, typer.Argument(help="2-32 characters: a-z, 0-9, - and _")],
    kind: Annotated[str, typer.Option(help=f"one of {', '.join(KINDS)}")] = "api",
    name: Annotated[str | None, typer.Option(help="shown to people (default: the code)")] = None,
    currency: Annotated[str, typer.Option(help="default ISO 4217 currency")] = "EUR",
) -> None:
    """Create a sales channel."""
    from conveyor.bootstrap import build

    c = build()
    try:
        data = ChannelIn(code=code, kind=kind, name=name or code, default_currency=currency.upper())
        with c.db.write() as conn:
            channel_id = handlers.create_channel(conn, data, at=c.clock.now())
    except DomainError as exc:
        for p in exc.problems:
            typer.echo(f"{p.code}: {p.message}" + (f" ({p.field})" if p.field else ""), err=True)
        raise typer.Exit(2) from None
    except ValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        c.db.dispose()
    typer.echo(f"created channel {code} (id {channel_id})")
