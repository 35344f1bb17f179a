"""Warehouse screens: a searchable list, a create form and an edit form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError, NotFound
from conveyor.platform.forms import field_errors, form_data, list_or_rows, text_fields, validate_form
from conveyor.platform.pagination import After, RecordId
from conveyor.platform.web import render
from conveyor.warehouses import handlers, queries
from conveyor.warehouses.domain import check_warehouse, timezone_names
from conveyor.warehouses.schemas import WarehouseIn, WarehousePatch

router = APIRouter(include_in_schema=False)

FORM = "warehouses/warehouse_form.html"
TEXT = ("code", "name", "line1", "line2", "city", "region", "postal_code", "country", "latitude", "longitude",
        "priority", "timezone")


def _warehouse_data(form: dict[str, str]) -> dict[str, Any]:
    return {**text_fields(form, TEXT), "active": "active" in form}


def _form(request: Request, warehouse: Any, values: dict[str, Any], errors: dict[str, str], *,
          can_write: bool, saved: bool = False, status_code: int = 200) -> Response:
    return render(request, FORM, {"warehouse": warehouse, "values": values, "errors": errors,
                                  "timezones": timezone_names(), "can_write": can_write, "saved": saved},
                  status_code=status_code)


@router.get("/warehouses")
def warehouses_page(request: Request, q: str | None = None, after: After = None,
                    principal: Principal = Require(Permission.WAREHOUSE_READ),
                    c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        page = queries.list_warehouses(conn, q=q, after=after)
    context = {"page": page, "q": q or "", "can_write": principal.can(Permission.WAREHOUSE_WRITE)}
    return list_or_rows(request, "warehouse-results", "warehouses/warehouses.html",
                        "warehouses/_warehouse_rows.html", context)


@router.get("/warehouses/new")
def new_warehouse_page(request: Request,
                       principal: Principal = Require(Permission.WAREHOUSE_WRITE)) -> Response:
    return _form(request, None, {"priority": 100, "timezone": "UTC", "active": True}, {}, can_write=True)


@router.post("/warehouses/new")
def create_warehouse(request: Request, form: dict[str, str] = Depends(form_data),
                     principal: Principal = Require(Permission.WAREHOUSE_WRITE),
                     c: Container = Depends(container)) -> Response:
    data = _warehouse_data(form)
    try:
        warehouse = validate_form(WarehouseIn, {k: v for k, v in data.items() if v is not None}, check_warehouse)
        with c.db.write() as conn:
            warehouse_id = handlers.create_warehouse(conn, warehouse, at=c.clock.now())
    except DomainError as exc:
        return _form(request, None, data, field_errors(exc), can_write=True, status_code=422)
    return RedirectResponse(f"/warehouses/{warehouse_id}?saved=1", status_code=303)


@router.get("/warehouses/{warehouse_id}")
def warehouse_page(request: Request, warehouse_id: RecordId, saved: bool = False,
                   principal: Principal = Require(Permission.WAREHOUSE_READ),
                   c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        warehouse = queries.get_warehouse(conn, warehouse_id)
    return _form(request, warehouse, warehouse.model_dump(), {}, saved=saved,
                 can_write=principal.can(Permission.WAREHOUSE_WRITE))


@router.post("/warehouses/{warehouse_id}")
def save_warehouse(request: Request, warehouse_id: RecordId, form: dict[str, str] = Depends(form_data),
                   principal: Principal = Require(Permission.WAREHOUSE_WRITE),
                   c: Container = Depends(container)) -> Response:
    data = _warehouse_data(form)
    try:
        patch = validate_form(WarehousePatch, data, check_warehouse)
        with c.db.write() as conn:
            handlers.update_warehouse(conn, warehouse_id, patch, at=c.clock.now())
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        with c.db.read() as conn:
            warehouse = queries.get_warehouse(conn, warehouse_id)
        return _form(request, warehouse, data, field_errors(exc), can_write=True, status_code=422)
    return RedirectResponse(f"/warehouses/{warehouse_id}?saved=1", status_code=303)
