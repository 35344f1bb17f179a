"""Sales channels over JSON: list and search, create, read and change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from conveyor.bootstrap import Container
from conveyor.channels import handlers, queries
from conveyor.channels.schemas import ChannelIn, ChannelOut, ChannelPage, ChannelPatch
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
ChannelId = Annotated[int, Path(ge=1, le=MAX_ID, description="the channel's id")]


@router.get("", response_model=ChannelPage, responses=problem_responses(401, 403, 422),
            summary="List and search channels")
def list_channels(
    q: str | None = Query(None, max_length=200, description="part of a code or name"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    after: int | None = Query(None, ge=0, le=MAX_ID,
                              description="the `next_after` of the previous page"),
    principal: Principal = Require(Permission.CHANNEL_READ),
    c: Container = Depends(container),
) -> ChannelPage:
    with c.db.read() as conn:
        return queries.list_channels(conn, q=q, limit=limit, after=after)


@router.post("", status_code=201, response_model=ChannelOut,
             responses=problem_responses(400, 401, 403, 409, 422), summary="Create a channel")
def create_channel(data: ChannelIn, response: Response,
                   principal: Principal = Require(Permission.CHANNEL_WRITE),
                   c: Container = Depends(container)) -> ChannelOut:
    with c.db.write() as conn:
        channel_id = handlers.create_channel(conn, data, at=c.clock.now())
        channel = queries.get_channel(conn, channel_id)
    response.headers["Location"] = f"{router.prefix}/{channel_id}"
    return channel


@router.get("/{channel_id}", response_model=ChannelOut, responses=problem_responses(401, 403, 404, 422),
            summary="Get a channel")
def get_channel(channel_id: ChannelId, principal: Principal = Require(Permission.CHANNEL_READ),
                c: Container = Depends(container)) -> ChannelOut:
    with c.db.read() as conn:
        return queries.get_channel(conn, channel_id)


@router.patch("/{channel_id}", response_model=ChannelOut,
              responses=problem_responses(400, 401, 403, 404, 409, 422), summary="Change a channel")
def update_channel(channel_id: ChannelId, patch: ChannelPatch,
                   principal: Principal = Require(Permission.CHANNEL_WRITE),
                   c: Container = Depends(container)) -> ChannelOut:
    with c.db.write() as conn:
        handlers.update_channel(conn, channel_id, patch, at=c.clock.now())
        return queries.get_channel(conn, channel_id)
