"""Customer DTOs for the API: the account, its credit terms, contacts, addresses and licences.

Money is a decimal string in the customer's currency: `"credit_limit": "5000.00", "currency": "EUR"`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from conveyor.customers.domain import (
    CREDIT_RATINGS,
    LICENCE_NUMBER_MAX,
    PAYMENT_TERMS,
    SHORTAGE_POLICIES,
    LicenceStatus,
)

_POLICY = (f"when stock is short: one of {', '.join(SHORTAGE_POLICIES)}; null to follow the channel's policy "
           "(which defaults to hold)")


class CustomerContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = Field(None, description="e.g. purchasing, accounts payable")


class CustomerContactOut(CustomerContactIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class CustomerAddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="billing or shipping")
    is_default: bool = Field(False, description="at most one default per kind")
    name: str
    company: str | None = None
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str | None = Field(None, description="required except where the country has none")
    country: str = Field(description="ISO 3166 two-letter code")
    phone: str | None = None
    email: str | None = None


class CustomerAddressOut(CustomerAddressIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class CustomerLicenceIn(BaseModel):
    """A licence the customer holds; regulated products are sold only with one valid on the order date."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "pharmacy", "number": "NL-APO-2026-0042", "valid_from": "2026-01-01", "valid_until": "2027-12-31"}]})

    kind: str = Field(description="what it allows, e.g. pharmacy, alcohol, tobacco: 1-40 letters, digits, - and _ "
                                  "(stored in lower case)")
    number: str = Field(description=f"the licence number as issued, 1-{LICENCE_NUMBER_MAX} characters")
    valid_from: date | None = Field(None, description="the first day it is valid; null: valid until it ends")
    valid_until: date | None = Field(None, description="the last day it is valid (inclusive); null: no end")


class CustomerLicenceOut(BaseModel):
    id: int
    kind: str
    number: str
    valid_from: date | None
    valid_until: date | None = Field(description="inclusive; null: no end")
    status: LicenceStatus = Field(description="where it stands today")
    valid_today: bool = Field(description="valid on today's date (both ends inclusive)")
    created_at: datetime
    created_by: str = Field(description="who recorded it, e.g. `user:anna@example.com`")


_EXAMPLE: dict[str, Any] = {
    "account": "C-100", "name": "De Vries Bakkerij", "email": "orders@devries.example", "credit_limit": "5000.00",
    "currency": "EUR", "credit_rating": "B", "payment_terms": "net30",
    "contacts": [{"name": "Anna de Vries", "email": "anna@devries.example", "role": "purchasing"}],
    "addresses": [{"kind": "shipping", "is_default": True, "name": "De Vries Bakkerij",
                   "line1": "Prinsengracht 263", "city": "Amsterdam", "postal_code": "1016 GV", "country": "NL"}],
}


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    account: str = Field(description="the account number people quote: 1-32 letters, digits, - _ . /")
    name: str
    email: str | None = None
    phone: str | None = None
    credit_limit: str = Field("0", description="decimal amount in `currency`, e.g. \"5000.00\"")
    currency: str = Field("EUR", description="ISO 4217 code")
    credit_rating: str = Field("B", description=f"one of {', '.join(CREDIT_RATINGS)} (A is best)")
    payment_terms: str = Field("prepaid", description=f"one of {', '.join(PAYMENT_TERMS)}")
    shortage_policy: str | None = Field(None, description=_POLICY)
    active: bool = True
    contacts: list[CustomerContactIn] = []
    addresses: list[CustomerAddressIn] = []


class CustomerPatch(BaseModel):
    """Only the fields sent are changed. `contacts` or `addresses`, when sent, replace the whole list."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"credit_limit": "7500.00", "payment_terms": "net60"}]})

    account: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    credit_limit: str | None = None
    currency: str | None = None
    credit_rating: str | None = None
    payment_terms: str | None = None
    shortage_policy: str | None = Field(None, description=_POLICY + "; send null to clear it")
    active: bool | None = None
    contacts: list[CustomerContactIn] | None = None
    addresses: list[CustomerAddressIn] | None = None


class CustomerOut(BaseModel):
    id: int
    account: str
    name: str
    email: str | None
    phone: str | None
    credit_limit: str = Field(description="decimal amount in `currency`")
    currency: str
    credit_rating: str
    payment_terms: str
    shortage_policy: str | None = Field(description=_POLICY)
    active: bool
    contacts: list[CustomerContactOut]
    addresses: list[CustomerAddressOut]
    licences: list[CustomerLicenceOut] = Field(
        description="licences on file, for regulated products; change them at `/api/v1/customers/{account}/licences`")
    created_at: datetime
    updated_at: datetime

    def default_address(self, kind: str) -> CustomerAddressOut | None:
        return next((a for a in self.addresses if a.kind == kind and a.is_default), None)


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last page")
