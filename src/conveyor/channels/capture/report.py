"""What a capture did (or, in a dry run, would do): the one JSON object the CLI, API and screen show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEMS_KEPT = 100  # the capture log keeps the first rejections of a document, the report keeps all


@dataclass
class CaptureReport:
    dry_run: bool = False
    orders: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[dict[str, Any]] = field(default_factory=list)
    acknowledgements: list[dict[str, Any]] = field(default_factory=list)
    capture_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"orders": self.orders, "duplicates": self.duplicates, "rejected": self.rejected,
                                "ignored": self.ignored}
        if not self.dry_run:
            body["acknowledgements"] = self.acknowledgements
            body["capture_id"] = self.capture_id
        return body

    def summary(self) -> str:
        verb = "would create" if self.dry_run else "created"
        return (f"{len(self.orders)} orders {verb}, {len(self.duplicates)} duplicates skipped, "
                f"{len(self.rejected)} rejected, {len(self.ignored)} ignored")
