"""The phone-order screen: a clerk finds the customer as they type, adds products by name, SKU or GTIN (seeing
what can be promised), types quantities and prices, and saves. The order is placed through the one core path,
`handlers.place_order`, exactly as the API places one; a refusal comes back on the form with every field kept
and each problem next to its field.

Views only parse, call a query or the handler and render; the searches live in orders/phone_queries.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import Conflict, DomainError, FieldProblem, ProblemCollector, ValidationFailed
from conveyor.kernel.money import exponent, is_currency
from conveyor.orders import handlers
from conveyor.orders import phone_queries as pq
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.domain import MAX_LINES, LineDraft, OrderDraft, check_draft_shape
from conveyor.platform.forms import FORM_ERROR, field_errors
from conveyor.platform.web import render

# Taking a phone order means creating an order and looking up customers (their addresses and phone numbers).
router = APIRouter(include_in_schema=False, dependencies=[Require(Permission.CUSTOMER_READ)])
NEEDS = Permission.ORDER_CREATE

PAGE = "orders/phone.html"
LINE_FIELDS = ("sku", "quantity", "unit_price")
SHIP_TO = tuple(f"ship_to_{key}" for key in pq.ADDRESS_KEYS)
NOTES_MAX = 2000
DUPLICATE = "idempotency_key_reused"
_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _new_key() -> str:
    return secrets.token_urlsafe(16)


async def posted_form(request: Request) -> FormData:
    """The posted form (the CSRF check has already parsed and cached it); keeps repeated fields."""
    return await request.form()


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@dataclass
class Line:
    """One line as the form holds it (text, as typed) and, for showing it, the product found for its SKU."""

    sku: str
    quantity: str
    unit_price: str
    item: pq.PhoneItem | None = None


@dataclass
class PhoneForm:
    """Everything the screen shows and posts back."""

    customer: str = ""
    channel: str = ""
    lines: list[Line] = field(default_factory=list)
    ship_elsewhere: bool = False
    ship_to: dict[str, str] = field(default_factory=lambda: {key: "" for key in pq.ADDRESS_KEYS})
    requested_delivery_date: str = ""
    notes: str = ""
    form_key: str = field(default_factory=_new_key)  # one order per form shown: a resend finds the first

    @classmethod
    def parse(cls, form: FormData) -> PhoneForm:
        columns = [[str(v) for v in form.getlist(name)] for name in LINE_FIELDS]
        count = max((len(c) for c in columns), default=0)
        sku, quantity, price = (c + [""] * (count - len(c)) for c in columns)
        lines = [Line(sku[i].strip(), quantity[i].strip(), price[i].strip()) for i in range(count)]
        return cls(
            customer=_text(form, "customer"), channel=_text(form, "channel"),
            lines=[line for line in lines if line.sku or line.quantity or line.unit_price],
            ship_elsewhere=bool(_text(form, "ship_elsewhere")),
            ship_to={key: _text(form, f"ship_to_{key}") for key in pq.ADDRESS_KEYS},
            requested_delivery_date=_text(form, "requested_delivery_date"),
            notes=str(form.get("notes") or "").strip(),
            form_key=key if _FORM_KEY.match(key := _text(form, "form_key")) else _new_key(),
        )


def _draft(values: PhoneForm, customer: pq.PhoneCustomer | None, today: date) -> OrderDraft:
    """The order the form describes, as the core takes it; raises ValidationFailed listing what cannot even
    be put into a draft (no customer, a quantity that is no number...), with the core's shape checks too."""
    problems: list[FieldProblem] = []
    if not values.customer:
        problems.append(FieldProblem("required", "choose the customer: type part of their name, account number, "
                                                 "email or phone number", "customer"))
    elif customer is None:
        problems.append(FieldProblem("unknown_customer", f"no active customer with account {values.customer!r}",
                                     "customer"))
    if not values.channel:
        problems.append(FieldProblem("required", "choose the channel the order came in through", "channel"))
    currency = customer.currency if customer else "EUR"
    lines = []
    for i, line in enumerate(values.lines):
        quantity = _quantity(line.quantity, f"lines.{i}.quantity", problems)
        price = _price(line.unit_price, currency, f"lines.{i}.unit_price", problems)
        lines.append(LineDraft(line.sku, quantity if quantity is not None else 1,
                               price if price is not None else Decimal(0)))
    delivery = _delivery_date(values.requested_delivery_date, today, problems)
    if len(values.notes) > NOTES_MAX:
        problems.append(FieldProblem("too_long", f"notes have at most {NOTES_MAX} characters", "notes"))
    if values.ship_elsewhere or customer is None:
        ship_to: dict[str, Any] = {k: v for k, v in values.ship_to.items() if v}
    elif customer.ship_to is None:
        problems.append(FieldProblem("no_default_address", "this customer has no default shipping address: "
                                     "switch on “Ship to another address” and type one", "ship_to"))
        ship_to = {}
    else:
        ship_to = dict(customer.ship_to)
    draft = OrderDraft(channel=values.channel, customer=values.customer, currency=currency, lines=tuple(lines),
                       ship_to=ship_to, requested_delivery_date=delivery, notes=values.notes or None)
    if problems:
        shape = ProblemCollector()  # with the core's own checks that need no database (lines, quantities)
        check_draft_shape(draft, shape)
        seen = {p.field for p in problems}
        raise ValidationFailed.of(problems + [p for p in shape.problems if p.field not in seen])
    return draft


def _quantity(text: str, path: str, problems: list[FieldProblem]) -> int | None:
    if not text:
        problems.append(FieldProblem("required", "type how many", path))
        return None
    try:
        return int(text)
    except ValueError:
        problems.append(FieldProblem("invalid_quantity", f"{text!r} is not a whole number", path))
        return None


def _price(text: str, currency: str, path: str, problems: list[FieldProblem]) -> Decimal | None:
    if not text:
        problems.append(FieldProblem("required", "type the unit price", path))
        return None
    try:
        value = Decimal(text.replace(",", ".") if text.count(",") == 1 and "." not in text else text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        places = exponent(currency) if is_currency(currency) else 2
        example = "12" if places == 0 else "12." + "5" + "0" * (places - 1)
        problems.append(FieldProblem("invalid_amount", f"{text!r} is not an amount, e.g. {example}", path))
        return None
    return value


def _delivery_date(text: str, today: date, problems: list[FieldProblem]) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        problems.append(FieldProblem("invalid_date", f"{text!r} is not a date (YYYY-MM-DD)",
                                     "requested_delivery_date"))
        return None
    if day < today:
        problems.append(FieldProblem("date_in_past", "the requested delivery date is in the past",
                                     "requested_delivery_date"))
    return day


def _to_form_field(ship_elsewhere: bool) -> Any:
    """The core's field paths as this form's field names."""
    def to_field(path: str) -> str:
        parts = path.split(".")
        if parts[0] == "ship_to":
            return f"ship_to_{parts[1]}" if ship_elsewhere and len(parts) > 1 else "ship_to"
        return path
    return to_field


def _shown(values: PhoneForm) -> set[str]:
    lines = {f"lines.{i}.{name}" for i in range(len(values.lines)) for name in LINE_FIELDS}
    return {"customer", "channel", "lines", "requested_delivery_date", "notes", "ship_to", *SHIP_TO, *lines}


def _errors(exc: DomainError, values: PhoneForm) -> dict[str, str]:
    if exc.code == DUPLICATE:
        return {FORM_ERROR: "This form was already saved as an order (the browser's Back button?). "
                            "Save again to place it as another order."}
    errors = field_errors(exc, _to_form_field(values.ship_elsewhere), _shown(values))
    if isinstance(exc, Conflict) and exc.code == "insufficient_stock":
        errors[FORM_ERROR] = (f"{exc.message[0].upper()}{exc.message[1:]}. This customer's orders are rejected "
                              "when stock is short: lower the quantity, remove the line, or place it later.")
    return errors


# -- the page -------------------------------------------------------------------------------------------


def _page(request: Request, c: Container, values: PhoneForm, *, errors: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    with c.db.read() as conn:
        channels, phone_only = pq.order_channels(conn)
        customer = pq.customer_for_order(conn, values.customer) if values.customer else None
        items = pq.items_by_sku(conn, [line.sku for line in values.lines])
    for line in values.lines:
        line.item = items.get(line.sku)
    if customer is not None and customer.ship_to is None:
        values.ship_elsewhere = True  # there is no default to ship to: the address must be typed
    if not values.channel and channels and (phone_only or len(channels) == 1):
        values.channel = channels[0].code
    errors = errors or {}
    fields = {"channel": values.channel, "requested_delivery_date": values.requested_delivery_date,
              "notes": values.notes, **{f"ship_to_{key}": value for key, value in values.ship_to.items()}}
    return render(request, PAGE, {
        "form": values, "values": fields, "customer": customer, "channels": channels, "phone_only": phone_only,
        "channel_options": [(ch.code, f"{ch.name} ({ch.code})") for ch in channels], "errors": errors,
        "line_errors": [{name: errors.get(f"lines.{i}.{name}") for name in LINE_FIELDS}
                        for i in range(len(values.lines))],
        "max_lines": MAX_LINES, "notes_max": NOTES_MAX, "today": c.clock.now().date().isoformat(),
    }, status_code=status_code)


@router.get("/orders/phone")
def phone_order_page(request: Request, principal: Principal = Require(NEEDS),
                     c: Container = Depends(container)) -> Response:
    return _page(request, c, PhoneForm())


@router.get("/orders/phone/customers")
def customer_suggestions(request: Request, q: str = "", principal: Principal = Require(NEEDS),
                         c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        found = pq.find_customers(conn, q[:200])
    return render(request, "orders/phone_customers.html", {"customers": found, "q": q})


@router.get("/orders/phone/items")
def item_suggestions(request: Request, q: str = "", principal: Principal = Require(NEEDS),
                     c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        found = pq.find_items(conn, q[:200])
    return render(request, "orders/phone_items.html", {"items": found, "q": q})


def _request_hash(draft: OrderDraft) -> str:
    body = {"channel": draft.channel, "customer": draft.customer, "currency": draft.currency,
            "lines": [[line.sku, line.quantity, str(line.unit_price)] for line in draft.lines],
            "ship_to": dict(sorted(draft.ship_to.items())), "notes": draft.notes,
            "requested_delivery_date": str(draft.requested_delivery_date or "")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@router.post("/orders/phone")
def place_phone_order(request: Request, form: FormData = Depends(posted_form),
                      principal: Principal = Require(NEEDS), c: Container = Depends(container)) -> Response:
    values = PhoneForm.parse(form)
    with c.db.read() as conn:
        customer = pq.customer_for_order(conn, values.customer)
    try:
        draft = _draft(values, customer, c.clock.now().date())
        # The form's key makes a double click (or a resend) answer with the order the first click placed.
        placed = handlers.place_order(
            PlaceOrder(draft=draft, actor=principal.actor, idempotency_key=f"phone:{values.form_key}",
                       request_hash=_request_hash(draft)),
            uow=c.uow(), config=c.lifecycle, duplicate_window=c.duplicate_window, rules=c.review_rules)
    except DomainError as exc:
        errors = _errors(exc, values)
        if exc.code == DUPLICATE:
            values.form_key = _new_key()
        if "ship_to" in errors and customer is not None and customer.ship_to and not values.ship_elsewhere:
            # The default address itself is refused: open it for editing, filled in, with the problems on it.
            values.ship_elsewhere = True
            values.ship_to = {key: str(customer.ship_to.get(key) or "") for key in pq.ADDRESS_KEYS}
            errors = _errors(exc, values)
        return _page(request, c, values, errors=errors, status_code=exc.status)
    return RedirectResponse(f"/orders/{placed.order_id}", status_code=303)
