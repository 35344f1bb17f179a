"""Warehouse rules: code, address, coordinates and time zone. Pure: stdlib and conveyor.kernel only."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from conveyor.kernel.address import check_address
from conveyor.kernel.errors import ProblemCollector

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
NAME_MAX = 200
MAX_PRIORITY = 1_000_000
ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")
LENGTHS = {"line1": 200, "line2": 200, "city": 100, "region": 100, "postal_code": 20, "timezone": 64}


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_names() -> list[str]:
    return sorted(_timezones() | {"UTC"})


def is_timezone(name: str) -> bool:
    """An IANA time zone name such as Europe/Amsterdam (the warehouse's working hours are local)."""
    return name == "UTC" or name in _timezones()


def _text(value: Any) -> str | None:
    return None if value is None else (str(value).strip() or None)


def check_coordinate(value: Any, limit: float, problems: ProblemCollector, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.add("invalid_type", f"{field} must be a number", field)
        return None
    if not -limit <= value <= limit:
        problems.add(f"invalid_{field}", f"{field} must be between -{limit:g} and {limit:g}", field)
        return None
    return float(value)


def check_warehouse(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validates a whole warehouse record and returns it normalised; raises ValidationFailed."""
    problems = ProblemCollector()
    code = _text(data.get("code"))
    if code is None:
        problems.add("required", "code is required", "code")
    elif not CODE_PATTERN.match(code):
        problems.add("invalid_code", "a warehouse code is 1 to 16 characters: letters, digits, - and _", "code")
    name = _text(data.get("name"))
    if name is None:
        problems.add("required", "name is required", "name")
    elif len(name) > NAME_MAX:
        problems.add("too_long", f"name has at most {NAME_MAX} characters", "name")

    # The kernel's address check, with the warehouse's flat fields (no "address." prefix in the paths).
    found = ProblemCollector()
    address = check_address({"name": name or "-", **{k: data.get(k) for k in ADDRESS_FIELDS}}, found, "address")
    for p in found.problems:
        problems.add(p.code, p.message, (p.field or "").removeprefix("address.") or None)
    for key, limit in LENGTHS.items():
        if len(_text(data.get(key)) or "") > limit:
            problems.add("too_long", f"{key} has at most {limit} characters", key)

    latitude = check_coordinate(data.get("latitude"), 90, problems, "latitude")
    longitude = check_coordinate(data.get("longitude"), 180, problems, "longitude")
    if (data.get("latitude") is None) != (data.get("longitude") is None):
        missing = "longitude" if data.get("longitude") is None else "latitude"
        problems.add("incomplete_coordinates", "give both latitude and longitude, or neither", missing)

    priority = data.get("priority", 100)
    if isinstance(priority, bool) or not isinstance(priority, int):
        problems.add("invalid_type", "priority must be a whole number", "priority")
    elif not 0 <= priority <= MAX_PRIORITY:
        problems.add("out_of_range", f"priority must be between 0 and {MAX_PRIORITY} (lower ships first)",
                     "priority")
    timezone = _text(data.get("timezone")) or ""
    if not is_timezone(timezone):
        problems.add("invalid_timezone", f"{timezone!r} is not an IANA time zone such as Europe/Amsterdam",
                     "timezone")
    active = data.get("active", True)
    if not isinstance(active, bool):
        problems.add("required", "active must be true or false", "active")
    problems.raise_if_any()
    assert address is not None
    return {
        "code": code, "name": name, "line1": address.line1, "line2": address.line2, "city": address.city,
        "region": address.region, "postal_code": address.postal_code, "country": address.country,
        "latitude": latitude, "longitude": longitude, "priority": priority, "timezone": timezone,
        "active": active,
    }
