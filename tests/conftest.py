"""Shared fixtures. Integration and API tests run against real SQLite files and a real PostgreSQL server.

Fixtures:
- `backend`: "sqlite" or "postgresql" (tests using `container`/`client` run once per backend).
- `container`: a Conveyor container on a freshly migrated, empty database, with a FixedClock at `NOW`.
- `seeded`: `container` plus `seed_basics` (channels, customers C-001/C-002, SKU-1..SKU-5, a warehouse,
  a user per role); returns the ids dict.
- `client`: a FastAPI TestClient on that container (relay thread off); `auth(role)` gives headers with
  a bearer token for a user of that role.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from conveyor.bootstrap import Container, build
from conveyor.identity import service as identity
from conveyor.kernel.clock import FixedClock
from conveyor.platform.db import metadata
from conveyor.platform.migrations import upgrade
from conveyor.settings import Settings
from conveyor.testing.factories import seed_basics

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday, 10:00 UTC
PG_ADMIN_URL = os.environ.get("CONVEYOR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("CONVEYOR_REQUIRE_POSTGRES"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    settings = Settings(database_url=f"sqlite:///{path}")
    container = build(settings)
    upgrade(container.db)
    container.db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """One PostgreSQL database per test process (xdist workers each get their own), migrated once."""
    name = f"conveyor_test_{uuid.uuid4().hex[:10]}"
    admin_url = PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if _pg_required():
            raise RuntimeError(f"PostgreSQL is required here but unreachable at {PG_ADMIN_URL}: {exc}") from exc
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL} ({type(exc).__name__}); set CI=1 to fail")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    container = build(Settings(database_url=url))
    upgrade(container.db)
    container.db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(container: Container) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with container.db.write() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def container(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    """A migrated, empty database on either backend. Many tests place identical orders on purpose, so the
    probable-duplicate check is off here; its own tests (test_capture_duplicates.py) turn it on."""
    clock = FixedClock(NOW)
    if backend == "sqlite":
        db_file = tmp_path / "conveyor.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), db_file)
        settings = Settings(database_url=f"sqlite:///{db_file}", relay_enabled=False, auto_migrate=False,
                            duplicate_window_hours=0)
        c = build(settings, clock=clock)
    else:
        url = request.getfixturevalue("pg_database")
        c = build(Settings(database_url=url, relay_enabled=False, auto_migrate=False, duplicate_window_hours=0),
                  clock=clock)
        _truncate_pg(c)
    yield c
    c.db.dispose()


@pytest.fixture
def seeded(container: Container) -> dict[str, Any]:
    with container.db.write() as conn:
        return seed_basics(conn, at=container.clock.now())


@pytest.fixture
def client(container: Container, seeded: dict[str, Any]) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from conveyor.app import create_app

    app = create_app(container=container)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def auth(container: Container, seeded: dict[str, Any]) -> Callable[[str], dict[str, str]]:
    """auth("manager") -> {"Authorization": "Bearer ..."} for the seeded user of that role."""
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str) -> dict[str, str]:
        if role not in cache:
            with container.db.write() as conn:
                token = identity.create_token(conn, user_id=seeded["users"][role], name="test",
                                              at=container.clock.now())
            cache[role] = {"Authorization": f"Bearer {token.token}"}
        return cache[role]

    return headers
