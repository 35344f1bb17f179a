"""Channel rules: a URL-safe code, a known kind of capture, a currency. Pure: stdlib and conveyor.kernel."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from conveyor.kernel.errors import ProblemCollector
from conveyor.kernel.money import is_currency

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
NAME_MAX = 200


class ChannelKind(StrEnum):
    API = "api"
    WEBSHOP = "webshop"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    AMAZON = "amazon"
    EDI_X12 = "edi_x12"
    EDIFACT = "edifact"
    CSV = "csv"
    PHONE = "phone"


KINDS = tuple(kind.value for kind in ChannelKind)
# What intake does when stock is short (conveyor.inventory.allocation.ShortagePolicy); None means hold.
SHORTAGE_POLICIES = ("hold", "backorder", "reject")


def _text(value: Any) -> str | None:
    return None if value is None else (str(value).strip() or None)


def check_channel(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validates a whole channel record and returns it normalised; raises ValidationFailed."""
    problems = ProblemCollector()
    code = _text(data.get("code"))
    if code is None:
        problems.add("required", "code is required", "code")
    elif not CODE_PATTERN.match(code):
        problems.add("invalid_code", "a channel code is 2 to 32 characters: lower-case letters, digits, - and _, "
                     "starting with a letter or digit", "code")
    name = _text(data.get("name"))
    if name is None:
        problems.add("required", "name is required", "name")
    elif len(name) > NAME_MAX:
        problems.add("too_long", f"name has at most {NAME_MAX} characters", "name")
    kind = _text(data.get("kind"))
    if kind not in KINDS:
        problems.add("invalid_kind", f"kind must be one of {', '.join(KINDS)}", "kind")
    currency = (_text(data.get("default_currency")) or "").upper()
    if not is_currency(currency):
        problems.add("invalid_currency", "default_currency must be an ISO 4217 code such as EUR",
                     "default_currency")
    policy = _text(data.get("shortage_policy"))
    if policy is not None and policy not in SHORTAGE_POLICIES:
        problems.add("invalid_shortage_policy",
                     f"shortage_policy must be one of {', '.join(SHORTAGE_POLICIES)}, or null for hold",
                     "shortage_policy")
    secret = data.get("webhook_secret")
    if secret is not None and (not isinstance(secret, str) or not 8 <= len(secret.strip()) <= 200):
        problems.add("invalid_webhook_secret", "webhook_secret is 8 to 200 characters", "webhook_secret")
    active = data.get("active", True)
    if not isinstance(active, bool):
        problems.add("required", "active must be true or false", "active")
    reserve_first = data.get("reserve_before_review", False)
    if not isinstance(reserve_first, bool):
        problems.add("required", "reserve_before_review must be true or false", "reserve_before_review")
    problems.raise_if_any()
    return {"code": code, "name": name, "kind": kind, "default_currency": currency,
            "shortage_policy": policy, "webhook_secret": secret.strip() if isinstance(secret, str) else None,
            "active": active, "reserve_before_review": reserve_first}
