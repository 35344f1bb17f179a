"""The transactional outbox: events are written in the transaction that caused them and delivered later.

Delivery is at-least-once, so consumers must be idempotent. A row is claimed with a lease
(`claimed_until`) in a short transaction, its handlers run outside any transaction, and the result is
written back: done, retried later with exponential backoff, or dead-lettered after `max_attempts` for an
operator to replay. On PostgreSQL several workers claim disjoint rows with FOR UPDATE SKIP LOCKED; on
SQLite the claim runs under BEGIN IMMEDIATE, which serialises claimers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from conveyor.kernel.clock import Clock, SystemClock
from conveyor.kernel.messages import Event
from conveyor.platform.database import Database
from conveyor.platform.db import JsonText, UtcDateTime, metadata

log = logging.getLogger("conveyor.outbox")

PENDING, DONE, DEAD = "pending", "done", "dead"

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event", String(100), nullable=False),
    Column("key", String(100), nullable=False, doc="the aggregate the event is about, e.g. an order id"),
    Column("payload", JsonText, nullable=False),
    Column("status", String(10), nullable=False, default=PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("processed_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_outbox_status_available", "status", "available_at"),
)


_INSERT = insert(outbox)


def publish(conn: Connection, event: Event, *, key: str, at: datetime) -> None:
    """Writes `event` to the outbox inside the caller's transaction."""
    conn.execute(_INSERT, dict(event=event.name, key=key, payload=event.payload(), status=PENDING, attempts=0,
                               created_at=at, available_at=at))


def publish_many(conn: Connection, events: list[tuple[Event, str]], *, at: datetime) -> None:
    """Writes several (event, key) pairs to the outbox in one statement, in the caller's transaction."""
    if events:
        conn.execute(_INSERT, [dict(event=e.name, key=key, payload=e.payload(), status=PENDING, attempts=0,
                                    created_at=at, available_at=at) for e, key in events])


Handler = Callable[[dict[str, Any]], None]


@dataclass
class HandlerRegistry:
    handlers: dict[str, list[Handler]] = field(default_factory=dict)

    def register(self, event_name: str, handler: Handler) -> None:
        self.handlers.setdefault(event_name, []).append(handler)

    def for_event(self, event_name: str) -> list[Handler]:
        return self.handlers.get(event_name, [])


@dataclass(frozen=True)
class RelayStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0


class OutboxRelay:
    def __init__(self, db: Database, registry: HandlerRegistry, *, clock: Clock | None = None,
                 batch_size: int = 100, max_attempts: int = 8, lease: timedelta = timedelta(seconds=60),
                 base_backoff: timedelta = timedelta(seconds=2)) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock or SystemClock()
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.lease = lease
        self.base_backoff = base_backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _claim(self) -> list[Any]:
        now = self.clock.now()
        with self.db.write() as conn:
            query = (
                select(outbox.c.id, outbox.c.event, outbox.c.payload, outbox.c.attempts)
                .where(outbox.c.status == PENDING, outbox.c.available_at <= now)
                .where((outbox.c.claimed_until.is_(None)) | (outbox.c.claimed_until < now))
                .order_by(outbox.c.id)
                .limit(self.batch_size)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            if rows:
                conn.execute(
                    update(outbox).where(outbox.c.id.in_([r.id for r in rows]))
                    .values(claimed_until=now + self.lease)
                )
            return list(rows)

    def run_once(self) -> RelayStats:
        """Delivers one batch; returns what happened to it."""
        delivered = retried = dead = 0
        for row in self._claim():
            error = None
            for handler in self.registry.for_event(row.event):
                try:
                    handler(row.payload)
                except Exception as exc:  # a consumer's failure must not stop the relay
                    error = f"{type(exc).__name__}: {exc}"
                    log.warning("outbox handler failed", extra={"event": row.event, "id": row.id})
                    break
            now = self.clock.now()
            with self.db.write() as conn:
                if error is None:
                    conn.execute(update(outbox).where(outbox.c.id == row.id).values(
                        status=DONE, processed_at=now, claimed_until=None, attempts=row.attempts + 1))
                    delivered += 1
                elif row.attempts + 1 >= self.max_attempts:
                    conn.execute(update(outbox).where(outbox.c.id == row.id).values(
                        status=DEAD, last_error=error, claimed_until=None, attempts=row.attempts + 1))
                    dead += 1
                else:
                    delay = self.base_backoff * (2 ** row.attempts)
                    conn.execute(update(outbox).where(outbox.c.id == row.id).values(
                        last_error=error, claimed_until=None, attempts=row.attempts + 1,
                        available_at=now + delay))
                    retried += 1
        return RelayStats(delivered, retried, dead)

    def drain(self, *, max_batches: int = 1000) -> RelayStats:
        """Delivers until nothing is due (used by tests and by `conveyor outbox drain`)."""
        total = RelayStats()
        for _ in range(max_batches):
            stats = self.run_once()
            total = RelayStats(total.delivered + stats.delivered, total.retried + stats.retried,
                               total.dead + stats.dead)
            if stats == RelayStats():
                break
        return total

    def start(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    busy = self.run_once() != RelayStats()
                except Exception:
                    log.exception("outbox relay iteration failed")
                    busy = False
                if not busy:
                    self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


def replay_dead(conn: Connection, *, at: datetime, ids: list[int] | None = None) -> int:
    """Puts dead-lettered events back in the queue: all of them (ids=None) or the given ids."""
    stmt = update(outbox).where(outbox.c.status == DEAD)
    if ids is not None:
        stmt = stmt.where(outbox.c.id.in_(ids))
    return conn.execute(stmt.values(status=PENDING, attempts=0, available_at=at, last_error=None)).rowcount


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    dead: int
    oldest_pending_at: datetime | None

    def lag_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest_pending_at).total_seconds()) if self.oldest_pending_at else 0.0


def outbox_status(conn: Connection) -> OutboxStatus:
    pending, oldest = conn.execute(
        select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.status == PENDING)
    ).one()
    dead = conn.execute(select(func.count()).where(outbox.c.status == DEAD)).scalar_one()
    if isinstance(oldest, str):  # aggregate results bypass the column type on SQLite
        oldest = UtcDateTime().process_result_value(datetime.fromisoformat(oldest), None)
    elif oldest is not None:
        oldest = UtcDateTime().process_result_value(oldest, None)
    return OutboxStatus(pending=pending, dead=dead, oldest_pending_at=oldest)


def dead_letters(conn: Connection, *, limit: int = 100) -> list[Any]:
    return list(conn.execute(
        select(outbox).where(outbox.c.status == DEAD).order_by(outbox.c.id.desc()).limit(limit)
    ).all())
