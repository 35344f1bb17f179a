"""Mapping an order line to a catalog product after capture: the line a channel named by an item we did not
know (an unknown buyer part number, an unknown unit) gets its product, is queued for stock like a backorder,
and, when the order came from a trading partner, the partner's mapping is remembered for next time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from conveyor.catalog.tables import products
from conveyor.channels.tables import partner_items, trading_partners
from conveyor.inventory.tables import backorders
from conveyor.kernel.errors import Conflict, NotFound, ValidationFailed
from conveyor.kernel.messages import Command, Event
from conveyor.orders.lifecycle import TERMINAL, Stage
from conveyor.orders.moves import add_timeline
from conveyor.orders.tables import order_lines, orders
from conveyor.platform.uow import UnitOfWork

_UNKNOWN_UNIT = re.compile(r" \([A-Z0-9]{1,3}\)$")
# Once goods have left, a line is what it is.
NOT_MAPPABLE = TERMINAL | {Stage.SHIPPED, Stage.DELIVERED}


@dataclass(frozen=True, kw_only=True)
class MapLine(Command):
    order_id: int
    line_no: int
    sku: str
    actor: str
    remember: bool = True  # also map the partner's item to this product for their next orders


@dataclass(frozen=True, kw_only=True)
class LineMapped(Event):
    name: ClassVar[str] = "order.line_mapped"
    order_id: int
    line_no: int
    product_id: int
    quantity: int


@dataclass(frozen=True)
class MappedLine:
    order_id: int
    line_no: int
    sku: str
    unmapped_left: int  # lines of the order still unmapped
    remembered_for: str | None  # the trading partner whose item mapping was saved


def map_line(cmd: MapLine, *, uow: UnitOfWork, scope: Any = None) -> MappedLine:
    """Maps one unmapped line; 404 for an unknown order or line, 409 when it is mapped already or the order
    has shipped, 422 for an unknown or inactive SKU. The stock comes through the backorder filler (outbox)."""
    with uow:
        conn, at = uow.conn, uow.clock.now()
        query = select(orders.c.id, orders.c.stage, orders.c.channel_id, orders.c.customer_id,
                       orders.c.priority).where(orders.c.id == cmd.order_id)
        order = conn.execute(query.where(scope) if scope is not None else query).first()
        if order is None:
            raise NotFound("order_not_found", f"no order {cmd.order_id}", "order_id")
        if Stage(order.stage) in NOT_MAPPABLE:
            raise Conflict("order_not_mappable", f"the order is {order.stage}: its lines can no longer change",
                           "order_id")
        line = conn.execute(select(order_lines).where(order_lines.c.order_id == cmd.order_id,
                                                      order_lines.c.line_no == cmd.line_no)).first()
        if line is None:
            raise NotFound("line_not_found", f"order {cmd.order_id} has no line {cmd.line_no}", "line_no")
        product = conn.execute(select(products.c.id, products.c.sku, products.c.name, products.c.active)
                               .where(products.c.sku == cmd.sku.strip())).first()
        if product is None or not product.active:
            raise ValidationFailed("unknown_sku", f"no active product with SKU {cmd.sku.strip()!r}", "sku")
        changed = conn.execute(update(order_lines).where(order_lines.c.id == line.id,
                                                         order_lines.c.product_id.is_(None))
                               .values(product_id=product.id, sku=product.sku, name=product.name)).rowcount
        if not changed:
            raise Conflict("line_already_mapped", f"line {cmd.line_no} is already {line.sku}", "line_no")
        conn.execute(insert(backorders).values(order_id=cmd.order_id, line_no=cmd.line_no, product_id=product.id,
                                               quantity=line.quantity, priority=order.priority, created_at=at))
        remembered = _remember(conn, order, line.sku, product.id) if cmd.remember else None
        left = int(conn.execute(select(func.count()).select_from(order_lines).where(
            order_lines.c.order_id == cmd.order_id, order_lines.c.product_id.is_(None))).scalar_one())
        add_timeline(conn, order_id=cmd.order_id, at=at, actor=cmd.actor, kind="decision",
                     reason=f"Line {cmd.line_no} ({line.sku}) mapped to {product.sku}"
                     + (f"; remembered for {remembered}" if remembered else "")
                     + ("; every line is mapped now" if left == 0 else f"; {left} line(s) still unmapped"),
                     data={"line_no": cmd.line_no, "from": line.sku, "to": product.sku})
        uow.publish(LineMapped(order_id=cmd.order_id, line_no=cmd.line_no, product_id=int(product.id),
                               quantity=int(line.quantity)), key=f"order:{cmd.order_id}")
    return MappedLine(cmd.order_id, cmd.line_no, product.sku, left, remembered)


def _remember(conn: Any, order: Any, buyer_item: str, product_id: int) -> str | None:
    """Saves buyer item -> product for the one active trading partner of this channel and customer."""
    partners = conn.execute(select(trading_partners.c.id, trading_partners.c.partner_id).where(
        trading_partners.c.channel_id == order.channel_id, trading_partners.c.customer_id == order.customer_id,
        trading_partners.c.active.is_(True))).all()
    if len(partners) != 1 or not buyer_item.strip() or _UNKNOWN_UNIT.search(buyer_item):
        return None  # an unknown unit ("SKU-4 (PL)") is the partner's units table to fix, not an item mapping
    partner = partners[0]
    done = conn.execute(update(partner_items).where(partner_items.c.partner_id == partner.id,
                                                    partner_items.c.buyer_item == buyer_item)
                        .values(product_id=product_id)).rowcount
    if not done:
        try:
            with conn.begin_nested():
                conn.execute(insert(partner_items).values(partner_id=partner.id, buyer_item=buyer_item,
                                                          product_id=product_id))
        except IntegrityError:  # mapped by someone else just now: theirs stands
            return None
    return str(partner.partner_id)
