"""Storage behaviour the rest of Conveyor relies on, checked on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text

from conveyor.platform.db import UtcDateTime
from conveyor.platform.migrations import current_revision, downgrade, head_revision, upgrade

_scratch = MetaData()
stamps = Table("scratch_stamps", _scratch, Column("id", Integer, primary_key=True), Column("at", UtcDateTime))


@pytest.fixture
def scratch(container):
    _scratch.create_all(container.db.engine)
    yield container
    _scratch.drop_all(container.db.engine)


def test_timestamps_come_back_aware_and_in_utc(scratch):
    tokyo = datetime(2026, 3, 29, 9, 30, tzinfo=timezone(timedelta(hours=9)))
    with scratch.db.write() as conn:
        conn.execute(insert(stamps).values(id=1, at=tokyo))
    with scratch.db.read() as conn:
        back = conn.execute(select(stamps.c.at)).scalar_one()
    assert back == tokyo and back.tzinfo is not None and back.utcoffset() == timedelta(0)


def test_a_naive_timestamp_is_refused_and_nothing_is_written(scratch):
    with pytest.raises(Exception, match="naive"), scratch.db.write() as conn:
        conn.execute(insert(stamps).values(id=1, at=datetime(2026, 1, 1, 12, 0)))
    with scratch.db.read() as conn:
        assert conn.execute(select(stamps.c.id)).all() == []


def test_stored_times_sort_in_time_order_whatever_the_input_offset(scratch):
    early = datetime(2026, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=5)))  # 05:00 UTC
    late = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)
    with scratch.db.write() as conn:
        conn.execute(insert(stamps), [{"id": 1, "at": late}, {"id": 2, "at": early}])
    with scratch.db.read() as conn:
        assert [r.id for r in conn.execute(select(stamps.c.id).order_by(stamps.c.at))] == [2, 1]


def test_sqlite_runs_in_wal_mode_and_write_transactions_take_the_lock_at_begin(container, backend):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    with container.db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with container.db.write() as writer:
        # A second writer cannot start while the first holds the write lock from BEGIN IMMEDIATE.
        other = container.db.engine.raw_connection()
        try:
            other.execute("PRAGMA busy_timeout=50")
            with pytest.raises(Exception, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        writer.execute(text("SELECT 1"))


def test_migrations_go_down_to_nothing_and_back_up(container):
    assert current_revision(container.db) == head_revision(container.db)
    downgrade(container.db, "base")
    assert current_revision(container.db) is None
    upgrade(container.db)
    assert current_revision(container.db) == head_revision(container.db)


def test_large_money_amounts_keep_every_minor_unit(container, seeded):
    from conveyor.orders.tables import orders

    with container.db.write() as conn:
        big = 9_007_199_254_740_993  # 2**53 + 1: a float would lose the last unit
        conn.execute(insert(orders).values(
            channel_id=seeded["channels"]["api"], external_id="big", customer_id=seeded["customers"]["C-001"],
            currency="EUR", stage="received", stage_entered_at=container.clock.now(), priority=0, bill_to={},
            ship_to={}, tags=[], subtotal_minor=big, discount_minor=0, tax_minor=0, shipping_minor=0,
            total_minor=big, created_by="test", created_at=container.clock.now(), updated_at=container.clock.now()))
    with container.db.read() as conn:
        assert conn.execute(select(orders.c.total_minor)).scalar_one() == big


def test_the_migrations_create_exactly_the_tables_the_code_declares(container):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from conveyor.platform.db import metadata

    with container.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == [], "tables.py and the migrations disagree; add a migration:\n" + "\n".join(map(str, diff))
