"""Review rules (versioned in rule sets), their audit trail, every order's review results, open holds and the
exception queue's cases."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from conveyor.platform.db import JsonText, UtcDateTime, metadata

ID = BigInteger().with_variant(Integer, "sqlite")

review_rule_sets = Table(
    "review_rule_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String(10), nullable=False, doc="draft (being edited), published (in force), retired"),
    Column("note", Text, nullable=True, doc="what changed, written when publishing"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(300), nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    Column("published_by", String(300), nullable=True),
    Index("ix_review_rule_sets_status", "status", "id"),
)

review_rules = Table(
    "review_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_set_id", Integer, ForeignKey("review_rule_sets.id", ondelete="CASCADE"), nullable=False),
    Column("rule_no", Integer, nullable=False, doc="stable across rule sets: R<rule_no>"),
    Column("version", Integer, nullable=False, doc="goes up when a published change alters the rule"),
    Column("name", String(120), nullable=False),
    Column("kind", String(40), nullable=False, doc="review.model.RuleKind"),
    Column("params", JsonText, nullable=False),
    Column("outcome", String(10), nullable=False, doc="approve, hold or check"),
    Column("reason", String(30), nullable=False, doc="hold reason code"),
    Column("check_name", String(120), nullable=True),
    Column("priority", Integer, nullable=False, doc="lower runs first"),
    Column("enabled", Boolean, nullable=False),
    UniqueConstraint("rule_set_id", "rule_no", name="uq_review_rules_set_rule"),
)

review_audit = Table(
    "review_audit",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(300), nullable=False),
    Column("action", String(30), nullable=False,
           doc="rule_added, rule_changed, rule_removed, rule_enabled, rule_disabled, published, discarded, "
               "override"),
    Column("rule_set_id", Integer, nullable=True),
    Column("rule_no", Integer, nullable=True),
    Column("order_id", ID, nullable=True, doc="for overrides of a hold on an order"),
    Column("before", JsonText, nullable=True),
    Column("after", JsonText, nullable=True),
    Column("comment", Text, nullable=True),
    Index("ix_review_audit_at", "at", "id"),
)

order_reviews = Table(
    "order_reviews",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("trigger", String(30), nullable=False, doc="intake, address_corrected, rerun"),
    Column("rule_set_id", Integer, nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("results", JsonText, nullable=False, doc="every rule's RuleResult.as_dict(), in evaluation order"),
    Column("micros", Integer, nullable=False, doc="time the rules took, microseconds"),
    Index("ix_order_reviews_order", "order_id", "id"),
)

order_holds = Table(
    "order_holds",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("reason", String(30), nullable=False, doc="review.model.Reason"),
    Column("message", Text, nullable=False),
    Column("rule_no", Integer, nullable=True, doc="null for a hold a person added (e.g. prepayment)"),
    Column("rule_version", Integer, nullable=True),
    Column("outcome", String(10), nullable=False, doc="hold (needs an override to approve) or check"),
    Column("check_name", String(120), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cleared_at", UtcDateTime, nullable=True),
    Column("cleared_by", String(300), nullable=True),
    Column("cleared_note", Text, nullable=True),
    Index("ix_order_holds_order", "order_id", "id"),
    Index("ix_order_holds_open_reason", "cleared_at", "reason"),
)

review_cases = Table(
    "review_cases",
    metadata,
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(10), nullable=False, doc="open or closed"),
    Column("reason", String(30), nullable=False, doc="the main (first) hold reason, for grouping"),
    Column("role", String(30), nullable=False, doc="the role that works this reason"),
    Column("assignee", String(300), nullable=True, doc="user:<email> it is assigned to"),
    Column("waiting_for", String(30), nullable=True, doc="e.g. prepayment: asked the customer, waiting"),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=True, doc="SLA due, in business hours"),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("closed_by", String(300), nullable=True),
    Column("resolution", String(20), nullable=True, doc="approved, cancelled, passed (rules pass now)"),
    Column("comment", Text, nullable=True),
    Index("ix_review_cases_status_due", "status", "due_at"),
    Index("ix_review_cases_status_reason", "status", "reason"),
)
