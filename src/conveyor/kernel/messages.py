"""Base classes for commands (imperative: PlaceOrder) and events (past tense: OrderPlaced)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class Command:
    pass


@dataclass(frozen=True, kw_only=True)
class Event:
    """An event is written to the outbox in the transaction that caused it."""

    name: ClassVar[str] = "event"

    def payload(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, datetime | date):
                return value.isoformat()
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        return {f.name: plain(v) for f, v in zip(fields(self), asdict(self).values(), strict=True)}
