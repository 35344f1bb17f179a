"""Throwaway databases for the benchmarks: a temp SQLite file, or a fresh database on a PostgreSQL server that is
dropped afterwards (WITH (FORCE), so leftover connections do not keep it)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import create_engine, text


@dataclass
class Target:
    url: str
    cleanup: Callable[[], None]


def make_database(arg: str, prefix: str) -> Target:
    """`arg` is 'sqlite' (or empty) or a PostgreSQL server URL; `prefix` names the file or database."""
    if arg in ("sqlite", ""):
        folder = tempfile.mkdtemp(prefix=f"{prefix}-")
        return Target(f"sqlite:///{folder}/{prefix}.db", lambda: shutil.rmtree(folder, ignore_errors=True))
    name = f"conveyor_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(arg.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return Target(arg.rsplit("/", 1)[0] + f"/{name}", drop)
