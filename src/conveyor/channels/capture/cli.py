"""`conveyor import orders FILE`: capture a file of orders from any channel format."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from conveyor.channels.capture.documents import FORMATS, HEAD, UnknownFormat, format_of
from conveyor.channels.capture.report import CaptureReport
from conveyor.kernel.errors import DomainError
from conveyor.platform.console import make_console

if TYPE_CHECKING:
    from conveyor.bootstrap import Container

app = typer.Typer(help="Import documents: orders from CSV, Excel, X12, EDIFACT, Shopify, WooCommerce, Amazon.",
                  no_args_is_help=True)
err = make_console(stderr=True)
ACTOR = "system:cli"


@app.command("orders")
def import_orders(
    file: Annotated[Path, typer.Argument(help="the document: a CSV/Excel file, an X12 or EDIFACT interchange, "
                                              "or Shopify/WooCommerce/Amazon order JSON")],
    fmt: Annotated[str, typer.Option("--format", help=f"one of {', '.join(FORMATS)}")] = "auto",
    channel: Annotated[str | None, typer.Option(help="channel code; default: the only active channel of the "
                                                      "format's kind")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="parse, validate and map; write nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as one JSON object")] = False,
    mapping: Annotated[Path | None, typer.Option(help="column mapping for a CSV/Excel layout of your own "
                                                      "(JSON or TOML, see docs/import.md)")] = None,
    rejects: Annotated[Path | None, typer.Option(help="where to write rejected orders (CSV: where, reason); "
                                                      "default FILE.rejects.csv when there are any")] = None,
    acks: Annotated[Path | None, typer.Option(help="a folder to write the acknowledgements sent back "
                                                   "(997, 855, CONTRL, ORDRSP) into")] = None,
) -> None:
    """Capture every order in FILE through the one intake path. Exit 0: all good; 1: some rejected; 2: unusable."""
    from conveyor.channels.capture.service import CaptureRequest, capture

    if fmt not in FORMATS:
        _fail(f"{file}: unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    if not file.is_file():
        _fail(f"{file}: no such file")
    try:
        with file.open("rb") as f:
            used = format_of(f.read(HEAD), fmt, file.name)
    except UnknownFormat as exc:
        _fail(f"{file}: {exc}")
    column_mapping = _mapping(mapping) if mapping else None
    container = _container(dry_run)
    request = CaptureRequest(source=file.name, format=used, actor=ACTOR, channel=channel, dry_run=dry_run)
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                        TextColumn("{task.fields[counts]}"), console=err, transient=True, disable=as_json)
    try:
        with progress, file.open("rb") as raw:
            task = progress.add_task(f"Importing {file.name}", total=file.stat().st_size, counts="")
            stream = progress.wrap_file(raw, task_id=task) if used != "xlsx" else raw

            def counted(report: CaptureReport) -> None:
                progress.update(task, counts=f"{len(report.orders)} orders, {len(report.rejected)} rejected")
                if used == "xlsx":
                    progress.update(task, completed=min(raw.tell() or 0, file.stat().st_size))

            acknowledger = _acknowledger(used, container, dry_run)
            hooks = acknowledger.adapter_hooks if acknowledger else None
            report = capture(_items(file, stream, used, column_mapping, hooks), request, container,
                             on_batch=counted, acknowledger=acknowledger)
    except DomainError as exc:
        _fail(f"{file}: {exc.message}")
    finally:
        if container is not None:
            container.db.dispose()
    _write_rejects(file, rejects, report, quiet=as_json)
    if acks is not None:
        _write_acks(acks, report)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2, default=str))
    else:
        _print(report, file)
    raise typer.Exit(1 if report.rejected else 0)


def _items(file: Path, stream: Any, fmt: str, mapping: Any, hooks: dict[str, Any] | None) -> Any:
    from conveyor.channels.capture.documents import from_path, read_stream

    if fmt == "xlsx":
        return from_path(file, fmt, mapping)
    return read_stream(stream, fmt, name=file.name, mapping=mapping, hooks=hooks)


def _acknowledger(fmt: str, container: Container | None, dry_run: bool) -> Any:
    if dry_run or container is None:
        return None
    from conveyor.channels.capture.acks import acknowledger_for

    return acknowledger_for(fmt)


def _container(dry_run: bool) -> Container | None:
    """The configured database; a dry run goes on without one when it is missing or not set up."""
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    from conveyor.bootstrap import build
    from conveyor.channels.tables import channels

    container = build()
    try:
        with container.db.read() as conn:
            conn.execute(select(channels.c.id).limit(1)).all()
    except DBAPIError as exc:
        container.db.dispose()
        if not dry_run:
            _fail(f"the database at {container.settings.database_url} is not usable ({exc.orig}); "
                  "run `conveyor db upgrade` first")
        return None
    return container


def _mapping(path: Path) -> Any:
    from conveyor.channels.capture.csv_layout import MappingError, load_mapping

    try:
        return load_mapping(path)
    except MappingError as exc:
        _fail(str(exc))


def _write_rejects(file: Path, target: Path | None, report: CaptureReport, *, quiet: bool) -> None:
    if not report.rejected and target is None:
        return
    target = target or file.with_name(file.name + ".rejects.csv")
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "where", "external_id", "reason"])
        for r in report.rejected:
            writer.writerow([file.name, r["where"], r.get("external_id", ""), r["reason"]])
    if not quiet:
        err.print(f"Rejected orders written to {target}")


def _write_acks(folder: Path, report: CaptureReport) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for ack in report.acknowledgements:
        suffix = "x12" if ack["kind"] in ("997", "855") else "edi"
        (folder / f"{ack['kind']}-{ack['control_number']}.{suffix}").write_text(ack["body"], encoding="utf-8")


def _print(report: CaptureReport, file: Path) -> None:
    out = make_console()
    out.print(f"[bold]{file.name}[/]: {report.summary()}")
    for d in report.duplicates[:20]:
        out.print(f"  duplicate {d['external_id']}: {d['reason']}")
    for r in report.rejected[:20]:
        out.print(f"  [red]rejected[/] {r['where']}: {r['reason']}")
    if len(report.rejected) > 20:
        out.print(f"  … and {len(report.rejected) - 20} more rejected (see the rejects file)")
    for i in report.ignored[:10]:
        out.print(f"  ignored {i['where']}: {i['reason']}")


def _fail(message: str) -> None:
    err.print(f"[red]error[/]: {message}")
    raise typer.Exit(2)
