"""Trading-partner use cases: set up and change a partner's profile, and map its buyer items to our SKUs.

A channel is named by its code and a partner by its normalised partner id (`ZZ:ACME`), as in documents; the
screens name both by their numeric ids and resolve them with the `*_by_id` functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from conveyor.catalog.tables import products
from conveyor.channels.domain import CODE_PATTERN
from conveyor.channels.partners.domain import (
    BUYER_ITEM_MAX,
    check_items,
    check_partner,
    is_partner_id,
    normalise_partner_id,
)
from conveyor.channels.partners.schemas import PartnerIn, PartnerItemsResult, PartnerPatch
from conveyor.channels.tables import channels, partner_items, trading_partners
from conveyor.customers.tables import customers
from conveyor.kernel.errors import Conflict, FieldProblem, NotFound, ProblemCollector, ValidationFailed

LOOKUP_CHUNK = 500  # values per IN (...) list


@dataclass(frozen=True)
class ChannelRef:
    id: int
    code: str
    kind: str


def find_channel(conn: Connection, code: str) -> ChannelRef:
    """The channel with this code; 404 channel_not_found."""
    text = code.strip()
    row = None
    if CODE_PATTERN.match(text):
        row = conn.execute(select(channels.c.id, channels.c.code, channels.c.kind)
                           .where(channels.c.code == text)).first()
    if row is None:
        raise NotFound("channel_not_found", f"there is no channel {code!r}", "code")
    return ChannelRef(int(row.id), row.code, row.kind)


def find_channel_by_id(conn: Connection, channel_id: int) -> ChannelRef:
    row = conn.execute(select(channels.c.id, channels.c.code, channels.c.kind)
                       .where(channels.c.id == channel_id)).first()
    if row is None:
        raise NotFound("channel_not_found", f"there is no channel {channel_id}", "id")
    return ChannelRef(int(row.id), row.code, row.kind)


def find_partner(conn: Connection, channel: ChannelRef, partner_id: str, *, lock: bool = False) -> int:
    """The row id of the channel's partner `partner_id` (any spelling that normalises to it); 404
    partner_not_found."""
    normal = normalise_partner_id(partner_id)
    row = None
    if is_partner_id(normal):
        query = select(trading_partners.c.id).where(trading_partners.c.channel_id == channel.id,
                                                    trading_partners.c.partner_id == normal)
        row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise partner_not_found(channel.code, partner_id)
    return int(row.id)


def check_partner_on_channel(conn: Connection, channel: ChannelRef, partner_pk: int) -> None:
    """404 partner_not_found unless row `partner_pk` is a partner of `channel` (the screens' URLs)."""
    found = conn.execute(select(trading_partners.c.id).where(trading_partners.c.id == partner_pk,
                                                             trading_partners.c.channel_id == channel.id)).first()
    if found is None:
        raise partner_not_found(channel.code, str(partner_pk))


def partner_not_found(channel_code: str, partner_id: str) -> NotFound:
    return NotFound("partner_not_found", f"channel {channel_code} has no trading partner {partner_id!r}",
                    "partner_id")


def create_partner(conn: Connection, channel: ChannelRef, data: PartnerIn, *, at: datetime) -> int:
    clean = check_profile(conn, data.model_dump(), channel)
    _refuse_duplicate(conn, channel, clean["partner_id"])
    try:
        return int(conn.execute(insert(trading_partners).values(**clean, channel_id=channel.id, created_at=at,
                                                                updated_at=at)
                                .returning(trading_partners.c.id)).scalar_one())
    except IntegrityError:
        raise _partner_taken(channel, clean["partner_id"]) from None


def update_partner(conn: Connection, channel: ChannelRef, partner_pk: int, patch: PartnerPatch, *,
                   at: datetime) -> None:
    row = conn.execute(select(trading_partners, customers.c.account)
                       .join(customers, customers.c.id == trading_partners.c.customer_id)
                       .where(trading_partners.c.id == partner_pk, trading_partners.c.channel_id == channel.id)
                       .with_for_update(of=trading_partners)).mappings().first()
    if row is None:
        raise partner_not_found(channel.code, str(partner_pk))
    current = {"partner_id": row["partner_id"], "name": row["name"], "customer": row["account"],
               "our_id": row["our_id"], "documents": row["documents"] or [], "units": row["units"] or {},
               "active": row["active"]}
    clean = check_profile(conn, {**current, **patch.model_dump(exclude_unset=True)}, channel)
    clean.pop("partner_id")  # not changed here: documents and orders name the partner by it
    conn.execute(update(trading_partners).where(trading_partners.c.id == partner_pk).values(**clean, updated_at=at))


def put_items(conn: Connection, partner_pk: int, items: Sequence[Mapping[str, Any]], *, replace: bool,
              at: datetime) -> PartnerItemsResult:
    """Adds or changes the mappings sent ({buyer_item, sku} each); with `replace`, removes every other one.
    All or nothing: an unknown SKU is refused with its path (`items.3.sku`) and nothing is written."""
    problems = ProblemCollector()
    checked = check_items(items, problems)
    product_ids = _product_ids(conn, (sku for _, _, sku in checked))
    for i, _, sku in checked:
        if sku not in product_ids:
            problems.add("unknown_sku", f"there is no product with the SKU {sku!r}", f"items.{i}.sku")
    problems.raise_if_any()
    pairs = [(buyer_item, sku) for _, buyer_item, sku in checked]
    _lock(conn, partner_pk)
    existing = {r.buyer_item: (int(r.id), int(r.product_id)) for r in conn.execute(
        select(partner_items.c.id, partner_items.c.buyer_item, partner_items.c.product_id)
        .where(partner_items.c.partner_id == partner_pk))}
    added: list[dict[str, Any]] = []
    changed = unchanged = 0
    for buyer_item, sku in pairs:
        product_id = product_ids[sku]
        if buyer_item not in existing:
            added.append({"partner_id": partner_pk, "buyer_item": buyer_item, "product_id": product_id})
        elif existing[buyer_item][1] != product_id:
            conn.execute(update(partner_items).where(partner_items.c.id == existing[buyer_item][0])
                         .values(product_id=product_id))
            changed += 1
        else:
            unchanged += 1
    sent = {buyer_item for buyer_item, _ in pairs}
    stale = [row_id for buyer_item, (row_id, _) in existing.items() if buyer_item not in sent] \
        if replace else []
    for chunk in _chunks(stale):
        conn.execute(delete(partner_items).where(partner_items.c.id.in_(chunk)))
    if added:
        try:
            conn.execute(insert(partner_items), added)
        except IntegrityError:
            raise Conflict("mapping_changed", "another change to these mappings came first; send them again",
                           "items") from None
    _touch(conn, partner_pk, at)
    total = len(existing) + len(added) - len(stale)
    return PartnerItemsResult(added=len(added), changed=changed, unchanged=unchanged, removed=len(stale),
                              total=total)


def delete_item(conn: Connection, partner_pk: int, buyer_item: str, *, at: datetime) -> None:
    """Removes one mapping; 404 partner_item_not_found when the partner has none for `buyer_item`."""
    text = buyer_item.strip()
    _lock(conn, partner_pk)
    removed = 0
    if text and len(text) <= BUYER_ITEM_MAX and "\x00" not in text:
        removed = conn.execute(delete(partner_items).where(partner_items.c.partner_id == partner_pk,
                                                           partner_items.c.buyer_item == text)).rowcount
    if not removed:
        raise NotFound("partner_item_not_found", f"no mapping for the buyer item {buyer_item!r}", "buyer_item")
    _touch(conn, partner_pk, at)


def check_profile(conn: Connection, data: dict[str, Any], channel: ChannelRef) -> dict[str, Any]:
    """check_partner, and the customer's account to its id: the row to store; every problem at once."""
    problems: list[FieldProblem] = []
    clean: dict[str, Any] = {}
    try:
        clean = check_partner(data, channel_kind=channel.kind)
    except ValidationFailed as exc:
        problems = list(exc.problems)
    account = (data.get("customer") or "").strip() if isinstance(data.get("customer"), str) else ""
    customer_id = None
    if account and not any(p.field == "customer" for p in problems):
        customer_id = conn.execute(select(customers.c.id).where(customers.c.account == account)).scalar()
        if customer_id is None:
            problems.append(FieldProblem("unknown_customer", f"there is no customer with the account {account!r}",
                                         "customer"))
    if problems:
        raise ValidationFailed.of(problems)
    clean.pop("customer")
    return {**clean, "customer_id": int(customer_id)}  # type: ignore[arg-type]


def _refuse_duplicate(conn: Connection, channel: ChannelRef, partner_id: str) -> None:
    if conn.execute(select(trading_partners.c.id).where(trading_partners.c.channel_id == channel.id,
                                                        trading_partners.c.partner_id == partner_id)).first():
        raise _partner_taken(channel, partner_id)


def _partner_taken(channel: ChannelRef, partner_id: str) -> Conflict:
    return Conflict("partner_taken", f"channel {channel.code} already has the trading partner {partner_id}",
                    "partner_id")


def _product_ids(conn: Connection, skus: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(skus))):
        found.update((r.sku, int(r.id)) for r in conn.execute(
            select(products.c.id, products.c.sku).where(products.c.sku.in_(chunk))))
    return found


def _lock(conn: Connection, partner_pk: int) -> None:
    """Serialises changes to one partner's mappings (PostgreSQL; SQLite writes one at a time anyway)."""
    conn.execute(select(trading_partners.c.id).where(trading_partners.c.id == partner_pk).with_for_update())


def _touch(conn: Connection, partner_pk: int, at: datetime) -> None:
    conn.execute(update(trading_partners).where(trading_partners.c.id == partner_pk).values(updated_at=at))


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start:start + LOOKUP_CHUNK]




@dataclass(frozen=True)
class LineProblem:
    line: int  # 0: the file or list as a whole
    code: str
    message: str
    field: str | None = None

    def where(self, source: str) -> str:
        return f"{source}:{self.line}" if self.line else source

    def __str__(self) -> str:
        return (f"line {self.line}: " if self.line else "") + f"{self.code}: {self.message}" + (
            f" ({self.field})" if self.field else "")


class RowsRefused(Exception):
    """map_rows refused: every problem by line, nothing written."""

    def __init__(self, problems: list[LineProblem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def map_rows(conn: Connection, partner_pk: int, rows: Sequence[tuple[int, str, str]], *, replace: bool,
             at: datetime) -> PartnerItemsResult:
    """put_items for rows read from a CSV file or a pasted list, (line, buyer_item, sku) each; a refusal
    (RowsRefused) names the line of each problem."""
    try:
        return put_items(conn, partner_pk, [{"buyer_item": item, "sku": sku} for _, item, sku in rows],
                         replace=replace, at=at)
    except ValidationFailed as exc:
        raise RowsRefused(sorted((_on_line(p, rows) for p in exc.problems), key=lambda p: p.line)) from None


def _on_line(problem: FieldProblem, rows: Sequence[tuple[int, str, str]]) -> LineProblem:
    parts = (problem.field or "").split(".")
    if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit() and int(parts[1]) < len(rows):
        return LineProblem(rows[int(parts[1])][0], problem.code, problem.message, parts[2])
    return LineProblem(0, problem.code, problem.message, problem.field)
