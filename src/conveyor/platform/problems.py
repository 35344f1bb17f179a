"""Errors to HTTP: RFC 9457 problem documents with a machine-readable code and field paths.

```json
{"type": "about:blank", "title": "Unprocessable Content", "status": 422, "code": "unknown_sku",
 "detail": "...", "errors": [{"code": "unknown_sku", "field": "lines.2.sku", "message": "..."}]}
```
Browser pages get a redirect to the sign-in page (401) or an HTML error page instead.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from conveyor.identity.deps import CsrfFailed, Forbidden, NotAuthenticated
from conveyor.kernel.errors import DomainError, FieldProblem

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    code: str = Field(examples=["invalid_gtin"])
    field: str | None = Field(None, description="dotted path of the field at fault", examples=["gtin"])
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document with a machine-readable code and field paths."""

    type: str = "about:blank"
    title: str
    status: int
    code: str = Field(examples=["sku_taken"])
    detail: str
    errors: list[FieldError] = []


_PROBLEM_DESCRIPTIONS = {
    400: "The body is not valid JSON (`invalid_json`).",
    401: "Not authenticated: send `Authorization: Bearer <API token>`.",
    403: "The caller's role lacks the permission this route declares (`forbidden`).",
    404: "No such record (`*_not_found`).",
    409: "A unique value is already used by another record (`*_taken`).",
    413: "The body is larger than this route accepts (`too_large`).",
    422: "The input breaks a rule; `errors[]` lists every problem with its code and field path.",
}


def problem_responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status answered with a Problem as application/problem+json.
    A route may describe a status its own way: `problem_responses(404, 409, d409="...")`."""
    return {
        status: {
            "model": Problem,
            "description": descriptions.get(f"d{status}", _PROBLEM_DESCRIPTIONS[status]),
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path in ("/metrics", "/healthz"):
        return False
    return "text/html" in request.headers.get("accept", "") or request.headers.get("hx-request") == "true"


def problem(status: int, code: str, detail: str, errors: list[FieldProblem] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
        "errors": [{"code": e.code, "field": e.field, "message": e.message} for e in (errors or [])],
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


def _validation_problems(exc: RequestValidationError) -> tuple[str, list[FieldProblem]]:
    problems = []
    for err in exc.errors():
        kind = err.get("type", "invalid")
        if kind == "json_invalid":
            return "invalid_json", [FieldProblem("invalid_json", "the body is not valid JSON: "
                                                 + str(err.get("ctx", {}).get("error", "")), None)]
        code = {"missing": "required", "model_attributes_type": "invalid_type"}.get(kind, kind)
        problems.append(FieldProblem(code, str(err.get("msg", "invalid value")), _field_path(err["loc"])))
    return (problems[0].code if problems else "invalid"), problems


def html_error(request: Request, status: int, message: str) -> Response:
    from conveyor.platform.web import render

    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    def _domain(request: Request, exc: DomainError) -> Response:
        if wants_html(request) and request.headers.get("hx-request") != "true":
            return html_error(request, exc.status, exc.message)
        return problem(exc.status, exc.code, exc.message, exc.problems)

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> Response:
        code, problems = _validation_problems(exc)
        status = 400 if code == "invalid_json" else 422
        detail = problems[0].message if problems else "invalid request"
        if wants_html(request) and request.headers.get("hx-request") != "true":
            return html_error(request, status, "; ".join(f"{p.field}: {p.message}" for p in problems))
        return problem(status, code, detail, problems)

    @app.exception_handler(NotAuthenticated)
    def _unauthenticated(request: Request, exc: NotAuthenticated) -> Response:
        if wants_html(request):
            target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            if request.headers.get("hx-request") == "true":
                return Response(status_code=401, headers={"HX-Redirect": f"/login?next={target}"})
            return RedirectResponse(f"/login?next={target}", status_code=303)
        return problem(401, "not_authenticated", "sign in or send 'Authorization: Bearer <API token>'",
                       headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        if wants_html(request) and request.headers.get("hx-request") != "true":
            return html_error(request, 403, exc.message)
        return problem(403, "forbidden", exc.message)

    @app.exception_handler(CsrfFailed)
    def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return problem(403, "csrf_failed", "the form is stale or was not sent from Conveyor; reload the page")

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        if wants_html(request):
            return html_error(request, exc.status_code, str(exc.detail))
        return problem(exc.status_code, code, str(exc.detail))
