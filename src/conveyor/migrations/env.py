"""Alembic environment: uses the engine handed over by conveyor.platform.migrations."""

from __future__ import annotations

from alembic import context

from conveyor.bootstrap import load_all_tables
from conveyor.platform.db import metadata

load_all_tables()
config = context.config


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from conveyor.platform.database import Database

        engine = Database(config.get_main_option("sqlalchemy.url") or "").engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
