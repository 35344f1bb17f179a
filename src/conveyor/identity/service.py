"""Use cases of identity: users, password sign-in, server-side sessions and hashed API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from conveyor.identity.permissions import Permission, Role, permissions_for
from conveyor.identity.principal import Principal
from conveyor.identity.tables import api_tokens, sessions, users
from conveyor.kernel.errors import Conflict, NotFound, ProblemCollector, ValidationFailed

_hasher = PasswordHasher()
# Verifying against this keeps sign-in time the same whether or not the email exists.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

TOKEN_PREFIX = "cvt_"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(conn: Connection, *, email: str, name: str, password: str, role: Role | str, at: datetime,
                customer_id: int | None = None, channel_id: int | None = None) -> int:
    problems = ProblemCollector()
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        problems.add("invalid_email", "email must be an address like name@example.com", "email")
    if len(password) < 8:
        problems.add("weak_password", "password must have at least 8 characters", "password")
    try:
        role = Role(role)
    except ValueError:
        problems.add("unknown_role", f"role must be one of {', '.join(Role)}", "role")
    problems.raise_if_any()
    if conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise Conflict("email_taken", f"a user with email {email} exists", "email")
    return int(conn.execute(insert(users).values(
        email=email, name=name.strip() or email, password_hash=hash_password(password), role=Role(role),
        customer_id=customer_id, channel_id=channel_id, active=True, created_at=at,
    ).returning(users.c.id)).scalar_one())


def _principal(row: Any, *, via: str, scopes: frozenset[str] | None = None,
               csrf_token: str | None = None) -> Principal:
    role = Role(row.role)
    return Principal(
        user_id=row.id, email=row.email, name=row.name, role=role,
        permissions=permissions_for(role, scopes), customer_id=row.customer_id,
        channel_id=row.channel_id, via=via, csrf_token=csrf_token,
    )


def check_password(conn: Connection, email: str, password: str) -> int | None:
    """The user id if the email and password match an active user, else None."""
    row = conn.execute(
        select(users.c.id, users.c.password_hash).where(users.c.email == email.strip().lower(),
                                                         users.c.active.is_(True))
    ).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return row.id if row else None


@dataclass(frozen=True)
class NewSession:
    cookie_value: str
    csrf_token: str
    expires_at: datetime


def start_session(conn: Connection, user_id: int, *, at: datetime, hours: int) -> NewSession:
    value = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = at + timedelta(hours=hours)
    conn.execute(insert(sessions).values(id_hash=_sha256(value), user_id=user_id, csrf_token=csrf,
                                         created_at=at, expires_at=expires))
    conn.execute(update(users).where(users.c.id == user_id).values(last_login_at=at))
    return NewSession(value, csrf, expires)


def session_principal(conn: Connection, cookie_value: str, *, at: datetime) -> Principal | None:
    row = conn.execute(
        select(users, sessions.c.csrf_token)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.id_hash == _sha256(cookie_value), sessions.c.expires_at > at,
               users.c.active.is_(True))
    ).first()
    return _principal(row, via="session", csrf_token=row.csrf_token) if row else None


def end_session(conn: Connection, cookie_value: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.id_hash == _sha256(cookie_value)))


@dataclass(frozen=True)
class NewToken:
    id: int
    token: str  # shown once; only its hash is stored
    prefix: str
    scopes: tuple[str, ...]


def create_token(conn: Connection, *, user_id: int, name: str, at: datetime,
                 scopes: list[str] | None = None, expires_at: datetime | None = None) -> NewToken:
    row = conn.execute(select(users.c.role).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound("user_not_found", f"no user {user_id}", "user_id")
    granted = permissions_for(Role(row.role))
    if scopes:
        unknown = [s for s in scopes if s not in {p.value for p in Permission}]
        if unknown:
            raise ValidationFailed("unknown_scope", f"unknown scopes: {', '.join(unknown)}", "scopes")
        beyond = [s for s in scopes if Permission(s) not in granted]
        if beyond:
            raise ValidationFailed("scope_not_granted",
                                   f"the user's role does not grant {', '.join(beyond)}", "scopes")
        chosen = tuple(sorted(set(scopes)))
    else:
        chosen = tuple(sorted(p.value for p in granted))
    secret = secrets.token_urlsafe(32)
    prefix = secret[:8]
    token = f"{TOKEN_PREFIX}{secret}"
    token_id = conn.execute(insert(api_tokens).values(
        user_id=user_id, name=name, prefix=prefix, token_hash=_sha256(token), scopes=" ".join(chosen),
        created_at=at, expires_at=expires_at,
    ).returning(api_tokens.c.id)).scalar_one()
    return NewToken(int(token_id), token, prefix, chosen)


def note_token_use(conn: Connection, token: str, *, at: datetime) -> None:
    """Records when a token was last used. Called when a process looks the token up, so with the token cache
    (identity/cache.py) at most once per token, process and `token_cache_seconds`: "last used" is exact to
    within those seconds, and a busy integration does not write on every request."""
    conn.execute(update(api_tokens).where(api_tokens.c.token_hash == _sha256(token))
                 .where((api_tokens.c.last_used_at.is_(None)) | (api_tokens.c.last_used_at < at))
                 .values(last_used_at=at))


def token_lookup(conn: Connection, token: str, *, at: datetime) -> tuple[Principal, datetime | None] | None:
    """The token's principal and the token's expiry (None: never), if it is valid now."""
    row = conn.execute(
        select(users, api_tokens.c.scopes, api_tokens.c.id.label("token_id"), api_tokens.c.expires_at)
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_hash == _sha256(token), api_tokens.c.revoked_at.is_(None),
               users.c.active.is_(True))
        .where((api_tokens.c.expires_at.is_(None)) | (api_tokens.c.expires_at > at))
    ).first()
    if row is None:
        return None
    return _principal(row, via="token", scopes=frozenset(row.scopes.split())), row.expires_at


def list_tokens(conn: Connection, *, user_id: int | None = None) -> list[Any]:
    query = select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.prefix, api_tokens.c.scopes,
                   api_tokens.c.created_at, api_tokens.c.expires_at, api_tokens.c.revoked_at,
                   api_tokens.c.last_used_at, users.c.email).join(users, users.c.id == api_tokens.c.user_id)
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    return list(conn.execute(query.order_by(api_tokens.c.id)).all())


def revoke_token(conn: Connection, token_id: int, *, at: datetime, user_id: int | None = None) -> None:
    stmt = update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
    if user_id is not None:
        stmt = stmt.where(api_tokens.c.user_id == user_id)
    if conn.execute(stmt.values(revoked_at=at)).rowcount == 0:
        raise NotFound("token_not_found", f"no active token {token_id}", "token_id")


def find_user_id(conn: Connection, email: str) -> int:
    row = conn.execute(select(users.c.id).where(users.c.email == email.strip().lower())).first()
    if row is None:
        raise NotFound("user_not_found", f"no user with email {email}", "email")
    return int(row.id)


def list_users(conn: Connection) -> list[Any]:
    return list(conn.execute(select(users.c.id, users.c.email, users.c.name, users.c.role, users.c.active,
                                    users.c.last_login_at).order_by(users.c.id)).all())
