"""Reading JSON documents for the marketplace adapters (shopify.py, woocommerce.py, amazon.py). Pure.

Every reader here either returns a value of the expected type or raises `Invalid` naming the JSON path
(`orders[3].line_items[1].price`) and what was expected: the adapters turn that into a `Rejected`.

- Amounts are `Decimal`, read exactly from the document's text: JSON is parsed with `parse_float=Decimal`,
  strings such as "199.00" go straight to `Decimal`, and a float that a caller parsed already is read through
  its shortest repr ("0.1", never 0.1000000000000000055...). NaN and infinities are refused, and so are
  amounts with more than 15 digits before the point or more than 10 after it (no shop sends those, and
  arithmetic on them would overflow).
- Quantities are whole numbers from 1 to 1,000,000,000.
- Empty strings count as absent (shops send "" for every field a customer left empty).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation, localcontext
from typing import Any

from conveyor.channels.capture.model import Control, Rejected
from conveyor.kernel.money import exponent, is_currency

MAX_INTEGER_DIGITS = 15
MAX_DECIMALS = 10
MAX_QUANTITY = 1_000_000_000
_TAG = re.compile(r"^[\w][\w .:/-]{0,39}$")  # what the order core accepts as a tag (orders/domain.py)


class Invalid(Exception):
    """A piece of the document is missing or not what it should be; `path` is its JSON path."""

    def __init__(self, path: str, reason: str, code: str = "invalid_field") -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason
        self.code = code


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not allowed in JSON")


def load(data: bytes | str | object) -> object:
    """Bytes or text are parsed as JSON (UTF-8, a BOM is tolerated); anything else is taken as parsed JSON."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        try:
            text_data = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid("", f"the document is not UTF-8 text (byte {exc.start})", "invalid_json") from None
    elif isinstance(data, str):
        text_data = data.removeprefix("\ufeff")
    else:
        return data
    if not text_data.strip():
        raise Invalid("", "the document is empty, expected JSON", "invalid_json")
    try:
        return json.loads(text_data, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise Invalid("", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", "invalid_json") from None
    except (ValueError, RecursionError) as exc:
        raise Invalid("", f"invalid JSON: {exc}", "invalid_json") from None


def at(path: str, key: str | int) -> str:
    """The JSON path of `key` under `path`: at("orders[3]", "id") == "orders[3].id", at("", 2) == "[2]"."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def where(name: str, path: str) -> str:
    """What `Rejected.where` and `CapturedOrder.where` show: the file (or webhook) name and the JSON path."""
    return f"{name}: {path}" if path else name


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def is_list(value: object) -> bool:
    return isinstance(value, list | tuple)


def as_object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Invalid(path, f"expected an object, found {type_name(value)}")
    return value


def as_list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise Invalid(path, f"expected a list, found {type_name(value)}")
    return list(value)


def object_at(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    """The object under `key`; None when the key is absent or null."""
    value = parent.get(key)
    return None if value is None else as_object(value, at(path, key))


def list_at(parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
    """The list under `key`; empty when the key is absent or null."""
    value = parent.get(key)
    return [] if value is None else as_list(value, at(path, key))


def text(parent: Mapping[str, Any], key: str, path: str) -> str | None:
    """Text under `key` (a number is taken as its digits); None when absent, null or blank."""
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise Invalid(at(path, key), f"expected text, found {type_name(value)}")
    return value.strip() or None


def flag(parent: Mapping[str, Any], key: str, path: str) -> bool:
    """A true/false under `key`; absent or null is false."""
    value = parent.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise Invalid(at(path, key), f"expected true or false, found {type_name(value)}")
    return value


def identifier(parent: Mapping[str, Any], key: str, path: str, what: str) -> str:
    """A required id (text or whole number) as text."""
    if key not in parent or parent[key] is None:
        raise Invalid(at(path, key), f"missing {what}", "missing_field")
    value = parent[key]
    if isinstance(value, Decimal) and value == value.to_integral_value() and value.is_finite():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Invalid(at(path, key), f"{what} must be text or a whole number, found {type_name(value)}")
    result = str(value).strip()
    if not result:
        raise Invalid(at(path, key), f"missing {what}", "missing_field")
    if len(result) > 100:
        raise Invalid(at(path, key), f"{what} must be at most 100 characters, found {len(result)}")
    return result


def decimals(number: Decimal) -> int:
    """How many digits a finite Decimal has after the point (0 for 12, 2 for 1.50, 0 for 1E+2)."""
    exp = number.as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def to_decimal(value: object, path: str) -> Decimal:
    """A finite, reasonably sized amount from a string, number or Decimal."""
    if isinstance(value, bool):
        raise Invalid(path, f"expected an amount, found {type_name(value)}")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            raise Invalid(path, f"expected an amount, found {type_name(value)}")
    except (InvalidOperation, ValueError):
        raise Invalid(path, f"expected an amount, found {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise Invalid(path, f"expected a finite amount, found {number}")
    if number != 0 and (number.adjusted() >= MAX_INTEGER_DIGITS or decimals(number) > MAX_DECIMALS):
        raise Invalid(path, f"amount {str(value)[:40]} is out of range (at most {MAX_INTEGER_DIGITS} digits "
                            f"before the point and {MAX_DECIMALS} after)")
    return number


def amount(parent: Mapping[str, Any], key: str, path: str, *, negative: bool = False) -> Decimal | None:
    """The amount under `key`; None when absent, null or blank. Negative amounts are refused unless allowed."""
    value = parent.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = to_decimal(value, at(path, key))
    if number < 0 and not negative:
        raise Invalid(at(path, key), f"must not be negative, found {number}")
    return number


def total(values: Iterable[Decimal]) -> Decimal:
    with localcontext(prec=60):
        return sum(values, Decimal(0))


def quantity(parent: Mapping[str, Any], key: str, path: str) -> Decimal:
    """A required quantity: a whole number from 1 to MAX_QUANTITY (text such as "2" is accepted)."""
    if parent.get(key) is None:
        raise Invalid(at(path, key), "missing quantity", "missing_field")
    number = to_decimal(parent[key], at(path, key))
    if number != number.to_integral_value():
        raise Invalid(at(path, key), f"quantity must be a whole number, found {number}")
    if not 0 < number <= MAX_QUANTITY:
        raise Invalid(at(path, key), f"quantity must be between 1 and {MAX_QUANTITY}, found {number}")
    return Decimal(int(number))


def timestamp(parent: Mapping[str, Any], key: str, path: str, *, utc: bool = False) -> datetime | None:
    """An ISO 8601 date-time under `key`. With `utc`, a time without offset is read as UTC (WooCommerce *_gmt)."""
    value = text(parent, key, path)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(at(path, key), f"expected an ISO 8601 date-time, found {value[:40]!r}") from None
    if utc and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def unit_price(line_total: Decimal, qty: Decimal, currency: str | None) -> tuple[Decimal, Decimal]:
    """Splits a line total into a unit price and a rounding discount, exactly: unit * qty - rounding == line_total.

    The unit price has as many decimals as the total (at least the currency's minor units); when the total does
    not divide evenly (10.00 for 3), the unit price is rounded up (3.34) and the difference (0.02) is returned,
    to be added to the line's discount, so the line still totals what the document says.
    """
    places = max(decimals(line_total), exponent(currency) if currency and is_currency(currency) else 0)
    quantum = Decimal(1).scaleb(-places)
    with localcontext(prec=60):
        unit = (line_total / qty).quantize(quantum, rounding=ROUND_CEILING)
        return unit, unit * qty - line_total


def join_name(*parts: str | None) -> str | None:
    name = " ".join(part for part in parts if part)
    return name or None


def compact(**values: str | None) -> dict[str, str]:
    """The address keys that have a value (adapters never invent the others)."""
    return {key: value for key, value in values.items() if value}


def tag(prefix: str, value: str | None) -> tuple[str, ...]:
    """("prefix:value",) when that is a tag the order core accepts, else ()."""
    if not value:
        return ()
    candidate = f"{prefix}:{value.lstrip('#').strip()}"
    return (candidate,) if _TAG.match(candidate) else ()


def country(value: str | None) -> str | None:
    """The country code as the document gives it, upper-cased (the core checks it is ISO 3166-1 alpha-2)."""
    return value.upper() if value else None


def keys_of(value: Mapping[str, Any], limit: int = 6) -> str:
    names = [str(key) for key in list(value)[:limit]]
    more = ", ..." if len(value) > limit else ""
    return ", ".join(names) + more if names else "none"


def rejected(name: str, problem: Invalid, control: Control | None, external_id: str | None = None) -> Rejected:
    return Rejected(where=where(name, problem.path), reason=problem.reason, external_id=external_id,
                    control=control, code=problem.code)
