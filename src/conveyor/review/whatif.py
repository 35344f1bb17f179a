"""What if these rules had been in force? A rule set evaluated over the orders of the last days, each with its
facts as they were when it was placed (review.facts), against what actually happened to it (its latest review).

Read-only: nothing is written, no order moves. The report is plain values for the screen, the API and the CLI.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from conveyor.customers.tables import customers
from conveyor.orders.domain import order_number
from conveyor.orders.tables import orders
from conveyor.review.catalogue import fact_needs
from conveyor.review.evaluate import evaluate
from conveyor.review.facts import facts_for_orders
from conveyor.review.model import Status
from conveyor.review.store import RuleSet
from conveyor.review.tables import order_reviews

PAGE = 500            # orders per batch of facts
DEFAULT_LIMIT = 20_000
_FIRED = (Status.APPROVED, Status.HELD, Status.CHECK, Status.ERROR)

_ORDERS = (select(orders.c.id, orders.c.created_at, orders.c.total_minor, orders.c.currency,
                  customers.c.account, customers.c.name.label("customer_name"))
           .join(customers, customers.c.id == orders.c.customer_id)
           .where(orders.c.created_at >= bindparam("since"))
           .order_by(orders.c.created_at.desc(), orders.c.id.desc()))
_REVIEWS = (select(order_reviews.c.order_id, order_reviews.c.approved)
            .where(order_reviews.c.order_id.in_(bindparam("ids", expanding=True)))
            .order_by(order_reviews.c.order_id, order_reviews.c.id))


@dataclass(frozen=True)
class Hold:
    rule_no: int
    version: int
    reason: str
    message: str

    @property
    def label(self) -> str:
        return f"R{self.rule_no} v{self.version}"


@dataclass(frozen=True)
class OrderOutcome:
    """One order: what the rule set would decide, and what its latest review did decide."""

    order_id: int
    created_at: datetime
    customer_account: str
    customer_name: str
    total_minor: int
    currency: str
    would_approve: bool
    holds: tuple[Hold, ...]
    actually_approved: bool | None  # None: never reviewed automatically

    @property
    def number(self) -> str:
        return order_number(self.order_id)

    @property
    def would(self) -> str:
        return "approve" if self.would_approve else "hold"

    @property
    def actual(self) -> str:
        if self.actually_approved is None:
            return "not reviewed"
        return "approved" if self.actually_approved else "held"

    @property
    def reasons(self) -> tuple[str, ...]:
        """The hold reason codes, each once, in the order the rules found them."""
        return tuple(dict.fromkeys(h.reason for h in self.holds))

    @property
    def changed(self) -> bool:
        """Reviewed, and this rule set would decide the other way."""
        return self.actually_approved is not None and self.actually_approved != self.would_approve


@dataclass(frozen=True)
class RuleCount:
    rule_no: int
    version: int
    name: str
    fired: int = 0    # condition met (approved, held, check) or failed
    errors: int = 0   # of which failed with an error

    @property
    def label(self) -> str:
        return f"R{self.rule_no} v{self.version}"


@dataclass(frozen=True)
class WhatIfReport:
    rule_set_id: int
    rule_set_status: str
    since: datetime
    orders: tuple[OrderOutcome, ...]        # newest first
    holds_by_reason: tuple[tuple[str, int], ...]  # reason -> orders held for it, most first
    rules: tuple[RuleCount, ...]            # in evaluation order
    truncated: bool                         # more orders than the limit were placed since `since`

    @property
    def evaluated(self) -> int:
        return len(self.orders)

    @property
    def would_approve(self) -> int:
        return sum(1 for o in self.orders if o.would_approve)

    @property
    def would_hold(self) -> int:
        return self.evaluated - self.would_approve

    @property
    def actually_approved(self) -> int:
        return sum(1 for o in self.orders if o.actually_approved is True)

    @property
    def actually_held(self) -> int:
        return sum(1 for o in self.orders if o.actually_approved is False)

    @property
    def not_reviewed(self) -> int:
        return sum(1 for o in self.orders if o.actually_approved is None)

    @property
    def changed(self) -> tuple[OrderOutcome, ...]:
        return tuple(o for o in self.orders if o.changed)


T = TypeVar("T")


def _pages(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def what_if(conn: Connection, rule_set: RuleSet, *, since: datetime, limit: int = DEFAULT_LIMIT) -> WhatIfReport:
    """Evaluates `rule_set` over the orders created since `since` (the newest `limit` of them)."""
    rows = list(conn.execute(_ORDERS.limit(limit + 1), {"since": since}))
    truncated = len(rows) > limit
    rows = rows[:limit]
    needs = fact_needs(rule_set.rules)
    enabled = [r for r in rule_set.rules if r.enabled]
    fired: Counter[int] = Counter()
    errors: Counter[int] = Counter()
    by_reason: Counter[str] = Counter()
    outcomes: list[OrderOutcome] = []
    for page in _pages(rows, PAGE):
        ids = [int(r.id) for r in page]
        facts = facts_for_orders(conn, ids, needs)
        actual: dict[int, bool] = {}
        for review in conn.execute(_REVIEWS, {"ids": ids}):
            actual[int(review.order_id)] = bool(review.approved)  # the latest one wins
        for row in page:
            order_facts = facts.get(int(row.id))
            if order_facts is None:  # deleted meanwhile
                continue
            decision = evaluate(rule_set.rules, order_facts)
            for result in decision.results:
                if result.status in _FIRED:
                    fired[result.rule_no] += 1
                if result.status is Status.ERROR:
                    errors[result.rule_no] += 1
            holds = tuple(Hold(h.rule_no, h.version, h.reason or "", h.message) for h in decision.holds)
            outcome = OrderOutcome(
                order_id=int(row.id), created_at=row.created_at, customer_account=str(row.account),
                customer_name=str(row.customer_name), total_minor=int(row.total_minor), currency=str(row.currency),
                would_approve=decision.approved, holds=holds, actually_approved=actual.get(int(row.id)))
            by_reason.update(outcome.reasons)
            outcomes.append(outcome)
    rules = tuple(RuleCount(r.rule_no, r.version, r.name, fired[r.rule_no], errors[r.rule_no]) for r in enabled)
    return WhatIfReport(rule_set_id=rule_set.id, rule_set_status=rule_set.status, since=since,
                        orders=tuple(outcomes), holds_by_reason=tuple(sorted(by_reason.items(),
                                                                              key=lambda kv: (-kv[1], kv[0]))),
                        rules=rules, truncated=truncated)
