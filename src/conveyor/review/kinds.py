"""One check per rule kind: `(rule, facts) -> (condition met, message for a reviewer)`. Pure.

Params come checked and normalised by catalogue.check_rule, so nothing is re-validated here; a param that is
still wrong raises, and evaluate turns that into a rule error (the order is held, never approved).
Money params are major-unit decimal strings, converted into the order's currency when an order is evaluated.
What costs something to prepare (regexes, folded lists, condition clauses) is prepared once per rule version and
currency (`_prepared`): this runs inside order intake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from conveyor.kernel.address import _GENERIC_POSTAL, NO_POSTAL_CODE, POSTAL_FORMATS
from conveyor.review import conditions
from conveyor.review.catalogue import DEFAULTS, RATINGS
from conveyor.review.conditions import amount_text, money_minor
from conveyor.review.model import LineFacts, OrderFacts, Rule, RuleKind

Check = Callable[[Rule, OrderFacts], tuple[bool, str]]
T = TypeVar("T")

_MISSING = object()
_CACHE_SIZE = 4096
# (rule_no, version, currency or "") -> (the params it was built from, kind, prepared value). The params are
# kept so a different rule reusing a number and version (tests, previews of unsaved edits) is never served
# another rule's preparation; keeping them also keeps their identity from being reused.
_cache: dict[tuple[int, int, str], tuple[Mapping[str, Any], RuleKind, Any]] = {}


def _prepared(rule: Rule, currency: str, build: Callable[[Rule], T]) -> T:
    key = (rule.rule_no, rule.version, currency)
    hit = _cache.get(key)
    if hit is not None and hit[1] is rule.kind and (hit[0] is rule.params or hit[0] == rule.params):
        value: T = hit[2]
        return value
    value = build(rule)
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()   # rule sets are small; a full cache means old versions piled up
    _cache[key] = (rule.params, rule.kind, value)
    return value


def _param(rule: Rule, name: str) -> Any:
    value = rule.params.get(name, _MISSING)
    return DEFAULTS[rule.kind][name] if value is _MISSING else value


def _money(rule: Rule, name: str, currency: str) -> int | Decimal:
    value = _param(rule, name)
    if value is None:
        raise ValueError(f"{name} is not set")
    return money_minor(str(value), currency)


def _amount(minor: Any, currency: str) -> str:
    return f"{amount_text(minor, currency)} {currency}"


def _folded(values: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(v).strip().casefold() for v in values)


def _skus(lines: Iterable[LineFacts], most: int = 10) -> str:
    skus = list(dict.fromkeys(line.sku for line in lines))
    shown = ", ".join(skus[:most])
    return shown if len(skus) <= most else f"{shown} and {len(skus) - most} more"


def _country(address: Mapping[str, Any]) -> str:
    return str(address.get("country") or "").strip().upper()


# Credit --------------------------------------------------------------------------------------------------

def credit_limit(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    customer = facts.customer
    if customer.payment_terms.strip().lower() == "prepaid":
        return False, "prepaid customer: no credit to exceed"
    allowance = int(_param(rule, "allowance_percent"))
    exposure, total, limit = facts.history.open_exposure_minor, facts.total_minor, customer.credit_limit_minor
    currency = customer.currency
    # Integer arithmetic: "used > limit * (100 + allowance) / 100" without rounding.
    over = (exposure + total) * 100 > limit * (100 + allowance)
    if facts.currency == currency:
        used = f"open exposure {amount_text(exposure, currency)} + this order {_amount(total, currency)}"
        note = ""
    else:
        # No exchange rates in this system: the amounts are compared as they are, and the reviewer is told.
        used = f"open exposure {_amount(exposure, currency)} + this order {_amount(total, facts.currency)}"
        note = f" (order in {facts.currency}, limit in {currency}: compared without conversion)"
    allowed = f"credit limit {_amount(limit, currency)}" + (f" + {allowance}% allowance" if allowance else "")
    if over:
        return True, f"{used} exceeds {allowed}{note}"
    return False, f"within credit limit: {used} within {allowed}{note}"


def _rating_prep(rule: Rule) -> tuple[str, frozenset[str]]:
    worst = str(_param(rule, "worst_allowed")).strip().upper()
    if worst not in RATINGS:
        raise ValueError(f"worst allowed rating {worst!r} is not one of {', '.join(RATINGS)}")
    return worst, _folded(_param(rule, "terms"))


def credit_rating(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    worst, terms = _prepared(rule, "", _rating_prep)
    rating = facts.customer.rating.strip().upper()
    payment_terms = facts.customer.payment_terms
    reasons = []
    if rating not in RATINGS:
        reasons.append(f"credit rating {rating!r} is not one of A to E")   # unknown: treated as failing
    elif RATINGS.index(rating) > RATINGS.index(worst):
        reasons.append(f"credit rating {rating} is worse than {worst}")
    if payment_terms.strip().casefold() in terms:
        reasons.append(f"payment terms {payment_terms} always need review")
    if reasons:
        return True, "; ".join(reasons)
    return False, f"credit rating {rating} ({worst} or better allowed), payment terms {payment_terms}"


# Value ---------------------------------------------------------------------------------------------------

def order_value(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    threshold = _money(rule, "threshold", facts.currency)
    total = _amount(facts.total_minor, facts.currency)
    limit = _amount(threshold, facts.currency)
    if facts.total_minor >= threshold:
        return True, f"order total {total} is at or over {limit}"
    return False, f"order total {total} is under {limit}"


def order_quantity(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    max_units, max_line_units = int(_param(rule, "max_units")), int(_param(rule, "max_line_units"))
    units = sum(line.quantity for line in facts.lines)
    reasons = []
    if max_units > 0 and units >= max_units:
        reasons.append(f"{units:,} units on the order, at or over {max_units:,}")
    if max_line_units > 0:
        big = [line for line in facts.lines if line.quantity >= max_line_units]
        if big:
            which = ", ".join(f"line {line.line_no} ({line.sku}: {line.quantity:,})" for line in big[:5])
            more = f" and {len(big) - 5} more" if len(big) > 5 else ""
            reasons.append(f"{which}{more} at or over {max_line_units:,} units on one line")
    if reasons:
        return True, "; ".join(reasons)
    largest = max((line.quantity for line in facts.lines), default=0)
    return False, f"{units:,} units on the order, at most {largest:,} on one line"


def first_order(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    previous = facts.history.previous_orders
    if previous > 0:
        return False, f"not a first order: the customer has {previous:,} previous orders"
    threshold = _money(rule, "threshold", facts.currency)
    total = _amount(facts.total_minor, facts.currency)
    if facts.total_minor >= threshold:
        over = f", at or over {_amount(threshold, facts.currency)}" if threshold else ""
        return True, f"first order of this customer: {total}{over}"
    return False, f"first order of this customer, but {total} is under {_amount(threshold, facts.currency)}"


def unusual_order(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    factor, min_history = int(_param(rule, "factor")), int(_param(rule, "min_history"))
    history = facts.history
    count, average = history.previous_in_currency, history.average_total_minor
    if count < min_history or average is None:
        return False, f"too little history: {count:,} previous orders in {facts.currency} ({min_history:,} needed)"
    total = _amount(facts.total_minor, facts.currency)
    usual = f"{factor}× the customer's average {_amount(average, facts.currency)} ({count:,} orders)"
    if facts.total_minor > factor * average:
        return True, f"order total {total} is over {usual}"
    return False, f"order total {total} is within {usual}"


# Address -------------------------------------------------------------------------------------------------

def _fields_prep(rule: Rule) -> tuple[tuple[str, ...], frozenset[str]]:
    fields = tuple(str(f) for f in _param(rule, "fields"))
    return fields, frozenset(str(c).strip().upper() for c in _param(rule, "countries"))


def address_fields(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    fields, countries = _prepared(rule, "", _fields_prep)
    country = _country(facts.ship_to)
    if countries and country not in countries:
        return False, f"no fields required for ship-to country {country or '(none)'}"
    missing = [f for f in fields if not str(facts.ship_to.get(f) or "").strip()]
    where = f" (required for {country})" if countries else ""
    if missing:
        return True, f"ship-to address has no {', '.join(missing)}{where}"
    return False, f"ship-to address has {', '.join(fields)}{where}"


def _patterns_prep(rule: Rule) -> dict[str, re.Pattern[str]]:
    patterns: Mapping[str, str] = _param(rule, "patterns")
    return {str(c).strip().upper(): re.compile(p, re.IGNORECASE) for c, p in patterns.items()}


def postal_code(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    patterns = _prepared(rule, "", _patterns_prep)
    country = _country(facts.ship_to)
    code = " ".join(str(facts.ship_to.get("postal_code") or "").upper().split())
    pattern = patterns.get(country)
    if pattern is None:
        if country in NO_POSTAL_CODE:
            return False, f"{country} has no postal codes"
        pattern = POSTAL_FORMATS.get(country, _GENERIC_POSTAL)
    if not code:
        return True, f"ship-to has no postal code ({country or 'no country'})"
    if pattern.fullmatch(code):
        return False, f"postal code {code} fits the {country} format"
    return True, f"postal code {code!r} does not fit the {country or 'generic'} format"


# A PO box in the languages orders arrive in. Short forms ("POB", "BP") only count with a number after them, so
# streets such as "Bp Avenue" or "Pobrezna" are not taken for boxes.
PO_BOX = re.compile(
    r"""\b(?:
        g?p[\s.]*o[\s.-]*box                       # PO Box, P.O. Box, P O Box, PO-Box, POBox, GPO Box
      | p[\s.]*o[\s.]*b[\s.]*\d                    # POB 12, P.O.B. 12
      | post[\s-]*office[\s-]*box
      | post[\s-]*box[\s.]*(?:no[\s.]*)?\d        # Post Box No. 12
      | postfach\b                                 # German
      | bo[iî]te[\s-]+postale\b                    # French
      | b[\s.]*p[\s.]*\d                           # BP 12, B.P. 12 (French short form)
      | apartado\b | apdo[\s.]*\d                  # Spanish, Portuguese
      | postbus[\s.]*\d                            # Dutch
      | casilla[\s]+(?:de[\s]+)?correos?\b         # Latin American
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def _services_prep(rule: Rule) -> tuple[tuple[str, ...], frozenset[str]]:
    services = tuple(str(s).strip() for s in _param(rule, "services"))
    return services, _folded(services)


def po_box(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    shown, services = _prepared(rule, "", _services_prep)
    box = next((text for key in ("line1", "line2")
                if (text := str(facts.ship_to.get(key) or "")) and PO_BOX.search(text)), None)
    if box is None:
        return False, "ship-to is not a PO box"
    service = facts.shipping_service
    if not services:
        return True, f"ship-to {box!r} is a PO box"
    if service is None or not service.strip():
        return False, f"ship-to {box!r} is a PO box, but no shipping service is set"
    if service.strip().casefold() not in services:
        return False, f"ship-to {box!r} is a PO box; {service} is not one of {', '.join(shown)}"
    return True, f"ship-to {box!r} is a PO box and {service} does not deliver to PO boxes"


# Fraud ---------------------------------------------------------------------------------------------------

def new_ship_to(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    known = facts.customer.known_address_keys
    if facts.address_key in known:
        return False, "ship-to is one of the customer's known addresses"
    minimum = _money(rule, "min_total", facts.currency)
    if facts.total_minor < minimum:
        return False, (f"new ship-to, but order total {_amount(facts.total_minor, facts.currency)} is under "
                       f"{_amount(minimum, facts.currency)}")
    if not known:
        return True, "new ship-to: the customer has no known address yet"
    return True, f"new ship-to: none of the customer's {len(known):,} known addresses"


def velocity(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    max_orders, hours, per = int(_param(rule, "max_orders")), int(_param(rule, "hours")), _param(rule, "per")
    if per == "customer":
        stamps, who = facts.history.recent_customer_orders, "from this customer"
    elif per == "address":
        stamps, who = facts.history.recent_address_orders, "to this address"
    else:
        raise ValueError(f"velocity per {per!r}: customer or address")
    at = facts.at
    since = at - timedelta(hours=hours)
    count = 1 + sum(1 for stamp in stamps if since < stamp <= at)   # this order counts too
    window = "1 hour" if hours == 1 else f"{hours} hours"
    orders = f"{count:,} order" + ("s" if count != 1 else "")
    return count > max_orders, f"{orders} {who} within {window}, this one included (at most {max_orders:,})"


def country_mismatch(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    ship, bill = _country(facts.ship_to), _country(facts.bill_to)
    if not ship or not bill:
        return False, "no billing or shipping country to compare"
    if ship != bill:
        return True, f"billed to {bill}, shipped to {ship}"
    return False, f"billed and shipped to {ship}"


def new_customer_high_value(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    days = int(_param(rule, "days"))
    age = facts.at - facts.customer.created_at
    if age >= timedelta(days=days):
        return False, f"customer for {age.days:,} days ({days:,} or more: not new)"
    threshold = _money(rule, "threshold", facts.currency)
    total = _amount(facts.total_minor, facts.currency)
    new = f"customer created {age.days:,} days ago (under {days:,})"
    if facts.total_minor >= threshold:
        return True, f"{new} with an order of {total}, at or over {_amount(threshold, facts.currency)}"
    return False, f"{new}, but order total {total} is under {_amount(threshold, facts.currency)}"


# Compliance ----------------------------------------------------------------------------------------------

def licence(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    regulated = [line for line in facts.lines if line.regulated]
    if not regulated:
        return False, "no regulated items"
    wanted = str(_param(rule, "licence_kind")).strip()
    day = facts.at.date()
    valid = next((lic for lic in facts.customer.licences
                  if (not wanted or lic.kind.strip().casefold() == wanted.casefold()) and lic.valid_on(day)), None)
    if valid is not None:
        return False, f"licence {valid.number} ({valid.kind}) is valid on {day.isoformat()}"
    what = f"{wanted} licence" if wanted else "licence"
    return True, f"regulated items {_skus(regulated)} without a valid {what} on {day.isoformat()}"


def cold_chain(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    cold = [line for line in facts.lines if line.cold_chain]
    if not cold:
        return False, "no cold-chain items"
    shown, services = _prepared(rule, "", _services_prep)
    service = facts.shipping_service
    if service is not None and service.strip().casefold() in services:
        return False, f"cold-chain items ship with {service}"
    how = f"ship with {service}" if service else "have no shipping service"
    return True, (f"cold-chain items {_skus(cold)} {how}, not a temperature-controlled one "
                  f"({', '.join(shown)})")


def _export_prep(rule: Rule) -> tuple[frozenset[str], str]:
    applies_to = str(_param(rule, "applies_to"))
    if applies_to not in ("all", "regulated", "hazardous"):
        raise ValueError(f"export restriction applies to {applies_to!r}: all, regulated or hazardous")
    return frozenset(str(c).strip().upper() for c in _param(rule, "countries")), applies_to


def export_restriction(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    countries, applies_to = _prepared(rule, "", _export_prep)
    country = _country(facts.ship_to)
    if country not in countries:
        return False, f"ship-to country {country or '(none)'} is not restricted"
    if applies_to == "all":
        return True, f"ships to {country}, a restricted country"
    items = [line for line in facts.lines if getattr(line, applies_to)]
    if not items:
        return False, f"ships to {country}, restricted for {applies_to} items only: none on this order"
    return True, f"ships {applies_to} items {_skus(items)} to {country}, a restricted country"


# Duplicates and custom conditions ------------------------------------------------------------------------

def probable_duplicate(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    if facts.duplicate_of is not None:
        return True, f"probable duplicate of SO-{facts.duplicate_of:06d}"
    if any(tag.strip().casefold() == "probable-duplicate" for tag in facts.tags):
        return True, "tagged probable-duplicate"
    return False, "no earlier order looks the same"


_Clauses = tuple[tuple[str, Callable[[OrderFacts], bool]], ...]


def _condition_prep(rule: Rule) -> tuple[bool, _Clauses]:
    match = _param(rule, "match")
    if match not in ("all", "any"):
        raise ValueError(f"condition match {match!r}: all or any")
    clauses = tuple((conditions.describe(c), conditions.compile_clause(c)) for c in _param(rule, "clauses"))
    if not clauses:
        raise ValueError("a condition without clauses")
    return match == "all", clauses


def condition(rule: Rule, facts: OrderFacts) -> tuple[bool, str]:
    every, clauses = _prepared(rule, "", _condition_prep)
    if every:
        for words, met in clauses:
            if not met(facts):
                return False, f"not met: {words}"
        return True, " and ".join(words for words, _ in clauses)
    for words, met in clauses:
        if met(facts):
            return True, words
    return False, "none met: " + "; ".join(words for words, _ in clauses)


CHECKS: dict[RuleKind, Check] = {
    RuleKind.CREDIT_LIMIT: credit_limit,
    RuleKind.CREDIT_RATING: credit_rating,
    RuleKind.ORDER_VALUE: order_value,
    RuleKind.ORDER_QUANTITY: order_quantity,
    RuleKind.FIRST_ORDER: first_order,
    RuleKind.UNUSUAL_ORDER: unusual_order,
    RuleKind.ADDRESS_FIELDS: address_fields,
    RuleKind.POSTAL_CODE: postal_code,
    RuleKind.PO_BOX: po_box,
    RuleKind.NEW_SHIP_TO: new_ship_to,
    RuleKind.VELOCITY: velocity,
    RuleKind.COUNTRY_MISMATCH: country_mismatch,
    RuleKind.NEW_CUSTOMER_HIGH_VALUE: new_customer_high_value,
    RuleKind.LICENCE: licence,
    RuleKind.COLD_CHAIN: cold_chain,
    RuleKind.EXPORT_RESTRICTION: export_restriction,
    RuleKind.PROBABLE_DUPLICATE: probable_duplicate,
    RuleKind.CONDITION: condition,
}
