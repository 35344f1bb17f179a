"""Channel DTOs for the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from conveyor.channels.domain import KINDS, SHORTAGE_POLICIES

_KINDS = ", ".join(KINDS)
_POLICY = (f"when stock is short: one of {', '.join(SHORTAGE_POLICIES)}; null for the default (hold). "
           "A customer's own policy overrides it")
_SECRET = ("Shopify or WooCommerce webhook signing secret (8-200 characters), write-only: webhooks to "
           "/api/v1/channels/{code}/webhooks must be signed with it")


_RESERVE_FIRST = ("reserve stock when the order arrives even if review rules hold it (flash sales); otherwise "
                  "a held order's stock is reserved when someone approves it")


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"code": "webshop-nl", "name": "Web shop (NL)", "kind": "webshop", "default_currency": "EUR"}]})

    code: str = Field(description="2-32 characters: a-z, 0-9, - and _; used in URLs and the API")
    name: str
    kind: str = Field(description=f"one of {_KINDS}")
    default_currency: str = Field("EUR", description="ISO 4217 code for orders that name none")
    shortage_policy: str | None = Field(None, description=_POLICY)
    webhook_secret: str | None = Field(None, description=_SECRET)
    active: bool = True
    reserve_before_review: bool = Field(False, description=_RESERVE_FIRST)


class ChannelPatch(BaseModel):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})

    code: str | None = None
    name: str | None = None
    kind: str | None = Field(None, description=f"one of {_KINDS}")
    default_currency: str | None = None
    shortage_policy: str | None = Field(None, description=_POLICY + "; send null to clear it")
    webhook_secret: str | None = Field(None, description=_SECRET + "; send null to clear it")
    active: bool | None = None
    reserve_before_review: bool | None = Field(None, description=_RESERVE_FIRST)


class ChannelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    default_currency: str
    shortage_policy: str | None = Field(description=_POLICY)
    webhook_secret_set: bool = Field(False, description="whether a webhook secret is set (it is never shown)")
    active: bool
    reserve_before_review: bool = Field(False, description=_RESERVE_FIRST)
    created_at: datetime
    updated_at: datetime


class ChannelPage(BaseModel):
    items: list[ChannelOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last page")
