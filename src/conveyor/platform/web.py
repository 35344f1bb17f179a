"""Server-rendered pages: one Jinja2 environment over every area's templates/ folder, and `render`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from conveyor.identity.permissions import Permission
from conveyor.kernel.money import format_minor

PACKAGE_ROOT = Path(__file__).resolve().parent.parent

# (label, path, permission(s) needed to see the entry: a tuple means all of them)
NAVIGATION: list[tuple[str, str, Permission | tuple[Permission, ...] | None]] = [
    ("Board", "/board", Permission.ORDER_READ),
    ("Orders", "/orders", Permission.ORDER_READ),
    ("Phone order", "/orders/phone", (Permission.ORDER_CREATE, Permission.CUSTOMER_READ)),
    ("Exceptions", "/review/queue", Permission.ORDER_REVIEW),
    ("Products", "/products", Permission.CATALOG_READ),
    ("Customers", "/customers", Permission.CUSTOMER_READ),
    ("Stock", "/stock", Permission.WAREHOUSE_READ),
    ("Warehouses", "/warehouses", Permission.WAREHOUSE_READ),
    ("Channels", "/channels", Permission.CHANNEL_READ),
    ("Lifecycle", "/lifecycle", Permission.LIFECYCLE_READ),
    ("Review rules", "/review/rules", Permission.ORDER_REVIEW),
    ("Operations", "/ops", Permission.OPS_READ),
    ("Users", "/users", Permission.USER_MANAGE),
    ("API tokens", "/tokens", Permission.TOKEN_OWN),
]


def money(minor: int | None, currency: str) -> str:
    return "" if minor is None else f"{format_minor(minor, currency)} {currency}"


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.astimezone(UTC).strftime(fmt) + " UTC"


def duration(value: timedelta | float | None) -> str:
    """'3h 20m', '2d 4h', '-1h 5m' for overdue."""
    if value is None:
        return ""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    return f"{sign}{minutes}m"


@cache
def environment() -> Environment:
    folders = sorted(str(p) for p in PACKAGE_ROOT.glob("*/templates") if p.is_dir())
    env = Environment(loader=FileSystemLoader(folders), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=money, when=when, duration=duration)
    return env


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    nav = [
        (label, path) for label, path, permission in NAVIGATION
        if principal is not None and (permission is None or all(
            principal.can(p) for p in (permission if isinstance(permission, tuple) else (permission,))))
    ]
    page = {
        "request": request,
        "principal": principal,
        "csrf_token": principal.csrf_token if principal else "",
        "nav": nav,
        "path": request.url.path,
        "is_htmx": request.headers.get("hx-request") == "true",
        **(context or {}),
    }
    html = environment().get_template(template).render(page)
    return HTMLResponse(html, status_code=status_code, headers=headers)
