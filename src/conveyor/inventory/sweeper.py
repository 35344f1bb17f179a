"""Expired holds go back to available stock on their own: a thread sweeps them every few seconds.

A hold can therefore outlive its `expires_at` by up to one sweep interval (5 s by default); available-to-
promise counts its units as reserved until the sweep. Each sweep first counts due holds in a read
transaction, so an idle sweeper never takes the (SQLite) write lock. Several processes may sweep at once:
rows are closed under locks and a row another sweeper closed is skipped. Expiring publishes `stock.freed`
in the sweep's transaction (holds._close), so backorders waiting for those products fill.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from conveyor.inventory.holds import expire_holds, holds_due
from conveyor.inventory.ledger import Move

if TYPE_CHECKING:
    from conveyor.bootstrap import Container

log = logging.getLogger("conveyor.inventory.sweeper")

SWEEPER = "system:hold-sweeper"
DEFAULT_INTERVAL_SECONDS = 5.0


def sweep_once(container: Container) -> int:
    """Expires every hold past its expiry now; the number of holds expired."""
    now = container.clock.now()
    with container.db.read() as conn:
        if holds_due(conn, now) == 0:
            return 0
    with container.db.write() as conn:
        return expire_holds(conn, now, Move(actor=SWEEPER, at=now, reason="hold expired"))


class HoldSweeper:
    def __init__(self, container: Container, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        if interval <= 0:
            raise ValueError("the sweep interval is a positive number of seconds")
        self.container = container
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                expired = sweep_once(self.container)
                if expired:
                    log.info("expired holds", extra={"holds": expired})
            except Exception:  # a failed sweep is retried at the next tick
                log.exception("hold sweep failed")

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="hold-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
