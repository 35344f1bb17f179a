"""Identity DTOs: the caller, API tokens and users as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from conveyor.identity.permissions import Role


class Me(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    permissions: list[str] = Field(description="what this caller may do now (a token's scopes limit it)")
    customer_id: int | None = None
    channel_id: int | None = None
    via: str = Field(description="session or token")


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["warehouse scanner"])
    scopes: list[str] | None = Field(
        None, description="permissions the token may use, e.g. ['order:read']; all of yours when absent",
        examples=[["order:read", "order:create"]])
    expires_at: AwareDatetime | None = Field(None,
                                             description="when the token stops working; never if absent")


class Token(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the first characters after cvt_, to tell tokens apart")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(None, description="when a server last looked the token up (exact to "
                                                            "within CONVEYOR_TOKEN_CACHE_SECONDS)")
    active: bool

    @classmethod
    def of(cls, row: Any, *, now: datetime) -> Token:
        expired = row.expires_at is not None and row.expires_at <= now
        return cls(id=row.id, name=row.name, prefix=row.prefix, scopes=row.scopes.split(),
                   created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
                   last_used_at=getattr(row, "last_used_at", None), active=row.revoked_at is None and not expired)


class NewToken(Token):
    token: str = Field(description="the secret, shown only in this response; "
                                   "send it as 'Authorization: Bearer <token>'")


class UserCreate(BaseModel):
    email: str = Field(max_length=254, examples=["anna@example.com"])
    name: str = Field("", max_length=200)
    password: str = Field(max_length=200, description="at least 8 characters")
    role: Role
    customer_account: str | None = Field(None, description="customer role: the account whose orders they see")
    channel_code: str | None = Field(None, description="partner role: the channel whose orders they see")


class UserUpdate(BaseModel):
    name: str | None = Field(None, max_length=200)
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(None, max_length=200)
    customer_account: str | None = None
    channel_code: str | None = None


class User(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    active: bool
    customer_account: str | None = None
    channel_code: str | None = None
    created_at: datetime
    last_login_at: datetime | None = None

    @classmethod
    def of(cls, row: Any) -> User:
        return cls(id=row.id, email=row.email, name=row.name, role=Role(row.role), active=row.active,
                   customer_account=row.customer_account, channel_code=row.channel_code,
                   created_at=row.created_at, last_login_at=row.last_login_at)
