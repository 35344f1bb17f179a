"""Sign in and out of the web UI."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from conveyor.bootstrap import Container
from conveyor.identity import service
from conveyor.identity.deps import SESSION_COOKIE, Public, SignedIn, container
from conveyor.identity.principal import Principal
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the sign-in page cannot be used to redirect people elsewhere."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", dependencies=[Public])
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


def _cross_site(request: Request) -> bool:
    """Browsers send Origin with every cross-site POST; one from another site is a login CSRF attempt
    (signing the victim into the attacker's account), so it is refused."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    parsed = urlparse(origin)
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return parsed.netloc != host


@router.post("/login", dependencies=[Public])
def login(request: Request, email: str = Form(""), password: str = Form(""), next: str = Form("/"),
          c: Container = Depends(container)) -> Response:
    if _cross_site(request):
        return render(request, "login.html", {"next": "/", "error": "Sign in from Conveyor's own sign-in page.",
                                              "email": ""}, status_code=403)
    now = c.clock.now()
    with c.db.write() as conn:
        user_id = service.check_password(conn, email, password)
        new = service.start_session(conn, user_id, at=now, hours=c.settings.session_hours) if user_id else None
    if new is None:
        return render(request, "login.html", {"next": _safe_next(next), "error": "Email or password is wrong.",
                                              "email": email}, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, new.cookie_value, max_age=c.settings.session_hours * 3600, httponly=True,
        samesite="lax", secure=c.settings.secure_cookies or request.url.scheme == "https", path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, principal: Principal = SignedIn, c: Container = Depends(container)) -> Response:
    if cookie := request.cookies.get(SESSION_COOKIE):
        with c.db.write() as conn:
            service.end_session(conn, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
