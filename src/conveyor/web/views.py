"""The home page: sends each person to where their work is."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from conveyor.identity.deps import SignedIn
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(principal: Principal = SignedIn) -> Response:
    if principal.is_staff and principal.can(Permission.ORDER_READ):
        return RedirectResponse("/board", status_code=303)
    return RedirectResponse("/orders", status_code=303)
