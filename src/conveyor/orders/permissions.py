"""Which permission each lifecycle action needs (the routes declare these)."""

from __future__ import annotations

from conveyor.identity.permissions import Permission
from conveyor.orders.lifecycle import Action

ACTION_PERMISSION: dict[Action, Permission] = {
    Action.REVIEW: Permission.ORDER_REVIEW,
    Action.APPROVE: Permission.ORDER_REVIEW,
    Action.HOLD: Permission.ORDER_REVIEW,
    Action.RELEASE: Permission.ORDER_REVIEW,
    Action.RESERVE: Permission.ORDER_FULFIL,
    Action.PICK: Permission.ORDER_FULFIL,
    Action.PACK: Permission.ORDER_FULFIL,
    Action.SHIP: Permission.ORDER_FULFIL,
    Action.DELIVER: Permission.ORDER_FULFIL,
    Action.CLOSE: Permission.ORDER_CLOSE,
    Action.CANCEL: Permission.ORDER_CANCEL,
}
