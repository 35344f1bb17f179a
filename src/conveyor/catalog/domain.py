"""Product rules: SKU format, GTIN check digits, physical sizes and handling flags.

Pure: the standard library and conveyor.kernel only. Every problem is reported with a code and the field
at fault, all at once, so a person (or an importer) can fix them in one go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from conveyor.kernel.errors import ProblemCollector

SKU_PATTERN = re.compile(r"^[A-Za-z0-9\-_./]{1,64}$")
GTIN_LENGTHS = (8, 12, 13, 14)
MEASURES = ("weight_g", "length_mm", "width_mm", "height_mm")
FLAGS = ("regulated", "cold_chain", "hazardous", "active")
# The columns are 32-bit integers on PostgreSQL.
MAX_INT = 2_147_483_647
NAME_MAX = 200


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3,1,3,... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(value: str) -> bool:
    """GTIN-8, -12 (UPC-A), -13 (EAN) or -14, digits only, with a correct check digit."""
    if len(value) not in GTIN_LENGTHS or not re.fullmatch(r"[0-9]+", value):
        return False
    return int(value[-1]) == gtin_check_digit(value[:-1])


def gtin_equivalents(gtin: str) -> list[str]:
    """The spellings of one trade item number: a UPC-A 012345678905 is the EAN 0012345678905.

    GS1 compares GTINs right-aligned in 14 digits, so uniqueness must be checked against all of them."""
    padded = gtin.zfill(14)
    return [padded[-n:] for n in GTIN_LENGTHS if padded[:-n] == "0" * (14 - n)]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def check_sku(value: Any, problems: ProblemCollector, field: str = "sku") -> str | None:
    sku = _text(value)
    if sku is None:
        problems.add("required", "sku is required", field)
    elif not SKU_PATTERN.match(sku):
        problems.add("invalid_sku", "a SKU is 1 to 64 characters: letters, digits and - _ . /", field)
        return None
    return sku


def check_gtin(value: Any, problems: ProblemCollector, field: str = "gtin") -> str | None:
    gtin = _text(value)
    if gtin is None:
        return None
    if not re.fullmatch(r"[0-9]+", gtin) or len(gtin) not in GTIN_LENGTHS:
        problems.add("invalid_gtin", f"{gtin!r} is not a GTIN: 8, 12, 13 or 14 digits", field)
    elif not is_valid_gtin(gtin):
        expected = gtin_check_digit(gtin[:-1])
        problems.add("invalid_gtin", f"{gtin!r} has a wrong check digit (expected {expected})", field)
    return gtin


def check_measure(value: Any, problems: ProblemCollector, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add("invalid_type", f"{field} must be a whole number", field)
    elif value < 0:
        problems.add("negative_value", f"{field} cannot be negative", field)
    elif value > MAX_INT:
        problems.add("out_of_range", f"{field} is too large", field)
    return value if isinstance(value, int) else None


def check_product(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validates a whole product record (a new one, or an existing one with a patch applied) and returns
    it normalised for storage. Raises ValidationFailed with every problem found."""
    problems = ProblemCollector()
    clean: dict[str, Any] = {"sku": check_sku(data.get("sku"), problems)}
    name = _text(data.get("name"))
    if name is None:
        problems.add("required", "name is required", "name")
    elif len(name) > NAME_MAX:
        problems.add("too_long", f"name has at most {NAME_MAX} characters", "name")
    clean["name"] = name
    clean["description"] = _text(data.get("description"))
    clean["gtin"] = check_gtin(data.get("gtin"), problems)
    for field in MEASURES:
        clean[field] = check_measure(data.get(field), problems, field)
    for flag in FLAGS:
        value = data.get(flag, flag == "active")
        if not isinstance(value, bool):
            problems.add("required", f"{flag} must be true or false", flag)
        clean[flag] = value
    problems.raise_if_any()
    return clean


_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"", "0", "false", "no", "n"}


def parse_flag(raw: str | None, problems: ProblemCollector, field: str) -> bool:
    """A yes/no cell from a file: true/false, yes/no, 1/0 or empty (false)."""
    value = (raw or "").strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        problems.add("invalid_boolean", f"{field} must be true or false, got {raw!r}", field)
    return False


def parse_whole_number(raw: str | None, problems: ProblemCollector, field: str) -> int | None:
    value = (raw or "").strip()
    if not value:
        return None
    if not re.fullmatch(r"-?[0-9]+", value):
        problems.add("invalid_integer", f"{field} must be a whole number, got {raw!r}", field)
        return None
    return int(value)
