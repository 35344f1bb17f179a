"""Stock over JSON: the stock list, one SKU, receipts (and advance ship notices), adjustments, counts,
transfers, safety stock, CSV uploads of each change, and the ledger check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.datastructures import UploadFile

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.inventory import csv_import, queries
from conveyor.inventory.csv_import import LineProblem
from conveyor.inventory.receipts import StockCommand, book
from conveyor.inventory.schemas import (
    AdjustmentIn,
    CountIn,
    CsvKind,
    ImportResult,
    ReceiptIn,
    SafetyIn,
    SkuStock,
    StockPage,
    TransferIn,
    VerifyResult,
)
from conveyor.kernel.errors import ValidationFailed
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1/stock", tags=["inventory"])

MAX_CSV_BYTES = 5_000_000
CURSOR_PATTERN = r"^\d{1,19}:\d{1,19}$"
WRITE_ERRORS = problem_responses(
    400, 401, 403, 409, 422,
    d409="The ledger refused the change (`below_reserved`, `insufficient_stock`, `count_contended`).",
    d422="The input breaks a rule (`unknown_sku`, `unknown_warehouse`, `invalid_quantity`, ...); "
         "`errors[]` gives each field path.")
CSV_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}}


@router.get("", response_model=StockPage, responses=problem_responses(401, 403, 422),
            summary="List stock per SKU and warehouse")
def list_stock(
    q: str | None = Query(None, max_length=200, description="part of a SKU, name or GTIN"),
    warehouse: str | None = Query(None, max_length=16, description="only this warehouse (its code)"),
    short_only: bool = Query(False, description="only rows with nothing available to promise"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    after: str | None = Query(None, pattern=CURSOR_PATTERN, description="the `next_after` of the previous page"),
    principal: Principal = Require(Permission.WAREHOUSE_READ),
    c: Container = Depends(container),
) -> StockPage:
    with c.db.read() as conn:
        return queries.list_stock(conn, q=q, warehouse=warehouse, short_only=short_only, limit=limit,
                                  after=after)


@router.get("/verify", response_model=VerifyResult, responses=problem_responses(401, 403),
            summary="Check every balance against the sum of its movements")
def verify_stock(principal: Principal = Require(Permission.WAREHOUSE_READ),
                 c: Container = Depends(container)) -> VerifyResult:
    with c.db.read() as conn:
        found = queries.differences(conn)
    return VerifyResult(ok=not found, differences=found)


def _book(c: Container, principal: Principal, command: StockCommand) -> SkuStock:
    with c.uow() as uow:
        book(uow, command, actor=principal.actor, at=c.clock.now())
        return queries.sku_stock(uow.conn, command.sku)


@router.post("/receipts", response_model=SkuStock, responses=WRITE_ERRORS,
             summary="Receive goods, or announce them with an advance ship notice (asn: true)")
def receive(data: ReceiptIn, principal: Principal = Require(Permission.STOCK_WRITE),
            c: Container = Depends(container)) -> SkuStock:
    return _book(c, principal, data)


@router.post("/adjustments", response_model=SkuStock, responses=WRITE_ERRORS,
             summary="Adjust on hand (damage, found stock, ...) with a reason")
def adjust(data: AdjustmentIn, principal: Principal = Require(Permission.STOCK_WRITE),
           c: Container = Depends(container)) -> SkuStock:
    return _book(c, principal, data)


@router.post("/counts", response_model=SkuStock, responses=WRITE_ERRORS,
             summary="Book a cycle count: on hand becomes the counted quantity")
def count(data: CountIn, principal: Principal = Require(Permission.STOCK_WRITE),
          c: Container = Depends(container)) -> SkuStock:
    return _book(c, principal, data)


@router.post("/transfers", response_model=SkuStock, responses=WRITE_ERRORS,
             summary="Move free stock from one warehouse to another")
def transfer(data: TransferIn, principal: Principal = Require(Permission.STOCK_WRITE),
             c: Container = Depends(container)) -> SkuStock:
    return _book(c, principal, data)


@router.put("/safety", response_model=SkuStock, responses=WRITE_ERRORS,
            summary="Set the safety stock of a SKU in a warehouse")
def set_safety(data: SafetyIn, principal: Principal = Require(Permission.STOCK_WRITE),
               c: Container = Depends(container)) -> SkuStock:
    return _book(c, principal, data)


async def csv_upload(request: Request) -> bytes:
    """The CSV sent as the body (text/csv) or as the `file` field of a multipart form."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form(max_part_size=MAX_CSV_BYTES)
        except Exception as exc:  # a malformed multipart body is the client's problem, not a 500
            raise csv_refused(LineProblem(0, "invalid_upload", f"the multipart body could not be read: {exc}")) \
                from None
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            data = await upload.read(MAX_CSV_BYTES + 1)
        elif isinstance(upload, str):
            data = upload.encode()
        else:
            raise csv_refused(LineProblem(0, "file_required", "send the CSV as the form field 'file'"))
    else:
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_CSV_BYTES:
                break
    if len(data) > MAX_CSV_BYTES:
        raise csv_refused(LineProblem(0, "file_too_large", f"at most {MAX_CSV_BYTES} bytes per upload"))
    return data


def csv_refused(problem: LineProblem) -> ValidationFailed:
    return csv_import.CsvRefused([problem])


@router.post("/{kind}/csv", response_model=ImportResult, openapi_extra=CSV_BODY,
             responses=problem_responses(
                 400, 401, 403, 422, d422="The file was refused and nothing was written; each of `errors[]` names "
                                     "its line: `line 7: unknown_sku: ...` (field `lines.7.sku`)."),
             summary="Upload receipts, adjustments, counts or transfers as CSV (all or nothing)")
def import_csv(kind: Annotated[CsvKind, Path(description="which change the rows are")],
               principal: Principal = Require(Permission.STOCK_WRITE),
               data: bytes = Depends(csv_upload),
               c: Container = Depends(container)) -> ImportResult:
    with c.uow() as uow:
        rows = csv_import.import_stock(uow, kind, data, actor=principal.actor, at=c.clock.now())
    return ImportResult(kind=kind, rows=rows)


@router.get("/{sku:path}", response_model=SkuStock, responses=problem_responses(401, 403, 404, 422),
            summary="One SKU in every warehouse, totals and its latest 50 movements")
def sku_stock(sku: Annotated[str, Path(max_length=64, description="the product's SKU")],
              principal: Principal = Require(Permission.WAREHOUSE_READ),
              c: Container = Depends(container)) -> SkuStock:
    with c.db.read() as conn:
        return queries.sku_stock(conn, sku)
