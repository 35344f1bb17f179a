"""Form handling for the server-rendered screens: read a posted form, and turn any refusal into
messages keyed by form field, so a form comes back with every problem next to its field."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from conveyor.kernel.errors import DomainError, FieldProblem, ValidationFailed
from conveyor.platform.web import render

Model = TypeVar("Model", bound=BaseModel)

FORM_ERROR = "_form"  # the key of a problem that belongs to no single field


async def form_data(request: Request) -> dict[str, str]:
    """The posted form as text fields (the CSRF check has already parsed and cached it)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def text_fields(form: dict[str, str], names: Iterable[str]) -> dict[str, str | None]:
    """Form text with blanks as None, so an empty optional field clears it."""
    return {name: (form.get(name) or "").strip() or None for name in names}


def field_errors(exc: DomainError | ValidationError, to_field: Callable[[str], str] = lambda path: path,
                 shown: Iterable[str] | None = None) -> dict[str, str]:
    """Messages keyed by form field name; `to_field` maps an API field path to the form's name. A problem
    with no field, or with a field the form does not show (`shown`), goes to the top of the form."""
    errors: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        found = [(".".join(str(p) for p in e["loc"]), str(e["msg"])) for e in exc.errors()]
    else:
        found = [(p.field or "", p.message) for p in exc.problems]
    visible = None if shown is None else set(shown)
    for path, message in found:
        field = to_field(path) if path else FORM_ERROR
        if visible is not None and field not in visible:
            field, message = FORM_ERROR, f"{path}: {message}" if path else message
        errors.setdefault(field, message)
    return errors


def validate_form(model: type[Model], data: dict[str, Any], rules: Callable[[dict[str, Any]], Any]) -> Model:
    """Parses form data into `model`. When a field has the wrong type, the area's rules still run on the
    other fields, so the form comes back with every problem at once (raised as ValidationFailed)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [FieldProblem(str(e["type"]), str(e["msg"]), ".".join(str(p) for p in e["loc"]))
                    for e in exc.errors()]
    bad = {p.field for p in problems}
    try:
        rules({key: value for key, value in data.items() if key not in bad})
    except DomainError as refused:
        problems += [p for p in refused.problems if p.field not in bad]
    raise ValidationFailed.of(problems)


def list_or_rows(request: Request, target: str, page_template: str, rows_template: str,
                 context: dict[str, Any]) -> Response:
    """The whole page, or only the results block when htmx's live search asks for it."""
    if request.headers.get("hx-target") == target:
        return render(request, rows_template, context)
    return render(request, page_template, context)
