"""Trading-partner screens, reached from an EDI channel's page: the channel's partners, a create form, and
the partner page (its profile, expected documents, units, and item mappings: add one, remove one, or paste
a list of buyer_item,sku lines)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from conveyor.bootstrap import Container
from conveyor.channels.partners import handlers, queries
from conveyor.channels.partners.domain import (
    DOCUMENT_LABELS,
    DOCUMENTS,
    EDI_KINDS,
    parse_units,
    read_item_csv,
)
from conveyor.channels.partners.handlers import ChannelRef, LineProblem, RowsRefused
from conveyor.channels.partners.schemas import PartnerIn, PartnerOut, PartnerPatch
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.kernel.errors import DomainError, FieldProblem, NotFound, ProblemCollector, ValidationFailed
from conveyor.platform.forms import field_errors, form_data, list_or_rows, text_fields, validate_form
from conveyor.platform.pagination import MAX_ID, After, RecordId
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)
Model = TypeVar("Model", bound=BaseModel)

FORM = "partners/partner_form.html"
SCALARS = ("partner_id", "name", "customer", "our_id")
FORM_FIELDS = {*SCALARS, "documents", "units", "active"}
MAX_PASTE = 1_000_000  # characters of pasted CSV


class Saved(StrEnum):
    """What the partner page confirms after a change (`?saved=`)."""

    PROFILE = "profile"
    ITEM = "item"
    ITEMS = "items"
    REMOVED = "removed"


SAVED = {Saved.PROFILE: "Saved.", Saved.ITEM: "Mapping saved.", Saved.REMOVED: "Mapping removed.",
         Saved.ITEMS: "Mappings saved: {added} added, {changed} changed, {unchanged} unchanged, {removed} removed."}
Count = Annotated[int, Query(ge=0, le=MAX_ID)]


def _base(channel: ChannelRef) -> str:
    return f"/channels/{channel.id}/partners"


def _to_form_field(path: str) -> str:
    """`documents.1` -> documents, `units.CS` -> units: the form edits each list in one control."""
    return path.split(".", 1)[0]


def _units_text(units: dict[str, int]) -> str:
    return "\n".join(f"{code}={eaches}" for code, eaches in units.items())


def _partner_data(form: dict[str, str], channel: ChannelRef) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The posted form as API fields, and problems found reading the units text."""
    data: dict[str, Any] = text_fields(form, SCALARS)
    data["documents"] = [d for d in DOCUMENTS.get(channel.kind, ()) if f"document_{d}" in form]
    problems = ProblemCollector()
    data["units"] = parse_units((form.get("units") or "").replace(",", "\n").splitlines(), problems)
    data["active"] = "active" in form
    return data, problems.problems


def _values(data: dict[str, Any], form: dict[str, str] | None = None) -> dict[str, Any]:
    """What the form shows: the fields as typed (units as lines, documents as ticks)."""
    values = {k: v for k, v in data.items() if k not in ("documents", "units")}
    values["documents"] = list(data.get("documents") or [])
    values["units"] = form.get("units", "") if form is not None else _units_text(data.get("units") or {})
    return values


def _render(request: Request, c: Container, channel: ChannelRef, partner: PartnerOut | None,
            values: dict[str, Any], errors: dict[str, str], *, can_write: bool, saved: str | None = None,
            q: str | None = None, after: int | None = None, item_values: dict[str, Any] | None = None,
            item_errors: dict[str, str] | None = None, paste: str = "",
            paste_problems: list[LineProblem] | None = None, status_code: int = 200) -> Response:
    with c.db.read() as conn:
        customers = queries.customer_choices(conn)
        items = queries.list_items(conn, partner.id, q=q, after=after) if partner else None
    return render(request, FORM, {
        "channel": channel, "partner": partner, "values": values, "errors": errors, "can_write": can_write,
        "saved": saved, "documents": [(d, DOCUMENT_LABELS[d]) for d in DOCUMENTS.get(channel.kind, ())],
        "customers": customers, "items": items, "q": q or "", "item_values": item_values or {},
        "item_errors": item_errors or {}, "paste": paste, "paste_problems": paste_problems or [],
        "base": _base(channel)}, status_code=status_code)


def _validated(model: type[Model], data: dict[str, Any], unit_problems: list[FieldProblem],
               rules: Callable[[dict[str, Any]], Any]) -> Model:
    """validate_form, with the problems found reading the units text (which come first)."""
    try:
        parsed = validate_form(model, data, rules)
        if unit_problems:
            rules({**data, "units": {}})  # the other fields' problems, to show them all at once
    except ValidationFailed as exc:
        raise ValidationFailed.of(unit_problems + exc.problems) from None
    if unit_problems:
        raise ValidationFailed.of(unit_problems)
    return parsed


def _channel(c: Container, channel_id: int) -> ChannelRef:
    with c.db.read() as conn:
        return handlers.find_channel_by_id(conn, channel_id)


def _partner(c: Container, channel: ChannelRef, partner_pk: int) -> PartnerOut:
    with c.db.read() as conn:
        return queries.get_partner(conn, channel, partner_pk)


@router.get("/channels/{channel_id}/partners")
def partners_page(request: Request, channel_id: RecordId, q: str | None = None, after: After = None,
                  principal: Principal = Require(Permission.CHANNEL_READ),
                  c: Container = Depends(container)) -> Response:
    with c.db.read() as conn:
        channel = handlers.find_channel_by_id(conn, channel_id)
        page = queries.list_partners(conn, channel, q=q, after=after)
    context = {"channel": channel, "page": page, "q": q or "", "base": _base(channel),
               "is_edi": channel.kind in EDI_KINDS, "can_write": principal.can(Permission.CHANNEL_WRITE)}
    return list_or_rows(request, "partner-results", "partners/partners.html", "partners/_partner_rows.html",
                        context)


@router.get("/channels/{channel_id}/partners/new")
def new_partner_page(request: Request, channel_id: RecordId,
                     principal: Principal = Require(Permission.CHANNEL_WRITE),
                     c: Container = Depends(container)) -> Response:
    channel = _channel(c, channel_id)
    defaults = {"documents": ["997"] if channel.kind == "edi_x12" else ["CONTRL"] if channel.kind == "edifact"
                else [], "units": {}, "active": True}
    errors = {} if channel.kind in EDI_KINDS else {
        "_form": "Trading partners belong to EDI channels (kind edi_x12 or edifact)."}
    return _render(request, c, channel, None, _values(defaults), errors, can_write=True)


@router.post("/channels/{channel_id}/partners/new")
def create_partner(request: Request, channel_id: RecordId, form: dict[str, str] = Depends(form_data),
                   principal: Principal = Require(Permission.CHANNEL_WRITE),
                   c: Container = Depends(container)) -> Response:
    channel = _channel(c, channel_id)
    data, unit_problems = _partner_data(form, channel)
    try:
        with c.db.write() as conn:
            partner = _validated(PartnerIn, {k: v for k, v in data.items() if v is not None}, unit_problems,
                                 lambda d: handlers.check_profile(conn, d, channel))
            partner_pk = handlers.create_partner(conn, channel, partner, at=c.clock.now())
    except DomainError as exc:
        errors = field_errors(exc, _to_form_field, FORM_FIELDS)
        return _render(request, c, channel, None, _values(data, form), errors, can_write=True, status_code=422)
    return RedirectResponse(f"{_base(channel)}/{partner_pk}?saved=profile", status_code=303)


@router.get("/channels/{channel_id}/partners/{partner_pk}")
def partner_page(request: Request, channel_id: RecordId, partner_pk: RecordId, saved: Saved | None = None,
                 added: Count = 0, changed: Count = 0, unchanged: Count = 0, removed: Count = 0,
                 q: str | None = None, after: After = None,
                 principal: Principal = Require(Permission.CHANNEL_READ),
                 c: Container = Depends(container)) -> Response:
    channel = _channel(c, channel_id)
    partner = _partner(c, channel, partner_pk)
    message = None
    if saved is not None:
        message = SAVED[saved].format(added=added, changed=changed, unchanged=unchanged, removed=removed)
    return _render(request, c, channel, partner, _values(partner.model_dump()), {}, saved=message, q=q,
                   after=after, can_write=principal.can(Permission.CHANNEL_WRITE))


@router.post("/channels/{channel_id}/partners/{partner_pk}")
def save_partner(request: Request, channel_id: RecordId, partner_pk: RecordId,
                 form: dict[str, str] = Depends(form_data),
                 principal: Principal = Require(Permission.CHANNEL_WRITE),
                 c: Container = Depends(container)) -> Response:
    channel = _channel(c, channel_id)
    partner = _partner(c, channel, partner_pk)
    data, unit_problems = _partner_data(form, channel)
    data.pop("partner_id")
    try:
        with c.db.write() as conn:
            patch = _validated(PartnerPatch, data, unit_problems, lambda d: handlers.check_profile(
                conn, {**d, "partner_id": partner.partner_id}, channel))
            handlers.update_partner(conn, channel, partner_pk, patch, at=c.clock.now())
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.code == "partner_not_found":
            raise
        errors = field_errors(exc, _to_form_field, FORM_FIELDS)
        values = _values({**data, "partner_id": partner.partner_id}, form)
        return _render(request, c, channel, partner, values, errors, can_write=True, status_code=422)
    return RedirectResponse(f"{_base(channel)}/{partner_pk}?saved=profile", status_code=303)


def _after_items(channel: ChannelRef, partner_pk: int, saved: str, **counts: int) -> Response:
    query = urlencode({"saved": saved, **counts})
    return RedirectResponse(f"{_base(channel)}/{partner_pk}?{query}#items", status_code=303)


@router.post("/channels/{channel_id}/partners/{partner_pk}/items")
def add_item(request: Request, channel_id: RecordId, partner_pk: RecordId,
             form: dict[str, str] = Depends(form_data),
             principal: Principal = Require(Permission.CHANNEL_WRITE),
             c: Container = Depends(container)) -> Response:
    """Adds one mapping (or points an existing buyer item at another SKU)."""
    channel = _channel(c, channel_id)
    partner = _partner(c, channel, partner_pk)
    values = text_fields(form, ("buyer_item", "sku"))
    try:
        with c.db.write() as conn:
            handlers.put_items(conn, partner_pk, [values], replace=False, at=c.clock.now())
    except DomainError as exc:
        errors = field_errors(exc, lambda path: path.rsplit(".", 1)[-1], ("buyer_item", "sku"))
        return _render(request, c, channel, partner, _values(partner.model_dump()), {}, can_write=True,
                       item_values=values, item_errors=errors, status_code=422)
    return _after_items(channel, partner_pk, "item")


@router.post("/channels/{channel_id}/partners/{partner_pk}/items/paste")
def paste_items(request: Request, channel_id: RecordId, partner_pk: RecordId,
                form: dict[str, str] = Depends(form_data),
                principal: Principal = Require(Permission.CHANNEL_WRITE),
                c: Container = Depends(container)) -> Response:
    """Adds or changes every buyer_item,sku line at once (or none, when a line is wrong)."""
    channel = _channel(c, channel_id)
    partner = _partner(c, channel, partner_pk)
    text = form.get("csv") or ""
    replace = "replace" in form
    rows, problems = read_item_csv(text) if len(text) <= MAX_PASTE else (
        [], [(0, "too_long", f"paste at most {MAX_PASTE} characters; use the CLI or API for more")])
    found = [LineProblem(line, code, message) for line, code, message in problems]
    if not found:
        try:
            with c.db.write() as conn:
                result = handlers.map_rows(conn, partner_pk, rows, replace=replace, at=c.clock.now())
        except RowsRefused as refused:
            found = refused.problems
    if found:
        return _render(request, c, channel, partner, _values(partner.model_dump()), {}, can_write=True,
                       paste=text, paste_problems=found, status_code=422)
    return _after_items(channel, partner_pk, "items", added=result.added, changed=result.changed,
                        unchanged=result.unchanged, removed=result.removed)


@router.post("/channels/{channel_id}/partners/{partner_pk}/items/remove")
def remove_item(request: Request, channel_id: RecordId, partner_pk: RecordId,
                form: dict[str, str] = Depends(form_data),
                principal: Principal = Require(Permission.CHANNEL_WRITE),
                c: Container = Depends(container)) -> Response:
    channel = _channel(c, channel_id)
    with c.db.write() as conn:
        handlers.check_partner_on_channel(conn, channel, partner_pk)
        handlers.delete_item(conn, partner_pk, form.get("buyer_item") or "", at=c.clock.now())
    return _after_items(channel, partner_pk, "removed")
