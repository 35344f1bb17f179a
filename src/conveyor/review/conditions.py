"""The `condition` rule kind's small language: clauses `{"fact", "op", "value"}` over the order, its customer and
its lines, combined with "all" or "any". Pure.

Facts have a type that decides the operators a clause may use:
- money and int: eq ne gt ge lt le (money values are decimal strings in major units, compared in the fact's
  currency: the order's for the order total, the customer's for their credit limit and exposure);
- text: eq ne in not_in contains starts_with, all case-insensitive;
- list (the order's tags, its lines' SKUs): contains, not_contains, in (some element is one of the values);
- bool: is (true or false).
"Any line" facts (line.*) are met when some line meets the clause.

Also here: the money helpers the rule kinds share (parsing a manager's amount, converting it for an order).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from conveyor.kernel.address import COUNTRIES
from conveyor.kernel.errors import ProblemCollector
from conveyor.kernel.money import Money, exponent, format_minor, is_currency, to_minor
from conveyor.review.model import OrderFacts

MAX_CLAUSES = 20
MAX_VALUES = 200           # items in an in / not_in list
MAX_TEXT = 200             # characters in a text value
MAX_AMOUNT = Decimal(10) ** 12
MAX_DECIMALS = 3           # the most any ISO 4217 currency has (BHD, KWD, ...)


# Money ---------------------------------------------------------------------------------------------------

def normalise_money(value: Any) -> str:
    """A manager's amount as a canonical decimal string ("1000" -> "1000.00"); ValueError says what is wrong.

    Rules are not tied to a currency, so up to three decimals are accepted; an amount finer than an order's
    currency still compares exactly (see `money_minor`)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be an amount such as 1000.00")
    try:
        # No thousands separators: "1,5" could mean 1.5 or 15, so it is refused rather than guessed.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be an amount such as 1000.00") from None
    if not amount.is_finite():
        raise ValueError("must be an amount such as 1000.00")
    if amount < 0:
        raise ValueError("must not be negative")
    if amount >= MAX_AMOUNT:
        raise ValueError(f"must be less than {MAX_AMOUNT:,}")
    decimals = max(0, -int(amount.normalize().as_tuple().exponent))
    if decimals > MAX_DECIMALS:
        raise ValueError(f"has at most {MAX_DECIMALS} decimals")
    return format(amount.quantize(Decimal(1).scaleb(-max(2, decimals))), "f")


@lru_cache(maxsize=4096)
def money_minor(value: str, currency: str) -> int | Decimal:
    """A normalised amount in `currency`'s minor units, parsed once per (amount, currency).

    Usually an int (kernel.money.to_minor). An amount finer than the currency ("1000.50" for JPY) stays an exact
    Decimal: totals are whole minor units, so comparing with it is still exact ("total >= 1000.5" means 1001)."""
    try:
        return to_minor(value, currency)
    except ValueError as exc:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise exc from None
        if not amount.is_finite() or not is_currency(currency):
            raise
        return amount.scaleb(exponent(currency))   # only finer than the currency is left: exact, not an error


@lru_cache(maxsize=1024)
def amount_text(minor: int | Decimal, currency: str) -> str:
    """Minor units as a reviewer reads them: "9,200.00" (no currency code). Cached: every rule of a rule set
    names the same order total."""
    if isinstance(minor, int):
        return format(Decimal(format_minor(minor, currency)), ",")
    return format(minor.scaleb(-exponent(currency)), ",f")


# Facts ---------------------------------------------------------------------------------------------------

class FactType(StrEnum):
    MONEY = "money"
    INT = "int"
    TEXT = "text"
    LIST = "list"
    BOOL = "bool"


class Fact(NamedTuple):
    type: FactType
    label: str
    getter: Callable[[OrderFacts], Any]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _age_days(f: OrderFacts) -> int:
    return (f.at - f.customer.created_at).days


FACTS: dict[str, Fact] = {
    "order.total": Fact(FactType.MONEY, "order total", lambda f: Money(f.total_minor, f.currency)),
    "order.lines": Fact(FactType.INT, "number of lines", lambda f: len(f.lines)),
    "order.units": Fact(FactType.INT, "units ordered", lambda f: sum(line.quantity for line in f.lines)),
    "order.currency": Fact(FactType.TEXT, "order currency", lambda f: f.currency),
    "order.channel": Fact(FactType.TEXT, "sales channel", lambda f: f.channel),
    "order.shipping_service": Fact(FactType.TEXT, "shipping service", lambda f: _text(f.shipping_service)),
    "order.tags": Fact(FactType.LIST, "order tags", lambda f: f.tags),
    "ship_to.country": Fact(FactType.TEXT, "ship-to country", lambda f: _text(f.ship_to.get("country"))),
    "ship_to.postal_code": Fact(FactType.TEXT, "ship-to postal code",
                                lambda f: _text(f.ship_to.get("postal_code"))),
    "ship_to.city": Fact(FactType.TEXT, "ship-to city", lambda f: _text(f.ship_to.get("city"))),
    "bill_to.country": Fact(FactType.TEXT, "bill-to country", lambda f: _text(f.bill_to.get("country"))),
    "customer.account": Fact(FactType.TEXT, "customer account", lambda f: f.customer.account),
    "customer.rating": Fact(FactType.TEXT, "customer credit rating", lambda f: f.customer.rating),
    "customer.payment_terms": Fact(FactType.TEXT, "customer payment terms", lambda f: f.customer.payment_terms),
    "customer.previous_orders": Fact(FactType.INT, "customer's previous orders",
                                     lambda f: f.history.previous_orders),
    "customer.age_days": Fact(FactType.INT, "days since the customer was created", _age_days),
    "customer.credit_limit": Fact(FactType.MONEY, "customer credit limit",
                                  lambda f: Money(f.customer.credit_limit_minor, f.customer.currency)),
    "customer.open_exposure": Fact(FactType.MONEY, "customer open exposure",
                                   lambda f: Money(f.history.open_exposure_minor, f.customer.currency)),
    "line.sku": Fact(FactType.LIST, "SKUs on the order", lambda f: tuple(line.sku for line in f.lines)),
    "line.quantity": Fact(FactType.INT, "a line's quantity", lambda f: tuple(line.quantity for line in f.lines)),
    "line.regulated": Fact(FactType.BOOL, "a line is regulated", lambda f: any(x.regulated for x in f.lines)),
    "line.cold_chain": Fact(FactType.BOOL, "a line is cold-chain", lambda f: any(x.cold_chain for x in f.lines)),
    "line.hazardous": Fact(FactType.BOOL, "a line is hazardous", lambda f: any(x.hazardous for x in f.lines)),
}

# Facts whose getter gives one value per line: the clause is met when it holds for some line.
ANY_LINE = frozenset({"line.quantity"})
# Facts the loader reads only when asked (catalogue.fact_needs): fact -> FactNeeds field.
FACT_NEEDS: dict[str, str] = {"customer.previous_orders": "history", "customer.open_exposure": "exposure"}
# Country facts: their values are ISO codes, checked like the rule kinds' country lists.
_COUNTRY_FACTS = frozenset({"ship_to.country", "bill_to.country"})

OPS: dict[FactType, tuple[str, ...]] = {
    FactType.MONEY: ("eq", "ne", "gt", "ge", "lt", "le"),
    FactType.INT: ("eq", "ne", "gt", "ge", "lt", "le"),
    FactType.TEXT: ("eq", "ne", "in", "not_in", "contains", "starts_with"),
    FactType.LIST: ("contains", "not_contains", "in"),
    FactType.BOOL: ("is",),
}
OP_WORDS: dict[str, str] = {
    "eq": "=", "ne": "≠", "gt": ">", "ge": "≥", "lt": "<", "le": "≤", "in": "is one of", "not_in": "is none of",
    "contains": "contains", "not_contains": "does not contain", "starts_with": "starts with", "is": "is",
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt,
    "le": operator.le,
}
_LIST_OPS = frozenset({"in", "not_in"})   # ops whose value is a list of texts (for list facts: "in")


# Validation ----------------------------------------------------------------------------------------------

def check_clauses(value: Any, problems: ProblemCollector, path: str) -> list[dict[str, Any]]:
    """Validates the clauses a manager typed (`value`), adding every problem under `path` (e.g.
    "params.clauses", so "params.clauses.1.value"); returns them normalised."""
    if not isinstance(value, list | tuple) or not value:
        problems.add("required", "a condition needs at least one clause", path)
        return []
    if len(value) > MAX_CLAUSES:
        problems.add("too_many_clauses", f"a condition has at most {MAX_CLAUSES} clauses", path)
    return [_check_clause(clause, problems, f"{path}.{i}") for i, clause in enumerate(value)]


def _check_clause(clause: Any, problems: ProblemCollector, path: str) -> dict[str, Any]:
    if not isinstance(clause, Mapping):
        problems.add("invalid_clause", "a clause has a fact, an operator and a value", path)
        return {}
    name = clause.get("fact")
    op = clause.get("op")
    fact = FACTS.get(name) if isinstance(name, str) else None
    if fact is None:
        if name is None or name == "":
            problems.add("required", "choose a fact", f"{path}.fact")
        else:
            problems.add("unknown_fact", f"unknown fact {name!r}", f"{path}.fact")
    if not isinstance(op, str) or not op:
        problems.add("required", "choose an operator", f"{path}.op")
        op = None
    elif fact is not None and op not in OPS[fact.type]:
        problems.add("invalid_operator", f"{fact.label} allows {', '.join(OPS[fact.type])}, not {op!r}",
                     f"{path}.op")
        op = None
    if fact is None or op is None:
        return {"fact": name, "op": op, "value": clause.get("value")}
    checked = _check_value(str(name), fact.type, op, clause.get("value"), problems, f"{path}.value")
    return {"fact": name, "op": op, "value": checked}


def _check_value(name: str, type_: FactType, op: str, value: Any, problems: ProblemCollector,
                 path: str) -> Any:
    def bad(message: str, code: str = "invalid_value") -> None:
        problems.add(code, message, path)

    if value is None or (isinstance(value, str) and not value.strip() and type_ is not FactType.TEXT):
        bad("a value is required", "required")
        return None
    if type_ is FactType.MONEY:
        try:
            return normalise_money(value)
        except ValueError as exc:
            bad(f"amount {exc}")
            return None
    if type_ is FactType.INT:
        number = parse_int(value)
        if number is None:
            bad("must be a whole number")
        return number
    if type_ is FactType.BOOL:
        flag = parse_bool(value)
        if flag is None:
            bad("must be true or false")
        return flag
    if op in _LIST_OPS:
        texts = parse_texts(value)
        if texts is None:
            bad("must be a list of texts")
        elif not texts:
            bad("needs at least one value", "required")
        elif len(texts) > MAX_VALUES:
            bad(f"has at most {MAX_VALUES} values")
        elif name in _COUNTRY_FACTS:
            return _check_countries(texts, problems, path)
        return texts
    if not isinstance(value, str):
        bad("must be text")
        return None
    text = value.strip()
    if len(text) > MAX_TEXT:
        bad(f"has at most {MAX_TEXT} characters")
    elif not text and op in ("contains", "not_contains", "starts_with"):
        bad("a value is required", "required")
    elif name in _COUNTRY_FACTS and text:
        return _check_countries([text], problems, path)[0]
    return text


def _check_countries(codes: list[str], problems: ProblemCollector, path: str) -> list[str]:
    upper = list(dict.fromkeys(code.upper() for code in codes))
    for code in upper:
        if code not in COUNTRIES:
            problems.add("invalid_country", f"{code!r} is not an ISO 3166 two-letter country code", path)
    return upper


def parse_int(value: Any) -> int | None:
    """A whole number from a form (int or digits); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "yes": True, "false": False, "no": False}.get(value.strip().lower())
    return None


def parse_texts(value: Any) -> list[str] | None:
    """A list of texts (or one comma-separated text), stripped, blanks dropped, duplicates (ignoring case)
    dropped keeping the first spelling; None when it is not texts."""
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    if not all(isinstance(item, str) for item in items):
        return None
    seen: dict[str, str] = {}
    for item in items:
        text = item.strip()
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
    return list(seen.values())


# Evaluation ----------------------------------------------------------------------------------------------

def compile_clause(clause: Mapping[str, Any]) -> Callable[[OrderFacts], bool]:
    """A normalised clause as a predicate: texts folded and value lists made sets once, not per order.
    An unknown fact or operator raises here (a rule error), never silently passes."""
    name, op, value = clause["fact"], clause["op"], clause["value"]
    fact = FACTS[name]
    if op not in OPS[fact.type]:
        raise ValueError(f"operator {op!r} does not apply to {name}")
    getter = fact.getter
    if fact.type is FactType.MONEY:
        compare = _COMPARE[op]
        amount = str(value)

        def money(facts: OrderFacts) -> bool:
            actual: Money = getter(facts)
            return compare(actual.minor, money_minor(amount, actual.currency))
        return money
    if fact.type is FactType.INT:
        compare, number = _COMPARE[op], int(value)
        if name in ANY_LINE:
            return lambda facts: any(compare(v, number) for v in getter(facts))
        return lambda facts: bool(compare(getter(facts), number))
    if fact.type is FactType.BOOL:
        flag = bool(value)
        return lambda facts: bool(getter(facts)) is flag
    if fact.type is FactType.LIST:
        if op == "in":
            wanted = frozenset(str(v).casefold() for v in value)
            return lambda facts: any(str(v).casefold() in wanted for v in getter(facts))
        needle = str(value).casefold()
        present = op == "contains"
        return lambda facts: any(str(v).casefold() == needle for v in getter(facts)) is present
    return _text_predicate(getter, op, value)


def _text_predicate(getter: Callable[[OrderFacts], Any], op: str, value: Any) -> Callable[[OrderFacts], bool]:
    if op in _LIST_OPS:
        wanted = frozenset(str(v).casefold() for v in value)
        inside = op == "in"
        return lambda facts: (str(getter(facts)).casefold() in wanted) is inside
    text = str(value).casefold()
    if op == "eq":
        return lambda facts: str(getter(facts)).casefold() == text
    if op == "ne":
        return lambda facts: str(getter(facts)).casefold() != text
    if op == "contains":
        return lambda facts: text in str(getter(facts)).casefold()
    return lambda facts: str(getter(facts)).casefold().startswith(text)


def clause_met(clause: Mapping[str, Any], facts: OrderFacts) -> bool:
    return compile_clause(clause)(facts)


def describe(clause: Mapping[str, Any]) -> str:
    """A clause in words: "order total ≥ 500.00", "ship-to country is one of CU, IR"."""
    name, op, value = clause.get("fact"), clause.get("op"), clause.get("value")
    fact = FACTS.get(name) if isinstance(name, str) else None
    label = fact.label if fact else str(name)
    if fact is not None and fact.type is FactType.BOOL:
        if value:
            return label
        return label.replace("a line is", "no line is", 1) if label.startswith("a line is") else f"{label}: no"
    if isinstance(value, list | tuple):
        shown = ", ".join(str(v) for v in value)
    elif fact is not None and fact.type is FactType.MONEY:
        shown = format(Decimal(str(value)), ",f")
    else:
        shown = f"“{value}”" if fact is not None and fact.type in (FactType.TEXT, FactType.LIST) else str(value)
    return f"{label} {OP_WORDS.get(str(op), op)} {shown}"
