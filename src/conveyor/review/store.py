"""Reading rule sets: the published one (cached per process for the order path), the draft, any by id."""

from __future__ import annotations

import threading
import time as _time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from conveyor.review.model import Outcome, Rule, RuleKind
from conveyor.review.tables import review_rule_sets, review_rules

TTL_SECONDS = 5.0  # a rule set published in another process is in force here within this time

PUBLISHED = "published"
DRAFT = "draft"
RETIRED = "retired"


@dataclass(frozen=True)
class RuleSet:
    id: int
    status: str
    rules: tuple[Rule, ...]  # in evaluation order (priority, rule number)
    created_at: datetime
    created_by: str
    published_at: datetime | None = None
    published_by: str | None = None
    note: str | None = None

    def rule(self, rule_no: int) -> Rule | None:
        return next((r for r in self.rules if r.rule_no == rule_no), None)

    @property
    def label(self) -> str:
        return f"rule set {self.id}"


_RULES = select(review_rules).where(review_rules.c.rule_set_id == bindparam("rule_set_id")).order_by(
    review_rules.c.priority, review_rules.c.rule_no)
_SET = select(review_rule_sets).where(review_rule_sets.c.id == bindparam("rule_set_id"))
_BY_STATUS = select(review_rule_sets.c.id).where(review_rule_sets.c.status == bindparam("status")).order_by(
    review_rule_sets.c.id.desc()).limit(1)


def row_to_rule(row: object) -> Rule:
    r = row
    return Rule(rule_no=int(r.rule_no), version=int(r.version), name=str(r.name), kind=RuleKind(r.kind),  # type: ignore[attr-defined]
                params=dict(r.params or {}), outcome=Outcome(r.outcome), reason=str(r.reason),  # type: ignore[attr-defined]
                priority=int(r.priority), enabled=bool(r.enabled), check=r.check_name)  # type: ignore[attr-defined]


def load_rule_set(conn: Connection, rule_set_id: int) -> RuleSet | None:
    head = conn.execute(_SET, {"rule_set_id": rule_set_id}).first()
    if head is None:
        return None
    rules = tuple(row_to_rule(r) for r in conn.execute(_RULES, {"rule_set_id": rule_set_id}))
    return RuleSet(id=int(head.id), status=str(head.status), rules=rules, created_at=head.created_at,
                   created_by=str(head.created_by), published_at=head.published_at, published_by=head.published_by,
                   note=head.note)


def rule_set_with_status(conn: Connection, status: str) -> RuleSet | None:
    rule_set_id = conn.execute(_BY_STATUS, {"status": status}).scalar()
    return None if rule_set_id is None else load_rule_set(conn, int(rule_set_id))


def published_rule_set(conn: Connection) -> RuleSet | None:
    """The rule set in force; None until a manager publishes one (orders then wait in 'received' for a person)."""
    return rule_set_with_status(conn, PUBLISHED)


def draft_rule_set(conn: Connection) -> RuleSet | None:
    return rule_set_with_status(conn, DRAFT)


class RuleSetCache:
    """The published rule set, read at most every TTL_SECONDS per process; publishing here invalidates it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: RuleSet | None = None
        self._loaded_at: float | None = None

    def get(self, conn: Connection) -> RuleSet | None:
        with self._lock:
            now = _time.monotonic()
            if self._loaded_at is None or now - self._loaded_at > TTL_SECONDS:
                self._value = published_rule_set(conn)
                self._loaded_at = now
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = None
            self._value = None
