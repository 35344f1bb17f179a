"""The one composition root: settings in, a wired container out. Nothing connects at import time."""

from __future__ import annotations

from dataclasses import dataclass, field

from conveyor.kernel.clock import Clock, SystemClock
from conveyor.orders.config import ConfigCache
from conveyor.platform.database import Database
from conveyor.platform.outbox import HandlerRegistry, OutboxRelay
from conveyor.platform.uow import UnitOfWork
from conveyor.settings import Settings


@dataclass
class Container:
    settings: Settings
    db: Database
    clock: Clock
    registry: HandlerRegistry = field(default_factory=HandlerRegistry)
    lifecycle: ConfigCache = field(default_factory=ConfigCache)
    relay: OutboxRelay | None = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.clock)

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
    import conveyor.warehouses.tables  # noqa: F401


def register_consumers(container: Container) -> None:
    """Outbox consumers of every area register here. They get the container: they run outside any request,
    in the relay (a thread of `serve`, or `conveyor worker`), and open their own units of work."""
    from conveyor.inventory.backorder_filler import on_stock_received
    from conveyor.inventory.events import StockReceived

    container.registry.register(StockReceived.name, on_stock_received(container))


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    load_all_tables()
    container = Container(settings=settings, db=Database(settings.database_url), clock=clock or SystemClock())
    register_consumers(container)
    return container
