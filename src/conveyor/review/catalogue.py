"""The built-in rule kinds a manager chooses from: what each checks, its parameters (with types, defaults and
help for the rule form), and the checks a rule must pass before it is saved. Pure.

(Interface fixed by the review core; the content is filled in by review/kinds.py's author.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from conveyor.kernel.address import COUNTRIES
from conveyor.kernel.errors import ProblemCollector
from conveyor.review import conditions
from conveyor.review.model import Outcome, Reason, Rule, RuleKind


class ParamType(StrEnum):
    MONEY = "money"          # a decimal amount in major units as a string ("1000.00"); compared in the order's currency
    INT = "int"
    PERCENT = "percent"
    HOURS = "hours"
    DAYS = "days"
    TEXT = "text"
    CHOICE = "choice"        # one of `choices`
    COUNTRIES = "countries"  # a list of ISO 3166 alpha-2 codes
    LIST = "list"            # a list of texts (SKUs, service codes, field names)
    PATTERNS = "patterns"    # country code -> regular expression
    CLAUSES = "clauses"      # the condition kind's clauses (see conditions.py)


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: ParamType
    label: str
    help: str = ""
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()   # choice: the allowed values; list: the allowed items (none: any text)
    minimum: int | None = None      # int, percent, hours, days
    maximum: int | None = None


@dataclass(frozen=True)
class KindInfo:
    kind: RuleKind
    label: str
    group: str               # credit, value, address, fraud, compliance, duplicate, custom
    description: str         # what the rule's condition is, in words: "the condition is met when ..."
    default_outcome: Outcome
    default_reason: Reason
    params: tuple[ParamSpec, ...] = field(default=())


@dataclass(frozen=True)
class FactNeeds:
    """What the fact loader must read for a rule set (nothing more, to keep intake fast)."""

    history: bool = False            # previous orders, totals, average
    exposure: bool = False           # open exposure
    customer_hours: int = 0          # recent orders of the customer within this many hours (0: none)
    address_hours: int = 0           # recent orders to the ship-to within this many hours (0: none)
    known_addresses: bool = False
    licences: bool = False


RATINGS = ("A", "B", "C", "D", "E")                     # A best; customers.domain.CREDIT_RATINGS
ADDRESS_FIELDS = ("name", "company", "line2", "region", "phone", "email")   # optional fields a carrier may need
SYSTEM_REASONS = frozenset({Reason.RULE_ERROR, Reason.PREPAYMENT})        # set by the system, never by a rule
MAX_NAME = 120
MAX_PRIORITY = 1000
MAX_LIST = 200
MAX_TEXT = 120

_P = ParamSpec
_T = ParamType

KINDS: dict[RuleKind, KindInfo] = {info.kind: info for info in (
    KindInfo(
        RuleKind.CREDIT_LIMIT, "Credit limit", "credit",
        "Met when the customer's open orders plus this order come to more than their credit limit (plus any "
        "allowance). Prepaid customers have no credit and never meet it.",
        Outcome.HOLD, Reason.CREDIT,
        (_P("allowance_percent", _T.PERCENT, "Allowance over the limit (%)",
            "How far over the limit an order may go before it is held; 0 holds anything over the limit.",
            default=0, minimum=0, maximum=1000),)),
    KindInfo(
        RuleKind.CREDIT_RATING, "Credit rating", "credit",
        "Met when the customer's credit rating is worse than the worst one allowed, or their payment terms are "
        "among the terms listed.",
        Outcome.HOLD, Reason.CREDIT,
        (_P("worst_allowed", _T.CHOICE, "Worst rating allowed", "A is best, E worst.", default="C",
            choices=RATINGS),
         _P("terms", _T.LIST, "Payment terms that always meet it", "e.g. net60; empty: none.", default=[],
            choices=("prepaid", "net15", "net30", "net60")))),
    KindInfo(
        RuleKind.ORDER_VALUE, "Order value", "value",
        "Met when the order total is at or over the threshold (in the order's currency).",
        Outcome.HOLD, Reason.ORDER_VALUE,
        (_P("threshold", _T.MONEY, "Threshold", "An amount such as 5000.00.", required=True),)),
    KindInfo(
        RuleKind.ORDER_QUANTITY, "Order quantity", "value",
        "Met when the order's units in total, or the units on one line, are at or over a limit.",
        Outcome.HOLD, Reason.ORDER_VALUE,
        (_P("max_units", _T.INT, "Units on the order", "0: no limit on the total.", default=0, minimum=0,
            maximum=1_000_000_000),
         _P("max_line_units", _T.INT, "Units on one line", "0: no limit per line.", default=0, minimum=0,
            maximum=1_000_000_000))),
    KindInfo(
        RuleKind.FIRST_ORDER, "First order", "value",
        "Met when this is the customer's first order and its total is at or over the threshold.",
        Outcome.CHECK, Reason.ORDER_VALUE,
        (_P("threshold", _T.MONEY, "Threshold", "0: every first order.", default="0.00"),)),
    KindInfo(
        RuleKind.UNUSUAL_ORDER, "Unusual order", "value",
        "Met when the order total is more than a number of times the customer's average order (in the same "
        "currency), once they have enough orders to tell.",
        Outcome.HOLD, Reason.ORDER_VALUE,
        (_P("factor", _T.INT, "Times the average", default=5, minimum=1, maximum=1000),
         _P("min_history", _T.INT, "Previous orders needed", "Fewer previous orders: never met.", default=3,
            minimum=1, maximum=10_000))),
    KindInfo(
        RuleKind.ADDRESS_FIELDS, "Address fields", "address",
        "Met when the ship-to address lacks a field the carriers need (e.g. a phone number), for the countries "
        "listed (none listed: every country).",
        Outcome.HOLD, Reason.ADDRESS,
        (_P("fields", _T.LIST, "Fields needed", default=["phone"], required=True, choices=ADDRESS_FIELDS),
         _P("countries", _T.COUNTRIES, "Countries", "Empty: every country.", default=[]))),
    KindInfo(
        RuleKind.POSTAL_CODE, "Postal code format", "address",
        "Met when the ship-to postal code does not match its country's format. Your own patterns replace the "
        "built-in ones for their countries.",
        Outcome.HOLD, Reason.ADDRESS,
        (_P("patterns", _T.PATTERNS, "Patterns by country",
            "Country code and regular expression the whole code must match, e.g. NL: \\d{4} ?[A-Z]{2}.",
            default={}),)),
    KindInfo(
        RuleKind.PO_BOX, "PO box", "address",
        "Met when the ship-to is a PO box (PO Box, Postfach, Boîte postale, Apartado, ...) and the shipping "
        "service is one of those listed (none listed: any service).",
        Outcome.HOLD, Reason.ADDRESS,
        (_P("services", _T.LIST, "Shipping services that refuse PO boxes", "Empty: any service.",
            default=[]),)),
    KindInfo(
        RuleKind.NEW_SHIP_TO, "New ship-to address", "fraud",
        "Met when the ship-to is none of the customer's known addresses (saved ones and earlier orders') and "
        "the order total is at or over the minimum.",
        Outcome.HOLD, Reason.FRAUD,
        (_P("min_total", _T.MONEY, "Minimum order total", "0: every order.", default="0.00"),)),
    KindInfo(
        RuleKind.VELOCITY, "Order velocity", "fraud",
        "Met when there are more orders than allowed, this one included, from one customer (or to one "
        "address) within the last hours.",
        Outcome.HOLD, Reason.FRAUD,
        (_P("max_orders", _T.INT, "Orders allowed", default=5, minimum=1, maximum=10_000),
         _P("hours", _T.HOURS, "Within hours", default=1, minimum=1, maximum=720),
         _P("per", _T.CHOICE, "Counted per", default="customer", choices=("customer", "address")))),
    KindInfo(
        RuleKind.COUNTRY_MISMATCH, "Billing and shipping countries differ", "fraud",
        "Met when the bill-to and ship-to addresses are in different countries.",
        Outcome.HOLD, Reason.FRAUD),
    KindInfo(
        RuleKind.NEW_CUSTOMER_HIGH_VALUE, "New customer, high value", "fraud",
        "Met when the customer was created less than the given days ago and the order total is at or over the "
        "threshold.",
        Outcome.HOLD, Reason.FRAUD,
        (_P("days", _T.DAYS, "Customer younger than (days)", default=30, minimum=1, maximum=3650),
         _P("threshold", _T.MONEY, "Threshold", default="1000.00", required=True))),
    KindInfo(
        RuleKind.LICENCE, "Licence for regulated items", "compliance",
        "Met when a line is a regulated item and the customer has no licence (of the kind given, if any) "
        "valid on the order date.",
        Outcome.HOLD, Reason.COMPLIANCE,
        (_P("licence_kind", _T.TEXT, "Licence kind", "e.g. pharmacy; empty: any licence.", default=""),)),
    KindInfo(
        RuleKind.COLD_CHAIN, "Cold chain", "compliance",
        "Met when a line is a cold-chain item and the shipping service is not one of the temperature-"
        "controlled services listed.",
        Outcome.HOLD, Reason.COMPLIANCE,
        (_P("services", _T.LIST, "Temperature-controlled services", default=["cold-chain", "chilled", "frozen"],
            required=True),)),
    KindInfo(
        RuleKind.EXPORT_RESTRICTION, "Export restriction", "compliance",
        "Met when the order ships to one of the countries listed (for every order, or only when it has a "
        "regulated or a hazardous item).",
        Outcome.HOLD, Reason.COMPLIANCE,
        (_P("countries", _T.COUNTRIES, "Restricted countries", required=True, default=[]),
         _P("applies_to", _T.CHOICE, "Applies to", "all orders, or only those with regulated or hazardous "
            "items.", default="all", choices=("all", "regulated", "hazardous")))),
    KindInfo(
        RuleKind.PROBABLE_DUPLICATE, "Probable duplicate", "duplicate",
        "Met when order capture found an earlier order that looks the same (or the order is tagged "
        "probable-duplicate).",
        Outcome.HOLD, Reason.DUPLICATE),
    KindInfo(
        RuleKind.CONDITION, "Custom condition", "custom",
        "Met when all (or any) of your clauses about the order, its customer and its lines are true.",
        Outcome.HOLD, Reason.OTHER,
        (_P("match", _T.CHOICE, "Match", "all clauses, or any one of them.", default="all",
            choices=("all", "any")),
         _P("clauses", _T.CLAUSES, "Clauses", required=True, default=[]))),
)}

# What the kinds read at evaluation time when a param is missing (rules built in code rather than checked).
DEFAULTS: dict[RuleKind, dict[str, Any]] = {
    kind: {spec.name: spec.default for spec in info.params} for kind, info in KINDS.items()}


# Checking a rule -----------------------------------------------------------------------------------------

_KIND_VALUES = frozenset(kind.value for kind in RuleKind)


def check_rule(*, name: str, kind: str, params: Mapping[str, Any] | None, outcome: str, reason: str | None,
               check: str | None, priority: int) -> dict[str, Any]:
    """Validates a rule as a manager typed it; returns the normalised fields (params with defaults filled).
    Raises ValidationFailed (kernel.errors) listing every problem, each with its field path."""
    problems = ProblemCollector()
    clean_name = name.strip() if isinstance(name, str) else ""
    if not clean_name:
        problems.add("required", "a rule needs a name", "name")
    elif len(clean_name) > MAX_NAME:
        problems.add("invalid_name", f"a rule's name has at most {MAX_NAME} characters", "name")

    clean_kind = kind.strip().lower() if isinstance(kind, str) else ""
    info = KINDS[RuleKind(clean_kind)] if clean_kind in _KIND_VALUES else None
    if info is None:
        problems.add("unknown_kind", f"unknown rule kind {kind!r}", "kind")
    clean_params: dict[str, Any] = {}
    if params is not None and not isinstance(params, Mapping):
        problems.add("invalid_params", "params must be an object of parameter values", "params")
    elif info is not None:
        clean_params = _check_params(info, params or {}, problems)

    clean_outcome = _enum_value(outcome, Outcome)
    if clean_outcome is None:
        problems.add("invalid_outcome", f"outcome must be one of {', '.join(Outcome)}", "outcome")

    allowed_reasons = [r.value for r in Reason if r not in SYSTEM_REASONS]
    clean_reason: str | None
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        clean_reason = info.default_reason.value if info else None
    else:
        clean_reason = _enum_value(reason, Reason)
        if clean_reason not in allowed_reasons:
            problems.add("invalid_reason", f"reason must be one of {', '.join(allowed_reasons)}", "reason")

    clean_check: str | None = None
    if clean_outcome == Outcome.CHECK:
        clean_check = check.strip() if isinstance(check, str) else ""
        if not clean_check:
            problems.add("check_required", "name the check someone must record, e.g. 'call the customer'",
                         "check")
        elif len(clean_check) > MAX_NAME:
            problems.add("invalid_check", f"a check's name has at most {MAX_NAME} characters", "check")

    if isinstance(priority, bool) or not isinstance(priority, int) or not -MAX_PRIORITY <= priority <= MAX_PRIORITY:
        problems.add("invalid_priority", f"priority is a whole number from {-MAX_PRIORITY} to {MAX_PRIORITY}",
                     "priority")
    problems.raise_if_any()
    return {"name": clean_name, "kind": clean_kind, "params": clean_params, "outcome": clean_outcome,
            "reason": clean_reason, "check": clean_check, "priority": priority}


def _enum_value(value: Any, enum: type[StrEnum]) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    return text if text in {member.value for member in enum} else None


def _check_params(info: KindInfo, params: Mapping[str, Any], problems: ProblemCollector) -> dict[str, Any]:
    known = {spec.name for spec in info.params}
    for key in params:
        if key not in known:
            problems.add("unknown_param", f"{info.label} has no parameter {key!r}", f"params.{key}")
    clean: dict[str, Any] = {}
    for spec in info.params:
        path = f"params.{spec.name}"
        value = params.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip() and spec.type is not ParamType.TEXT):
            if spec.default is None:
                problems.add("required", f"{spec.label} is required", path)
                continue
            value = spec.default
        clean[spec.name] = _check_param(spec, value, problems, path)
    if info.kind is RuleKind.ORDER_QUANTITY and not clean.get("max_units") and not clean.get("max_line_units"):
        problems.add("invalid_param", "set units on the order, units on one line, or both", "params.max_units")
    return clean


def _check_param(spec: ParamSpec, value: Any, problems: ProblemCollector, path: str) -> Any:
    """One parameter, normalised; a problem added (and the value returned as given) when it is wrong."""
    def bad(message: str, code: str = "invalid_param") -> Any:
        problems.add(code, message, path)
        return value

    kind = spec.type
    if kind is ParamType.MONEY:
        try:
            return conditions.normalise_money(value)
        except ValueError as exc:
            return bad(f"{spec.label} {exc}")
    if kind in (ParamType.INT, ParamType.PERCENT, ParamType.HOURS, ParamType.DAYS):
        number = conditions.parse_int(value)
        low = spec.minimum if spec.minimum is not None else 0
        high = spec.maximum
        if number is None or number < low or (high is not None and number > high):
            upto = f" to {high:,}" if high is not None else " or more"
            return bad(f"{spec.label} is a whole number from {low}{upto}")
        return number
    if kind is ParamType.TEXT:
        if not isinstance(value, str):
            return bad(f"{spec.label} must be text")
        text = value.strip()
        if len(text) > MAX_TEXT:
            return bad(f"{spec.label} has at most {MAX_TEXT} characters")
        return text
    if kind is ParamType.CHOICE:
        chosen = next((c for c in spec.choices if isinstance(value, str) and value.strip().lower() == c.lower()),
                      None)
        if chosen is None:
            return bad(f"{spec.label} must be one of {', '.join(spec.choices)}")
        return chosen
    if kind in (ParamType.LIST, ParamType.COUNTRIES):
        return _check_list(spec, value, problems, path)
    if kind is ParamType.PATTERNS:
        return _check_patterns(spec, value, problems, path)
    return conditions.check_clauses(value, problems, path)


def _check_list(spec: ParamSpec, value: Any, problems: ProblemCollector, path: str) -> Any:
    items = conditions.parse_texts(value)
    if items is None:
        problems.add("invalid_param", f"{spec.label} must be a list of texts", path)
        return value
    if spec.required and not items:
        problems.add("required", f"{spec.label} needs at least one entry", path)
    if len(items) > MAX_LIST:
        problems.add("invalid_param", f"{spec.label} has at most {MAX_LIST} entries", path)
    if spec.type is ParamType.COUNTRIES:
        codes = list(dict.fromkeys(item.upper() for item in items))
        for i, code in enumerate(codes):
            if code not in COUNTRIES:
                problems.add("invalid_country", f"{code!r} is not an ISO 3166 two-letter country code",
                             f"{path}.{i}")
        return codes
    if spec.choices:
        allowed = {c.lower(): c for c in spec.choices}
        for i, item in enumerate(items):
            if item.lower() not in allowed:
                problems.add("invalid_param", f"{item!r} is not one of {', '.join(spec.choices)}", f"{path}.{i}")
        return [allowed.get(item.lower(), item) for item in items]
    return items


def _check_patterns(spec: ParamSpec, value: Any, problems: ProblemCollector, path: str) -> Any:
    if not isinstance(value, Mapping):
        problems.add("invalid_param", f"{spec.label} must map country codes to patterns", path)
        return value
    clean: dict[str, str] = {}
    for raw_country, raw_pattern in value.items():
        country = str(raw_country).strip().upper()
        where = f"{path}.{country or raw_country}"
        if country not in COUNTRIES:
            problems.add("invalid_country", f"{raw_country!r} is not an ISO 3166 two-letter country code", where)
        pattern = raw_pattern.strip() if isinstance(raw_pattern, str) else ""
        if not pattern:
            problems.add("invalid_pattern", f"a pattern for {country} is required", where)
            continue
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            problems.add("invalid_pattern", f"the pattern for {country} is not a regular expression: {exc}", where)
            continue
        clean[country] = pattern
    return dict(sorted(clean.items()))


# From storage --------------------------------------------------------------------------------------------

def rule_from_fields(rule_no: int, version: int, enabled: bool, fields: Mapping[str, Any]) -> Rule:
    """A Rule from stored (already checked) fields; `check` may also come as the table's `check_name`."""
    kind = RuleKind(fields["kind"])
    outcome = Outcome(fields["outcome"])
    check = fields.get("check", fields.get("check_name"))
    return Rule(
        rule_no=rule_no, version=version, name=fields["name"], kind=kind, params=dict(fields.get("params") or {}),
        outcome=outcome, reason=fields.get("reason") or KINDS[kind].default_reason.value,
        priority=int(fields.get("priority", 100)), enabled=enabled,
        check=check if outcome is Outcome.CHECK else None,
    )


# What the fact loader must read --------------------------------------------------------------------------

def fact_needs(rules: Sequence[Rule]) -> FactNeeds:
    """The facts the enabled rules read, so intake loads nothing more."""
    history = exposure = known = licences = False
    customer_hours = address_hours = 0
    for rule in rules:
        if not rule.enabled:
            continue
        kind = rule.kind
        if kind in (RuleKind.FIRST_ORDER, RuleKind.UNUSUAL_ORDER, RuleKind.NEW_CUSTOMER_HIGH_VALUE):
            history = True
        elif kind is RuleKind.CREDIT_LIMIT:
            exposure = True
        elif kind is RuleKind.NEW_SHIP_TO:
            known = True
        elif kind is RuleKind.LICENCE:
            licences = True
        elif kind is RuleKind.VELOCITY:
            hours = _hours(rule.params.get("hours", DEFAULTS[kind]["hours"]))
            if rule.params.get("per", "customer") == "address":
                address_hours = max(address_hours, hours)
            else:
                customer_hours = max(customer_hours, hours)
        elif kind is RuleKind.CONDITION:
            needs = _condition_needs(rule.params.get("clauses"))
            history = history or "history" in needs
            exposure = exposure or "exposure" in needs
    return FactNeeds(history=history, exposure=exposure, customer_hours=customer_hours,
                     address_hours=address_hours, known_addresses=known, licences=licences)


def _hours(value: Any) -> int:
    # A rule that got past checking with odd hours still gets the longest window, never a crash at intake.
    number = conditions.parse_int(value)
    return 720 if number is None else max(1, min(number, 720))


def _condition_needs(clauses: Any) -> set[str]:
    if not isinstance(clauses, list | tuple):
        return set()
    return {conditions.FACT_NEEDS[c["fact"]] for c in clauses
            if isinstance(c, Mapping) and isinstance(c.get("fact"), str) and c["fact"] in conditions.FACT_NEEDS}


# A rule set to start from --------------------------------------------------------------------------------

def standard_rules() -> list[dict[str, Any]]:
    """The rules a shop starts with (each is check_rule's arguments plus "enabled"); a manager tunes them."""
    def rule(priority: int, name: str, kind: RuleKind, params: dict[str, Any], reason: Reason,
             outcome: Outcome = Outcome.HOLD, check: str | None = None) -> dict[str, Any]:
        return {"name": name, "kind": kind.value, "params": params, "outcome": outcome.value,
                "reason": reason.value, "check": check, "priority": priority, "enabled": True}

    return [
        rule(10, "Over credit limit", RuleKind.CREDIT_LIMIT, {"allowance_percent": 0}, Reason.CREDIT),
        rule(20, "Credit rating D or worse", RuleKind.CREDIT_RATING, {"worst_allowed": "C", "terms": []},
             Reason.CREDIT),
        rule(30, "Large first order", RuleKind.FIRST_ORDER, {"threshold": "1000.00"}, Reason.ORDER_VALUE,
             Outcome.CHECK, "confirm first order with the customer"),
        rule(40, "Unusually large order", RuleKind.UNUSUAL_ORDER, {"factor": 5, "min_history": 3},
             Reason.ORDER_VALUE),
        rule(50, "PO box with a ground service", RuleKind.PO_BOX,
             {"services": ["ground", "ups-ground", "fedex-ground"]}, Reason.ADDRESS),
        rule(60, "Many orders in an hour", RuleKind.VELOCITY, {"max_orders": 5, "hours": 1, "per": "customer"},
             Reason.FRAUD),
        rule(70, "Billing and shipping countries differ", RuleKind.COUNTRY_MISMATCH, {}, Reason.FRAUD),
        rule(80, "New customer, large order", RuleKind.NEW_CUSTOMER_HIGH_VALUE,
             {"days": 30, "threshold": "2000.00"}, Reason.FRAUD),
        rule(90, "Regulated items need a licence", RuleKind.LICENCE, {"licence_kind": ""}, Reason.COMPLIANCE),
        rule(100, "Cold-chain items need a cold-chain service", RuleKind.COLD_CHAIN,
             {"services": ["cold-chain", "chilled", "frozen"]}, Reason.COMPLIANCE),
        rule(110, "Export restricted countries", RuleKind.EXPORT_RESTRICTION,
             {"countries": ["CU", "IR", "KP", "SY", "RU", "BY"], "applies_to": "all"}, Reason.COMPLIANCE),
        rule(120, "Probable duplicate", RuleKind.PROBABLE_DUPLICATE, {}, Reason.DUPLICATE),
    ]
