"""The /ops page: health, the outbox and its dead letters, with a replay button."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.operations.api import check_health, outbox_report
from conveyor.platform.outbox import replay_dead
from conveyor.platform.web import render

router = APIRouter(include_in_schema=False)


@router.get("/ops", dependencies=[Require(Permission.OPS_READ)])
def ops_page(request: Request, replayed: int | None = None, c: Container = Depends(container)) -> Response:
    health = check_health(c)
    report = outbox_report(c, limit=100) if health.database.ok and health.migrations.ok else None
    return render(request, "operations/ops.html", {
        "health": health, "report": report, "replayed": replayed,
        "can_replay": request.state.principal.can(Permission.OPS_MANAGE),
    })


@router.post("/ops/replay", dependencies=[Require(Permission.OPS_MANAGE)])
def ops_replay(outbox_id: list[int] | None = Form(None),
               c: Container = Depends(container)) -> Response:
    with c.db.write() as conn:
        count = replay_dead(conn, at=c.clock.now(), ids=outbox_id or None)
    return RedirectResponse(f"/ops?replayed={count}", status_code=303)
