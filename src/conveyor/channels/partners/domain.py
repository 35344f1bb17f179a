"""Trading-partner rules: how a partner is named, which documents it may expect back, its units of measure,
and its item mappings.

Pure: the standard library and conveyor.kernel only. Every problem is reported with a code and a field path
such as `units.CS` or `items.2.sku`, all at once.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conveyor.kernel.errors import ProblemCollector

# The documents a partner may expect back, per standard (the channel's kind).
X12_DOCUMENTS = ("997", "855", "856", "810")
EDIFACT_DOCUMENTS = ("CONTRL", "ORDRSP", "DESADV", "INVOIC")
DOCUMENTS: dict[str, tuple[str, ...]] = {"edi_x12": X12_DOCUMENTS, "edifact": EDIFACT_DOCUMENTS}
DOCUMENT_LABELS = {
    "997": "997 functional acknowledgement", "855": "855 purchase order acknowledgement",
    "856": "856 advance ship notice", "810": "810 invoice",
    "CONTRL": "CONTRL syntax and service report", "ORDRSP": "ORDRSP order response",
    "DESADV": "DESADV despatch advice", "INVOIC": "INVOIC invoice",
}
EDI_KINDS = tuple(DOCUMENTS)

PARTNER_ID_MAX = 80  # trading_partners.partner_id is VARCHAR(80)
# [qualifier:]id as capture writes it, after normalising: ISA05:ISA06 for X12 ('ZZ:ACME'); for EDIFACT the
# UNB/NAD qualifier and id ('14:5412345000013'), or the id alone when the documents give no qualifier. The id
# has no ':' (a separator), no '/' (it is a URL path segment) and no control characters.
PARTNER_ID_PATTERN = re.compile(r"^(?:[A-Z0-9]{1,4}:)?[^\x00-\x1f\x7f-\x9f/:]+$")
NAME_MAX = 200
UNIT_PATTERN = re.compile(r"^[A-Z0-9]{1,3}$")
MAX_EACHES = 1_000_000
BUYER_ITEM_MAX = 80  # partner_items.buyer_item is VARCHAR(80)
SKU_MAX = 64
MAX_ITEMS = 10_000  # mappings in one request or file
# Codes that always mean one each (conveyor.channels.partners.profiles.EACH_UNITS): a partner cannot
# redefine them, since capture reads them as one each before it looks at the partner's units.
EACH_UNITS = frozenset({"", "EA", "EACH", "PCE", "PC", "PCS", "C62", "H87", "UN", "UNT", "NAR"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: Any) -> str | None:
    return None if value is None else (str(value).strip() or None)


def normalise_partner_id(text: str) -> str:
    """'ZZ:ACME   ' and 'zz:acme' name the same partner: trimmed, upper case, no padding around the colon.
    Profiles are stored so, and capture looks them up so (partners/profiles.py)."""
    return ":".join(part.strip() for part in text.strip().upper().split(":"))


def is_partner_id(text: str) -> bool:
    """Whether `text` (already normalised) is a well-formed partner id."""
    return len(text) <= PARTNER_ID_MAX and PARTNER_ID_PATTERN.match(text) is not None


def check_partner_id(value: Any, problems: ProblemCollector, field: str = "partner_id", *,
                     required: bool = True, channel_kind: str | None = None) -> str | None:
    """The partner id normalised, or None (with a problem when it is required or malformed). On an X12
    channel the qualifier (ISA05, ISA07) is part of it; EDIFACT documents may give an id without one."""
    text = _text(value)
    if text is None:
        if required:
            problems.add("required", f"{field} is required", field)
        return None
    normal = normalise_partner_id(text)
    if not is_partner_id(normal):
        problems.add("invalid_partner_id",
                     f"{field} is qualifier:id (or, for EDIFACT without a qualifier, the id alone), at most "
                     f"{PARTNER_ID_MAX} characters: a qualifier of 1-4 letters or digits (ZZ, 01, 14 ...), a "
                     "colon, then the id without / or :, e.g. ZZ:ACME or 14:5412345000013", field)
        return None
    if channel_kind == "edi_x12" and ":" not in normal:
        problems.add("invalid_partner_id", f"on an X12 channel {field} is the qualifier and the id, "
                                           "ISA05:ISA06 (or ISA07:ISA08), e.g. ZZ:ACME", field)
        return None
    return normal


def check_text(value: Any, problems: ProblemCollector, field: str, *, limit: int, required: bool) -> str | None:
    text = _text(value)
    if text is None:
        if required:
            problems.add("required", f"{field} is required", field)
        return None
    if len(text) > limit:
        problems.add("too_long", f"{field} has at most {limit} characters", field)
    elif _CONTROL.search(text):
        problems.add("invalid_text", f"{field} contains a control character", field)
    return text


def check_edi_channel(kind: str, problems: ProblemCollector) -> None:
    if kind not in EDI_KINDS:
        problems.add("not_edi_channel", f"trading partners belong to EDI channels (kind edi_x12 or edifact); "
                                        f"this channel is {kind}", "channel")


def check_documents(values: Any, kind: str, problems: ProblemCollector) -> list[str]:
    """The documents the partner expects back, upper case, each once, in the order given."""
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Sequence):
        problems.add("invalid_type", "documents is a list such as [\"997\", \"855\"]", "documents")
        return []
    known = DOCUMENTS.get(kind, ())
    clean: list[str] = []
    for i, value in enumerate(values):
        document = (_text(value) or "").upper()
        if document not in known:
            others = [d for k, docs in DOCUMENTS.items() if k != kind for d in docs]
            hint = f" ({document} is an {'EDIFACT' if kind == 'edi_x12' else 'X12'} document)" \
                if document in others else ""
            problems.add("invalid_document", f"a partner on an {kind} channel can expect back "
                                             f"{', '.join(known) or 'nothing'}{hint}", f"documents.{i}")
        elif document not in clean:
            clean.append(document)
    return clean


def check_units(values: Any, problems: ProblemCollector) -> dict[str, int]:
    """Unit code (1-3 letters or digits, upper case) -> how many eaches one unit holds (a whole number > 0)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        problems.add("invalid_type", "units is an object such as {\"CS\": 12}", "units")
        return {}
    clean: dict[str, int] = {}
    for key, eaches in values.items():
        code = (_text(key) or "").upper()
        field = f"units.{key}"
        if not UNIT_PATTERN.match(code):
            problems.add("invalid_unit", "a unit code is 1 to 3 letters or digits, such as CS or PK", field)
            continue
        if code in EACH_UNITS:
            problems.add("each_unit", f"{code} always means one each; it cannot be given another size", field)
            continue
        if code in clean:
            problems.add("duplicate_unit", f"the unit {code} is given twice", field)
            continue
        if isinstance(eaches, bool) or not isinstance(eaches, int) or not 1 <= eaches <= MAX_EACHES:
            problems.add("invalid_eaches", f"a unit holds a whole number of eaches, 1 to {MAX_EACHES}", field)
            continue
        clean[code] = eaches
    return clean


def check_partner(data: Mapping[str, Any], *, channel_kind: str) -> dict[str, Any]:
    """Validates a whole partner profile (new, or existing with a patch applied) for a channel of
    `channel_kind`; raises ValidationFailed. `customer` is an account number: whether it exists is the
    handler's question."""
    problems = ProblemCollector()
    check_edi_channel(channel_kind, problems)
    partner_id = check_partner_id(data.get("partner_id"), problems, channel_kind=channel_kind)
    name = check_text(data.get("name"), problems, "name", limit=NAME_MAX, required=True)
    customer = check_text(data.get("customer"), problems, "customer", limit=32, required=True)
    our_id = check_partner_id(data.get("our_id"), problems, "our_id", required=False, channel_kind=channel_kind)
    documents = check_documents(data.get("documents"), channel_kind, problems) \
        if channel_kind in EDI_KINDS else []
    units = check_units(data.get("units"), problems)
    active = data.get("active", True)
    if not isinstance(active, bool):
        problems.add("required", "active must be true or false", "active")
    problems.raise_if_any()
    return {"partner_id": partner_id, "name": name, "customer": customer, "our_id": our_id,
            "documents": documents, "units": units, "active": active}


def check_item(buyer_item: Any, sku: Any, problems: ProblemCollector, prefix: str = "") -> tuple[str, str] | None:
    """One mapping: the partner's item number as they send it (trimmed, case kept) and our SKU."""
    start = len(problems.problems)
    item = check_text(buyer_item, problems, f"{prefix}buyer_item", limit=BUYER_ITEM_MAX, required=True)
    our = check_text(sku, problems, f"{prefix}sku", limit=SKU_MAX, required=True)
    if len(problems.problems) > start or item is None or our is None:
        return None
    return item, our


def check_items(items: Sequence[Mapping[str, Any]], problems: ProblemCollector) -> list[tuple[int, str, str]]:
    """A list of {buyer_item, sku}: (position, buyer_item, sku) for each good entry, and a problem at
    `items.N.buyer_item` / `items.N.sku` for each bad one; a buyer item may appear once. Whether each SKU
    exists is the handler's question."""
    if len(items) > MAX_ITEMS:
        problems.add("too_many_items", f"at most {MAX_ITEMS} mappings at once", "items")
        return []
    clean: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(items):
        pair = check_item(entry.get("buyer_item"), entry.get("sku"), problems, f"items.{i}.")
        if pair is None:
            continue
        if pair[0] in seen:
            problems.add("duplicate_buyer_item", f"the buyer item {pair[0]!r} is in the list twice",
                         f"items.{i}.buyer_item")
            continue
        seen.add(pair[0])
        clean.append((i, *pair))
    return clean


def parse_documents(text: str) -> list[str]:
    """'997, 855' (CLI and forms) -> ['997', '855']."""
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def parse_units(pairs: Iterable[str], problems: ProblemCollector, field: str = "units") -> dict[str, Any]:
    """['CS=12', 'PK=6'] (CLI options, form lines) -> {'CS': 12, 'PK': 6}; a bad pair is a problem at `field`,
    a count that is not a whole number is passed on as text so check_units names its unit."""
    units: dict[str, Any] = {}
    for pair in pairs:
        if not pair.strip():
            continue
        code, sep, count = pair.partition("=")
        if not sep or not code.strip():
            problems.add("invalid_unit", f"{pair.strip()!r}: write a unit as CODE=EACHES, e.g. CS=12", field)
            continue
        text = count.strip()
        units[code.strip().upper()] = int(text) if re.fullmatch(r"[0-9]{1,9}", text) else text
    return units


ITEM_COLUMNS = ("buyer_item", "sku")


def read_item_csv(text: str) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """`buyer_item,sku` rows (a header row with those names is optional; `;` or tab also separate) ->
    (line, buyer_item, sku) for each row, and (line, code, message) for each row that cannot be read.
    Whether the values are valid is check_items' question, and whether the SKUs exist the handler's."""
    rows: list[tuple[int, str, str]] = []
    problems: list[tuple[int, str, str]] = []
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = next((d for d in (",", ";", "\t") if d in first), ",")
    try:
        reader = csv.reader(lines, delimiter=delimiter)
        for cells in reader:
            number = reader.line_num
            values = [cell.strip() for cell in cells]
            if not any(values):
                continue
            if not rows and not problems and [v.lower() for v in values] == list(ITEM_COLUMNS):
                continue  # the header
            if len(values) != 2:
                problems.append((number, "invalid_row", f"a row is buyer_item{delimiter}sku; this one has "
                                                        f"{len(values)} cell{'s' if len(values) != 1 else ''}"))
                continue
            rows.append((number, values[0], values[1]))
    except csv.Error as exc:
        problems.append((0, "invalid_csv", str(exc)))
    if not rows and not problems:
        problems.append((0, "no_rows", "there are no buyer_item,sku rows"))
    return rows, problems
