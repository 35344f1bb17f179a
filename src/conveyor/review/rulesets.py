"""Writing review rules without code: a draft rule set a manager edits, published when ready, older ones retired.

At most one rule set is `draft` and one `published`; the draft is made on the first edit by copying the
published rules (same rule numbers and versions), or empty. A rule keeps its number (R7) for good; its version
is the published version while the draft leaves it as it is, one more once the draft changes it, 1 for a new
rule. Every change writes a review_audit row (who, what, the rule before and after).

Changes to rule sets are serialised: on PostgreSQL by a transaction-level advisory lock taken before the draft
is read, on SQLite by BEGIN IMMEDIATE (the unit of work's write transaction), so two managers editing at once
never make two drafts or give two rules one number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Connection

from conveyor.kernel.errors import Conflict, NotFound, ValidationFailed
from conveyor.platform.uow import UnitOfWork
from conveyor.review import catalogue
from conveyor.review.catalogue import KINDS
from conveyor.review.model import Outcome, Rule, RuleKind
from conveyor.review.store import (
    DRAFT,
    PUBLISHED,
    RETIRED,
    RuleSet,
    RuleSetCache,
    draft_rule_set,
    load_rule_set,
    published_rule_set,
)
from conveyor.review.tables import review_audit, review_rule_sets, review_rules

NOTE_MAX = 500
DEFAULT_PRIORITY = 100
RULE_FIELDS = ("name", "kind", "params", "outcome", "reason", "check", "priority", "enabled")
_LOCK_KEY = "conveyor:review_rule_sets"


class Action:
    """review_audit.action values written here."""

    RULE_ADDED = "rule_added"
    RULE_CHANGED = "rule_changed"
    RULE_REMOVED = "rule_removed"
    RULE_ENABLED = "rule_enabled"
    RULE_DISABLED = "rule_disabled"
    PUBLISHED = "published"
    DISCARDED = "discarded"


STANDARD_COMMENT = "started from the standard rules"


# The rule's fields ---------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """As stored and read back (tuples become lists), so a rule read from the database compares equal."""
    return json.loads(json.dumps(value))


def fields_of(rule: Rule) -> dict[str, Any]:
    """The fields a manager sets, as the API shows them and the audit trail records them."""
    return {"name": rule.name, "kind": rule.kind.value, "params": _plain(dict(rule.params)),
            "outcome": rule.outcome.value, "reason": rule.reason, "check": rule.check, "priority": rule.priority,
            "enabled": rule.enabled}


def _audited(rule: Rule) -> dict[str, Any]:
    return {"rule_no": rule.rule_no, "version": rule.version, **fields_of(rule)}


def same_rule(a: Rule | None, b: Rule | None) -> bool:
    return a is not None and b is not None and fields_of(a) == fields_of(b)


def check_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A rule as sent (API body, form or command line), checked by catalogue.check_rule with the kind's
    defaults for what was left out (outcome, reason, priority 100, enabled). Raises ValidationFailed listing
    every problem by field path (`params.threshold`, `params.clauses.1.value`, ...)."""
    kind = fields.get("kind")
    info = KINDS.get(RuleKind(kind)) if isinstance(kind, str) and kind in RuleKind._value2member_map_ else None
    outcome = fields.get("outcome")
    if (outcome is None or outcome == "") and info is not None:
        outcome = info.default_outcome.value
    priority = fields.get("priority")
    clean = catalogue.check_rule(
        name=fields.get("name") or "", kind=kind if isinstance(kind, str) else "", params=fields.get("params"),
        outcome=outcome if isinstance(outcome, str) else "", reason=fields.get("reason"), check=fields.get("check"),
        priority=DEFAULT_PRIORITY if priority is None else priority)
    enabled = fields.get("enabled", True)
    return {**clean, "params": _plain(clean["params"]), "enabled": True if enabled is None else bool(enabled)}


def _rule(rule_no: int, version: int, clean: Mapping[str, Any]) -> Rule:
    return catalogue.rule_from_fields(rule_no, version, bool(clean["enabled"]), clean)


def _versioned(conn: Connection, rule_no: int, clean: Mapping[str, Any]) -> Rule:
    """The draft's rule `rule_no` with these fields, versioned against the published set."""
    return _rule(rule_no, version_for(_rule(rule_no, 1, clean), published_rule_set(conn)), clean)


def _row(rule: Rule) -> dict[str, Any]:
    return {"rule_no": rule.rule_no, "version": rule.version, "name": rule.name, "kind": rule.kind.value,
            "params": _plain(dict(rule.params)), "outcome": rule.outcome.value, "reason": rule.reason,
            "check_name": rule.check, "priority": rule.priority, "enabled": rule.enabled}


def version_for(rule: Rule, published: RuleSet | None) -> int:
    """The published version when the draft leaves the rule as published, one more when it changes it, 1 for a
    rule the published set does not have."""
    before = published.rule(rule.rule_no) if published else None
    if before is None:
        return 1
    return before.version if same_rule(before, rule) else before.version + 1


# Comparing a draft with the published set ----------------------------------------------------------------

@dataclass(frozen=True)
class Changes:
    """What publishing `draft` would change: rule numbers added, changed and removed."""

    added: tuple[int, ...] = ()
    changed: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def status(self, rule_no: int) -> str:
        """new, changed or unchanged, for a rule of the draft."""
        return "new" if rule_no in self.added else "changed" if rule_no in self.changed else "unchanged"

    def as_dict(self) -> dict[str, list[int]]:
        return {"added": list(self.added), "changed": list(self.changed), "removed": list(self.removed)}

    def summary(self) -> str:
        parts = [f"{label} {', '.join(f'R{n}' for n in numbers)}" for label, numbers in
                 (("added", self.added), ("changed", self.changed), ("removed", self.removed)) if numbers]
        return "; ".join(parts) or "no rule changed"


def compare(published: RuleSet | None, draft: RuleSet) -> Changes:
    before = {r.rule_no: r for r in published.rules} if published else {}
    after = {r.rule_no: r for r in draft.rules}
    return Changes(added=tuple(sorted(n for n in after if n not in before)),
                   changed=tuple(sorted(n for n in after if n in before and not same_rule(before[n], after[n]))),
                   removed=tuple(sorted(n for n in before if n not in after)))


# Writing -------------------------------------------------------------------------------------------------

def _serialise(conn: Connection) -> None:
    """One rule-set change at a time (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": _LOCK_KEY})


def _audit(conn: Connection, *, at: datetime, actor: str, action: str, rule_set_id: int | None,
           rule_no: int | None = None, before: Any = None, after: Any = None, comment: str | None = None) -> None:
    conn.execute(insert(review_audit).values(at=at, actor=actor, action=action, rule_set_id=rule_set_id,
                                             rule_no=rule_no, order_id=None, before=before, after=after,
                                             comment=comment))


def _draft(conn: Connection, actor: str, at: datetime) -> RuleSet:
    """The draft, locked for this change, made now from the published rules (or empty) when there is none."""
    _serialise(conn)
    found = draft_rule_set(conn)
    if found is not None:
        return found
    draft_id = int(conn.execute(insert(review_rule_sets).values(status=DRAFT, created_at=at, created_by=actor)
                                .returning(review_rule_sets.c.id)).scalar_one())
    published = published_rule_set(conn)
    if published is not None and published.rules:
        conn.execute(insert(review_rules), [{**_row(r), "rule_set_id": draft_id} for r in published.rules])
    made = load_rule_set(conn, draft_id)
    assert made is not None
    return made


def _existing_draft(conn: Connection) -> RuleSet:
    """The draft, locked for this change; 404 draft_not_found when there is none."""
    _serialise(conn)
    draft = draft_rule_set(conn)
    if draft is None:
        raise draft_not_found()
    return draft


def _next_rule_no(conn: Connection) -> int:
    """One more than any rule number ever used, in a rule set or the audit trail (a discarded draft's rules
    included), so a number never names two different rules."""
    in_sets = conn.execute(select(func.max(review_rules.c.rule_no))).scalar() or 0
    in_audit = conn.execute(select(func.max(review_audit.c.rule_no))).scalar() or 0
    return max(int(in_sets), int(in_audit)) + 1


def _insert_rule(conn: Connection, draft_id: int, rule: Rule) -> None:
    conn.execute(insert(review_rules).values(**_row(rule), rule_set_id=draft_id))


def _update_rule(conn: Connection, draft_id: int, rule: Rule) -> None:
    conn.execute(update(review_rules).where(review_rules.c.rule_set_id == draft_id,
                                            review_rules.c.rule_no == rule.rule_no).values(**_row(rule)))


def _rule_not_found(rule_no: int) -> NotFound:
    return NotFound("rule_not_found", f"the draft has no rule R{rule_no}", "rule_no")


def _draft_rule(draft: RuleSet, rule_no: int) -> Rule:
    rule = draft.rule(rule_no)
    if rule is None:
        raise _rule_not_found(rule_no)
    return rule


def ensure_draft(actor: str, *, uow: UnitOfWork) -> RuleSet:
    """The draft, made from the published rules (or empty) when there is none yet."""
    with uow:
        return _draft(uow.conn, actor, uow.clock.now())


def add_rule(fields: Mapping[str, Any], actor: str, *, uow: UnitOfWork) -> Rule:
    """Adds a rule to the draft under a new rule number, version 1."""
    clean = check_fields(fields)  # 422 before touching the database
    with uow:
        conn, at = uow.conn, uow.clock.now()
        draft = _draft(conn, actor, at)
        rule = _rule(_next_rule_no(conn), 1, clean)
        _insert_rule(conn, draft.id, rule)
        _audit(conn, at=at, actor=actor, action=Action.RULE_ADDED, rule_set_id=draft.id, rule_no=rule.rule_no,
               after=_audited(rule))
        return rule


def update_rule(rule_no: int, fields: Mapping[str, Any], actor: str, *, uow: UnitOfWork) -> Rule:
    """Replaces a draft rule's fields (every field: what is left out takes its default)."""
    clean = check_fields(fields)
    with uow:
        conn, at = uow.conn, uow.clock.now()
        draft = _draft(conn, actor, at)
        before = _draft_rule(draft, rule_no)
        rule = _versioned(conn, rule_no, clean)
        if rule != before:
            _update_rule(conn, draft.id, rule)
            _audit(conn, at=at, actor=actor, action=Action.RULE_CHANGED, rule_set_id=draft.id, rule_no=rule_no,
                   before=_audited(before), after=_audited(rule))
        return rule


def set_enabled(rule_no: int, enabled: bool, actor: str, *, uow: UnitOfWork) -> Rule:
    """Switches a draft rule on or off (a switched-off rule stays in the set but is not evaluated)."""
    with uow:
        conn, at = uow.conn, uow.clock.now()
        draft = _draft(conn, actor, at)
        before = _draft_rule(draft, rule_no)
        if before.enabled == enabled:
            return before
        rule = _versioned(conn, rule_no, {**fields_of(before), "enabled": enabled})
        _update_rule(conn, draft.id, rule)
        _audit(conn, at=at, actor=actor, action=Action.RULE_ENABLED if enabled else Action.RULE_DISABLED,
               rule_set_id=draft.id, rule_no=rule_no, before=_audited(before), after=_audited(rule))
        return rule


def remove_rule(rule_no: int, actor: str, *, uow: UnitOfWork) -> Rule:
    """Removes a rule from the draft; the published set keeps it until the draft is published."""
    with uow:
        conn, at = uow.conn, uow.clock.now()
        draft = _draft(conn, actor, at)
        before = _draft_rule(draft, rule_no)
        conn.execute(delete(review_rules).where(review_rules.c.rule_set_id == draft.id,
                                                review_rules.c.rule_no == rule_no))
        _audit(conn, at=at, actor=actor, action=Action.RULE_REMOVED, rule_set_id=draft.id, rule_no=rule_no,
               before=_audited(before))
        return before


def use_standard_rules(actor: str, *, uow: UnitOfWork) -> RuleSet:
    """The draft's rules become catalogue.standard_rules(), under new rule numbers; each rule the draft had is
    recorded as removed and each standard one as added."""
    standard = [check_fields(fields) for fields in catalogue.standard_rules()]
    with uow:
        conn, at = uow.conn, uow.clock.now()
        draft = _draft(conn, actor, at)
        for old in draft.rules:
            _audit(conn, at=at, actor=actor, action=Action.RULE_REMOVED, rule_set_id=draft.id,
                   rule_no=old.rule_no, before=_audited(old), comment=STANDARD_COMMENT)
        conn.execute(delete(review_rules).where(review_rules.c.rule_set_id == draft.id))
        first = _next_rule_no(conn)
        for i, clean in enumerate(standard):
            rule = _rule(first + i, 1, clean)
            _insert_rule(conn, draft.id, rule)
            _audit(conn, at=at, actor=actor, action=Action.RULE_ADDED, rule_set_id=draft.id, rule_no=rule.rule_no,
                   after=_audited(rule), comment=STANDARD_COMMENT)
        made = load_rule_set(conn, draft.id)
        assert made is not None
        return made


def check_note(note: Any) -> str:
    text_ = note.strip() if isinstance(note, str) else ""
    if not text_:
        raise ValidationFailed("required", "say what changed: a note of 1 to 500 characters", "note")
    if len(text_) > NOTE_MAX:
        raise ValidationFailed("invalid_note", f"a note has at most {NOTE_MAX} characters", "note")
    return text_


def publish(note: str, actor: str, *, uow: UnitOfWork, cache: RuleSetCache) -> tuple[RuleSet, Changes]:
    """Puts the draft in force: it becomes the published set and the one before is retired. Refused without a
    note (422), without a draft (404 draft_not_found) or for a draft with no rules (409 empty_rule_set: with no
    rules every order would be approved unseen)."""
    clean_note = check_note(note)
    with uow:
        conn, at = uow.conn, uow.clock.now()
        draft = _existing_draft(conn)
        if not draft.rules:
            raise Conflict("empty_rule_set", "the draft has no rules; with none every order would be approved "
                                             "unseen: add rules or start from the standard ones", "rules")
        previous = published_rule_set(conn)
        changes = compare(previous, draft)
        if previous is not None:
            conn.execute(update(review_rule_sets).where(review_rule_sets.c.status == PUBLISHED)
                         .values(status=RETIRED))
        conn.execute(update(review_rule_sets).where(review_rule_sets.c.id == draft.id).values(
            status=PUBLISHED, note=clean_note, published_at=at, published_by=actor))
        _audit(conn, at=at, actor=actor, action=Action.PUBLISHED, rule_set_id=draft.id,
               before={"rule_set_id": previous.id if previous else None}, after=changes.as_dict(),
               comment=clean_note)
        published = load_rule_set(conn, draft.id)
        assert published is not None
    cache.invalidate()
    return published, changes


def discard_draft(actor: str, *, uow: UnitOfWork) -> RuleSet:
    """Throws the draft away (404 draft_not_found when there is none); the published set stays in force."""
    with uow:
        conn, at = uow.conn, uow.clock.now()
        draft = _existing_draft(conn)
        changes = compare(published_rule_set(conn), draft)
        conn.execute(delete(review_rules).where(review_rules.c.rule_set_id == draft.id))
        conn.execute(delete(review_rule_sets).where(review_rule_sets.c.id == draft.id))
        _audit(conn, at=at, actor=actor, action=Action.DISCARDED, rule_set_id=draft.id,
               before={"rules": [_audited(r) for r in draft.rules]}, after=changes.as_dict())
        return draft


def draft_not_found() -> NotFound:
    return NotFound("draft_not_found", "there is no draft rule set: change a rule to start one", "set")


# Reading -------------------------------------------------------------------------------------------------

def find_rule_set(conn: Connection, ref: str) -> RuleSet:
    """`published`, `draft` or a rule set's id; 404 (rule_set_not_found, draft_not_found) when there is none."""
    wanted = ref.strip().lower()
    if wanted == DRAFT:
        found = draft_rule_set(conn)
        if found is None:
            raise draft_not_found()
        return found
    if wanted == PUBLISHED:
        found = published_rule_set(conn)
        if found is None:
            raise NotFound("rule_set_not_found", "no rule set is published yet", "set")
        return found
    if wanted.isdigit() and 0 < int(wanted) < 2**31:
        found = load_rule_set(conn, int(wanted))
        if found is not None:
            return found
    raise NotFound("rule_set_not_found", f"there is no rule set {ref!r} (published, draft or a rule set's id)",
                   "set")


@dataclass(frozen=True)
class RuleSets:
    """What the rules screen shows: the published set, the draft, and what the draft changes."""

    published: RuleSet | None
    draft: RuleSet | None
    changes: Changes | None  # None without a draft

    def removed(self) -> list[Rule]:
        """Published rules the draft removes."""
        if self.published is None or self.changes is None:
            return []
        return [r for r in self.published.rules if r.rule_no in self.changes.removed]


def current(conn: Connection) -> RuleSets:
    published, draft = published_rule_set(conn), draft_rule_set(conn)
    return RuleSets(published, draft, compare(published, draft) if draft is not None else None)


def rule_in_force_or_draft(conn: Connection, rule_no: int) -> Rule:
    """What an edit of the rule starts from: the draft's rule, or without a draft the published one (the edit
    then makes the draft); 404 rule_not_found, also for a rule the draft has removed."""
    rule_set = draft_rule_set(conn) or published_rule_set(conn)
    rule = rule_set.rule(rule_no) if rule_set is not None else None
    if rule is None:
        raise _rule_not_found(rule_no)
    return rule


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    rule_set_id: int | None
    rule_no: int | None
    order_id: int | None
    before: Any
    after: Any
    comment: str | None


def audit_entries(conn: Connection, *, limit: int = 50, before: int | None = None,
                  rule_no: int | None = None) -> tuple[list[AuditEntry], int | None]:
    """The audit trail newest first: a page, and the id to pass as `before` for the next one (None: last)."""
    query = select(review_audit).order_by(review_audit.c.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(review_audit.c.id < before)
    if rule_no is not None:
        query = query.where(review_audit.c.rule_no == rule_no)
    rows = list(conn.execute(query))
    page = [AuditEntry(int(r.id), r.at, r.actor, r.action, r.rule_set_id, r.rule_no, r.order_id, r.before, r.after,
                       r.comment) for r in rows[:limit]]
    return page, (page[-1].id if len(rows) > limit else None)


def describe_rule(rule: Rule) -> str:
    """The rule's condition in words: its kind's description and its parameters."""
    info = KINDS.get(rule.kind)
    if info is None:
        return rule.kind.value
    shown = describe_params(rule.kind, rule.params)
    return f"{info.description} {shown}" if shown else info.description


def describe_params(kind: RuleKind, params: Mapping[str, Any]) -> str:
    """Parameters as a manager reads them: "Threshold 5,000.00; Countries CU, IR"."""
    from conveyor.review.conditions import describe

    info = KINDS.get(kind)
    if info is None:
        return ""
    parts = []
    for spec in info.params:
        value = params.get(spec.name)
        if spec.type.value == "clauses":
            clauses = [describe(c) for c in value or [] if isinstance(c, Mapping)]
            joiner = " and " if params.get("match", "all") == "all" else " or "
            if clauses:
                parts.append(joiner.join(clauses))
            continue
        if spec.name == "match":
            continue
        parts.append(f"{spec.label}: {param_text(value)}")
    return "; ".join(parts)


def param_text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def outcome_text(rule: Rule) -> str:
    if rule.outcome is Outcome.CHECK:
        return f"check: {rule.check}"
    if rule.outcome is Outcome.APPROVE:
        return "approve"
    return f"hold: {rule.reason}"

