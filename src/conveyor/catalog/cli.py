"""`conveyor products ...`: list products and import a catalogue from CSV (all or nothing)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from conveyor.catalog import handlers, queries
from conveyor.catalog.domain import MEASURES, check_product, parse_flag, parse_whole_number
from conveyor.catalog.schemas import ProductIn, ProductPatch
from conveyor.catalog.tables import products
from conveyor.kernel.errors import DomainError, FieldProblem, ProblemCollector
from conveyor.platform.console import make_console
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT

app = typer.Typer(help="Products (SKUs): list them, import a catalogue from CSV.", no_args_is_help=True)

REQUIRED_COLUMNS = ("sku", "name")
OPTIONAL_COLUMNS = ("gtin", *MEASURES, "regulated", "cold_chain", "hazardous", "description", "active")
MAX_REPORTED = 50

Q = Annotated[str | None, typer.Option("--q", help="part of a SKU, name or GTIN")]
LIMIT = Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="rows per page")]
AFTER = Annotated[int | None, typer.Option(help="continue after this id (printed below a full page)")]
JSON = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


@app.command("list")
def list_products(q: Q = None, limit: LIMIT = DEFAULT_LIMIT, after: AFTER = None,
                  as_json: JSON = False) -> None:
    """List products, optionally filtered by --q."""
    from conveyor.bootstrap import build

    c = build()
    try:
        with c.db.read() as conn:
            page = queries.list_products(conn, q=q, limit=limit, after=after)
    finally:
        c.db.dispose()
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    table = Table("ID", "SKU", "Name", "GTIN", "Weight g", "Flags", "Active")
    for p in page.items:
        flags = ", ".join(f for f in ("regulated", "cold_chain", "hazardous") if getattr(p, f))
        table.add_row(str(p.id), p.sku, p.name, p.gtin or "", "" if p.weight_g is None else str(p.weight_g),
                      flags, "yes" if p.active else "no")
    console = make_console()
    console.print(table)
    if page.next_after:
        console.print(f"More: --after {page.next_after}")


def read_product_rows(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, FieldProblem]]]:
    """Parses and validates every row: (line, product fields) and (line, problem) for the bad ones."""
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[tuple[int, FieldProblem]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in reader.fieldnames or []]
            reader.fieldnames = columns
            for missing in (c for c in REQUIRED_COLUMNS if c not in columns):
                problems.append((1, FieldProblem("missing_column", f"the header has no {missing!r} column",
                                                 missing)))
            for unknown in (c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS):
                problems.append((1, FieldProblem(
                    "unknown_column", f"unknown column {unknown!r}; expected "
                    f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}", unknown)))
            if problems:
                return rows, problems
            for record in reader:
                line = reader.line_num
                found = ProblemCollector()
                data = _row_fields(record, found)
                try:
                    check_product(data)
                except DomainError as exc:
                    found.problems.extend(exc.problems)
                problems.extend((line, p) for p in found.problems)
                if not found.problems:
                    rows.append((line, data))
    except UnicodeDecodeError as exc:
        problems.append((0, FieldProblem("invalid_encoding", f"the file is not UTF-8 text ({exc.reason})")))
    except csv.Error as exc:
        problems.append((0, FieldProblem("invalid_csv", str(exc))))
    return rows, problems


def _row_fields(record: dict[str, Any], found: ProblemCollector) -> dict[str, Any]:
    if None in record:
        found.add("too_many_cells", "the row has more cells than the header has columns")
    data: dict[str, Any] = {
        "sku": record.get("sku"), "name": record.get("name"),
        "gtin": (record.get("gtin") or "").strip() or None,
        "description": (record.get("description") or "").strip() or None,
    }
    for field in MEASURES:
        data[field] = parse_whole_number(record.get(field), found, field)
    for flag in ("regulated", "cold_chain", "hazardous"):
        data[flag] = parse_flag(record.get(flag), found, flag)
    active = (record.get("active") or "").strip()
    data["active"] = parse_flag(active, found, "active") if active else True
    return data


class _Refused(Exception):
    """Rolls the import's one transaction back."""


@app.command("import")
def import_products(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV with the columns sku,name,gtin,weight_g,length_mm,"
                                              "width_mm,height_mm,regulated,cold_chain,hazardous")],
    update: Annotated[bool, typer.Option(help="change products whose SKU exists (default: refuse)")] = False,
) -> None:
    """Import products from CSV in one transaction: every row is written, or none is."""
    from conveyor.bootstrap import build

    rows, problems = read_product_rows(file)
    created = changed = 0
    if not problems:
        c = build()
        try:
            with c.db.write() as conn:
                now = c.clock.now()
                for line, data in rows:
                    try:
                        existing = conn.execute(select(products.c.id).where(
                            products.c.sku == data["sku"].strip())).scalar() if update else None
                        if existing:
                            handlers.update_product(conn, existing, ProductPatch(**data), at=now)
                            changed += 1
                        else:
                            handlers.create_product(conn, ProductIn(**data), at=now)
                            created += 1
                    except DomainError as exc:
                        problems.extend((line, p) for p in exc.problems)
                if problems:
                    raise _Refused()
        except _Refused:
            pass
        finally:
            c.db.dispose()
    if problems:
        for line, p in problems[:MAX_REPORTED]:
            where = f"{file}:{line}" if line else str(file)
            field = f" ({p.field})" if p.field else ""
            typer.echo(f"{where}: {p.code}: {p.message}{field}", err=True)
        if len(problems) > MAX_REPORTED:
            typer.echo(f"{file}: ... and {len(problems) - MAX_REPORTED} more problems", err=True)
        typer.echo(f"{file}: nothing imported", err=True)
        raise typer.Exit(2)
    typer.echo(f"{file}: imported {created} new products" + (f", changed {changed}" if update else ""))
