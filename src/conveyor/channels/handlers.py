"""Channel use cases: create and change a sales channel, with unique codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from conveyor.channels.domain import check_channel
from conveyor.channels.schemas import ChannelIn, ChannelPatch
from conveyor.channels.tables import channels
from conveyor.kernel.errors import Conflict, NotFound


def create_channel(conn: Connection, data: ChannelIn, *, at: datetime) -> int:
    clean = check_channel(data.model_dump())
    _refuse_duplicates(conn, clean, channel_id=None)
    try:
        return int(conn.execute(insert(channels).values(**clean, created_at=at, updated_at=at)
                                .returning(channels.c.id)).scalar_one())
    except IntegrityError:
        raise _code_taken(clean["code"]) from None


def update_channel(conn: Connection, channel_id: int, patch: ChannelPatch, *, at: datetime) -> None:
    query = select(channels).where(channels.c.id == channel_id).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise channel_not_found(channel_id)
    clean = check_channel({**row, **patch.model_dump(exclude_unset=True)})
    _refuse_duplicates(conn, clean, channel_id=channel_id)
    try:
        conn.execute(update(channels).where(channels.c.id == channel_id).values(**clean, updated_at=at))
    except IntegrityError:
        raise _code_taken(clean["code"]) from None


def channel_not_found(channel_id: int) -> NotFound:
    return NotFound("channel_not_found", f"there is no channel {channel_id}", "id")


def _code_taken(code: str) -> Conflict:
    return Conflict("code_taken", f"the channel code {code!r} is already used", "code")


def _refuse_duplicates(conn: Connection, clean: dict[str, Any], *, channel_id: int | None) -> None:
    query = select(channels.c.id).where(channels.c.code == clean["code"])
    if channel_id is not None:
        query = query.where(channels.c.id != channel_id)
    if conn.execute(query.limit(1)).first():
        raise _code_taken(clean["code"])
