"""Lifecycle configuration a manager changes without code: stage owners and SLAs, the business calendar.

Stored in `stage_definitions`, `business_calendar` and `holidays`; defaults (lifecycle.DEFAULT_STAGES and
a Monday-Friday 09:00-17:00 UTC calendar) apply until a manager saves something. Reads are cached per
process for a few seconds, so the order path does not query configuration on every request; a change
made in this process is visible at once, one made in another process within `TTL_SECONDS`.
"""

from __future__ import annotations

import threading
import time as _time
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from conveyor.identity.permissions import Role
from conveyor.kernel.errors import NotFound, ProblemCollector
from conveyor.orders.calendar import BusinessCalendar
from conveyor.orders.lifecycle import DEFAULT_STAGES, Stage, StageDefinition
from conveyor.orders.tables import business_calendar, holidays, stage_definitions

TTL_SECONDS = 5.0
DEFAULT_CALENDAR = BusinessCalendar()


@dataclass(frozen=True)
class LifecycleConfig:
    stages: dict[Stage, StageDefinition]
    calendar: BusinessCalendar
    holiday_names: dict[date, str]

    def definition(self, stage: Stage | str) -> StageDefinition:
        return self.stages[Stage(stage)]

    def due_at(self, stage: Stage | str, entered_at: datetime) -> datetime | None:
        hours = self.definition(stage).sla_hours
        if hours is None:
            return None
        return self.calendar.add_business_hours(entered_at, hours)

    def time_left(self, due_at: datetime | None, now: datetime) -> timedelta | None:
        """Business time left until `due_at` (negative once breached: wall time past due)."""
        if due_at is None:
            return None
        if now >= due_at:
            return -(now - due_at)
        return self.calendar.business_time_between(now, due_at)

    def ordered(self) -> list[StageDefinition]:
        order = {d.stage: i for i, d in enumerate(DEFAULT_STAGES)}
        return sorted(self.stages.values(), key=lambda d: order[d.stage])


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def load_config(conn: Connection) -> LifecycleConfig:
    stages = {d.stage: d for d in DEFAULT_STAGES}
    for row in conn.execute(select(stage_definitions)).all():
        stage = Stage(row.stage)
        sla = None if row.sla_minutes is None else Decimal(row.sla_minutes) / 60
        stages[stage] = StageDefinition(stage, row.label, row.owner_role, sla, row.description)
    holiday_rows = conn.execute(select(holidays.c.day, holidays.c.name)).all()
    names = {r.day: r.name for r in holiday_rows}
    row = conn.execute(select(business_calendar).where(business_calendar.c.id == 1)).first()
    if row is None:
        calendar = BusinessCalendar(holidays=frozenset(names))
    else:
        calendar = BusinessCalendar(
            timezone=row.timezone,
            working_days=frozenset(int(d) - 1 for d in row.working_days.split(",") if d),
            opens=_parse_hhmm(row.opens), closes=_parse_hhmm(row.closes), holidays=frozenset(names),
        )
    return LifecycleConfig(stages, calendar, names)


class ConfigCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: LifecycleConfig | None = None
        self._loaded_at = 0.0

    def get(self, conn: Connection) -> LifecycleConfig:
        with self._lock:
            if self._value is None or _time.monotonic() - self._loaded_at > TTL_SECONDS:
                self._value = load_config(conn)
                self._loaded_at = _time.monotonic()
            return self._value

    def current(self) -> LifecycleConfig | None:
        """The configuration last loaded, without reading (None if none is loaded)."""
        return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


def sla_minutes(hours: Decimal | None) -> int | None:
    return None if hours is None else int((hours * 60).to_integral_value())


def save_stage(conn: Connection, definition: StageDefinition, *, at: datetime, actor: str) -> None:
    problems = ProblemCollector()
    if definition.owner_role not in {r.value for r in Role}:
        problems.add("unknown_role", f"owner_role must be one of {', '.join(Role)}", "owner_role")
    if definition.sla_hours is not None and not (Decimal(0) < definition.sla_hours <= Decimal(2000)):
        problems.add("invalid_sla", "sla_hours must be more than 0 and at most 2000 (or empty for none)",
                     "sla_hours")
    if not definition.label.strip() or len(definition.label) > 60:
        problems.add("invalid_label", "label must be 1 to 60 characters", "label")
    problems.raise_if_any()
    values = dict(label=definition.label.strip(), owner_role=definition.owner_role,
                  sla_minutes=sla_minutes(definition.sla_hours), description=definition.description,
                  updated_at=at, updated_by=actor)
    done = conn.execute(update(stage_definitions).where(stage_definitions.c.stage == definition.stage.value)
                        .values(**values)).rowcount
    if not done:
        position = [d.stage for d in DEFAULT_STAGES].index(definition.stage)
        conn.execute(insert(stage_definitions).values(stage=definition.stage.value, position=position, **values))


def save_calendar(conn: Connection, *, timezone: str, working_days: list[int], opens: str, closes: str,
                  holiday_list: list[tuple[date, str]], at: datetime, actor: str) -> BusinessCalendar:
    """working_days are ISO weekday numbers 1 (Monday) to 7; opens/closes are HH:MM local times."""
    problems = ProblemCollector()
    parsed: dict[str, time] = {}
    for name, text in (("opens", opens), ("closes", closes)):
        try:
            parsed[name] = _parse_hhmm(text)
        except ValueError:
            problems.add("invalid_time", f"{name} must be HH:MM, got {text!r}", name)
    if not working_days or any(d not in range(1, 8) for d in working_days):
        problems.add("invalid_working_days", "working_days are 1 (Monday) to 7 (Sunday), at least one",
                     "working_days")
    problems.raise_if_any()
    try:
        calendar = BusinessCalendar(timezone=timezone, working_days=frozenset(d - 1 for d in working_days),
                                    opens=parsed["opens"], closes=parsed["closes"],
                                    holidays=frozenset(d for d, _ in holiday_list))
    except ValueError as exc:
        field = "timezone" if "zone" in str(exc).lower() else "closes"
        problems.add("invalid_calendar", str(exc), field)
        problems.raise_if_any()
        raise
    values = dict(timezone=timezone, working_days=",".join(str(d) for d in sorted(set(working_days))),
                  opens=_hhmm(parsed["opens"]), closes=_hhmm(parsed["closes"]), updated_at=at, updated_by=actor)
    if not conn.execute(update(business_calendar).where(business_calendar.c.id == 1).values(**values)).rowcount:
        conn.execute(insert(business_calendar).values(id=1, **values))
    conn.execute(delete(holidays))
    if holiday_list:
        conn.execute(insert(holidays), [{"day": d, "name": n} for d, n in holiday_list])
    return calendar


def require_stage(name: str) -> Stage:
    try:
        return Stage(name)
    except ValueError:
        raise NotFound("stage_not_found", f"no stage {name!r}; stages are {', '.join(Stage)}", "stage") from None
