"""`conveyor users ...`: create and list users, and show what each role may do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.table import Column, Table

from conveyor.identity import users
from conveyor.identity.permissions import ROLE_PERMISSIONS, Permission, Role
from conveyor.kernel.errors import DomainError
from conveyor.platform.console import make_console

app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
console = make_console()


def _columns(*names: str) -> list[Column]:
    """Columns that wrap long values instead of cutting them (output is often piped, 80 wide)."""
    return [Column(name, overflow="fold") for name in names]


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turns a refused command into `error: <code>: <message>` on stderr and exit status 2."""
    try:
        yield
    except DomainError as exc:
        for problem in exc.problems:
            where = f" ({problem.field})" if problem.field else ""
            typer.echo(f"error: {problem.code}: {problem.message}{where}", err=True)
        raise typer.Exit(2) from None


@app.command("create")
def create(
    email: str = typer.Argument(..., help="the address they sign in with"),
    role: Role = typer.Option(..., help="what they may do (see `conveyor users roles`)"),
    name: str = typer.Option("", help="display name; the email if absent"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="at least 8 characters; prompted for if absent"),
    customer: str | None = typer.Option(None, "--customer", help="customer role: their account, e.g. C-001"),
    channel: str | None = typer.Option(None, "--channel", help="partner role: their channel code"),
) -> None:
    """Create a user who can sign in to the web UI and own API tokens."""
    from conveyor.bootstrap import build

    c = build()
    with domain_errors(), c.db.write() as conn:
        user_id = users.register_user(conn, email=email, name=name, password=password, role=role,
                                      at=c.clock.now(), customer_account=customer, channel_code=channel)
    console.print(f"created user {user_id}: {email.strip().lower()} ({role.value})")


@app.command("list")
def list_users() -> None:
    """List every user with role, links and status."""
    from conveyor.bootstrap import build

    c = build()
    with c.db.read() as conn:
        rows = users.list_users(conn)
    table = Table(*_columns("id", "email", "name", "role", "limited to", "active", "last sign-in"))
    for row in rows:
        limited = f"customer {row.customer_account}" if row.customer_account else (
            f"channel {row.channel_code}" if row.channel_code else "")
        table.add_row(str(row.id), row.email, row.name, row.role, limited, "yes" if row.active else "no",
                      row.last_login_at.strftime("%Y-%m-%d %H:%M") if row.last_login_at else "")
    console.print(table)


def permission_matrix_markdown() -> str:
    """The role × permission table of docs/users-and-access.md, read from ROLE_PERMISSIONS."""
    roles = list(Role)
    lines = ["| permission | " + " | ".join(r.value for r in roles) + " |",
             "|---|" + "---|" * len(roles)]
    for permission in Permission:
        marks = " | ".join("✓" if permission in ROLE_PERMISSIONS[r] else "" for r in roles)
        lines.append(f"| `{permission.value}` | {marks} |")
    return "\n".join(lines)


@app.command("roles")
def roles(markdown: bool = typer.Option(False, help="print a Markdown table (as in the docs)")) -> None:
    """Show which permissions each role has."""
    if markdown:
        print(permission_matrix_markdown())
        return
    for role in Role:
        granted = [p.value for p in Permission if p in ROLE_PERMISSIONS[role]]
        console.print(f"[bold]{role.value}[/]: {' '.join(granted)}", highlight=False)
