"""FastAPI dependencies: who is calling, and may they? Routes declare `Require(Permission.X)`.

Authentication: `Authorization: Bearer <token>` (API tokens) or the session cookie (browser). Session
callers must send the CSRF token on every unsafe request: the `X-CSRF-Token` header (htmx sends it from
the page) or a `csrf_token` form field.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Depends, Request

from conveyor.bootstrap import Container
from conveyor.identity import service
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal

SESSION_COOKIE = "conveyor_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotAuthenticated(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, permission: Permission | None, message: str) -> None:
        super().__init__(message)
        self.permission = permission
        self.message = message


class CsrfFailed(Exception):
    pass


# Dependencies that do no I/O are `async def`: FastAPI runs sync ones in its threadpool, and each such hop
# cost about 2 ms of wall time under load (the GIL hand-off), more than the work of a whole request.
async def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def _container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def optional_principal(request: Request) -> Principal | None:
    """The caller, or None; cached on the request so several dependencies share one lookup."""
    if hasattr(request.state, "principal"):
        return request.state.principal  # type: ignore[no-any-return]
    c = _container(request)
    principal = None
    auth = request.headers.get("authorization", "")
    now = c.clock.now()
    if auth.lower().startswith("bearer "):
        with c.db.read() as conn:
            principal = service.token_principal(conn, auth[7:].strip(), at=now)
        if principal is None:
            request.state.principal = None
            raise NotAuthenticated()
    elif cookie := request.cookies.get(SESSION_COOKIE):
        with c.db.read() as conn:
            principal = service.session_principal(conn, cookie, at=now)
    request.state.principal = principal
    return principal


async def _csrf_token_sent(request: Request) -> str | None:
    if header := request.headers.get(CSRF_HEADER):
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def csrf_checked(request: Request,
                       principal: Principal | None = Depends(optional_principal)) -> Principal | None:
    if principal and principal.via == "session" and request.method not in SAFE_METHODS:
        sent = await _csrf_token_sent(request)
        if not sent or not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
            raise CsrfFailed()
    return principal


class Requirement:
    """A route's declared permission. The route-walk test finds these on every route."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, principal: Principal | None = Depends(csrf_checked)) -> Principal:
        if principal is None:
            raise NotAuthenticated()
        if not principal.can(self.permission):
            raise Forbidden(self.permission, f"this needs the permission {self.permission.value}, "
                                             f"which the role {principal.role.value} does not have here")
        return principal

    def __repr__(self) -> str:
        return f"Require({self.permission.value})"


def Require(permission: Permission) -> Any:  # noqa: N802 - reads as a declaration on the route
    return Depends(Requirement(permission))


class Authenticated:
    """Any signed-in user (for pages every role has, such as the home page)."""

    async def __call__(self, principal: Principal | None = Depends(csrf_checked)) -> Principal:
        if principal is None:
            raise NotAuthenticated()
        return principal


SignedIn: Any = Depends(Authenticated())


class PublicRoute:
    """Marks a route as deliberately open to anyone (sign-in page, health check)."""

    async def __call__(self) -> None:
        return None


Public: Any = Depends(PublicRoute())
