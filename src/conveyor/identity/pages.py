"""Web pages for API tokens (everyone who may own one) and for managing users (admins)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from conveyor.bootstrap import Container
from conveyor.identity import service, users
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission, Role
from conveyor.identity.principal import Principal
from conveyor.identity.schemas import Token
from conveyor.kernel.errors import DomainError, FieldProblem
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)

MAX_TOKEN_DAYS = 3650


def _tokens_page(request: Request, c: Container, principal: Principal, *, status_code: int = 200,
                 **context: Any) -> Response:
    now = c.clock.now()
    with c.db.read() as conn:
        rows = service.list_tokens(conn, user_id=principal.user_id)
    return render(request, "identity/tokens.html", {
        "tokens": [Token.of(row, now=now) for row in reversed(rows)],
        "scope_choices": users.scope_choices(principal.permissions),
        "errors": [], "form": {}, "new_token": None, **context,
    }, status_code=status_code)


@router.get("/tokens")
def tokens_page(request: Request, principal: Principal = Require(Permission.TOKEN_OWN),
                c: Container = Depends(container)) -> Response:
    return _tokens_page(request, c, principal)


def _expiry_days(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TOKEN_DAYS:
        raise DomainError("invalid_expiry", f"expiry must be a whole number of days, 1 to {MAX_TOKEN_DAYS}",
                          "expires_days")
    return int(raw)


@router.post("/tokens")
def create_token(request: Request, name: str = Form(""), scopes: list[str] | None = Form(None),
                 expires_days: str = Form(""), principal: Principal = Require(Permission.TOKEN_OWN),
                 c: Container = Depends(container)) -> Response:
    now = c.clock.now()
    form = {"name": name, "scopes": scopes or [], "expires_days": expires_days}
    try:
        if not scopes:
            raise DomainError("required", "tick at least one scope", "scopes")
        days = _expiry_days(expires_days)
        with c.db.write() as conn:
            new = users.create_own_token(conn, principal, name=name, at=now, scopes=scopes,
                                         expires_at=now + timedelta(days=days) if days else None)
    except DomainError as exc:
        return _tokens_page(request, c, principal, status_code=422, errors=exc.problems, form=form)
    # Rendered, not redirected: the secret must not travel in a URL and is shown this once only.
    return _tokens_page(request, c, principal, status_code=201, new_token=new)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: int, principal: Principal = Require(Permission.TOKEN_OWN),
                 c: Container = Depends(container)) -> Response:
    with c.db.write() as conn:
        service.revoke_token(conn, token_id, at=c.clock.now(), user_id=principal.user_id)
    c.tokens.clear()
    return RedirectResponse("/tokens", status_code=303)


def _users_page(request: Request, c: Container, *, status_code: int = 200, **context: Any) -> Response:
    with c.db.read() as conn:
        rows = users.list_users(conn)
    return render(request, "identity/users.html", {
        "users": rows, "roles": list(Role), "errors": [], "form": {}, "message": None, **context,
    }, status_code=status_code)


@router.get("/users", dependencies=[Require(Permission.USER_MANAGE)])
def users_page(request: Request, created: str | None = None, c: Container = Depends(container)) -> Response:
    return _users_page(request, c, message=f"Created {created}." if created else None)


def _blank_to_none(value: str) -> str | None:
    return value.strip() or None


@router.post("/users", dependencies=[Require(Permission.USER_MANAGE)])
def create_user(request: Request, email: str = Form(""), name: str = Form(""), password: str = Form(""),
                role: str = Form(""), customer_account: str = Form(""), channel_code: str = Form(""),
                c: Container = Depends(container)) -> Response:
    form = {"email": email, "name": name, "role": role, "customer_account": customer_account,
            "channel_code": channel_code}
    try:
        with c.db.write() as conn:
            users.register_user(conn, email=email, name=name, password=password, role=role, at=c.clock.now(),
                                customer_account=_blank_to_none(customer_account),
                                channel_code=_blank_to_none(channel_code))
    except DomainError as exc:
        return _users_page(request, c, status_code=422, errors=exc.problems, form=form)
    return RedirectResponse(f"/users?created={email.strip().lower()}", status_code=303)


@router.post("/users/{user_id}/active", dependencies=[Require(Permission.USER_MANAGE)])
def set_active(request: Request, user_id: int, active: bool = Form(...),
               c: Container = Depends(container)) -> Response:
    try:
        with c.db.write() as conn:
            users.update_user(conn, user_id, at=c.clock.now(), active=active)
        c.tokens.clear()
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _users_page(request, c, status_code=exc.status,
                           errors=[FieldProblem(exc.code, exc.message, None)])
    return RedirectResponse("/users", status_code=303)
