"""Capture screens: every channel's health on one page, and importing a document of orders by upload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from conveyor.bootstrap import Container
from conveyor.channels import queries as channel_queries
from conveyor.channels.capture import queries
from conveyor.channels.capture.acks import acknowledger_for
from conveyor.channels.capture.documents import FORMATS, UnknownFormat, format_of, read_bytes
from conveyor.channels.capture.report import CaptureReport
from conveyor.channels.capture.service import CaptureRequest, capture
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError
from conveyor.platform.pagination import RecordId
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SHOWN = 200  # rows of each list shown after an import; the API and CLI give them all


@router.get("/channels/health")
def health_page(request: Request, principal: Principal = Require(Permission.CHANNEL_READ),
                c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        timezone = c.lifecycle.get(conn).calendar.timezone
        rows = queries.channel_health(conn, now=c.clock.now(), timezone=timezone)
    return render(request, "capture/health.html", {"rows": rows, "timezone": timezone})


def _import_page(request: Request, c: Container, channel_id: int, *, report: CaptureReport | None = None,
                 error: str | None = None, values: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    with c.db.read() as conn:
        channel = channel_queries.get_channel(conn, channel_id)
        captures = queries.list_captures(conn, channel.code, limit=10)
        acks = queries.list_acks(conn, channel.code, limit=10)
    return render(request, "capture/import.html", {
        "channel": channel, "captures": captures, "acks": acks, "report": report, "error": error,
        "formats": FORMATS, "values": values or {"format": "auto"}, "shown": SHOWN}, status_code=status_code)


@router.get("/channels/{channel_id}/import")
def import_page(request: Request, channel_id: RecordId, principal: Principal = Require(Permission.ORDER_CREATE),
                c: Container = Depends(container)) -> Response:
    return _import_page(request, c, channel_id)


async def _upload(request: Request) -> tuple[bytes | None, str, dict[str, str]]:
    form = await request.form()
    upload = form.get("file")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if isinstance(upload, UploadFile):
        return await upload.read(MAX_UPLOAD_BYTES + 1), upload.filename or "upload", fields
    return None, "upload", fields


@router.post("/channels/{channel_id}/import")
async def import_upload(request: Request, channel_id: RecordId,
                        principal: Principal = Require(Permission.ORDER_CREATE),
                        c: Container = Depends(container)) -> Response:
    from fastapi.concurrency import run_in_threadpool

    data, name, fields = await _upload(request)
    values = {"format": fields.get("format", "auto"), "dry_run": "dry_run" in fields}
    if not data:
        return _import_page(request, c, channel_id, error="Choose a file to import.", values=values, status_code=422)
    if len(data) > MAX_UPLOAD_BYTES:
        return _import_page(request, c, channel_id, values=values, status_code=422,
                            error="The file is larger than 50 MB: use `conveyor import orders FILE` instead.")
    if values["format"] not in FORMATS:
        return _import_page(request, c, channel_id, error="Pick a format from the list.", values=values,
                            status_code=422)
    try:
        report = await run_in_threadpool(_capture, c, channel_id, data, name, values, principal.actor)
    except (UnknownFormat, DomainError) as exc:
        message = exc.message if isinstance(exc, DomainError) else str(exc)
        return _import_page(request, c, channel_id, error=f"{name}: {message}", values=values, status_code=422)
    return _import_page(request, c, channel_id, report=report, values=values)


def _capture(c: Container, channel_id: int, data: bytes, name: str, values: dict[str, Any],
             actor: str) -> CaptureReport:
    with c.db.read() as conn:
        code = channel_queries.get_channel(conn, channel_id).code
    used = format_of(data, str(values["format"]), name)
    acknowledger = None if values["dry_run"] else acknowledger_for(used)
    items = read_bytes(data, used, name=name, hooks=acknowledger.adapter_hooks if acknowledger else None)
    request = CaptureRequest(source=name, format=used, actor=actor, channel=code, dry_run=bool(values["dry_run"]))
    return capture(items, request, c, acknowledger=acknowledger)
