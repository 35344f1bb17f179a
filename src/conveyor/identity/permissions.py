"""Roles and permissions, named in code. Routes declare the permission they need; roles grant sets of them.

An API token carries scopes: its effective permissions are its user's role permissions limited to its
scopes. Data scopes (a customer sees only their own orders) are applied by the queries from the principal.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CUSTOMER_SERVICE = "customer_service"
    FINANCE = "finance"
    WAREHOUSE = "warehouse"
    CUSTOMER = "customer"
    PARTNER = "partner"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Permission(StrEnum):
    ORDER_READ = "order:read"
    ORDER_CREATE = "order:create"
    ORDER_REVIEW = "order:review"          # review, approve, hold, release
    ORDER_FULFIL = "order:fulfil"          # reserve, pick, pack, ship, deliver
    ORDER_CLOSE = "order:close"
    ORDER_CANCEL = "order:cancel"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    CUSTOMER_READ = "customer:read"
    CUSTOMER_WRITE = "customer:write"
    WAREHOUSE_READ = "warehouse:read"
    WAREHOUSE_WRITE = "warehouse:write"    # edit warehouses themselves
    STOCK_WRITE = "stock:write"            # receive, adjust, count, transfer stock; safety stock
    CHANNEL_READ = "channel:read"
    CHANNEL_WRITE = "channel:write"
    REVIEW_CONFIGURE = "review:configure"  # write and publish review rules
    REVIEW_OVERRIDE = "review:override"    # approve an order a review rule held (with a comment; audited)
    LIFECYCLE_READ = "lifecycle:read"
    LIFECYCLE_CONFIGURE = "lifecycle:configure"
    USER_MANAGE = "user:manage"
    TOKEN_OWN = "token:own"                # create and revoke one's own API tokens
    OPS_READ = "ops:read"                  # metrics, outbox status
    OPS_MANAGE = "ops:manage"              # replay dead letters


_STAFF_READ = {
    Permission.ORDER_READ, Permission.CATALOG_READ, Permission.CUSTOMER_READ, Permission.WAREHOUSE_READ,
    Permission.CHANNEL_READ, Permission.LIFECYCLE_READ, Permission.TOKEN_OWN,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset(_STAFF_READ | {
        Permission.ORDER_CREATE, Permission.ORDER_REVIEW, Permission.ORDER_FULFIL, Permission.ORDER_CLOSE,
        Permission.ORDER_CANCEL, Permission.CATALOG_WRITE, Permission.CUSTOMER_WRITE,
        Permission.WAREHOUSE_WRITE, Permission.STOCK_WRITE, Permission.CHANNEL_WRITE, Permission.LIFECYCLE_CONFIGURE,
        Permission.OPS_READ, Permission.REVIEW_CONFIGURE, Permission.REVIEW_OVERRIDE,
    }),
    Role.CUSTOMER_SERVICE: frozenset(_STAFF_READ | {
        Permission.ORDER_CREATE, Permission.ORDER_REVIEW, Permission.ORDER_CANCEL, Permission.CUSTOMER_WRITE,
    }),
    # Finance works credit holds: it may review and override them.
    Role.FINANCE: frozenset(_STAFF_READ | {Permission.ORDER_CLOSE, Permission.CUSTOMER_WRITE, Permission.ORDER_REVIEW,
                                           Permission.REVIEW_OVERRIDE}),
    Role.WAREHOUSE: frozenset({
        Permission.ORDER_READ, Permission.ORDER_FULFIL, Permission.CATALOG_READ, Permission.WAREHOUSE_READ,
        Permission.STOCK_WRITE,
        Permission.LIFECYCLE_READ, Permission.TOKEN_OWN,
    }),
    # Customers and partners see only their own orders (a data scope applied by the order queries).
    Role.CUSTOMER: frozenset({Permission.ORDER_READ, Permission.ORDER_CREATE, Permission.CATALOG_READ}),
    Role.PARTNER: frozenset({
        Permission.ORDER_READ, Permission.ORDER_CREATE, Permission.CATALOG_READ, Permission.TOKEN_OWN,
    }),
}

STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.CUSTOMER_SERVICE, Role.FINANCE, Role.WAREHOUSE})


def permissions_for(role: Role, scopes: frozenset[str] | None = None) -> frozenset[Permission]:
    granted = ROLE_PERMISSIONS[role]
    if scopes is None:
        return granted
    return frozenset(p for p in granted if p.value in scopes)
