"""`conveyor customers ...`: list customer accounts; list, add and remove the licences a customer holds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NoReturn

import typer
from pydantic import TypeAdapter
from rich.table import Table

from conveyor.customers import handlers, queries
from conveyor.customers.schemas import CustomerLicenceIn, CustomerLicenceOut
from conveyor.kernel.errors import DomainError, FieldProblem
from conveyor.platform.console import make_console
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT

app = typer.Typer(help="Customer accounts, their credit terms, addresses and licences: list them; add and remove "
                       "licences.", no_args_is_help=True)

ACTOR = "system:cli"
ACCOUNT = Annotated[str, typer.Argument(help="the customer's account number, e.g. C-100")]
DAY = ["%Y-%m-%d"]
STATUS = {"valid": "valid", "expired": "expired", "not_yet_valid": "not yet valid"}
STATUS_TODAY = {"valid": "valid today", "expired": "already expired", "not_yet_valid": "not yet valid"}


def _fail(problems: list[FieldProblem]) -> NoReturn:
    for p in problems:
        typer.echo(f"{p.code}: {p.message}" + (f" ({p.field})" if p.field else ""), err=True)
    raise typer.Exit(2)


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
            page = queries.list_customers(conn, q=q, limit=limit, after=after, today=c.clock.now().date())
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


@app.command("licences")
def list_licences(
    account: ACCOUNT,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """List the licences of ACCOUNT, with whether each is valid today."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            licences = queries.list_licences(conn, handlers.find_customer(conn, account),
                                             today=c.clock.now().date())
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(TypeAdapter(list[CustomerLicenceOut]).dump_json(licences, indent=2).decode())
        return
    _print_licences(account, licences)


def _print_licences(account: str, licences: list[CustomerLicenceOut]) -> None:
    if not licences:
        typer.echo(f"{account} has no licences")
        return
    table = Table("ID", "Kind", "Number", "Valid from", "Valid until", "Status")
    for lic in licences:
        table.add_row(str(lic.id), lic.kind, lic.number, str(lic.valid_from or ""), str(lic.valid_until or ""),
                      STATUS[lic.status])
    make_console().print(table)


@app.command("add-licence")
def add_licence(
    account: ACCOUNT,
    kind: Annotated[str, typer.Option(help="what it allows, e.g. pharmacy, alcohol, tobacco")],
    number: Annotated[str, typer.Option(help="the licence number as issued")],
    valid_from: Annotated[datetime | None, typer.Option("--from", formats=DAY,
                                                        help="first day it is valid, YYYY-MM-DD")] = None,
    valid_until: Annotated[datetime | None, typer.Option("--until", formats=DAY,
                                                         help="last day it is valid (inclusive), YYYY-MM-DD; "
                                                              "none: no end")] = None,
) -> None:
    """Record a licence ACCOUNT holds (regulated products need one valid on the order date)."""
    from conveyor.bootstrap import build

    c = build()
    try:
        data = CustomerLicenceIn(kind=kind, number=number, valid_from=valid_from.date() if valid_from else None,
                                 valid_until=valid_until.date() if valid_until else None)
        with c.db.write() as conn:
            licence_id = handlers.add_licence(conn, handlers.find_customer(conn, account), data, actor=ACTOR,
                                              at=c.clock.now())
            licence = queries.get_licence(conn, licence_id, today=c.clock.now().date())
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()
    typer.echo(f"added {licence.kind} licence {licence.number} to {account} (id {licence.id}, "
               f"{STATUS_TODAY[licence.status]})")


@app.command("remove-licence")
def remove_licence(
    account: ACCOUNT,
    licence_id: Annotated[int, typer.Argument(min=1, max=MAX_ID,
                                              help="the licence's id (see `conveyor customers licences`)")],
) -> None:
    """Remove one of ACCOUNT's licences."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.write() as conn:
            handlers.remove_licence(conn, handlers.find_customer(conn, account), licence_id)
    except DomainError as exc:
        _fail(exc.problems)
    finally:
        c.db.dispose()
    typer.echo(f"removed licence {licence_id} from {account}")
