"""Stock DTOs for the API: the stock list, one SKU's stock, and the bodies of stock changes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# One booking moves at most this many units: far beyond any real receipt, and far from integer overflow.
MAX_QUANTITY = 10_000_000
SKU_FIELD = Field(min_length=1, max_length=64, description="the product's SKU")
WAREHOUSE_FIELD = Field(min_length=1, max_length=16, description="the warehouse's code")
REFERENCE_FIELD = Field(min_length=1, max_length=80, description="your document number (delivery note, "
                                                                 "count sheet, ...)")


class StockItem(BaseModel):
    """One SKU in one warehouse. ATP (available to promise) = on hand - reserved - safety, never below 0."""

    product_id: int
    sku: str
    name: str
    warehouse_id: int
    warehouse: str = Field(description="the warehouse's code")
    on_hand: int
    reserved: int
    safety: int
    available: int = Field(description="available to promise: on hand - reserved - safety, at least 0")
    incoming: int = Field(description="announced by advance ship notices, not yet received")


class StockPage(BaseModel):
    items: list[StockItem]
    next_after: str | None = Field(description="pass as `after` for the next page ('product:warehouse' ids); "
                                               "null on the last page")


class StockTotals(BaseModel):
    on_hand: int
    reserved: int
    safety: int
    available: int
    incoming: int


class Movement(BaseModel):
    id: int
    at: datetime
    warehouse: str
    kind: str = Field(description="receipt, asn, adjustment, count, transfer_out, transfer_in, reservation, "
                                  "release, shipment, return")
    on_hand_delta: int
    reserved_delta: int
    reference: str | None
    reason: str | None
    actor: str


class SkuStock(BaseModel):
    """One product in every warehouse (active ones, and any that hold a balance), totals, last movements."""

    product_id: int
    sku: str
    name: str
    warehouses: list[StockItem]
    totals: StockTotals
    movements: list[Movement] = Field(description="the latest 50, newest first")


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"sku": "SKU-1", "warehouse": "RTM", "quantity": 120, "reference": "DN-4711"},
        {"sku": "SKU-1", "warehouse": "RTM", "quantity": 500, "reference": "ASN-88", "asn": True}]})

    sku: str = SKU_FIELD
    warehouse: str = WAREHOUSE_FIELD
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    reference: str = REFERENCE_FIELD
    asn: bool = Field(False, description="an advance ship notice: only raises `incoming`; a later receipt "
                                         "with the same reference books the goods and lowers `incoming`")


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"sku": "SKU-1", "warehouse": "RTM", "delta": -2, "reason": "damaged in handling"}]})

    sku: str = SKU_FIELD
    warehouse: str = WAREHOUSE_FIELD
    delta: int = Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, description="units added (positive) or removed")
    reason: str = Field(min_length=1, max_length=500)


class CountIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"sku": "SKU-1", "warehouse": "RTM", "counted": 998, "reference": "CC-2026-11"}]})

    sku: str = SKU_FIELD
    warehouse: str = WAREHOUSE_FIELD
    counted: int = Field(ge=0, le=MAX_QUANTITY, description="units found on the shelf")
    reference: str = REFERENCE_FIELD


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"sku": "SKU-1", "from_warehouse": "RTM", "to_warehouse": "AMS", "quantity": 40}]})

    sku: str = SKU_FIELD
    from_warehouse: str = WAREHOUSE_FIELD
    to_warehouse: str = WAREHOUSE_FIELD
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class SafetyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"sku": "SKU-1", "warehouse": "RTM", "safety": 25}]})

    sku: str = SKU_FIELD
    warehouse: str = WAREHOUSE_FIELD
    safety: int = Field(ge=0, le=MAX_QUANTITY, description="units never promised to orders")


class CsvKind(StrEnum):
    RECEIPTS = "receipts"
    ADJUSTMENTS = "adjustments"
    COUNTS = "counts"
    TRANSFERS = "transfers"


class ImportResult(BaseModel):
    kind: CsvKind
    rows: int = Field(description="rows booked, all in one transaction")


class StockDifference(BaseModel):
    sku: str
    warehouse: str
    on_hand: int
    on_hand_from_ledger: int
    reserved: int
    reserved_from_ledger: int


class VerifyResult(BaseModel):
    ok: bool = Field(description="true when every balance equals the sum of its movements")
    differences: list[StockDifference]
