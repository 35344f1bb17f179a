"""`conveyor tokens ...`: API tokens for users (for scripts, integrations and the first admin's setup)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from conveyor.identity import service
from conveyor.identity.cli import _columns, domain_errors
from conveyor.platform.console import make_console

app = typer.Typer(help="API tokens.", no_args_is_help=True)
console = make_console()


@app.command("create")
def create(
    user: str = typer.Option(..., "--user", help="email of the user the token acts as"),
    name: str = typer.Option("cli", help="a name to tell the token apart"),
    scopes: list[str] = typer.Option(None, "--scope", help="a permission the token may use (repeat); "
                                                          "all of the user's when absent"),
    expires_days: int | None = typer.Option(None, "--expires-days", min=1,
                                            help="days until it stops working; never if absent"),
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from conveyor.bootstrap import build

    c = build()
    now = c.clock.now()
    with domain_errors(), c.db.write() as conn:
        user_id = service.find_user_id(conn, user)
        new = service.create_token(conn, user_id=user_id, name=name, at=now, scopes=scopes or None,
                                   expires_at=now + timedelta(days=expires_days) if expires_days else None)
    typer.echo(new.token)
    typer.echo(f"token {new.id} for {user} with scopes: {' '.join(new.scopes)}", err=True)
    typer.echo("store it now: it is not shown again", err=True)


@app.command("list")
def list_tokens(user: str | None = typer.Option(None, "--user", help="only this user's tokens")) -> None:
    """List tokens (never their secrets)."""
    from conveyor.bootstrap import build

    c = build()
    now = datetime.now(UTC)
    with domain_errors(), c.db.read() as conn:
        user_id = service.find_user_id(conn, user) if user else None
        rows = service.list_tokens(conn, user_id=user_id)
    table = Table(*_columns("id", "user", "name", "prefix", "scopes", "created", "last used", "expires", "status"))
    for row in rows:
        state = ("revoked" if row.revoked_at else
                 "expired" if row.expires_at and row.expires_at <= now else "active")
        table.add_row(str(row.id), row.email, row.name, f"cvt_{row.prefix}…", row.scopes,
                      row.created_at.strftime("%Y-%m-%d"),
                      row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "never",
                      row.expires_at.strftime("%Y-%m-%d") if row.expires_at else "never", state)
    console.print(table)


@app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="the token's id (see `conveyor tokens list`)")) -> None:
    """Revoke a token: servers stop accepting it within CONVEYOR_TOKEN_CACHE_SECONDS (5)."""
    from conveyor.bootstrap import build

    c = build()
    with domain_errors(), c.db.write() as conn:
        service.revoke_token(conn, token_id, at=c.clock.now())
    console.print(f"revoked token {token_id}")

