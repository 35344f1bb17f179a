"""The one intake path for every channel: captured orders are resolved and placed by the core, in batches.

`capture(items, ...)` takes what an adapter yields (model.py), resolves customers and items
(resolve.py, reference.py), creates web-shop buyers seen for the first time, and places the orders with
`conveyor.orders.placing.place_orders` — the same code the API uses — so validation, idempotency, the
probable-duplicate review, the shortage policy and the reservation happen once, in the core:

- idempotency: by (channel, external id) always; by the EDI control numbers (sender, receiver, interchange,
  group, transaction) or the webhook delivery id, kept as the order's idempotency key for the channel. A
  re-sent document creates nothing and is reported under `duplicates` with the order it already made.
- one broken order never stops the others: it is reported under `rejected` with where and why, and
  nothing of it is written. The adapters already put whole broken documents there.
- a dry run reads (when there is a database) but writes nothing, and reports the same object.

Each capture (a file, an upload, a webhook delivery) is logged in `channel_captures` for the channel
health screen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from conveyor.channels.capture.model import Captured, CapturedOrder, Ignored, Rejected
from conveyor.channels.capture.reference import load_reference
from conveyor.channels.capture.report import PROBLEMS_KEPT, CaptureReport
from conveyor.channels.capture.resolve import NewCustomer, Resolved, Unresolvable, resolve
from conveyor.channels.partners.profiles import Profile, load_profiles
from conveyor.channels.tables import channel_captures, channels
from conveyor.kernel.errors import DomainError, NotFound, ValidationFailed
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.domain import order_number
from conveyor.orders.placing import Placed, place_orders
from conveyor.orders.tables import orders

if TYPE_CHECKING:
    from conveyor.bootstrap import Container

BATCH = 500  # orders placed per transaction
# Which channel kind a format belongs to, when the caller names no channel.
KIND_OF_FORMAT = {"csv": "csv", "xlsx": "csv", "x12": "edi_x12", "edifact": "edifact", "shopify": "shopify",
                  "woocommerce": "woocommerce", "amazon": "amazon"}


@dataclass(frozen=True)
class Channel:
    id: int
    code: str
    kind: str
    currency: str


@dataclass(frozen=True)
class CaptureRequest:
    source: str  # the file name, or "webhook"
    format: str
    actor: str  # who captured it: "user:<email>", "system:webhook"
    channel: str | None = None  # a channel code; None: the only active channel of the format's kind
    dry_run: bool = False


def find_channel(conn: Connection, code: str | None, fmt: str) -> Channel:
    query = select(channels.c.id, channels.c.code, channels.c.kind, channels.c.default_currency).where(
        channels.c.active.is_(True))
    if code is not None:
        row = conn.execute(query.where(channels.c.code == code)).first()
        if row is None:
            raise NotFound("unknown_channel", f"no active channel {code!r}", "channel")
        return Channel(int(row.id), row.code, row.kind, row.default_currency)
    kind = KIND_OF_FORMAT.get(fmt, fmt)
    rows = conn.execute(query.where(channels.c.kind == kind)).all()
    if len(rows) != 1:
        raise ValidationFailed("channel_required", f"{len(rows)} active channels of kind {kind}: name one with "
                               "--channel (or create one on the Channels page)", "channel")
    return Channel(int(rows[0].id), rows[0].code, rows[0].kind, rows[0].default_currency)


def capture(items: Iterable[Captured], request: CaptureRequest, container: Container | None,
            on_batch: Callable[[CaptureReport], None] | None = None,
            acknowledger: Acknowledger | None = None) -> CaptureReport:
    """Places every captured order (or, in a dry run, only maps them); one report for the whole document."""
    report = CaptureReport(dry_run=request.dry_run)
    channel, profiles = _channel_and_profiles(container, request)
    received_at = container.clock.now() if container else None
    for batch in _batches(items, report):
        if request.dry_run or container is None:
            _dry_run(batch, channel, profiles, container, report)
        else:
            _place(batch, channel, profiles, container, request, report, acknowledger)
        if on_batch:
            on_batch(report)
    if not request.dry_run and container is not None:
        if acknowledger is not None:
            report.acknowledgements.extend(acknowledger.finish(container, channel.id, profiles))
        with container.db.write() as conn:
            report.capture_id = int(conn.execute(insert(channel_captures).values(
                channel_id=channel.id, source=request.source[:300], format=request.format, actor=request.actor,
                received_at=received_at, orders_created=len(report.orders), duplicates=len(report.duplicates),
                rejected=len(report.rejected), ignored=len(report.ignored),
                problems=report.rejected[:PROBLEMS_KEPT]).returning(channel_captures.c.id)).scalar_one())
    return report


class Acknowledger:
    """Builds the acknowledgements a partner expects back (X12 997/855, EDIFACT CONTRL/ORDRSP); see acks.py.
    `adapter_hooks` are handed to the adapter reading the document (e.g. the X12 reader's `on_group`)."""

    @property
    def adapter_hooks(self) -> dict[str, Any]:
        return {}

    def decided(self, resolved: Resolved | None, captured: CapturedOrder, outcome: Placed | DomainError | str,
                container: Container) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self, container: Container, channel_id: int,
               profiles: dict[str, Profile]) -> list[dict[str, Any]]:  # pragma: no cover - interface
        raise NotImplementedError


def _channel_and_profiles(container: Container | None,
                          request: CaptureRequest) -> tuple[Channel, dict[str, Profile]]:
    if container is None:
        return Channel(0, request.channel or "dry-run", KIND_OF_FORMAT.get(request.format, ""), "EUR"), {}
    with container.db.read() as conn:
        try:
            channel = find_channel(conn, request.channel, request.format)
        except DomainError:
            if not request.dry_run:
                raise
            return Channel(0, request.channel or "dry-run", KIND_OF_FORMAT.get(request.format, ""), "EUR"), {}
        return channel, load_profiles(conn, channel.id)


def _batches(items: Iterable[Captured], report: CaptureReport) -> Iterator[list[CapturedOrder]]:
    batch: list[CapturedOrder] = []
    for item in items:
        if isinstance(item, CapturedOrder):
            batch.append(item)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        elif isinstance(item, Rejected):
            report.rejected.append(_rejected(item.where, item.reason, item.external_id))
        elif isinstance(item, Ignored):
            report.ignored.append({"where": item.where, "reason": item.reason})
    if batch:
        yield batch


def _rejected(where: str, reason: str, external_id: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"where": where, "reason": reason}
    if external_id:
        entry["external_id"] = external_id
    return entry


def _units(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else str(value)


def _entry(resolved: Resolved) -> dict[str, Any]:
    captured = resolved.captured
    return {"external_id": captured.external_id, "lines": len(captured.lines), "units": _units(captured.units),
            "unmapped_lines": resolved.unmapped}


def _resolve_all(batch: list[CapturedOrder], channel: Channel, profiles: dict[str, Profile], conn: Connection | None,
                 report: CaptureReport, *, lenient: bool = False,
                 refused: Callable[[CapturedOrder, str], None] | None = None) -> list[Resolved]:
    ref = load_reference(conn, batch, channel_code=channel.code, currency=channel.currency, profiles=profiles)
    resolved: list[Resolved] = []
    for captured in batch:
        try:
            resolved.append(resolve(captured, ref, lenient=lenient))
        except Unresolvable as exc:
            report.rejected.append(_rejected(captured.where, str(exc), captured.external_id))
            if refused is not None:
                refused(captured, str(exc))
    return resolved


def _dry_run(batch: list[CapturedOrder], channel: Channel, profiles: dict[str, Profile],
             container: Container | None, report: CaptureReport) -> None:
    if container is None or channel.id == 0:
        resolved = _resolve_all(batch, channel, profiles, None, report, lenient=True)
    else:
        with container.db.read() as conn:
            resolved = _resolve_all(batch, channel, profiles, conn, report, lenient=True)
    seen: set[str] = set()
    for r in resolved:
        if r.captured.external_id in seen:
            report.duplicates.append({"external_id": r.captured.external_id,
                                      "reason": "the same order id appears earlier in this document"})
            continue
        seen.add(r.captured.external_id)
        entry = _entry(r)
        if r.warnings:
            entry["warnings"] = list(r.warnings)
        report.orders.append(entry)


def _request_hash(captured: CapturedOrder) -> str:
    text = repr((captured.external_id, [(line.item, line.quantity, line.unit, line.unit_price)
                                        for line in captured.lines]))
    return hashlib.sha256(text.encode()).hexdigest()


def _idempotency_key(captured: CapturedOrder) -> str | None:
    control = captured.control
    if control is None or not (control.interchange or control.transaction or control.delivery_id):
        return None
    return control.key()[:200]


def _place(batch: list[CapturedOrder], channel: Channel, profiles: dict[str, Profile], container: Container,
           request: CaptureRequest, report: CaptureReport, acknowledger: Acknowledger | None) -> None:
    def refuse(captured: CapturedOrder, reason: str) -> None:
        if acknowledger is not None:
            acknowledger.decided(None, captured, reason, container)

    with container.db.read() as conn:
        resolved = _resolve_all(batch, channel, profiles, conn, report, refused=refuse)
    refused = _create_customers(container, [r.new_customer for r in resolved if r.new_customer], report)
    resolved = [r for r in resolved if not (r.new_customer and r.new_customer.account in refused)]
    actor = f"channel:{channel.code}"
    cmds = [PlaceOrder(draft=r.draft, actor=actor, idempotency_key=_idempotency_key(r.captured),
                       request_hash=_request_hash(r.captured)) for r in resolved]
    outcomes = place_orders(cmds, uow=container.uow(), config=container.lifecycle,
                            duplicate_window=container.duplicate_window, rules=container.review_rules) if cmds else []
    created = [o.order_id for o in outcomes if isinstance(o, Placed) and o.created]
    stages: dict[int, str] = {}
    if created:
        with container.db.read() as conn:
            stages = {int(r.id): r.stage for r in conn.execute(
                select(orders.c.id, orders.c.stage).where(orders.c.id.in_(created)))}
    for r, outcome in zip(resolved, outcomes, strict=True):
        if acknowledger is not None:
            acknowledger.decided(r, r.captured, outcome, container)
        if isinstance(outcome, DomainError):
            report.rejected.append(_rejected(r.captured.where, _reason(outcome), r.captured.external_id))
        elif outcome.created:
            report.orders.append({**_entry(r), "order_id": outcome.order_id,
                                  "number": order_number(outcome.order_id), "stage": stages.get(outcome.order_id)})
        else:
            why = ("same order id" if outcome.reason == "external_id"
                   else "same control numbers or webhook delivery")
            report.duplicates.append({"external_id": r.captured.external_id, "order_id": outcome.order_id,
                                      "reason": f"already received as {order_number(outcome.order_id)} ({why})"})


def _reason(error: DomainError) -> str:
    if error.code == "idempotency_key_reused":
        return "these control numbers (or this webhook delivery) were already received with a different order"
    if len(error.problems) <= 1:
        return f"{error.message} ({error.code}{', ' + error.field if error.field else ''})"
    return "; ".join(f"{p.field or '-'}: {p.message}" for p in error.problems)


def _create_customers(container: Container, new: list[NewCustomer], report: CaptureReport) -> set[str]:
    """Buyers seen for the first time become customers (their own transaction; a race loses gracefully).
    Returns the accounts that could not be created (their orders are rejected with the reason)."""
    from conveyor.customers.handlers import create_customer
    from conveyor.customers.schemas import CustomerIn

    refused: set[str] = set()
    for customer in {c.account: c for c in new}.values():
        try:
            with container.db.write() as conn:
                create_customer(conn, CustomerIn.model_validate({
                    "account": customer.account, "name": customer.name, "email": customer.email,
                    "phone": customer.phone}), at=container.clock.now())
        except DomainError as exc:
            if exc.code != "account_taken":
                refused.add(customer.account)
                report.rejected.append(_rejected(f"customer {customer.account}", f"cannot create the customer: "
                                                 f"{_reason(exc)}"))
    return refused
