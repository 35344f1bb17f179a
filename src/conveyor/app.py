"""The ASGI application factory: thin wiring of every area's routers onto one FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from conveyor import __version__
from conveyor.bootstrap import Container, build
from conveyor.platform import problems
from conveyor.platform.observability import Metrics, RequestContextMiddleware, configure_logging
from conveyor.platform.web import PACKAGE_ROOT
from conveyor.settings import Settings

# Every area that exposes routes; each module has a `router`.
# Routes are matched in this order, one by one: the order intake API comes first because it is the hottest
# path (matching it after ~100 other routes cost 4% of the server's CPU in bench/intake.py).
ROUTER_MODULES = [
    "conveyor.orders.api",
    "conveyor.identity.api", "conveyor.identity.views", "conveyor.identity.pages",
    "conveyor.catalog.api", "conveyor.catalog.views",
    "conveyor.customers.api", "conveyor.customers.views",
    "conveyor.warehouses.api", "conveyor.warehouses.views",
    # before the channel routes: /channels/health is not a channel id
    "conveyor.channels.capture.api", "conveyor.channels.capture.views",
    "conveyor.channels.api", "conveyor.channels.views",
    "conveyor.channels.partners.api", "conveyor.channels.partners.views",
    "conveyor.orders.lifecycle_api", "conveyor.orders.phone", "conveyor.orders.views",
    "conveyor.inventory.api", "conveyor.inventory.views", "conveyor.inventory.holds_api",
    "conveyor.operations.api", "conveyor.operations.views",
    "conveyor.review.queue_api", "conveyor.review.queue_views",  # the exception queue
    "conveyor.review.rules_api", "conveyor.review.rules_views",
    "conveyor.web.views",
]

OPENAPI_TAGS = [
    {"name": "orders", "description": "The canonical order, its lifecycle and timeline."},
    {"name": "lifecycle", "description": "Stages, allowed moves, owners and SLAs; the business calendar."},
    {"name": "catalog", "description": "Products (SKUs)."},
    {"name": "customers", "description": "Customer accounts, contacts, addresses and credit terms."},
    {"name": "warehouses", "description": "Warehouses and their locations."},
    {"name": "channels", "description": "Sales channels orders arrive from."},
    {"name": "identity", "description": "The caller, users and API tokens."},
    {"name": "inventory", "description": "Stock per SKU and warehouse, its ledger, receipts and counts; "
                                         "holds for carts and quotes."},
    {"name": "operations", "description": "Health, metrics and the outbox."},
    {"name": "review", "description": "Automatic review: rule kinds, rule sets (draft, what-if, publish, audit), "
                                      "the exception queue and its actions, an order's review results."},
]


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    container = container or build(settings)
    settings = container.settings
    configure_logging(json=settings.log_json, level=settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.is_sqlite and settings.auto_migrate:
            from conveyor.platform.migrations import upgrade

            upgrade(container.db)
        from conveyor.inventory.sweeper import HoldSweeper

        relay = container.make_relay() if settings.relay_enabled else None
        sweeper = HoldSweeper(container, settings.hold_sweep_interval_seconds) if settings.relay_enabled else None
        if relay and sweeper:
            relay.start(settings.relay_interval_seconds)
            sweeper.start()
        try:
            yield
        finally:
            container.close()  # places what the intake queue still holds
            if relay and sweeper:
                sweeper.stop()
                relay.stop()

    app = FastAPI(
        title="Conveyor",
        version=__version__,
        description="Order management: capture, review, fulfil and follow every order. "
                    "Authenticate with `Authorization: Bearer <API token>` (create one with "
                    "`conveyor tokens create` or on the API tokens page).",
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.metrics = Metrics()
    problems.install(app)
    for module in ROUTER_MODULES:
        app.include_router(import_module(module).router)
    app.mount("/static", StaticFiles(directory=PACKAGE_ROOT / "web" / "static"), name="static")
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
