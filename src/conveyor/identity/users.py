"""Managing users: who they are linked to (a customer account, a partner channel), role changes,
deactivation and password resets. Sign-in, sessions and tokens live in `service`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from conveyor.channels.tables import channels
from conveyor.customers.tables import customers
from conveyor.identity import service
from conveyor.identity.permissions import Permission, Role
from conveyor.identity.principal import Principal
from conveyor.identity.tables import sessions, users
from conveyor.kernel.errors import Conflict, NotFound, ProblemCollector

MIN_PASSWORD = 8

# A role whose data is scoped to one customer account or one channel must name it.
_LINKED_ROLES = {Role.CUSTOMER: "customer_account", Role.PARTNER: "channel_code"}


@dataclass(frozen=True)
class Links:
    customer_id: int | None
    channel_id: int | None


def _lookup(conn: Connection, column: Any, key_column: Any, value: str) -> int | None:
    return conn.execute(select(column).where(key_column == value.strip())).scalar()


def resolve_links(conn: Connection, problems: ProblemCollector, *, role: Role,
                  customer_account: str | None, channel_code: str | None,
                  current: Links = Links(None, None)) -> Links:
    """The customer and channel a user of `role` is limited to, from an account number and a channel code.

    Staff roles are linked to neither; a customer must be linked to an account, a partner to a channel.
    `current` is kept when nothing new is given and the role still needs it."""
    customer_id = channel_id = None
    if customer_account is not None:
        if role != Role.CUSTOMER:
            problems.add("not_applicable", "only users with the customer role belong to a customer account",
                         "customer_account")
        elif (customer_id := _lookup(conn, customers.c.id, customers.c.account, customer_account)) is None:
            problems.add("unknown_customer", f"no customer account {customer_account}", "customer_account")
    elif role == Role.CUSTOMER:
        customer_id = current.customer_id
        if customer_id is None:
            problems.add("required", "a customer user needs the customer account they order for",
                         "customer_account")
    if channel_code is not None:
        if role != Role.PARTNER:
            problems.add("not_applicable", "only users with the partner role belong to a channel",
                         "channel_code")
        elif (channel_id := _lookup(conn, channels.c.id, channels.c.code, channel_code)) is None:
            problems.add("unknown_channel", f"no channel with code {channel_code}", "channel_code")
    elif role == Role.PARTNER:
        channel_id = current.channel_id
        if channel_id is None:
            problems.add("required", "a partner user needs the channel whose orders they see", "channel_code")
    return Links(customer_id, channel_id)


def register_user(conn: Connection, *, email: str, name: str, password: str, role: Role | str, at: datetime,
                  customer_account: str | None = None, channel_code: str | None = None) -> int:
    problems = ProblemCollector()
    try:
        role = Role(role)
    except ValueError:
        problems.add("unknown_role", f"role must be one of {', '.join(Role)}", "role")
        problems.raise_if_any()
    links = resolve_links(conn, problems, role=Role(role), customer_account=customer_account,
                          channel_code=channel_code)
    problems.raise_if_any()
    return service.create_user(conn, email=email, name=name, password=password, role=role, at=at,
                               customer_id=links.customer_id, channel_id=links.channel_id)


def _user_query() -> Any:
    return (
        select(users.c.id, users.c.email, users.c.name, users.c.role, users.c.active, users.c.customer_id,
               users.c.channel_id, users.c.created_at, users.c.last_login_at,
               customers.c.account.label("customer_account"), channels.c.code.label("channel_code"))
        .select_from(users)
        .outerjoin(customers, customers.c.id == users.c.customer_id)
        .outerjoin(channels, channels.c.id == users.c.channel_id)
    )


def get_user(conn: Connection, user_id: int) -> Any:
    row = conn.execute(_user_query().where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound("user_not_found", f"no user {user_id}", "user_id")
    return row


def list_users(conn: Connection) -> list[Any]:
    return list(conn.execute(_user_query().order_by(users.c.email)).all())


def _active_admins_besides(conn: Connection, user_id: int) -> int:
    return int(conn.execute(select(func.count()).select_from(users).where(
        users.c.role == Role.ADMIN.value, users.c.active.is_(True), users.c.id != user_id)).scalar_one())


def update_user(conn: Connection, user_id: int, *, at: datetime, name: str | None = None,
                role: Role | str | None = None, active: bool | None = None, password: str | None = None,
                customer_account: str | None = None, channel_code: str | None = None) -> Any:
    """Changes what is given. A new password or a deactivation ends the user's browser sessions
    (deactivated users' API tokens stop working too, as tokens are checked against the user)."""
    row = get_user(conn, user_id)
    problems = ProblemCollector()
    values: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            problems.add("required", "the name cannot be empty", "name")
        values["name"] = name.strip()
    new_role = Role(row.role)
    if role is not None:
        try:
            new_role = Role(role)
        except ValueError:
            problems.add("unknown_role", f"role must be one of {', '.join(Role)}", "role")
    if password is not None:
        if len(password) < MIN_PASSWORD:
            problems.add("weak_password", f"password must have at least {MIN_PASSWORD} characters",
                         "password")
        else:
            values["password_hash"] = service.hash_password(password)
    if active is not None:
        values["active"] = active
    links = resolve_links(conn, problems, role=new_role, customer_account=customer_account,
                          channel_code=channel_code, current=Links(row.customer_id, row.channel_id))
    problems.raise_if_any()
    values.update(role=new_role.value, customer_id=links.customer_id, channel_id=links.channel_id)
    stays_admin = new_role == Role.ADMIN and (active if active is not None else row.active)
    was_admin = row.role == Role.ADMIN.value and row.active
    if was_admin and not stays_admin and _active_admins_besides(conn, user_id) == 0:
        raise Conflict("last_admin", "this is the last active admin; make someone else admin first", "role")
    conn.execute(update(users).where(users.c.id == user_id).values(**values))
    if password is not None or active is False:
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
    return get_user(conn, user_id)


def scope_choices(permissions: frozenset[Permission]) -> list[str]:
    """Scopes one may put on a token: the permissions one has, in the order they are declared."""
    return [p.value for p in Permission if p in permissions]


def create_own_token(conn: Connection, principal: Principal, *, name: str, at: datetime,
                     scopes: list[str] | None = None, expires_at: datetime | None = None) -> service.NewToken:
    """A token for the caller. It can never do more than the caller can now: a token made with a scoped
    token is limited to that token's scopes, not to the role's."""
    problems = ProblemCollector()
    if not name.strip():
        problems.add("required", "give the token a name, so you can tell it apart later", "name")
    if expires_at is not None and expires_at <= at:
        problems.add("in_the_past", "expires_at must be in the future", "expires_at")
    if scopes:
        known = {p.value for p in Permission}
        for index, scope in enumerate(scopes):
            if scope not in known:
                problems.add("unknown_scope", f"unknown scope {scope!r}", f"scopes.{index}")
            elif Permission(scope) not in principal.permissions:
                problems.add("scope_not_granted", f"you do not have {scope} yourself", f"scopes.{index}")
    problems.raise_if_any()
    chosen = list(scopes) if scopes else scope_choices(principal.permissions)
    return service.create_token(conn, user_id=principal.user_id, name=name.strip(), at=at, scopes=chosen,
                                expires_at=expires_at)
