"""Trading partners over JSON: a channel's partners, their profiles, and their buyer-item mappings.

The channel is named by its code and the partner by its partner id as documents carry it, `ZZ:ACME`
(any case; the colon may be sent as is or URL-encoded as `%3A`, a space as `%20`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Response

from conveyor.bootstrap import Container
from conveyor.channels.partners import handlers, queries
from conveyor.channels.partners.schemas import (
    PartnerIn,
    PartnerItemPage,
    PartnerItemsIn,
    PartnerItemsResult,
    PartnerOut,
    PartnerPage,
    PartnerPatch,
)
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1/channels/{code}/partners", tags=["channels"])
Code = Annotated[str, Path(max_length=64, description="the channel's code, e.g. `edi-acme`")]
PartnerId = Annotated[str, Path(max_length=200, description="the partner id, e.g. `ZZ:ACME` (URL-encoded: "
                                                            "`ZZ%3AACME`); any case")]
BuyerItem = Annotated[str, Path(max_length=1000, description="the buyer item as mapped, URL-encoded")]
_404 = "No such channel (`channel_not_found`) or partner (`partner_not_found`)."


def _location(code: str, partner_id: str) -> str:
    return f"/api/v1/channels/{quote(code, safe='')}/partners/{quote(partner_id, safe=':')}"


@router.get("", response_model=PartnerPage, responses=problem_responses(401, 403, 404, 422, d404=_404),
            summary="List a channel's trading partners")
def list_partners(
    code: Code,
    q: str | None = Query(None, max_length=200, description="part of a partner id, name or customer account"),
    active: bool | None = Query(None, description="only active (true) or inactive (false) partners"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    after: int | None = Query(None, ge=0, le=MAX_ID, description="the `next_after` of the previous page"),
    principal: Principal = Require(Permission.CHANNEL_READ),
    c: Container = Depends(container),
) -> PartnerPage:
    with c.db.read() as conn:
        channel = handlers.find_channel(conn, code)
        return queries.list_partners(conn, channel, q=q, active=active, limit=limit, after=after)


@router.post("", status_code=201, response_model=PartnerOut,
             responses=problem_responses(400, 401, 403, 404, 409, 422, d404=_404),
             summary="Add a trading partner to an EDI channel")
def create_partner(code: Code, data: PartnerIn, response: Response,
                   principal: Principal = Require(Permission.CHANNEL_WRITE),
                   c: Container = Depends(container)) -> PartnerOut:
    with c.db.write() as conn:
        channel = handlers.find_channel(conn, code)
        partner_pk = handlers.create_partner(conn, channel, data, at=c.clock.now())
        partner = queries.get_partner(conn, channel, partner_pk)
    response.headers["Location"] = _location(channel.code, partner.partner_id)
    return partner


@router.get("/{partner_id}", response_model=PartnerOut,
            responses=problem_responses(401, 403, 404, 422, d404=_404), summary="Get a trading partner")
def get_partner(code: Code, partner_id: PartnerId, principal: Principal = Require(Permission.CHANNEL_READ),
                c: Container = Depends(container)) -> PartnerOut:
    with c.db.read() as conn:
        channel = handlers.find_channel(conn, code)
        return queries.get_partner(conn, channel, handlers.find_partner(conn, channel, partner_id))


@router.patch("/{partner_id}", response_model=PartnerOut,
              responses=problem_responses(400, 401, 403, 404, 422, d404=_404), summary="Change a trading partner")
def update_partner(code: Code, partner_id: PartnerId, patch: PartnerPatch,
                   principal: Principal = Require(Permission.CHANNEL_WRITE),
                   c: Container = Depends(container)) -> PartnerOut:
    with c.db.write() as conn:
        channel = handlers.find_channel(conn, code)
        partner_pk = handlers.find_partner(conn, channel, partner_id)
        handlers.update_partner(conn, channel, partner_pk, patch, at=c.clock.now())
        return queries.get_partner(conn, channel, partner_pk)


@router.get("/{partner_id}/items", response_model=PartnerItemPage,
            responses=problem_responses(401, 403, 404, 422, d404=_404),
            summary="List a trading partner's buyer items and the SKUs they map to")
def list_items(
    code: Code, partner_id: PartnerId,
    q: str | None = Query(None, max_length=200, description="part of a buyer item or SKU"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    after: int | None = Query(None, ge=0, le=MAX_ID, description="the `next_after` of the previous page"),
    principal: Principal = Require(Permission.CHANNEL_READ),
    c: Container = Depends(container),
) -> PartnerItemPage:
    with c.db.read() as conn:
        channel = handlers.find_channel(conn, code)
        partner_pk = handlers.find_partner(conn, channel, partner_id)
        return queries.list_items(conn, partner_pk, q=q, limit=limit, after=after)


@router.put("/{partner_id}/items", response_model=PartnerItemsResult,
            responses=problem_responses(
                400, 401, 403, 404, 409, 422, d404=_404,
                d409="Another change to the same mappings came first (`mapping_changed`): send them again.",
                d422="A mapping breaks a rule; `errors[]` names each one by its path, e.g. `items.3.sku` for "
                     "an unknown SKU (`unknown_sku`). Nothing is written."),
            summary="Add, change or replace a trading partner's item mappings")
def put_items(code: Code, partner_id: PartnerId, data: PartnerItemsIn,
              principal: Principal = Require(Permission.CHANNEL_WRITE),
              c: Container = Depends(container)) -> PartnerItemsResult:
    with c.db.write() as conn:
        channel = handlers.find_channel(conn, code)
        partner_pk = handlers.find_partner(conn, channel, partner_id, lock=True)
        return handlers.put_items(conn, partner_pk, [item.model_dump() for item in data.items],
                                  replace=data.replace, at=c.clock.now())


@router.delete("/{partner_id}/items/{buyer_item:path}", status_code=204,
               responses=problem_responses(
                   401, 403, 404, 422,
                   d404=_404[:-1] + ", or no mapping for that buyer item (`partner_item_not_found`)."),
               summary="Remove one buyer item's mapping")
def delete_item(code: Code, partner_id: PartnerId, buyer_item: BuyerItem,
                principal: Principal = Require(Permission.CHANNEL_WRITE),
                c: Container = Depends(container)) -> Response:
    with c.db.write() as conn:
        channel = handlers.find_channel(conn, code)
        partner_pk = handlers.find_partner(conn, channel, partner_id, lock=True)
        handlers.delete_item(conn, partner_pk, buyer_item, at=c.clock.now())
    return Response(status_code=204)
