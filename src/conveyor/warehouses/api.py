"""Warehouses over JSON: list and search, create, read and change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.platform.pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from conveyor.platform.problems import problem_responses
from conveyor.warehouses import handlers, queries
from conveyor.warehouses.schemas import WarehouseIn, WarehouseOut, WarehousePage, WarehousePatch

router = APIRouter(prefix="/api/v1/warehouses", tags=["warehouses"])
WarehouseId = Annotated[int, Path(ge=1, le=MAX_ID, description="the warehouse's id")]


@router.get("", response_model=WarehousePage, responses=problem_responses(401, 403, 422),
            summary="List and search warehouses")
def list_warehouses(
    q: str | None = Query(None, max_length=200, description="part of a code or name"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    after: int | None = Query(None, ge=0, le=MAX_ID,
                              description="the `next_after` of the previous page"),
    principal: Principal = Require(Permission.WAREHOUSE_READ),
    c: Container = Depends(container),
) -> WarehousePage:
    with c.db.read() as conn:
        return queries.list_warehouses(conn, q=q, limit=limit, after=after)


@router.post("", status_code=201, response_model=WarehouseOut,
             responses=problem_responses(400, 401, 403, 409, 422), summary="Create a warehouse")
def create_warehouse(data: WarehouseIn, response: Response,
                     principal: Principal = Require(Permission.WAREHOUSE_WRITE),
                     c: Container = Depends(container)) -> WarehouseOut:
    with c.db.write() as conn:
        warehouse_id = handlers.create_warehouse(conn, data, at=c.clock.now())
        warehouse = queries.get_warehouse(conn, warehouse_id)
    response.headers["Location"] = f"{router.prefix}/{warehouse_id}"
    return warehouse


@router.get("/{warehouse_id}", response_model=WarehouseOut, responses=problem_responses(401, 403, 404, 422),
            summary="Get a warehouse")
def get_warehouse(warehouse_id: WarehouseId, principal: Principal = Require(Permission.WAREHOUSE_READ),
                  c: Container = Depends(container)) -> WarehouseOut:
    with c.db.read() as conn:
        return queries.get_warehouse(conn, warehouse_id)


@router.patch("/{warehouse_id}", response_model=WarehouseOut,
              responses=problem_responses(400, 401, 403, 404, 409, 422), summary="Change a warehouse")
def update_warehouse(warehouse_id: WarehouseId, patch: WarehousePatch,
                     principal: Principal = Require(Permission.WAREHOUSE_WRITE),
                     c: Container = Depends(container)) -> WarehouseOut:
    with c.db.write() as conn:
        handlers.update_warehouse(conn, warehouse_id, patch, at=c.clock.now())
        return queries.get_warehouse(conn, warehouse_id)
