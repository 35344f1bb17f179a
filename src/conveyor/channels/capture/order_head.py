"""The order-level values of the order file layout, read once an order from its first row. Pure.

Also builds the model's frozen dataclasses quickly (`plain`, `builder`): their generated __init__ sets every
field through object.__setattr__, which made building them the larger part of an import's time. Objects built
so are equal to ones built through __init__ (tests/unit/test_capture_csv.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, TypeVar

from conveyor.channels.capture import csv_values as values
from conveyor.channels.capture.csv_layout import ADDRESS_KEYS, ORDER_COLUMNS, Header
from conveyor.channels.capture.model import Captured, CapturedLine, CapturedOrder, Control, PartyRef, Rejected
from conveyor.kernel.address import COUNTRIES
from conveyor.kernel.money import is_currency

Problems = list[tuple[str, int, str]]  # (code, line, message) of one order
# Values remembered by their text, at most: items, numbers and order-level values (about 1 KiB each, so a few
# MB in all): files repeat them, and what is shared is immutable (or copied: address dicts).
CACHED = 4096
# What an order's first row says: party, currency, ship_to, bill_to, shipping, notes, requested delivery date,
# ordered at, tags, priority.
_Head = tuple[PartyRef, str | None, dict[str, str] | None, dict[str, str] | None, Decimal, str | None,
              date | None, datetime | None, tuple[str, ...], int | None]
MAX_SHOWN = 20  # problems named in one rejection; more are counted
ZERO = Decimal(0)

_T = TypeVar("_T")
_new = object.__new__
_set = object.__setattr__


def plain(cls: type[Any], names: tuple[str, ...]) -> bool:
    """Whether an instance of dataclass `cls` is whole with a __dict__ of exactly `names`: no slots, no
    __post_init__, nothing else its __init__ would do."""
    return (tuple(f.name for f in fields(cls)) == names and "__slots__" not in vars(cls)
            and not hasattr(cls, "__post_init__"))


def builder(cls: type[_T], names: tuple[str, ...]) -> Callable[..., _T]:
    """Makes `cls` from values for exactly `names`, in that order, without running its __init__; calls the
    class with keywords instead when `plain` says that could leave something out."""
    if not plain(cls, names):
        def construct(*args: Any) -> _T:
            return cls(**dict(zip(names, args, strict=True)))
        return construct

    def build(*args: Any) -> _T:
        obj = _new(cls)
        _set(obj, "__dict__", dict(zip(names, args, strict=True)))
        return obj
    return build


_ORDER = ("external_id", "customer", "lines", "currency", "ship_to", "bill_to", "shipping", "notes",
          "requested_delivery_date", "ordered_at", "tags", "where", "control", "extra")
_PARTY = ("account", "partner_id", "email", "name", "phone")
if plain(CapturedOrder, _ORDER) and plain(PartyRef, _PARTY):
    def _order(external_id: str, customer: PartyRef, lines: tuple[CapturedLine, ...], currency: str | None,
               ship_to: dict[str, str] | None, bill_to: dict[str, str] | None, shipping: Decimal, notes: str | None,
               requested_delivery_date: date | None, ordered_at: datetime | None, tags: tuple[str, ...], where: str,
               control: Control, extra: dict[str, Any]) -> CapturedOrder:
        order = _new(CapturedOrder)
        _set(order, "__dict__", {
            "external_id": external_id, "customer": customer, "lines": lines, "currency": currency,
            "ship_to": ship_to, "bill_to": bill_to, "shipping": shipping, "notes": notes,
            "requested_delivery_date": requested_delivery_date, "ordered_at": ordered_at, "tags": tags,
            "where": where, "control": control, "extra": extra})
        return order

    def _party(account: str | None, partner_id: str | None, email: str | None, name: str | None,
               phone: str | None) -> PartyRef:
        party = _new(PartyRef)
        _set(party, "__dict__", {"account": account, "partner_id": partner_id, "email": email, "name": name,
                                 "phone": phone})
        return party
else:  # pragma: no cover - the model changed: build through __init__
    _order = builder(CapturedOrder, _ORDER)
    _party = builder(PartyRef, _PARTY)


def _tags(text: str, separator: str) -> tuple[str, ...]:
    return tuple(tag.strip() for tag in text.split(separator) if tag.strip())


class OrderHead:
    """Reads the order-level columns a file has, and turns an order's rows into a CapturedOrder or Rejected."""

    def __init__(self, header: Header, where: str, unit: str, control: Control, *, decimal_comma: bool,
                 date_format: str | None, datetime_format: str | None, tags_separator: str) -> None:
        self.header = header
        self.where = where
        self.unit = unit
        self.control = control
        self.decimal_comma = decimal_comma
        self.date_format = date_format
        self.datetime_format = datetime_format
        self.tags_separator = tags_separator
        pos = header.positions
        present = [column for column in ORDER_COLUMNS if pos[column] != header.empty]
        in_file = [(column, pos[column]) for column in present if pos[column] < header.width]
        self.order_positions = tuple(in_file)
        if len(in_file) > 1:
            self.key_of: Callable[[list[str]], object] = itemgetter(*(p for _, p in in_file))
        else:
            self.key_of = (lambda cells: cells[in_file[0][1]]) if in_file else (lambda cells: None)
        self.party = tuple(pos[c] for c in ("customer", "customer_email", "customer_name", "customer_phone"))
        self.ship = tuple((key, pos[f"ship_{key}"]) for key in ADDRESS_KEYS if f"ship_{key}" in present)
        self.bill = tuple((key, pos[f"bill_{key}"]) for key in ADDRESS_KEYS if f"bill_{key}" in present)
        self.p_currency = pos["currency"]
        self.p_notes = pos["notes"]
        self.p_tags = pos["tags"]
        self.heads: dict[object, _Head] = {}
        self.parsed: tuple[tuple[str, int, Callable[[str], Any]], ...] = tuple(
            (column, pos[column], parse) for column, parse in (
                ("shipping", self._amount), ("requested_delivery_date", self._day),
                ("ordered_at", self._moment), ("priority", values.priority)) if column in present)

    def bad(self, problems: Problems, line: int, column: str, text: str, expected: str) -> None:
        problems.append(("missing_value" if not text else "invalid_value", line,
                         f"{self.where} {self.unit} {line}: column {self.header.label(column)}: expected {expected}, "
                         f"found {values.found(text)}"))

    def amount(self, text: str, problems: Problems, line: int, column: str) -> Decimal:
        """An amount of 0 or more (price, discount, tax, shipping); 0 after noting the problem."""
        try:
            return self._amount(text)
        except values.BadValue as exc:
            self.bad(problems, line, column, text, exc.expected)
            return ZERO

    def _amount(self, text: str) -> Decimal:
        try:
            value = values.number(text, self.decimal_comma)
        except values.BadValue:
            value = Decimal(-1)
        if value < 0:
            raise values.BadValue("an amount of 0 or more")
        return value

    def _day(self, text: str) -> date:
        return values.day(text, self.date_format)

    def _moment(self, text: str) -> datetime:
        return values.moment(text, self.datetime_format)

    def compare(self, first: list[str], later: list[str], start: int, line: int, problems: Problems) -> None:
        """A later row of an order may leave order-level cells empty or repeat them, nothing else."""
        for column, p in self.order_positions:
            value = later[p].strip()
            if value and value != first[p].strip():
                was = first[p].strip()
                expected = (f"{values.found(was)} as on {self.unit} {start} (the order's first row) or nothing" if was
                            else f"nothing, as on {self.unit} {start} (the order's first row)")
                problems.append(("conflicting_value", line, f"{self.where} {self.unit} {line}: column "
                                                      f"{self.header.label(column)}: expected {expected}, found "
                                                      f"{values.found(value)}"))

    def finish(self, order_id: str, cells: list[str], key: object, lines: list[CapturedLine], start: int,
               end: int, problems: Problems) -> Captured:
        """The order, or its rejection naming every problem found in its rows and order-level values.

        `key` is the order's raw order-level cells: orders with the same ones (a customer's orders, with the
        same address) share what was read from them, but for the address dicts, which are copied.
        """
        where = f"{self.where} {self.unit} {start}" if start == end else f"{self.where} {self.unit}s {start}-{end}"
        head = self.heads.get(key)
        if head is None:
            before = len(problems)
            head = self._head(cells, start, problems)
            if len(problems) == before:
                if len(self.heads) >= CACHED:
                    self.heads.clear()
                self.heads[key] = head
        if not problems:
            party, currency, ship_to, bill_to, shipping, notes, requested, ordered_at, tags, priority = head
            return _order(order_id, party, tuple(lines), currency, None if ship_to is None else dict(ship_to),
                          None if bill_to is None else dict(bill_to), shipping, notes, requested, ordered_at, tags,
                          where, self.control, {} if priority is None else {"priority": priority})
        problems.sort(key=itemgetter(1))  # order-level problems were found last, on the first row
        more = len(problems) - MAX_SHOWN
        reason = "; ".join(message for _, _, message in problems[:MAX_SHOWN])
        if more > 0:
            reason += f"; and {more} more"
        return Rejected(where, reason, order_id, self.control, problems[0][0])

    def _head(self, cells: list[str], line: int, problems: Problems) -> _Head:
        """The order-level values of an order's first row (`line`); problems are added to `problems`."""
        currency: str | None = cells[self.p_currency].strip().upper() or None
        if currency is not None and not is_currency(currency):
            self.bad(problems, line, "currency", cells[self.p_currency].strip(), "an ISO 4217 currency code such "
                                                                                 "as EUR or USD")
        ship_to = self._address(cells, self.ship, "ship", line, problems) if self.ship else None
        bill_to = self._address(cells, self.bill, "bill", line, problems) if self.bill else None
        found: dict[str, Any] = {}
        for column, p, parse in self.parsed:
            text = cells[p].strip()
            if text:
                try:
                    found[column] = parse(text)
                except values.BadValue as exc:
                    self.bad(problems, line, column, text, exc.expected)
        p_account, p_email, p_name, p_phone = self.party
        party = _party(cells[p_account].strip() or None, None, cells[p_email].strip() or None,
                       cells[p_name].strip() or None, cells[p_phone].strip() or None)
        tags = cells[self.p_tags]
        return (party, currency, ship_to, bill_to, found.get("shipping", ZERO), cells[self.p_notes].strip() or None,
                found.get("requested_delivery_date"), found.get("ordered_at"),
                _tags(tags, self.tags_separator) if tags else (), found.get("priority"))

    def _address(self, cells: list[str], keys: tuple[tuple[str, int], ...], prefix: str, line: int,
                 problems: Problems) -> dict[str, str] | None:
        address = {key: value for key, p in keys if (value := cells[p].strip())}
        if not address:
            return None
        country = address.get("country")
        if country is not None:
            if country.upper() in COUNTRIES:
                address["country"] = country.upper()
            else:
                self.bad(problems, line, f"{prefix}_country", country, "an ISO 3166-1 alpha-2 country code such as "
                                                                       "NL or US")
        return address
