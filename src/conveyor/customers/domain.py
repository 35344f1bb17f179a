"""Customer rules: account numbers, credit terms, contacts, addresses and licences.

Pure: the standard library and conveyor.kernel only. Every problem is reported with a code and a field
path such as `addresses.0.postal_code`, all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from conveyor.kernel.address import check_address
from conveyor.kernel.errors import ProblemCollector
from conveyor.kernel.money import is_currency, to_minor

ACCOUNT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_./]{0,31}$")
CREDIT_RATINGS = ("A", "B", "C", "D", "E")
PAYMENT_TERMS = ("prepaid", "net15", "net30", "net60")
ADDRESS_KINDS = ("billing", "shipping")
# What intake does when stock is short (conveyor.inventory.allocation.ShortagePolicy); None: the channel's.
SHORTAGE_POLICIES = ("hold", "backorder", "reject")
# credit_limit_minor is a BIGINT; a sane ceiling keeps typos (an extra six zeros) out.
MAX_MINOR = 10**15

CUSTOMER_LENGTHS = {"name": 200, "email": 254, "phone": 40}
CONTACT_LENGTHS = {"name": 200, "email": 254, "phone": 40, "role": 60}
ADDRESS_LENGTHS = {"name": 200, "company": 200, "line1": 200, "line2": 200, "city": 100, "region": 100,
                   "postal_code": 20, "phone": 40, "email": 254}
# A licence's kind says what it allows (pharmacy, alcohol, tobacco); review rules match it as stored.
LICENCE_KIND_PATTERN = re.compile(r"^[a-z0-9_-]{1,40}$")
LICENCE_NUMBER_MAX = 60
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Where a licence stands on a given day: valid_from and valid_until are both inclusive.
LicenceStatus = Literal["valid", "expired", "not_yet_valid"]


@dataclass(frozen=True)
class CustomerRecord:
    """A validated customer, ready to store. A list that is None was not given: leave it as it is."""

    fields: dict[str, Any]
    contacts: list[dict[str, Any]] | None
    addresses: list[dict[str, Any]] | None


def _text(value: Any) -> str | None:
    return None if value is None else (str(value).strip() or None)


def _path(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def check_lengths(data: Mapping[str, Any], limits: Mapping[str, int], problems: ProblemCollector,
                  prefix: str = "") -> None:
    for key, limit in limits.items():
        value = _text(data.get(key))
        if value is not None and len(value) > limit:
            problems.add("too_long", f"{key} has at most {limit} characters", _path(prefix, key))


def check_email(value: Any, problems: ProblemCollector, field: str) -> str | None:
    email = _text(value)
    if email is not None and ("@" not in email or email.startswith("@") or email.endswith("@")):
        problems.add("invalid_email", "email must be an address like name@example.com", field)
    return email


def check_credit_limit(amount: Any, currency: str, problems: ProblemCollector) -> int:
    """The credit limit as a decimal string in the customer's currency, to minor units."""
    if not is_currency(currency):
        return 0  # the currency problem is reported on its own field
    try:
        minor = to_minor(_text(amount) or "0", currency)
    except ValueError as exc:
        problems.add("invalid_amount", f"credit_limit must be an amount such as 5000.00: {exc}", "credit_limit")
        return 0
    if minor < 0:
        problems.add("negative_value", "credit_limit cannot be negative", "credit_limit")
    elif minor > MAX_MINOR:
        problems.add("out_of_range", "credit_limit is too large", "credit_limit")
    return minor


def check_contacts(contacts: Sequence[Mapping[str, Any]], problems: ProblemCollector) -> list[dict[str, Any]]:
    clean = []
    for i, contact in enumerate(contacts):
        prefix = f"contacts.{i}"
        if _text(contact.get("name")) is None:
            problems.add("required", "name is required", f"{prefix}.name")
        check_lengths(contact, CONTACT_LENGTHS, problems, prefix)
        email = check_email(contact.get("email"), problems, f"{prefix}.email")
        clean.append({"name": _text(contact.get("name")), "email": email, "phone": _text(contact.get("phone")),
                      "role": _text(contact.get("role"))})
    return clean


def check_addresses(addresses: Sequence[Mapping[str, Any]], problems: ProblemCollector) -> list[dict[str, Any]]:
    clean = []
    defaults: set[str] = set()
    for i, data in enumerate(addresses):
        prefix = f"addresses.{i}"
        kind = _text(data.get("kind"))
        if kind not in ADDRESS_KINDS:
            problems.add("invalid_address_kind", "kind must be billing or shipping", f"{prefix}.kind")
        is_default = data.get("is_default", False)
        if not isinstance(is_default, bool):
            problems.add("required", "is_default must be true or false", f"{prefix}.is_default")
        elif is_default and kind in defaults:
            problems.add("duplicate_default", f"only one {kind} address can be the default",
                         f"{prefix}.is_default")
        elif is_default and kind:
            defaults.add(kind)
        check_lengths(data, ADDRESS_LENGTHS, problems, prefix)
        address = check_address(dict(data), problems, prefix)
        if address is not None:
            clean.append({"kind": kind, "is_default": is_default, **address.as_dict()})
    return clean


def check_customer(data: Mapping[str, Any]) -> CustomerRecord:
    """Validates a whole customer (new, or existing with a patch applied); raises ValidationFailed.

    `contacts` and `addresses` are checked when present; they replace the stored lists."""
    problems = ProblemCollector()
    account = _text(data.get("account"))
    if account is None:
        problems.add("required", "account is required", "account")
    elif not ACCOUNT_PATTERN.match(account):
        problems.add("invalid_account", "an account is 1 to 32 characters: letters, digits and - _ . /",
                     "account")
    name = _text(data.get("name"))
    if name is None:
        problems.add("required", "name is required", "name")
    check_lengths(data, CUSTOMER_LENGTHS, problems)
    email = check_email(data.get("email"), problems, "email")
    currency = (_text(data.get("currency")) or "").upper()
    if not is_currency(currency):
        problems.add("invalid_currency", "currency must be an ISO 4217 code such as EUR", "currency")
    credit_limit_minor = check_credit_limit(data.get("credit_limit"), currency, problems)
    rating = (_text(data.get("credit_rating")) or "").upper()
    if rating not in CREDIT_RATINGS:
        problems.add("invalid_credit_rating", "credit_rating is A (best) to E", "credit_rating")
    terms = (_text(data.get("payment_terms")) or "").lower()
    if terms not in PAYMENT_TERMS:
        problems.add("invalid_payment_terms", f"payment_terms must be one of {', '.join(PAYMENT_TERMS)}",
                     "payment_terms")
    policy = _text(data.get("shortage_policy"))
    if policy is not None and policy not in SHORTAGE_POLICIES:
        problems.add("invalid_shortage_policy",
                     f"shortage_policy must be one of {', '.join(SHORTAGE_POLICIES)}, or null for the channel's",
                     "shortage_policy")
    active = data.get("active", True)
    if not isinstance(active, bool):
        problems.add("required", "active must be true or false", "active")
    contacts = data.get("contacts")
    addresses = data.get("addresses")
    clean_contacts = None if contacts is None else check_contacts(contacts, problems)
    clean_addresses = None if addresses is None else check_addresses(addresses, problems)
    problems.raise_if_any()
    fields = {"account": account, "name": name, "email": email, "phone": _text(data.get("phone")),
              "credit_limit_minor": credit_limit_minor, "currency": currency, "credit_rating": rating,
              "payment_terms": terms, "shortage_policy": policy, "active": active}
    return CustomerRecord(fields, clean_contacts, clean_addresses)


def _date(value: Any, problems: ProblemCollector, field: str) -> date | None:
    """A date, an ISO `YYYY-MM-DD` string, or nothing (None or blank)."""
    if value is None or isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        return None
    try:
        if ISO_DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    problems.add("invalid_date", f"{field} must be a date such as 2027-12-31 (YYYY-MM-DD), not {text!r}", field)
    return None


def check_licence(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validates a customer licence; raises ValidationFailed with every problem.

    Returns the fields to store: `kind` lower-cased (1-40 letters, digits, - and _), `number` (1-60
    characters), `valid_from` and `valid_until` (dates or None; both inclusive; the end not before the start).
    """
    problems = ProblemCollector()
    kind = (_text(data.get("kind")) or "").lower() or None
    if kind is None:
        problems.add("required", "kind is required, e.g. pharmacy or alcohol", "kind")
    elif not LICENCE_KIND_PATTERN.match(kind):
        problems.add("invalid_licence_kind", "a licence kind is 1 to 40 characters: letters, digits, - and _",
                     "kind")
    number = _text(data.get("number"))
    if number is None:
        problems.add("required", "number is required", "number")
    elif len(number) > LICENCE_NUMBER_MAX:
        problems.add("too_long", f"number has at most {LICENCE_NUMBER_MAX} characters", "number")
    valid_from = _date(data.get("valid_from"), problems, "valid_from")
    valid_until = _date(data.get("valid_until"), problems, "valid_until")
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        problems.add("invalid_period", "valid_until cannot be before valid_from", "valid_until")
    problems.raise_if_any()
    return {"kind": kind, "number": number, "valid_from": valid_from, "valid_until": valid_until}


def licence_status(valid_from: date | None, valid_until: date | None, today: date) -> LicenceStatus:
    """valid, expired or not_yet_valid on `today` (both ends inclusive; None: open-ended)."""
    if valid_from is not None and today < valid_from:
        return "not_yet_valid"
    if valid_until is not None and today > valid_until:
        return "expired"
    return "valid"
