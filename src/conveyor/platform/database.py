"""The Database: one engine, and the two ways in: a write transaction and a read snapshot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from conveyor.platform.db import WRITE, make_engine

WRITE_WAIT_SECONDS = 30  # as long as SQLite's own busy_timeout


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, pool_size=pool_size)
        # SQLite has one writer at a time. Writers of this process queue here, on a lock that wakes the next
        # one at once, instead of in SQLite's busy handler, which polls with sleeps of up to 100 ms (that
        # polling gave 2 s p99 latencies under load). Other processes (the CLI) still meet busy_timeout.
        self._writer = threading.Lock() if self.engine.dialect.name == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: commits on success, rolls back on any exception.

        On SQLite it starts with BEGIN IMMEDIATE, taking the database write lock up front."""
        with self._queue(), self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            yield conn

    @contextmanager
    def _queue(self) -> Iterator[None]:
        if self._writer is None:
            yield
            return
        if not self._writer.acquire(timeout=WRITE_WAIT_SECONDS):
            raise TimeoutError(f"no write slot on the SQLite database within {WRITE_WAIT_SECONDS} s")
        try:
            yield
        finally:
            self._writer.release()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both backends)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
