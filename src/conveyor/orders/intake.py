"""The intake queue: order requests that arrive together are placed together (group commit).

Each `POST /api/v1/orders` hands its command to the queue and waits without holding a thread. One thread per
server process takes everything waiting (up to `max_batch`), places it with `placing.place_orders` in one
transaction, reads the new orders back (six queries for the whole batch) and answers every request. Nothing
waits for a timer: with one request in flight a batch is one order; under load the batch grows with the queue,
so the cost per order falls exactly when orders pile up, and a hot SKU is locked once per batch instead of once
per order.

A batch is one transaction, so nothing is half-written. Each order keeps its own outcome (a bad order gets its
own 4xx). If the batch as a whole fails for another reason (the database went away, a value the checks missed),
its orders are placed again one by one, so one bad order cannot fail its neighbours.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conveyor.kernel.errors import DomainError
from conveyor.orders import queries
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.placing import Outcome, Placed, place_orders

if TYPE_CHECKING:
    from conveyor.bootstrap import Container

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    placed: Placed
    detail: queries.OrderDetail | None  # the new order as stored; None for a replay of an existing order


_Item = tuple[PlaceOrder, "Future[Intake]"]


class IntakeQueue:
    def __init__(self, container: Container, *, max_batch: int = 128) -> None:
        self._c = container
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0
        self.orders = 0

    def submit(self, cmd: PlaceOrder) -> Future[Intake]:
        """Queues the command; the future resolves to its Intake or raises its DomainError."""
        if self._thread is None:
            self._start()
        future: Future[Intake] = Future()
        self._queue.put((cmd, future))
        return future

    def place(self, cmd: PlaceOrder, timeout: float | None = 60) -> Intake:
        return self.submit(cmd).result(timeout)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="conveyor-intake", daemon=True)
                self._thread.start()

    def close(self, timeout: float = 30) -> None:
        """Places what is queued, then stops the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            # A request whose caller went away before its turn is dropped: nothing of it was written.
            live = [(cmd, f) for cmd, f in batch if f.set_running_or_notify_cancel()]
            if live:
                self._process(live)
            if stopping:
                return

    def _process(self, batch: list[_Item]) -> None:
        try:
            answers = self._place([cmd for cmd, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                log.exception("placing an order failed")
                batch[0][1].set_exception(exc)
                return
            log.warning("a batch of %d orders failed; placing them one by one", len(batch), exc_info=True)
            for item in batch:
                self._process([item])
            return
        self.batches += 1
        self.orders += len(batch)
        for (_, future), answer in zip(batch, answers, strict=True):
            if isinstance(answer, DomainError):
                future.set_exception(answer)
            else:
                future.set_result(answer)

    def _place(self, cmds: list[PlaceOrder]) -> list[Intake | DomainError]:
        c = self._c
        outcomes: list[Outcome] = place_orders(cmds, uow=c.uow(), config=c.lifecycle,
                                                duplicate_window=c.duplicate_window, rules=c.review_rules)
        now = c.clock.now()
        lifecycle = c.lifecycle.current()  # the batch has just loaded it
        if lifecycle is None:
            with c.db.read() as conn:
                lifecycle = c.lifecycle.get(conn)
        details = {o.order_id: queries.detail_of_stored(o.stored, lifecycle, now)
                   for o in outcomes if isinstance(o, Placed) and o.stored is not None}
        unread = [o.order_id for o in outcomes if isinstance(o, Placed) and o.created and o.order_id not in details]
        if unread:  # changed after it was written (put on hold for stock): read as stored
            with c.db.read() as conn:
                details.update(queries.get_orders(conn, unread, principal=None, lifecycle=lifecycle, now=now))
        return [o if isinstance(o, DomainError) else Intake(o, details.get(o.order_id) if o.created else None)
                for o in outcomes]
