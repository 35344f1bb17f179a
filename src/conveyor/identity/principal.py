from __future__ import annotations

from dataclasses import dataclass

from conveyor.identity.permissions import STAFF_ROLES, Permission, Role


@dataclass(frozen=True)
class Principal:
    """Who is calling, with what permissions, and which data they are limited to."""

    user_id: int
    email: str
    name: str
    role: Role
    permissions: frozenset[Permission]
    customer_id: int | None = None
    channel_id: int | None = None
    via: str = "session"  # "session" or "token"
    csrf_token: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def actor(self) -> str:
        return f"user:{self.email}"
