"""The one composition root: settings in, a wired container out. Nothing connects at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from conveyor.kernel.clock import Clock, SystemClock
from conveyor.orders.config import ConfigCache
from conveyor.platform.database import Database
from conveyor.platform.outbox import HandlerRegistry, OutboxRelay
from conveyor.platform.uow import UnitOfWork
from conveyor.review.store import RuleSetCache
from conveyor.settings import Settings

if TYPE_CHECKING:
    from conveyor.identity.cache import TokenCache
    from conveyor.orders.intake import IntakeQueue


@dataclass
class Container:
    settings: Settings
    db: Database
    clock: Clock
    registry: HandlerRegistry = field(default_factory=HandlerRegistry)
    lifecycle: ConfigCache = field(default_factory=ConfigCache)
    review_rules: RuleSetCache = field(default_factory=RuleSetCache)  # the published review rules
    relay: OutboxRelay | None = None
    _intake: IntakeQueue | None = None
    _tokens: TokenCache | None = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.clock)

    @property
    def duplicate_window(self) -> timedelta:
        """How far back a new order is compared with earlier ones for a probable duplicate."""
        return timedelta(hours=self.settings.duplicate_window_hours)

    @property
    def intake(self) -> IntakeQueue:
        """The order intake queue of this process (group commit for concurrent order requests)."""
        if self._intake is None:
            from conveyor.orders.intake import IntakeQueue

            self._intake = IntakeQueue(self, max_batch=self.settings.intake_max_batch)
        return self._intake

    @property
    def tokens(self) -> TokenCache:
        """API tokens seen recently in this process, so a busy client is not looked up on every request."""
        if self._tokens is None:
            from conveyor.identity.cache import TokenCache

            self._tokens = TokenCache(self.settings.token_cache_seconds, self.clock)
        return self._tokens

    def close(self) -> None:
        if self._intake is not None:
            self._intake.close()

    def make_relay(self) -> OutboxRelay:
        if self.relay is None:
            self.relay = OutboxRelay(self.db, self.registry, clock=self.clock)
        return self.relay


def load_all_tables() -> None:
    """Imports every area's tables so the shared metadata is complete (migrations, tests)."""
    import conveyor.catalog.tables  # noqa: F401
    import conveyor.channels.tables  # noqa: F401
    import conveyor.customers.tables  # noqa: F401
    import conveyor.identity.tables  # noqa: F401
    import conveyor.inventory.tables  # noqa: F401
    import conveyor.orders.tables  # noqa: F401
    import conveyor.platform.outbox  # noqa: F401
    import conveyor.review.tables  # noqa: F401
    import conveyor.warehouses.tables  # noqa: F401


def register_consumers(container: Container) -> None:
    """Outbox consumers of every area register here. They get the container: they run outside any request,
    in the relay (a thread of `serve`, or `conveyor worker`), and open their own units of work."""
    from conveyor.inventory.backorder_filler import (
        on_line_mapped,
        on_stock_freed,
        on_stock_received,
        on_warehouse_activated,
    )
    from conveyor.inventory.events import StockFreed, StockReceived
    from conveyor.orders.line_mapping import LineMapped
    from conveyor.warehouses.events import WarehouseActivated

    container.registry.register(StockReceived.name, on_stock_received(container))
    container.registry.register(StockFreed.name, on_stock_freed(container))
    container.registry.register(WarehouseActivated.name, on_warehouse_activated(container))
    container.registry.register(LineMapped.name, on_line_mapped(container))


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    load_all_tables()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    container = Container(settings=settings, db=database, clock=clock or SystemClock())
    register_consumers(container)
    return container
