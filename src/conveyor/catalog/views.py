"""Product screens: a searchable list, a create form and an edit form.

The form helpers at the top are shared by the other reference-data screens (customers, warehouses,
channels): read a posted form, and turn any refusal into messages keyed by form field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from conveyor.bootstrap import Container
from conveyor.catalog import handlers, queries
from conveyor.catalog.domain import FLAGS, check_product
from conveyor.catalog.schemas import ProductIn, ProductPatch
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError, FieldProblem, NotFound, ValidationFailed
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)

FORM_ERROR = "_form"  # the key of a problem that belongs to no single field
Model = TypeVar("Model", bound=BaseModel)
# Ids beyond what a database holds are refused as input rather than overflowing the driver.
RecordId = Annotated[int, Path(ge=1, le=queries.MAX_ID)]
After = Annotated[int | None, Query(ge=0, le=queries.MAX_ID)]


async def form_data(request: Request) -> dict[str, str]:
    """The posted form as text fields (the CSRF check has already parsed and cached it)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def text_fields(form: dict[str, str], names: Iterable[str]) -> dict[str, str | None]:
    """Form text with blanks as None, so an empty optional field clears it."""
    return {name: (form.get(name) or "").strip() or None for name in names}


def field_errors(exc: DomainError | ValidationError, to_field: Callable[[str], str] = lambda path: path,
                 shown: Iterable[str] | None = None) -> dict[str, str]:
    """Messages keyed by form field name; `to_field` maps an API field path to the form's name. A problem
    with no field, or with a field the form does not show (`shown`), goes to the top of the form."""
    errors: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        found = [(".".join(str(p) for p in e["loc"]), str(e["msg"])) for e in exc.errors()]
    else:
        found = [(p.field or "", p.message) for p in exc.problems]
    visible = None if shown is None else set(shown)
    for path, message in found:
        field = to_field(path) if path else FORM_ERROR
        if visible is not None and field not in visible:
            field, message = FORM_ERROR, f"{path}: {message}" if path else message
        errors.setdefault(field, message)
    return errors


def validate_form(model: type[Model], data: dict[str, Any], rules: Callable[[dict[str, Any]], Any]) -> Model:
    """Parses form data into `model`. When a field has the wrong type, the area's rules still run on the
    other fields, so the form comes back with every problem at once (raised as ValidationFailed)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [FieldProblem(str(e["type"]), str(e["msg"]), ".".join(str(p) for p in e["loc"]))
                    for e in exc.errors()]
    bad = {p.field for p in problems}
    try:
        rules({key: value for key, value in data.items() if key not in bad})
    except DomainError as refused:
        problems += [p for p in refused.problems if p.field not in bad]
    raise ValidationFailed.of(problems)


def list_or_rows(request: Request, target: str, page_template: str, rows_template: str,
                 context: dict[str, Any]) -> Response:
    """The whole page, or only the results block when htmx's live search asks for it."""
    if request.headers.get("hx-target") == target:
        return render(request, rows_template, context)
    return render(request, page_template, context)


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
