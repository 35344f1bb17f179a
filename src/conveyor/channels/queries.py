"""The read side of channels: search with keyset pagination, and one channel. One query per page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from conveyor.channels.handlers import channel_not_found
from conveyor.channels.schemas import ChannelOut, ChannelPage
from conveyor.channels.tables import channels
from conveyor.platform.pagination import DEFAULT_LIMIT, clamp_limit, contains, page_of


def list_channels(conn: Connection, *, q: str | None = None, limit: int = DEFAULT_LIMIT,
                  after: int | None = None) -> ChannelPage:
    limit = clamp_limit(limit)
    query = select(channels).order_by(channels.c.id).limit(limit + 1)
    if after is not None:
        query = query.where(channels.c.id > after)
    if q and q.strip():
        pattern = contains(q.strip())
        query = query.where(or_(channels.c.code.ilike(pattern, escape="\\"),
                                channels.c.name.ilike(pattern, escape="\\")))
    rows, next_after = page_of(list(conn.execute(query)), limit)
    return ChannelPage(items=[channel_out(r) for r in rows], next_after=next_after)


def get_channel(conn: Connection, channel_id: int) -> ChannelOut:
    row = conn.execute(select(channels).where(channels.c.id == channel_id)).first()
    if row is None:
        raise channel_not_found(channel_id)
    return channel_out(row)


def channel_out(row: Any) -> ChannelOut:
    """The channel as shown: whether it has a webhook secret, never the secret."""
    return ChannelOut.model_validate(row).model_copy(update={"webhook_secret_set": bool(row.webhook_secret)})
