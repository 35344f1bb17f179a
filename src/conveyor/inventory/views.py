"""Stock screens: a searchable stock list, one SKU with its warehouses, movements and booking forms,
and CSV uploads of receipts, adjustments, counts and transfers."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.inventory import csv_import, queries
from conveyor.inventory.csv_import import COLUMNS, CsvRefused, LineProblem
from conveyor.inventory.receipts import book
from conveyor.inventory.schemas import AdjustmentIn, CountIn, CsvKind, ReceiptIn, SafetyIn, TransferIn
from conveyor.kernel.errors import DomainError, NotFound
from conveyor.platform.forms import field_errors, form_data, list_or_rows
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 5_000_000


class Action(StrEnum):
    RECEIVE = "receive"
    ADJUST = "adjust"
    COUNT = "count"
    TRANSFER = "transfer"
    SAFETY = "safety"


# Each form: the command it builds and the text fields it posts (the SKU comes from the page).
FORMS: dict[Action, tuple[type[BaseModel], tuple[str, ...]]] = {
    Action.RECEIVE: (ReceiptIn, ("warehouse", "quantity", "reference")),
    Action.ADJUST: (AdjustmentIn, ("warehouse", "delta", "reason")),
    Action.COUNT: (CountIn, ("warehouse", "counted", "reference")),
    Action.TRANSFER: (TransferIn, ("from_warehouse", "to_warehouse", "quantity")),
    Action.SAFETY: (SafetyIn, ("warehouse", "safety")),
}
DONE = {Action.RECEIVE: "Receipt booked.", Action.ADJUST: "Adjustment booked.", Action.COUNT: "Count booked.",
        Action.TRANSFER: "Transfer booked.", Action.SAFETY: "Safety stock saved."}
ASN_DONE = "Advance ship notice recorded: the units show as incoming."


@router.get("/stock")
def stock_page(request: Request, q: str | None = None, warehouse: str | None = None, short: bool = False,
               after: str | None = None, principal: Principal = Require(Permission.WAREHOUSE_READ),
               c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        page = queries.list_stock(conn, q=q, warehouse=warehouse or None, short_only=short, after=after)
        codes = queries.warehouse_codes(conn)
    context = {"page": page, "q": q or "", "warehouse": warehouse or "", "short": short, "codes": codes,
               "can_write": principal.can(Permission.STOCK_WRITE)}
    return list_or_rows(request, "stock-results", "inventory/stock.html", "inventory/_stock_rows.html", context)


def _upload_page(request: Request, *, kind: CsvKind | None = None, problems: list[LineProblem] | None = None,
                 imported: int | None = None, status_code: int = 200) -> Response:
    return render(request, "inventory/upload.html", {
        "kinds": COLUMNS, "failed": kind, "problems": [str(p) for p in problems or []], "imported": imported,
        "max_reported": csv_import.MAX_REPORTED}, status_code=status_code)


@router.get("/stock/upload")
def upload_page(request: Request, kind: CsvKind | None = None, imported: int | None = None,
                principal: Principal = Require(Permission.STOCK_WRITE)) -> Response:
    return _upload_page(request, kind=kind, imported=imported)


async def uploaded_file(request: Request) -> bytes | None:
    """The posted form's `file` (the CSRF check has already parsed and cached the form)."""
    try:
        form = await request.form()
    except Exception:  # not a form at all: treated as "no file"
        return None
    upload = form.get("file")
    if isinstance(upload, UploadFile):
        return await upload.read(MAX_UPLOAD_BYTES + 1)
    return None


@router.post("/stock/upload/{kind}")
def upload_csv(request: Request, kind: CsvKind, principal: Principal = Require(Permission.STOCK_WRITE),
               data: bytes | None = Depends(uploaded_file), c: Container = Depends(container)) -> Response:
    if not data:
        problems = [LineProblem(0, "file_required", "choose a CSV file to upload")]
        return _upload_page(request, kind=kind, problems=problems, status_code=422)
    if len(data) > MAX_UPLOAD_BYTES:
        problems = [LineProblem(0, "file_too_large", f"at most {MAX_UPLOAD_BYTES} bytes per upload")]
        return _upload_page(request, kind=kind, problems=problems, status_code=422)
    try:
        with c.uow() as uow:
            rows = csv_import.import_stock(uow, kind, data, actor=principal.actor, at=c.clock.now())
    except CsvRefused as refused:
        return _upload_page(request, kind=kind, problems=refused.line_problems, status_code=422)
    return RedirectResponse(f"/stock/upload?kind={kind.value}&imported={rows}", status_code=303)


def _sku_page(request: Request, c: Container, principal: Principal, sku: str, *, failed: Action | None = None,
              values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, done: str | None = None,
              status_code: int = 200) -> Response:
    with c.db.read() as conn:
        stock = queries.sku_stock(conn, sku)
    return render(request, "inventory/sku.html", {
        "stock": stock, "codes": [w.warehouse for w in stock.warehouses], "failed": failed,
        "values": values or {}, "errors": errors or {}, "done": done,
        "can_write": principal.can(Permission.STOCK_WRITE)}, status_code=status_code)


@router.get("/stock/{sku:path}")
def sku_page(request: Request, sku: str, done: Action | None = None, asn: bool = False,
             principal: Principal = Require(Permission.WAREHOUSE_READ),
             c: Container = Depends(container)) -> Response:
    message = (ASN_DONE if asn else DONE[done]) if done else None
    return _sku_page(request, c, principal, sku, done=message)


@router.post("/stock/{sku:path}/{action}")
def book_from_form(request: Request, sku: str, action: Action, form: dict[str, str] = Depends(form_data),
                   principal: Principal = Require(Permission.STOCK_WRITE),
                   c: Container = Depends(container)) -> Response:
    model, fields = FORMS[action]
    values: dict[str, Any] = {name: (form.get(name) or "").strip() for name in fields}
    data: dict[str, Any] = {"sku": sku, **{k: v for k, v in values.items() if v}}
    if action == Action.RECEIVE:
        values["asn"] = data["asn"] = "asn" in form
    try:
        command = model.model_validate(data)
        with c.uow() as uow:
            book(uow, command, actor=principal.actor, at=c.clock.now())  # type: ignore[arg-type]
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        errors = field_errors(exc, shown=fields)
        return _sku_page(request, c, principal, sku, failed=action, values=values, errors=errors, status_code=422)
    asn = "&asn=1" if action == Action.RECEIVE and values.get("asn") else ""
    return RedirectResponse(f"/stock/{quote(sku)}?done={action.value}{asn}", status_code=303)
