"""Product DTOs for the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_PRODUCT_EXAMPLE: dict[str, Any] = {
    "sku": "FLOUR-25KG", "name": "Bread flour, 25 kg sack", "gtin": "4006381333931", "weight_g": 25000,
    "length_mm": 600, "width_mm": 400, "height_mm": 120, "regulated": False, "cold_chain": False,
    "hazardous": False,
}


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_PRODUCT_EXAMPLE]})

    sku: str = Field(description="1-64 characters: letters, digits and - _ . /")
    name: str = Field(description="at most 200 characters")
    description: str | None = None
    gtin: str | None = Field(None, description="GTIN-8, -12, -13 or -14; the check digit is verified")
    weight_g: int | None = Field(None, description="grams, not negative")
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    regulated: bool = Field(False, description="only customers with a licence may order it")
    cold_chain: bool = Field(False, description="needs temperature-controlled shipping")
    hazardous: bool = False
    active: bool = True


class ProductPatch(BaseModel):
    """Only the fields sent are changed; send null to clear an optional field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"weight_g": 24800}]})

    sku: str | None = None
    name: str | None = None
    description: str | None = None
    gtin: str | None = None
    weight_g: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    regulated: bool | None = None
    cold_chain: bool | None = None
    hazardous: bool | None = None
    active: bool | None = None


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    description: str | None
    gtin: str | None
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    regulated: bool
    cold_chain: bool
    hazardous: bool
    active: bool
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last page")
