"""A real Conveyor server for browser tests: a temp SQLite database with a small demo, served by uvicorn
on a free loopback port in a background thread; and Debian's Chromium driven by Playwright.

Playwright's own browser download does not work here: the tests use /usr/bin/chromium (`make chromium`).
Without it they are skipped, or fail when CI is set.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from rich.console import Console
from sqlalchemy import select

from conveyor.app import create_app
from conveyor.bootstrap import Container, build
from conveyor.demo import load_demo
from conveyor.orders import handlers
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.platform.migrations import upgrade
from conveyor.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DEMO_ORDERS = 40
START_TIMEOUT_S = 30.0


@dataclass
class LiveServer:
    url: str
    container: Container

    def place_order(self, external_id: str) -> int:
        """A fresh order in `received`, placed through the real handler (the demo's may all have moved on)."""
        from conveyor.catalog.tables import products
        from conveyor.customers.tables import customers
        from conveyor.inventory.tables import stock_levels

        c = self.container
        with c.db.read() as conn:
            free = stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.safety
            sku = conn.execute(select(products.c.sku).join(stock_levels, stock_levels.c.product_id == products.c.id)
                               .order_by(free.desc(), products.c.sku).limit(1)).scalar_one()
            account = conn.execute(select(customers.c.account).order_by(customers.c.account).limit(1)).scalar_one()
        draft = OrderDraft(
            channel="api", customer=account, currency="EUR", external_id=external_id,
            lines=(LineDraft(sku, 2, Decimal("9.95")), LineDraft(sku, 1, Decimal("4.50"))),
            ship_to={"name": "Anna de Vries", "line1": "Prinsengracht 263", "city": "Amsterdam",
                     "postal_code": "1016 GV", "country": "NL"})
        placed = handlers.place_order(PlaceOrder(draft=draft, actor="system:e2e"), uow=c.uow(), config=c.lifecycle)
        return placed.order_id


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db_file = tmp_path_factory.mktemp("e2e") / "conveyor.db"
    settings = Settings(database_url=f"sqlite:///{db_file}", relay_enabled=False, auto_migrate=False,
                        log_level="WARNING")
    container = build(settings)
    upgrade(container.db)
    load_demo(container, orders=DEMO_ORDERS, console=Console(quiet=True))
    app = create_app(container=container)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="conveyor-e2e-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail(f"the e2e server did not answer /healthz on {url} within {START_TIMEOUT_S:.0f} s")
        time.sleep(0.1)
    try:
        yield LiveServer(url=url, container=container)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        container.db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (`make chromium`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + "; set CI=1 to fail instead")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 15_000


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()
