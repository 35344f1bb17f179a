"""Trading-partner DTOs for the API: the profile, and its item mappings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from conveyor.channels.partners.domain import (
    BUYER_ITEM_MAX,
    EDIFACT_DOCUMENTS,
    MAX_EACHES,
    MAX_ITEMS,
    PARTNER_ID_MAX,
    X12_DOCUMENTS,
)

_PARTNER_ID = (f"qualifier:id, at most {PARTNER_ID_MAX} characters, stored upper case and trimmed: ISA05:ISA06 "
               "for X12 (`ZZ:ACME`), the UNB qualifier and id for EDIFACT (`14:5412345000013`, or the id "
               "alone when their documents give no qualifier)")
_DOCUMENTS = (f"documents the partner expects back: on an edi_x12 channel {', '.join(X12_DOCUMENTS)}; "
              f"on an edifact channel {', '.join(EDIFACT_DOCUMENTS)}")
_UNITS = (f"the partner's units of measure: code (1-3 letters or digits) -> eaches per unit (1-{MAX_EACHES}); "
          "EA, PCE, C62 and the like always mean one each")
_CUSTOMER = "the account number of the customer whose orders these are"
_OUR_ID = "the id we answer as (qualifier:id), when it is not the receiver id they send to; null for that one"


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"partner_id": "ZZ:ACME", "name": "ACME Retail", "customer": "C-001", "documents": ["997", "855"],
         "units": {"CS": 12}}]})

    partner_id: str = Field(max_length=200, description=_PARTNER_ID)
    name: str = Field(max_length=1000)
    customer: str = Field(max_length=200, description=_CUSTOMER)
    our_id: str | None = Field(None, max_length=200, description=_OUR_ID)
    documents: list[str] = Field([], max_length=20, description=_DOCUMENTS)
    units: dict[str, int] = Field({}, max_length=100, description=_UNITS)
    active: bool = True


class PartnerPatch(BaseModel):
    """Only the fields sent are changed; `documents` and `units`, when sent, replace the stored ones."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"documents": ["997", "855", "856"], "units": {"CS": 12, "PL": 480}}]})

    name: str | None = Field(None, max_length=1000)
    customer: str | None = Field(None, max_length=200, description=_CUSTOMER)
    our_id: str | None = Field(None, max_length=200, description=_OUR_ID + "; send null to clear it")
    documents: list[str] | None = Field(None, max_length=20, description=_DOCUMENTS)
    units: dict[str, int] | None = Field(None, max_length=100, description=_UNITS)
    active: bool | None = None


class PartnerOut(BaseModel):
    id: int
    channel: str = Field(description="the channel's code")
    partner_id: str = Field(description=_PARTNER_ID)
    name: str
    customer: str = Field(description=_CUSTOMER)
    customer_name: str
    our_id: str | None = Field(description=_OUR_ID)
    documents: list[str] = Field(description=_DOCUMENTS)
    units: dict[str, int] = Field(description=_UNITS)
    active: bool = Field(description="inactive partners are not recognised when their documents arrive")
    item_count: int = Field(description="how many buyer items are mapped to our SKUs")
    created_at: datetime
    updated_at: datetime


class PartnerPage(BaseModel):
    items: list[PartnerOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last page")


class PartnerItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    buyer_item: str = Field(max_length=1000, description=f"the partner's part number or GTIN as they send it "
                                                         f"(at most {BUYER_ITEM_MAX} characters; case is kept)")
    sku: str = Field(max_length=1000, description="our SKU")


class PartnerItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"items": [{"buyer_item": "ACME-4711", "sku": "SKU-1"}, {"buyer_item": "05412345000020", "sku": "SKU-2"}]}]})

    items: list[PartnerItemIn] = Field(max_length=MAX_ITEMS)
    replace: bool = Field(False, description="true: the partner's mappings become exactly `items` (others are "
                                             "removed); false: `items` are added or changed, others are kept")


class PartnerItemOut(BaseModel):
    id: int
    buyer_item: str
    sku: str
    product_name: str


class PartnerItemPage(BaseModel):
    items: list[PartnerItemOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last page")


class PartnerItemsResult(BaseModel):
    added: int
    changed: int = Field(description="buyer items that now map to another SKU")
    unchanged: int
    removed: int = Field(description="with `replace`: mappings that were not in the list")
    total: int = Field(description="the partner's mappings after the change")
