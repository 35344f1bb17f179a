"""The intake queue (group commit): concurrent submissions are all answered, each with its own outcome; a batch
that fails as a whole is placed again one order at a time; closing places what is queued."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from conveyor.inventory import ledger
from conveyor.kernel.errors import ValidationFailed
from conveyor.orders import intake as intake_module
from conveyor.orders.commands import PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.orders.intake import IntakeQueue
from conveyor.orders.tables import orders
from conveyor.testing.factories import SAMPLE_ADDRESS


def cmd(external_id: str, sku: str = "SKU-1") -> PlaceOrder:
    draft = OrderDraft(channel="api", customer="C-001", currency="EUR", ship_to=SAMPLE_ADDRESS,
                       external_id=external_id, lines=(LineDraft(sku, 1, Decimal("1.00")),))
    return PlaceOrder(draft=draft, actor="user:queue@test")


def order_count(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(orders)).scalar_one())


def test_concurrent_submissions_are_all_answered_with_their_own_order(container, seeded):
    queue = IntakeQueue(container, max_batch=16)
    threads_n = 40
    barrier = threading.Barrier(threads_n)
    answers: list[Any] = [None] * threads_n

    def submit(i: int) -> None:
        barrier.wait()
        try:
            answers[i] = queue.place(cmd(f"Q-{i}", sku="NOPE" if i % 10 == 0 else "SKU-2"))
        except ValidationFailed as exc:
            answers[i] = exc

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.close()
    refused = [i for i, a in enumerate(answers) if isinstance(a, ValidationFailed)]
    assert refused == [0, 10, 20, 30]
    placed = [a for a in answers if not isinstance(a, ValidationFailed)]
    assert all(a.placed.created and a.detail is not None for a in placed)
    assert sorted(a.detail.order.external_id for a in placed) == sorted(
        f"Q-{i}" for i in range(threads_n) if i % 10)
    assert len({a.placed.order_id for a in placed}) == len(placed) == order_count(container)
    assert queue.orders == threads_n and 1 <= queue.batches <= threads_n
    with container.db.read() as conn:
        assert ledger.verify(conn) == []


def test_a_batch_that_fails_as_a_whole_is_placed_one_order_at_a_time(container, seeded, monkeypatch):
    real = intake_module.place_orders
    sizes: list[int] = []

    def fails_for_batches(cmds: list[PlaceOrder], **kwargs: Any) -> Any:
        sizes.append(len(cmds))
        if len(cmds) > 1:
            raise RuntimeError("the database went away")
        return real(cmds, **kwargs)

    monkeypatch.setattr(intake_module, "place_orders", fails_for_batches)
    queue = IntakeQueue(container)
    gate = threading.Event()
    original_process = queue._process

    def held_process(batch: Any) -> None:  # let several submissions queue up before the first batch runs
        gate.wait(5)
        original_process(batch)

    monkeypatch.setattr(queue, "_process", held_process)
    futures = [queue.submit(cmd(f"F-{i}")) for i in range(5)]
    gate.set()
    answers = [f.result(30) for f in futures]
    queue.close()
    assert all(a.placed.created for a in answers)
    assert order_count(container) == 5
    assert max(sizes) > 1 and sizes.count(1) >= 5


def test_closing_the_queue_places_what_is_still_queued(container, seeded):
    queue = IntakeQueue(container)
    futures = [queue.submit(cmd(f"C-{i}")) for i in range(10)]
    queue.close()
    assert all(f.done() for f in futures)
    assert order_count(container) == 10


@pytest.mark.parametrize("max_batch", [1, 3])
def test_batches_never_exceed_the_configured_size(container, seeded, monkeypatch, max_batch):
    real = intake_module.place_orders
    sizes: list[int] = []

    def recording(cmds: list[PlaceOrder], **kwargs: Any) -> Any:
        sizes.append(len(cmds))
        return real(cmds, **kwargs)

    monkeypatch.setattr(intake_module, "place_orders", recording)
    queue = IntakeQueue(container, max_batch=max_batch)
    futures = [queue.submit(cmd(f"M-{i}")) for i in range(7)]
    queue.close()
    assert all(f.result(1).placed.created for f in futures)
    assert sum(sizes) == 7 and max(sizes) <= max_batch
