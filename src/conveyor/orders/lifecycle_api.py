"""Lifecycle configuration routes: stages with owners and SLAs, allowed moves, the business calendar."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from conveyor.bootstrap import Container
from conveyor.identity.deps import Require, container
from conveyor.identity.permissions import Permission
from conveyor.identity.principal import Principal
from conveyor.orders import handlers, presenters
from conveyor.orders import schemas as s
from conveyor.orders.api import ERRORS
from conveyor.orders.commands import ConfigureStage
from conveyor.orders.config import load_config, save_calendar
from conveyor.platform.problems import problem_responses

router = APIRouter(prefix="/api/v1/lifecycle", tags=["lifecycle"])


@router.get("", response_model=s.LifecycleOut, responses=ERRORS)
def get_lifecycle(principal: Principal = Require(Permission.LIFECYCLE_READ),
                  c: Container = Depends(container)) -> s.LifecycleOut:
    """Stages (owner, SLA), every allowed move, and the business calendar SLAs are measured in."""
    with c.db.read() as conn:
        return presenters.lifecycle_out(c.lifecycle.get(conn))


@router.put("/stages/{stage}", response_model=s.LifecycleOut,
                      responses={**ERRORS, **problem_responses(404, d404="No such stage (`stage_not_found`).")})
def configure_stage(stage: str, body: s.StageConfigIn,
                    principal: Principal = Require(Permission.LIFECYCLE_CONFIGURE),
                    c: Container = Depends(container)) -> s.LifecycleOut:
    """Changes a stage's owner role and SLA; due times of orders in that stage are recomputed."""
    handlers.configure_stage(ConfigureStage(stage=stage, owner_role=body.owner_role, sla_hours=body.sla_hours,
                                            label=body.label, description=body.description,
                                            actor=principal.actor), uow=c.uow(), config=c.lifecycle)
    return get_lifecycle(principal, c)


@router.put("/calendar", response_model=s.CalendarOut, responses=ERRORS)
def configure_calendar(body: s.CalendarIn, principal: Principal = Require(Permission.LIFECYCLE_CONFIGURE),
                       c: Container = Depends(container)) -> s.CalendarOut:
    """Sets working days, opening hours, time zone and holidays; all open orders' due times follow."""
    with c.uow() as uow:
        save_calendar(uow.conn, timezone=body.timezone, working_days=body.working_days, opens=body.opens,
                      closes=body.closes, holiday_list=[(h.day, h.name) for h in body.holidays],
                      at=c.clock.now(), actor=principal.actor)
        handlers.recompute_due_times(uow.conn, load_config(uow.conn))
    c.lifecycle.invalidate()
    with c.db.read() as conn:
        return presenters.calendar_out(c.lifecycle.get(conn))

