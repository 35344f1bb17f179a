"""Engine creation, the UTC timestamp column type and the shared metadata.

SQLite: WAL journal, a busy timeout, foreign keys on, and write transactions that take the write lock at
BEGIN (BEGIN IMMEDIATE) so that two writers never both read and then collide on upgrade. SQLAlchemy
drops SELECT ... FOR UPDATE on SQLite, so that lock is what keeps read-decide-write correct there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, Text, TypeDecorator, create_engine, event, text
from sqlalchemy.engine import Connection

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

WRITE = "conveyor_write"


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend; naive datetimes are refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: store timezone-aware UTC times")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Stored naive but always UTC, so text order is time order.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JsonText(TypeDecorator[Any]):
    """JSON stored as text on SQLite and as JSONB-compatible JSON on PostgreSQL."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(JSON())

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if dialect.name == "sqlite" and value is not None:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if dialect.name == "sqlite" and isinstance(value, str):
            return json.loads(value)
        return value


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would otherwise defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


_CUSTOM_PLANS = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
_CACHED_PLANS = text("SELECT set_config('plan_cache_mode', 'auto', true)")


@contextmanager
def custom_plans(conn: Connection) -> Iterator[None]:
    """PostgreSQL: plan the statements inside for their actual values, for the rest of them only.

    psycopg prepares a statement after five runs, and PostgreSQL may then switch to one generic plan for any
    values. For `external_id IN (...500 ids...)` on a growing `orders` table that generic plan is a
    sequential scan: a bulk import fell from 900 to 420 orders/s within 40,000 orders on one connection
    (bench/capture.py). Lookups of a batch's keys run in here; the big inserts keep their cached plans.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.execute(_CUSTOM_PLANS)
    try:
        yield
    finally:
        conn.execute(_CACHED_PLANS)
