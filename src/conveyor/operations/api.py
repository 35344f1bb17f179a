"""Operations over HTTP: the health check, Prometheus metrics, and the outbox with its dead letters.

`check_health` and `scrape` are shared with the /ops page and the `conveyor outbox` commands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel, Field
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

from conveyor.bootstrap import Container
from conveyor.identity.deps import Public, Require, container
from conveyor.identity.permissions import Permission
from conveyor.orders.lifecycle import Stage
from conveyor.orders.tables import orders
from conveyor.platform.database import Database
from conveyor.platform.migrations import current_revision, head_revision
from conveyor.platform.outbox import dead_letters, outbox_status, replay_dead
from conveyor.platform.pagination import MAX_ID
from conveyor.platform.problems import problem_responses

log = logging.getLogger("conveyor.operations")

router = APIRouter(tags=["operations"])

# Above this much delay (or with any dead letter) the service still serves, but reports "degraded".
LAG_DEGRADED_SECONDS = 300.0

_code_head: dict[str, str | None] = {}


def code_head_revision(db: Database) -> str | None:
    """The newest migration shipped with the code; read once, since it cannot change while running."""
    if "head" not in _code_head:
        _code_head["head"] = head_revision(db)
    return _code_head["head"]


class DatabaseHealth(BaseModel):
    ok: bool
    dialect: str
    latency_ms: float | None = None


class MigrationHealth(BaseModel):
    current: str | None
    head: str | None
    ok: bool


class OutboxHealth(BaseModel):
    pending: int | None = None
    dead: int | None = None
    lag_seconds: float | None = Field(None, description="age of the oldest undelivered event")


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"] = Field(
        description="down (HTTP 503): the database is unreachable or its schema is not current; "
                    "degraded: events wait too long or some are dead-lettered")
    database: DatabaseHealth
    migrations: MigrationHealth
    outbox: OutboxHealth


def check_health(c: Container) -> Health:
    database = DatabaseHealth(ok=False, dialect=c.db.dialect)
    migrations = MigrationHealth(current=None, head=code_head_revision(c.db), ok=False)
    box = OutboxHealth()
    started = time.perf_counter()
    try:
        with c.db.read() as conn:
            conn.execute(select(1))
        database = DatabaseHealth(ok=True, dialect=c.db.dialect,
                                  latency_ms=round((time.perf_counter() - started) * 1000, 2))
        current = current_revision(c.db)
        migrations = MigrationHealth(current=current, head=migrations.head, ok=current == migrations.head)
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
    if database.ok:
        try:
            with c.db.read() as conn:
                status = outbox_status(conn)
            box = OutboxHealth(pending=status.pending, dead=status.dead,
                               lag_seconds=round(status.lag_seconds(c.clock.now()), 3))
        except SQLAlchemyError:  # an empty or half-migrated database has no outbox yet
            log.warning("health check: outbox not readable", exc_info=True)
    if not (database.ok and migrations.ok):
        overall: Literal["ok", "degraded", "down"] = "down"
    elif box.dead or (box.lag_seconds or 0.0) > LAG_DEGRADED_SECONDS or box.pending is None:
        overall = "degraded"
    else:
        overall = "ok"
    return Health(status=overall, database=database, migrations=migrations, outbox=box)


@router.get("/healthz", dependencies=[Public], response_model=Health,
            responses={503: {"model": Health, "description": "database unreachable or schema not current"}},
            summary="Health check for load balancers and monitors")
def healthz(c: Container = Depends(container)) -> Response:
    health = check_health(c)
    return JSONResponse(health.model_dump(), status_code=503 if health.status == "down" else 200)


class ScrapeCollector(Collector):
    """Gauges computed at scrape time from the database: orders per stage, SLA breaches, outbox depth."""

    def __init__(self, c: Container) -> None:
        self.c = c

    def collect(self) -> Iterable[Metric]:
        now = self.c.clock.now()
        with self.c.db.read() as conn:
            rows = conn.execute(
                select(orders.c.stage, func.count(),
                       func.coalesce(func.sum(case((orders.c.stage_due_at < now, 1), else_=0)), 0))
                .group_by(orders.c.stage)
            ).all()
            status = outbox_status(conn)
        counts = {row[0]: (int(row[1]), int(row[2])) for row in rows}
        by_stage = GaugeMetricFamily("conveyor_orders_by_stage", "Orders in each lifecycle stage",
                                     labels=["stage"])
        past_sla = GaugeMetricFamily("conveyor_orders_past_sla",
                                     "Orders whose current stage is past its SLA due time", labels=["stage"])
        stages = [s.value for s in Stage] + sorted(set(counts) - {s.value for s in Stage})
        for stage in stages:
            total, late = counts.get(stage, (0, 0))
            by_stage.add_metric([stage], total)
            past_sla.add_metric([stage], late)
        yield by_stage
        yield past_sla
        yield GaugeMetricFamily("conveyor_outbox_pending", "Outbox events not yet delivered",
                                value=status.pending)
        yield GaugeMetricFamily("conveyor_outbox_dead", "Dead-lettered outbox events waiting for replay",
                                value=status.dead)
        yield GaugeMetricFamily("conveyor_outbox_lag_seconds", "Age of the oldest undelivered event",
                                value=status.lag_seconds(now))
        intake = self.c.intake
        yield CounterMetricFamily("conveyor_intake_batches", "Order batches placed by this process's intake queue",
                                  value=intake.batches)
        yield CounterMetricFamily("conveyor_intake_orders", "Order requests answered by this process's intake "
                                  "queue (orders per batch = orders / batches)", value=intake.orders)


def scrape(c: Container, app_registry: CollectorRegistry | None) -> bytes:
    scraped = CollectorRegistry()
    scraped.register(ScrapeCollector(c))
    request_metrics = generate_latest(app_registry) if app_registry is not None else b""
    return request_metrics + generate_latest(scraped)


@router.get("/metrics", dependencies=[Require(Permission.OPS_READ)], include_in_schema=False)
def metrics(request: Request, c: Container = Depends(container)) -> Response:
    app_metrics = getattr(request.app.state, "metrics", None)
    body = scrape(c, app_metrics.registry if app_metrics else None)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)


class DeadLetter(BaseModel):
    id: int
    event: str
    key: str
    attempts: int
    created_at: datetime
    last_error: str | None
    payload: Any


class OutboxReport(BaseModel):
    pending: int
    dead: int
    lag_seconds: float
    oldest_pending_at: datetime | None
    dead_letters: list[DeadLetter] = Field(description="the latest dead letters, newest first")


class ReplayRequest(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None, description="dead letters to replay; all of them when absent")


class ReplayResult(BaseModel):
    replayed: int


def outbox_report(c: Container, *, limit: int = 50) -> OutboxReport:
    with c.db.read() as conn:
        status = outbox_status(conn)
        dead = dead_letters(conn, limit=limit)
    return OutboxReport(
        pending=status.pending, dead=status.dead, lag_seconds=round(status.lag_seconds(c.clock.now()), 3),
        oldest_pending_at=status.oldest_pending_at,
        dead_letters=[DeadLetter(id=r.id, event=r.event, key=r.key, attempts=r.attempts,
                                 created_at=r.created_at, last_error=r.last_error, payload=r.payload)
                      for r in dead],
    )


@router.get("/api/v1/outbox", dependencies=[Require(Permission.OPS_READ)], response_model=OutboxReport,
            responses=problem_responses(401, 403, 422),
            summary="Outbox depth, delay and the latest dead letters")
def get_outbox(limit: int = 50, c: Container = Depends(container)) -> OutboxReport:
    return outbox_report(c, limit=max(1, min(limit, 500)))


@router.post("/api/v1/outbox/replay", dependencies=[Require(Permission.OPS_MANAGE)],
             responses=problem_responses(400, 401, 403, 422),
             response_model=ReplayResult, summary="Put dead-lettered events back in the queue")
def replay(body: ReplayRequest | None = None, c: Container = Depends(container)) -> ReplayResult:
    if body is not None and body.ids == []:
        return ReplayResult(replayed=0)  # replay_dead reads "no ids" as "all of them"
    with c.db.write() as conn:
        count = replay_dead(conn, at=c.clock.now(), ids=body.ids if body else None)
    log.info("outbox replay", extra={"count": count})
    return ReplayResult(replayed=count)
