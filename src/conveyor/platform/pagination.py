"""Keyset pagination and search helpers shared by the list queries and their routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Larger ids cannot exist, and SQLite's driver overflows on them: refuse them as input (422), not with a 500.
MAX_ID = 2**63 - 1


def contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with % and _ taken literally (escape '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page_of(rows: list[Any], limit: int) -> tuple[list[Any], int | None]:
    """Rows fetched with limit + 1: the page, and the last id on it when another page follows."""
    page = rows[:limit]
    return page, (page[-1].id if len(rows) > limit else None)


def clamp_limit(limit: int | None) -> int:
    return max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))


# Ids beyond what a database holds are refused as input rather than overflowing the driver.
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]
After = Annotated[int | None, Query(ge=0, le=MAX_ID)]
