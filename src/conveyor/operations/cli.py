"""`conveyor outbox ...`: look at the outbox, deliver what is due, replay dead letters."""

from __future__ import annotations

import typer
from rich.table import Table

from conveyor.platform.console import make_console
from conveyor.platform.outbox import dead_letters, outbox_status, replay_dead

app = typer.Typer(help="The outbox: events waiting for delivery, and dead letters.", no_args_is_help=True)
console = make_console()


@app.command("status")
def status(limit: int = typer.Option(20, help="how many of the latest dead letters to list")) -> None:
    """Show pending and dead-lettered events and how long the oldest has waited."""
    from conveyor.bootstrap import build

    c = build()
    with c.db.read() as conn:
        current = outbox_status(conn)
        dead = dead_letters(conn, limit=limit)
    console.print(f"pending: {current.pending}  dead: {current.dead}  "
                  f"lag: {current.lag_seconds(c.clock.now()):.1f} s")
    if dead:
        table = Table("id", "event", "key", "attempts", "created", "last error", title="Dead letters")
        for column in table.columns:
            column.overflow = "fold"  # wrap rather than cut: people copy ids and event names from here
        for row in dead:
            table.add_row(str(row.id), row.event, row.key, str(row.attempts),
                          row.created_at.strftime("%Y-%m-%d %H:%M:%S"), row.last_error or "")
        console.print(table)


@app.command("drain")
def drain() -> None:
    """Deliver every event that is due now, then stop (retries wait for their backoff)."""
    from conveyor.bootstrap import build

    c = build()
    stats = c.make_relay().drain()
    console.print(f"delivered: {stats.delivered}  retried: {stats.retried}  dead: {stats.dead}")


@app.command("replay")
def replay(
    ids: list[int] = typer.Option(None, "--id", help="a dead letter to replay (repeat); all if absent"),
) -> None:
    """Put dead-lettered events back in the queue."""
    from conveyor.bootstrap import build

    c = build()
    with c.db.write() as conn:
        count = replay_dead(conn, at=c.clock.now(), ids=ids or None)
    console.print(f"replayed: {count}")
