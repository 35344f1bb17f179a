"""FastAPI dependencies: who is calling, and may they? Routes declare `Require(Permission.X)`.

Authentication: `Authorization: Bearer <token>` (API tokens) or the session cookie (browser). Session
callers must send the CSRF token on every unsafe request: the `X-CSRF-Token` header (htmx sends it from
the page) or a `csrf_token` form field.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

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


async def optional_principal(request: Request) -> Principal | None:
    """The caller, or None; cached on the request so several dependencies share one lookup. A bearer token
    seen recently is answered from the process's token cache (identity/cache.py) without a database trip;
    other lookups run in the threadpool."""
    if hasattr(request.state, "principal"):
        return request.state.principal  # type: ignore[no-any-return]
    c = _container(request)
    principal = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        principal = c.tokens.get(token)
        if principal is None:
            principal = await _lookup_once(c, token)
        if principal is None:
            request.state.principal = None
            raise NotAuthenticated()
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = await run_in_threadpool(_session_lookup, c, cookie)
    request.state.principal = principal
    return principal


async def _lookup_once(c: Container, token: str) -> Principal | None:
    """One database lookup per token at a time: when a busy client's cache entry expires, its many requests in
    flight wait for the same lookup instead of each taking a connection."""
    loop = asyncio.get_running_loop()
    key = (id(loop), c.tokens.key(token))
    task = c.tokens.inflight.get(key)
    if task is None:
        task = loop.create_task(run_in_threadpool(_token_lookup, c, token))
        c.tokens.inflight[key] = task
        task.add_done_callback(lambda _: c.tokens.inflight.pop(key, None))
    return await asyncio.shield(task)


def _token_lookup(c: Container, token: str) -> Principal | None:
    with c.db.read() as conn:
        found = service.token_lookup(conn, token, at=c.clock.now())
    if found is None:
        return None
    principal, expires_at = found
    with c.db.write() as conn:
        service.note_token_use(conn, token, at=c.clock.now())
    c.tokens.put(token, principal, expires_at)
    return principal


def _session_lookup(c: Container, cookie: str) -> Principal | None:
    with c.db.read() as conn:
        return service.session_principal(conn, cookie, at=c.clock.now())


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
