"""Product screens: a searchable list, a create form and an edit form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from conveyor.bootstrap import Container
from conveyor.catalog import handlers, queries
from conveyor.catalog.domain import FLAGS, check_product
from conveyor.catalog.schemas import ProductIn, ProductPatch
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError, NotFound
from conveyor.platform.forms import field_errors, form_data, list_or_rows, text_fields, validate_form
from conveyor.platform.pagination import After, RecordId
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)

PRODUCT_TEXT = ("sku", "name", "description", "gtin", "weight_g", "length_mm", "width_mm", "height_mm")


def _product_data(form: dict[str, str]) -> dict[str, Any]:
    return {**text_fields(form, PRODUCT_TEXT), **{flag: flag in form for flag in FLAGS}}


@router.get("/products")
def products_page(request: Request, q: str | None = None, after: After = None,
                  principal: Principal = Require(Permission.CATALOG_READ),
                  c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        page = queries.list_products(conn, q=q, after=after)
    context = {"page": page, "q": q or "", "can_write": principal.can(Permission.CATALOG_WRITE)}
    return list_or_rows(request, "product-results", "catalog/products.html", "catalog/_product_rows.html",
                        context)


@router.get("/products/new")
def new_product_page(request: Request, principal: Principal = Require(Permission.CATALOG_WRITE)) -> Response:
    return render(request, "catalog/product_form.html",
                  {"product": None, "values": {"active": True}, "errors": {}, "can_write": True})


@router.post("/products/new")
def create_product(request: Request, form: dict[str, str] = Depends(form_data),
                   principal: Principal = Require(Permission.CATALOG_WRITE),
                   c: Container = Depends(container)) -> Response:
    data = _product_data(form)
    try:
        product = validate_form(ProductIn, {k: v for k, v in data.items() if v is not None}, check_product)
        with c.db.write() as conn:
            product_id = handlers.create_product(conn, product, at=c.clock.now())
    except DomainError as exc:
        return render(request, "catalog/product_form.html",
                      {"product": None, "values": data, "errors": field_errors(exc), "can_write": True},
                      status_code=422)
    return RedirectResponse(f"/products/{product_id}?saved=1", status_code=303)


@router.get("/products/{product_id}")
def product_page(request: Request, product_id: RecordId, saved: bool = False,
                 principal: Principal = Require(Permission.CATALOG_READ),
                 c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        product = queries.get_product(conn, product_id)
    return render(request, "catalog/product_form.html", {
        "product": product, "values": product.model_dump(), "errors": {}, "saved": saved,
        "can_write": principal.can(Permission.CATALOG_WRITE)})


@router.post("/products/{product_id}")
def save_product(request: Request, product_id: RecordId, form: dict[str, str] = Depends(form_data),
                 principal: Principal = Require(Permission.CATALOG_WRITE),
                 c: Container = Depends(container)) -> Response:
    data = _product_data(form)
    try:
        patch = validate_form(ProductPatch, data, check_product)
        with c.db.write() as conn:
            handlers.update_product(conn, product_id, patch, at=c.clock.now())
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        with c.db.read() as conn:
            product = queries.get_product(conn, product_id)
        return render(request, "catalog/product_form.html",
                      {"product": product, "values": data, "errors": field_errors(exc), "can_write": True},
                      status_code=422)
    return RedirectResponse(f"/products/{product_id}?saved=1", status_code=303)
