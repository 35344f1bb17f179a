"""Postal addresses as values, with the checks every area applies (orders, customers, warehouses)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from conveyor.kernel.errors import ProblemCollector

# ISO 3166-1 alpha-2 codes.
COUNTRIES = frozenset(
    " ".join([
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY",
        "BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK",
        "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR",
        "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK",
        "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM",
        "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF",
        "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW",
    ]).split()
)

# Postal code formats for the countries most orders go to; others get a generic sanity check.
POSTAL_FORMATS: dict[str, re.Pattern[str]] = {
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "CA": re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
    "NL": re.compile(r"^\d{4} ?[A-Z]{2}$"),
    "DE": re.compile(r"^\d{5}$"),
    "FR": re.compile(r"^\d{5}$"),
    "ES": re.compile(r"^\d{5}$"),
    "IT": re.compile(r"^\d{5}$"),
    "BE": re.compile(r"^\d{4}$"),
    "AT": re.compile(r"^\d{4}$"),
    "CH": re.compile(r"^\d{4}$"),
    "DK": re.compile(r"^\d{4}$"),
    "SE": re.compile(r"^\d{3} ?\d{2}$"),
    "PL": re.compile(r"^\d{2}-\d{3}$"),
    "CN": re.compile(r"^\d{6}$"),
    "JP": re.compile(r"^\d{3}-?\d{4}$"),
    "AU": re.compile(r"^\d{4}$"),
    "IE": re.compile(r"^[A-Z\d]{3} ?[A-Z\d]{4}$"),
}
_GENERIC_POSTAL = re.compile(r"^[A-Z0-9][A-Z0-9 \-]{1,10}$")
# Countries without a postal code system.
NO_POSTAL_CODE = frozenset({"HK", "AE", "QA", "AO", "BS", "BZ", "FJ"})


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    company: str | None = None
    line2: str | None = None
    region: str | None = None
    phone: str | None = None
    email: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # Plain attribute reads: dataclasses.asdict deep-copies field by field, which cost more than the rest of
        # placing an order's address (bench/capture.py).
        return {name: getattr(self, name) for name in _ADDRESS_FIELDS}


_ADDRESS_FIELDS = tuple(f.name for f in fields(Address))


def normalise_postal_code(country: str, postal_code: str) -> str:
    return " ".join(postal_code.upper().split())


def check_address(data: dict[str, Any], problems: ProblemCollector, path: str) -> Address | None:
    """Validates a mapping into an Address, adding every problem found under `path` (e.g. 'ship_to')."""
    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            problems.add("invalid_type", f"{key} must be text", f"{path}.{key}")
            return None
        return value.strip() or None

    before = len(problems.problems)
    for key in ("name", "line1", "city", "country"):
        if not text(key):
            problems.add("required", f"{key} is required", f"{path}.{key}")
    country = (text("country") or "").upper()
    if country and country not in COUNTRIES:
        problems.add("invalid_country", f"country must be an ISO 3166 two-letter code, got {country!r}",
                     f"{path}.country")
    postal = normalise_postal_code(country, text("postal_code") or "")
    if not postal and country not in NO_POSTAL_CODE:
        problems.add("required", "postal_code is required", f"{path}.postal_code")
    elif postal and country in COUNTRIES:
        pattern = POSTAL_FORMATS.get(country, _GENERIC_POSTAL)
        if not pattern.match(postal):
            problems.add("invalid_postal_code", f"{postal!r} is not a valid postal code for {country}",
                         f"{path}.postal_code")
    email = text("email")
    if email and "@" not in email:
        problems.add("invalid_email", "email must be an address like name@example.com", f"{path}.email")
    if len(problems.problems) > before:
        return None
    return Address(
        name=text("name") or "", line1=text("line1") or "", city=text("city") or "", postal_code=postal,
        country=country, company=text("company"), line2=text("line2"), region=text("region"),
        phone=text("phone"), email=email,
    )
