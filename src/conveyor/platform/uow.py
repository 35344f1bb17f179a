"""A unit of work: one write transaction plus the events it publishes to the outbox, all or nothing."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Connection

from conveyor.kernel.clock import Clock
from conveyor.kernel.messages import Event
from conveyor.platform.database import Database
from conveyor.platform.outbox import publish


class UnitOfWork:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._cm = None
        self.conn: Connection

    def __enter__(self) -> UnitOfWork:
        self._cm = self.db.write()
        self.conn = self._cm.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._cm is not None
        self._cm.__exit__(exc_type, exc, tb)
        self._cm = None

    def publish(self, event: Event, *, key: str) -> None:
        publish(self.conn, event, key=key, at=self.clock.now())
