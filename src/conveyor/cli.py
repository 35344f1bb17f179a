"""The `conveyor` command line: thin commands over the same handlers the API uses."""

from __future__ import annotations

import sys
from importlib import import_module

import typer

from conveyor.platform.console import make_console

app = typer.Typer(help="Conveyor order management.", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = make_console()
err = make_console(stderr=True)

# name -> module with a Typer `app`; each area owns its commands.
SUB_APPS = {
    "users": "conveyor.identity.cli",
    "tokens": "conveyor.identity.cli_tokens",
    "orders": "conveyor.orders.cli",
    "lifecycle": "conveyor.orders.cli_lifecycle",
    "products": "conveyor.catalog.cli",
    "customers": "conveyor.customers.cli",
    "warehouses": "conveyor.warehouses.cli",
    "channels": "conveyor.channels.cli",
    "partners": "conveyor.channels.partners.cli",
    "stock": "conveyor.inventory.cli",
    "outbox": "conveyor.operations.cli",
    "import": "conveyor.channels.capture.cli",
    "review": "conveyor.review.cli",
}
for _name, _module in SUB_APPS.items():
    try:
        app.add_typer(import_module(_module).app, name=_name)
    except ModuleNotFoundError as exc:  # pragma: no cover - only while an area is being written
        if exc.name != _module:
            raise


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from conveyor.bootstrap import build
    from conveyor.platform.migrations import current_revision, upgrade

    c = build()
    upgrade(c.db, revision)
    console.print(f"[green]Schema at revision {current_revision(c.db)}[/] ({c.db.dialect})")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and whether it is current."""
    from conveyor.bootstrap import build
    from conveyor.platform.migrations import current_revision, head_revision

    c = build()
    cur, head = current_revision(c.db), head_revision(c.db)
    console.print(f"database: {cur or 'empty'}; code: {head}; {'current' if cur == head else 'NEEDS UPGRADE'}")
    if cur != head:
        raise typer.Exit(1)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port"),
    workers: int = typer.Option(1, help="worker processes (PostgreSQL; SQLite uses one)"),
    reload: bool = typer.Option(False, help="reload on code changes (development)"),
) -> None:
    """Serve the web UI and the API. On SQLite the schema is upgraded on start."""
    import uvicorn

    from conveyor.settings import Settings

    settings = Settings()
    if settings.is_sqlite and workers > 1:
        err.print("[yellow]SQLite serves from one process; ignoring --workers[/]")
        workers = 1
    console.print(f"Conveyor at [bold]http://{host}:{port}[/] (database: {settings.database_url})")
    uvicorn.run("conveyor.app:create_app", factory=True, host=host, port=port, workers=workers,
                reload=reload, log_level="warning", access_log=False)


@app.command()
def worker(interval: float = typer.Option(0.5, help="seconds between polls when idle")) -> None:
    """Deliver outbox events to their consumers and expire holds (tier 1: run beside `serve --workers N`)."""
    import signal

    from conveyor.bootstrap import build
    from conveyor.inventory.sweeper import HoldSweeper

    c = build()
    relay = c.make_relay()
    sweeper = HoldSweeper(c, c.settings.hold_sweep_interval_seconds)
    relay.start(interval)
    sweeper.start()
    console.print("Outbox worker and hold sweeper running; Ctrl-C stops them.")
    signal.sigwait({signal.SIGINT, signal.SIGTERM})
    sweeper.stop()
    relay.stop()


@app.command()
def demo(
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="serve after loading"),
    reset: bool = typer.Option(False, help="delete the SQLite database first"),
    orders: int = typer.Option(1000, help="how many demo orders"),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
) -> None:
    """Create the database, load realistic demo data, print the demo logins, and serve."""
    from conveyor.bootstrap import build
    from conveyor.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
    from conveyor.platform.migrations import upgrade

    c = build()
    if reset and (path := c.settings.sqlite_path()):
        c.db.dispose()
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        c = build()
    upgrade(c.db)
    summary = load_demo(c, orders=orders, console=console)
    console.print(summary)
    console.print("\n[bold]Demo logins[/] (password for all: [bold]" + DEMO_PASSWORD + "[/])")
    for email, role in DEMO_USERS:
        console.print(f"  {email:<32} {role}")
    if serve_after:
        serve(host=host, port=port, workers=1, reload=False)


def main() -> None:  # pragma: no cover
    sys.exit(app())
