"""Capture over HTTP: web-shop webhooks (signed, no token), document imports, the capture log, channel health,
and the acknowledgements sent back to trading partners."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from conveyor.bootstrap import Container
from conveyor.channels.capture import queries
from conveyor.channels.capture.documents import FORMATS, UnknownFormat, format_of, read_bytes, read_json
from conveyor.channels.capture.schemas import AckOut, CaptureLogOut, CaptureResult, ChannelHealthOut
from conveyor.channels.capture.service import CaptureRequest, capture
from conveyor.channels.capture.signatures import is_woocommerce_ping, verify, webhook_headers
from conveyor.channels.tables import channels
from conveyor.identity.deps import Public, Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError, NotFound, ValidationFailed
from conveyor.platform.pagination import MAX_ID
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
Code = Annotated[str, Path(max_length=32, description="the channel's code, e.g. 'shopify-eu'")]
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_WEBHOOK_BYTES = 5 * 1024 * 1024
WEBHOOK_KINDS = ("shopify", "woocommerce")
DOCUMENT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}}
WEBHOOK_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description": "the platform's order JSON, as it sends it"}}}}}


class InvalidSignature(DomainError):
    status = 401


class TooLarge(DomainError):
    status = 413


@router.get("/health", response_model=list[ChannelHealthOut], responses=problem_responses(401, 403),
            summary="Every channel's health: last order, orders today, rejections of the last 7 days")
def channel_health(principal: Principal = Require(Permission.CHANNEL_READ),
                   c: Container = Depends(container)) -> list[ChannelHealthOut]:
    with c.db.read() as conn:
        timezone = c.lifecycle.get(conn).calendar.timezone
        rows = queries.channel_health(conn, now=c.clock.now(), timezone=timezone)
    return [ChannelHealthOut(status=h.status, **h.__dict__) for h in rows]


@router.post("/{code}/webhooks", response_model=CaptureResult, response_model_exclude_none=True,
             openapi_extra=WEBHOOK_BODY, dependencies=[Public],
             responses=problem_responses(401, 404, 413, 422, d401="The signature header is missing or does not "
                                         "match the body signed with the channel's webhook secret; nothing stored."),
             summary="Receive a Shopify or WooCommerce order webhook (signed with the channel's secret)")
async def receive_webhook(code: Code, request: Request, c: Container = Depends(container)) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise TooLarge("too_large", f"a webhook body has at most {MAX_WEBHOOK_BYTES} bytes", None)
    channel = await run_in_threadpool(_webhook_channel, c, code)
    headers = dict(request.headers)
    if channel.kind == "woocommerce" and channel.webhook_secret and is_woocommerce_ping(headers, body):
        return {"orders": [], "duplicates": [], "rejected": [], "ignored": [
            {"where": "webhook", "reason": "WooCommerce ping (webhook saved)"}]}
    if not channel.webhook_secret or not verify(channel.kind, body, headers, channel.webhook_secret):
        raise InvalidSignature("invalid_signature", "the webhook signature is missing or wrong"
                               + ("" if channel.webhook_secret else " (the channel has no webhook secret yet)"),
                               "header")
    sent = webhook_headers(channel.kind, headers)
    items = read_json(body, channel.kind, name=f"webhook {sent.delivery_id or ''}".strip(),
                      delivery_id=sent.delivery_id, shop=sent.sender, topic=sent.topic)
    req = CaptureRequest(source=f"webhook {sent.topic or ''} {sent.delivery_id or ''}".strip(), format=channel.kind,
                         actor=f"system:webhook:{channel.kind}", channel=code)
    report = await run_in_threadpool(capture, items, req, c)
    return report.as_json()


@router.post("/{code}/imports", response_model=CaptureResult, response_model_exclude_none=True,
             openapi_extra=DOCUMENT_BODY,
             responses=problem_responses(400, 401, 403, 404, 413, 422, d422="The document's format is unknown. "
                                         "Orders that are rejected do not fail the request: they are listed."),
             summary="Import a document of orders (CSV, Excel, X12, EDIFACT, Shopify, WooCommerce, Amazon JSON)")
async def import_document(
    code: Code, request: Request,
    fmt: str = Query("auto", alias="format", description=f"one of {', '.join(FORMATS)}"),
    dry_run: bool = Query(False, description="parse, validate and map; write nothing"),
    name: str = Query("upload", max_length=200, description="the file name, shown in rejections"),
    principal: Principal = Require(Permission.ORDER_CREATE),
    c: Container = Depends(container),
) -> dict[str, Any]:
    if fmt not in FORMATS:
        raise ValidationFailed("unknown_format", f"format must be one of {', '.join(FORMATS)}", "format")
    body, name = await _document(request, name)
    return await run_in_threadpool(_import, c, code, body, fmt, name, dry_run, principal.actor)


@router.get("/{code}/captures", response_model=list[CaptureLogOut], responses=problem_responses(401, 403, 404, 422),
            summary="The channel's capture log: each document or webhook received and what became of it")
def list_captures(code: Code, limit: int = Query(50, ge=1, le=500),
                  principal: Principal = Require(Permission.CHANNEL_READ),
                  c: Container = Depends(container)) -> list[CaptureLogOut]:
    with c.db.read() as conn:
        return [CaptureLogOut.model_validate(r, from_attributes=True) for r in
                queries.list_captures(conn, code, limit=limit)]


@router.get("/{code}/acks", response_model=list[AckOut], responses=problem_responses(401, 403, 404, 422),
            summary="Acknowledgements sent to the channel's trading partners (997, 855, CONTRL, ORDRSP)")
def list_acks(code: Code, limit: int = Query(50, ge=1, le=500),
              principal: Principal = Require(Permission.CHANNEL_READ),
              c: Container = Depends(container)) -> list[AckOut]:
    with c.db.read() as conn:
        return [AckOut.model_validate(r, from_attributes=True) for r in queries.list_acks(conn, code, limit=limit)]


@router.get("/{code}/acks/{ack_id}", response_class=Response, responses={
    200: {"content": {"application/edi-x12": {}, "application/edifact": {}}, "description": "the document as sent"},
    **problem_responses(401, 403, 404, 422)}, summary="One acknowledgement, as sent")
def get_ack(code: Code, ack_id: Annotated[int, Path(ge=1, le=MAX_ID)],
            principal: Principal = Require(Permission.CHANNEL_READ),
            c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        row = queries.get_ack(conn, code, ack_id)
    media = "application/edi-x12" if row.kind in ("997", "855", "856") else "application/edifact"
    return Response(row.body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{row.kind}-{row.control_number}.edi"'})


def _webhook_channel(c: Container, code: str) -> Any:
    with c.db.read() as conn:
        row = conn.execute(select(channels.c.kind, channels.c.webhook_secret, channels.c.active)
                           .where(channels.c.code == code)).first()
    if row is None or not row.active or row.kind not in WEBHOOK_KINDS:
        raise NotFound("unknown_channel", f"no active Shopify or WooCommerce channel {code!r}", "code")
    return row


async def _document(request: Request, name: str) -> tuple[bytes, str]:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_part_size=MAX_DOCUMENT_BYTES)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationFailed("file_required", "send the document as the `file` field", "file")
        body = await upload.read(MAX_DOCUMENT_BYTES + 1)
        name = upload.filename or name
    else:
        body = await request.body()
    if len(body) > MAX_DOCUMENT_BYTES:
        raise TooLarge("too_large", f"a document has at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; use "
                       "`conveyor import orders FILE` for larger files", "file")
    if not body:
        raise ValidationFailed("empty_document", "the document is empty", "file")
    return body, name


def _import(c: Container, code: str, body: bytes, fmt: str, name: str, dry_run: bool, actor: str) -> dict[str, Any]:
    from conveyor.channels.capture.acks import acknowledger_for

    try:
        used = format_of(body, fmt, name)
    except UnknownFormat as exc:
        raise ValidationFailed("unknown_format", str(exc), "format") from None
    acknowledger = None if dry_run else acknowledger_for(used)
    items = read_bytes(body, used, name=name, hooks=acknowledger.adapter_hooks if acknowledger else None)
    request = CaptureRequest(source=name, format=used, actor=actor, channel=code, dry_run=dry_run)
    return capture(items, request, c, acknowledger=acknowledger).as_json()
