"""Products over JSON: list and search, create, read (by id or SKU) and change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from conveyor.bootstrap import Container
from conveyor.catalog import handlers, queries
from conveyor.catalog.schemas import ProductIn, ProductOut, ProductPage, ProductPatch
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1/products", tags=["catalog"])
ProductId = Annotated[int, Path(ge=1, le=MAX_ID, description="the product's id")]


@router.get("", response_model=ProductPage, responses=problem_responses(401, 403, 422),
            summary="List and search products")
def list_products(
    q: str | None = Query(None, max_length=200, description="part of a SKU, name or GTIN"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    after: int | None = Query(None, ge=0, le=MAX_ID,
                              description="the `next_after` of the previous page"),
    principal: Principal = Require(Permission.CATALOG_READ),
    c: Container = Depends(container),
) -> ProductPage:
    with c.db.read() as conn:
        return queries.list_products(conn, q=q, limit=limit, after=after)


@router.post("", status_code=201, response_model=ProductOut,
             responses=problem_responses(400, 401, 403, 409, 422), summary="Create a product")
def create_product(data: ProductIn, response: Response,
                   principal: Principal = Require(Permission.CATALOG_WRITE),
                   c: Container = Depends(container)) -> ProductOut:
    with c.db.write() as conn:
        product_id = handlers.create_product(conn, data, at=c.clock.now())
        product = queries.get_product(conn, product_id)
    response.headers["Location"] = f"{router.prefix}/{product_id}"
    return product


@router.get("/by-sku/{sku:path}", response_model=ProductOut, responses=problem_responses(401, 403, 404, 422),
            summary="Get a product by its SKU")
def get_product_by_sku(sku: str, principal: Principal = Require(Permission.CATALOG_READ),
                       c: Container = Depends(container)) -> ProductOut:
    with c.db.read() as conn:
        return queries.get_product_by_sku(conn, sku)


@router.get("/{product_id}", response_model=ProductOut, responses=problem_responses(401, 403, 404, 422),
            summary="Get a product")
def get_product(product_id: ProductId, principal: Principal = Require(Permission.CATALOG_READ),
                c: Container = Depends(container)) -> ProductOut:
    with c.db.read() as conn:
        return queries.get_product(conn, product_id)


@router.patch("/{product_id}", response_model=ProductOut,
              responses=problem_responses(400, 401, 403, 404, 409, 422), summary="Change a product")
def update_product(product_id: ProductId, patch: ProductPatch,
                   principal: Principal = Require(Permission.CATALOG_WRITE),
                   c: Container = Depends(container)) -> ProductOut:
    with c.db.write() as conn:
        handlers.update_product(conn, product_id, patch, at=c.clock.now())
        return queries.get_product(conn, product_id)
