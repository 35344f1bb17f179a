"""Channel screens: a searchable list, a create form and an edit form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from conveyor.bootstrap import Container
from conveyor.channels import handlers, queries
from conveyor.channels.domain import KINDS, check_channel
from conveyor.channels.schemas import ChannelIn, ChannelPatch
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError, NotFound
from conveyor.platform.forms import field_errors, form_data, list_or_rows, text_fields, validate_form
from conveyor.platform.pagination import After, RecordId
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)

FORM = "channels/channel_form.html"
# The shortage policy select: value and label; the empty value leaves it to the default.
SHORTAGE_CHOICES = (("", "Default (hold)"), ("hold", "Hold the order"),
                    ("backorder", "Ship what is there, backorder the rest"), ("reject", "Reject the order"))


def _channel_data(form: dict[str, str]) -> dict[str, Any]:
    data = text_fields(form, ("code", "name", "kind", "default_currency", "shortage_policy"))
    secret = (form.get("webhook_secret") or "").strip()
    return {**data, "default_currency": (data["default_currency"] or "").upper() or None,
            "active": "active" in form, "reserve_before_review": "reserve_before_review" in form,
            **({"webhook_secret": secret} if secret else {})}


def _form(request: Request, channel: Any, values: dict[str, Any], errors: dict[str, str], *,
          can_write: bool, saved: bool = False, status_code: int = 200) -> Response:
    return render(request, FORM, {"channel": channel, "values": values, "errors": errors, "kinds": KINDS,
                                  "shortage_choices": SHORTAGE_CHOICES, "can_write": can_write,
                                  "saved": saved}, status_code=status_code)


@router.get("/channels")
def channels_page(request: Request, q: str | None = None, after: After = None,
                  principal: Principal = Require(Permission.CHANNEL_READ),
                  c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        page = queries.list_channels(conn, q=q, after=after)
    context = {"page": page, "q": q or "", "can_write": principal.can(Permission.CHANNEL_WRITE)}
    return list_or_rows(request, "channel-results", "channels/channels.html", "channels/_channel_rows.html",
                        context)


@router.get("/channels/new")
def new_channel_page(request: Request, principal: Principal = Require(Permission.CHANNEL_WRITE)) -> Response:
    return _form(request, None, {"kind": "api", "default_currency": "EUR", "active": True}, {}, can_write=True)


@router.post("/channels/new")
def create_channel(request: Request, form: dict[str, str] = Depends(form_data),
                   principal: Principal = Require(Permission.CHANNEL_WRITE),
                   c: Container = Depends(container)) -> Response:
    data = _channel_data(form)
    try:
        channel = validate_form(ChannelIn, {k: v for k, v in data.items() if v is not None}, check_channel)
        with c.db.write() as conn:
            channel_id = handlers.create_channel(conn, channel, at=c.clock.now())
    except DomainError as exc:
        return _form(request, None, data, field_errors(exc), can_write=True, status_code=422)
    return RedirectResponse(f"/channels/{channel_id}?saved=1", status_code=303)


@router.get("/channels/{channel_id}")
def channel_page(request: Request, channel_id: RecordId, saved: bool = False,
                 principal: Principal = Require(Permission.CHANNEL_READ),
                 c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        channel = queries.get_channel(conn, channel_id)
    return _form(request, channel, channel.model_dump(), {}, saved=saved,
                 can_write=principal.can(Permission.CHANNEL_WRITE))


@router.post("/channels/{channel_id}")
def save_channel(request: Request, channel_id: RecordId, form: dict[str, str] = Depends(form_data),
                 principal: Principal = Require(Permission.CHANNEL_WRITE),
                 c: Container = Depends(container)) -> Response:
    data = _channel_data(form)
    try:
        patch = validate_form(ChannelPatch, data, check_channel)
        with c.db.write() as conn:
            handlers.update_channel(conn, channel_id, patch, at=c.clock.now())
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        with c.db.read() as conn:
            channel = queries.get_channel(conn, channel_id)
        return _form(request, channel, data, field_errors(exc), can_write=True, status_code=422)
    return RedirectResponse(f"/channels/{channel_id}?saved=1", status_code=303)
