"""Warehouse DTOs for the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_EXAMPLE: dict[str, Any] = {"code": "RTM", "name": "Rotterdam DC", "line1": "Havenweg 1", "city": "Rotterdam",
            "postal_code": "3011 AA", "country": "NL", "latitude": 51.92, "longitude": 4.48, "priority": 10,
            "timezone": "Europe/Amsterdam"}


class WarehouseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    code: str = Field(description="1-16 characters: letters, digits, - and _")
    name: str
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str | None = Field(None, description="required except where the country has none")
    country: str = Field(description="ISO 3166 two-letter code")
    latitude: float | None = Field(None, description="-90 to 90; give both coordinates or neither")
    longitude: float | None = Field(None, description="-180 to 180")
    priority: int = Field(100, description="lower ships first when all else is equal")
    timezone: str = Field("UTC", description="IANA time zone, e.g. Europe/Amsterdam")
    active: bool = True


class WarehousePatch(BaseModel):
    """Only the fields sent are changed; send null to clear an optional field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"priority": 20}]})

    code: str | None = None
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    priority: int | None = None
    timezone: str | None = None
    active: bool | None = None


class WarehouseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
    latitude: float | None
    longitude: float | None
    priority: int
    timezone: str
    active: bool
    created_at: datetime
    updated_at: datetime


class WarehousePage(BaseModel):
    items: list[WarehouseOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last page")
