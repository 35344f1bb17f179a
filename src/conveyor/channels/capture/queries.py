"""Reads for the capture screens and API: channel health, the capture log, acknowledgements sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from conveyor.channels.tables import channel_acks, channel_captures, channels
from conveyor.kernel.errors import NotFound
from conveyor.orders.tables import orders

REJECTS_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class ChannelHealth:
    code: str
    name: str
    kind: str
    active: bool
    last_order_at: datetime | None
    orders_today: int
    captures: int  # documents received in the window
    rejected: int  # orders rejected in the window
    last_capture_at: datetime | None
    last_problems: list[dict[str, Any]]  # the latest capture's rejections (where, reason)

    @property
    def status(self) -> str:
        """ok, warning (rejections lately) or idle (no order yet)."""
        if self.rejected:
            return "warning"
        return "ok" if self.last_order_at else "idle"


def channel_health(conn: Connection, *, now: datetime, timezone: str = "UTC") -> list[ChannelHealth]:
    """Every channel with its last order, today's count (in the business calendar's time zone) and the
    rejections of the last 7 days: four grouped reads, however many channels."""
    local = now.astimezone(ZoneInfo(timezone))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    since = now - REJECTS_WINDOW
    last: dict[int, datetime] = dict(conn.execute(select(orders.c.channel_id, func.max(orders.c.created_at))
                             .group_by(orders.c.channel_id)).all())
    counts: dict[int, int] = dict(conn.execute(
        select(orders.c.channel_id, func.count()).where(orders.c.created_at >= today)
        .group_by(orders.c.channel_id)).all())
    window = {r.channel_id: r for r in conn.execute(
        select(channel_captures.c.channel_id, func.count().label("captures"),
               func.sum(channel_captures.c.rejected).label("rejected"),
               func.max(channel_captures.c.received_at).label("last_at"),
               func.max(channel_captures.c.id).label("last_id"))
        .where(channel_captures.c.received_at >= since).group_by(channel_captures.c.channel_id))}
    latest_ids = [r.last_id for r in window.values()]
    problems: dict[int, Any] = dict(conn.execute(select(channel_captures.c.channel_id, channel_captures.c.problems)
                                 .where(channel_captures.c.id.in_(latest_ids))).all()) if latest_ids else {}
    return [ChannelHealth(
        code=ch.code, name=ch.name, kind=ch.kind, active=ch.active, last_order_at=last.get(ch.id),
        orders_today=int(counts.get(ch.id, 0)),
        captures=int(window[ch.id].captures) if ch.id in window else 0,
        rejected=int(window[ch.id].rejected or 0) if ch.id in window else 0,
        last_capture_at=window[ch.id].last_at if ch.id in window else None,
        last_problems=list(problems.get(ch.id) or [])[:5])
        for ch in conn.execute(select(channels).order_by(channels.c.active.desc(), channels.c.code))]


def channel_id(conn: Connection, code: str) -> int:
    found = conn.execute(select(channels.c.id).where(channels.c.code == code)).scalar()
    if found is None:
        raise NotFound("channel_not_found", f"no channel {code!r}", "code")
    return int(found)


def list_captures(conn: Connection, code: str, *, limit: int = 50) -> list[Any]:
    return list(conn.execute(select(channel_captures).where(channel_captures.c.channel_id == channel_id(conn, code))
                             .order_by(channel_captures.c.id.desc()).limit(limit)))


def list_acks(conn: Connection, code: str, *, limit: int = 50) -> list[Any]:
    columns = [c for c in channel_acks.c if c.name != "body"]
    return list(conn.execute(select(*columns).where(channel_acks.c.channel_id == channel_id(conn, code))
                             .order_by(channel_acks.c.id.desc()).limit(limit)))


def get_ack(conn: Connection, code: str, ack_id: int) -> Any:
    row = conn.execute(select(channel_acks).where(channel_acks.c.id == ack_id,
                                                  channel_acks.c.channel_id == channel_id(conn, code))).first()
    if row is None:
        raise NotFound("ack_not_found", f"no acknowledgement {ack_id} on channel {code!r}", "ack_id")
    return row
