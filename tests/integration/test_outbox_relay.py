"""The transactional outbox: events leave with their transaction, reach consumers at least once,
are retried with backoff, end as dead letters an operator can replay, and are never handed to two
relays at the same time."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from conveyor.bootstrap import Container
from conveyor.kernel.messages import Event
from conveyor.platform.outbox import (
    DEAD,
    DONE,
    PENDING,
    HandlerRegistry,
    OutboxRelay,
    RelayStats,
    dead_letters,
    outbox,
    outbox_status,
    publish,
    replay_dead,
)


@dataclass(frozen=True, kw_only=True)
class ParcelScanned(Event):
    name: ClassVar[str] = "test.parcel_scanned"
    parcel: int


def _publish(container: Container, *numbers: int) -> None:
    with container.db.write() as conn:
        for n in numbers:
            publish(conn, ParcelScanned(parcel=n), key=f"parcel-{n}", at=container.clock.now())


def _rows(container: Container) -> list[Any]:
    with container.db.read() as conn:
        return list(conn.execute(select(outbox).order_by(outbox.c.id)).all())


def _relay(container: Container, registry: HandlerRegistry, **options: Any) -> OutboxRelay:
    return OutboxRelay(container.db, registry, clock=container.clock, **options)


def test_events_are_stored_with_the_transaction_that_published_them(container: Container) -> None:
    _publish(container, 1, 2)
    rows = _rows(container)
    assert [(r.event, r.key, r.payload, r.status, r.attempts) for r in rows] == [
        ("test.parcel_scanned", "parcel-1", {"parcel": 1}, PENDING, 0),
        ("test.parcel_scanned", "parcel-2", {"parcel": 2}, PENDING, 0),
    ]
    assert rows[0].created_at == container.clock.now()


def test_a_rolled_back_transaction_publishes_nothing(container: Container) -> None:
    with pytest.raises(RuntimeError), container.db.write() as conn:
        publish(conn, ParcelScanned(parcel=1), key="parcel-1", at=container.clock.now())
        raise RuntimeError("the business change failed after the event was written")
    assert _rows(container) == []


def test_drain_delivers_every_event_to_its_handlers(container: Container) -> None:
    received: list[int] = []
    also: list[int] = []
    registry = HandlerRegistry()
    registry.register(ParcelScanned.name, lambda payload: received.append(payload["parcel"]))
    registry.register(ParcelScanned.name, lambda payload: also.append(payload["parcel"]))
    _publish(container, 1, 2, 3)

    stats = _relay(container, registry, batch_size=2).drain()

    assert stats == RelayStats(delivered=3)
    assert received == also == [1, 2, 3]
    rows = _rows(container)
    assert {r.status for r in rows} == {DONE}
    assert all(r.processed_at == container.clock.now() and r.attempts == 1 for r in rows)
    assert _relay(container, registry).drain() == RelayStats(), "delivered events are not delivered again"


def test_a_failing_consumer_is_retried_with_backoff_then_dead_lettered_and_can_be_replayed(
        container: Container) -> None:
    clock = container.clock
    calls: list[int] = []
    broken = True

    def flaky(payload: dict[str, Any]) -> None:
        calls.append(payload["parcel"])
        if broken:
            raise ConnectionError("carrier API unreachable")

    registry = HandlerRegistry()
    registry.register(ParcelScanned.name, flaky)
    relay = _relay(container, registry, max_attempts=3, base_backoff=timedelta(seconds=2))
    _publish(container, 7)
    start = clock.now()

    assert relay.drain() == RelayStats(retried=1)
    row = _rows(container)[0]
    assert (row.status, row.attempts, row.available_at) == (PENDING, 1, start + timedelta(seconds=2))
    assert row.last_error == "ConnectionError: carrier API unreachable"

    assert relay.drain() == RelayStats(), "not retried before its backoff has passed"
    clock.advance(timedelta(seconds=2))  # type: ignore[attr-defined]
    assert relay.drain() == RelayStats(retried=1)
    assert _rows(container)[0].available_at == clock.now() + timedelta(seconds=4), "the backoff doubles"

    clock.advance(timedelta(seconds=4))  # type: ignore[attr-defined]
    assert relay.drain() == RelayStats(dead=1)
    assert calls == [7, 7, 7]
    with container.db.read() as conn:
        assert outbox_status(conn).dead == 1
        [dead] = dead_letters(conn)
    assert (dead.status, dead.attempts, dead.last_error) == (DEAD, 3, "ConnectionError: carrier API unreachable")

    clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert relay.drain() == RelayStats(), "a dead letter stays put until someone replays it"

    broken = False
    with container.db.write() as conn:
        assert replay_dead(conn, at=clock.now(), ids=[dead.id]) == 1
    row = _rows(container)[0]
    assert (row.status, row.attempts, row.last_error) == (PENDING, 0, None)
    assert relay.drain() == RelayStats(delivered=1)
    assert _rows(container)[0].status == DONE


def test_replay_touches_only_the_dead_letters_asked_for(container: Container) -> None:
    registry = HandlerRegistry()
    registry.register(ParcelScanned.name, lambda payload: (_ for _ in ()).throw(ValueError("bad")))
    _publish(container, 1, 2)
    assert _relay(container, registry, max_attempts=1).drain() == RelayStats(dead=2)
    first, second = (r.id for r in _rows(container))
    with container.db.write() as conn:
        assert replay_dead(conn, at=container.clock.now(), ids=[second]) == 1
    assert [r.status for r in _rows(container)] == [DEAD, PENDING]


def test_outbox_status_reports_how_long_the_oldest_event_has_waited(container: Container) -> None:
    _publish(container, 1)
    container.clock.advance(timedelta(seconds=90))  # type: ignore[attr-defined]
    _publish(container, 2)
    with container.db.read() as conn:
        status = outbox_status(conn)
    assert (status.pending, status.dead) == (2, 0)
    assert status.lag_seconds(container.clock.now()) == 90.0


def test_concurrent_relays_never_deliver_the_same_event_twice(container: Container) -> None:
    # PostgreSQL: claimers skip each other's locked rows (FOR UPDATE SKIP LOCKED).
    # SQLite: BEGIN IMMEDIATE serialises the claims; the lease keeps claimed rows from being claimed again.
    total = 300
    _publish(container, *range(total))
    deliveries: Counter[int] = Counter()
    by_relay: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(payload: dict[str, Any]) -> None:
        with lock:
            deliveries[payload["parcel"]] += 1
            by_relay[threading.current_thread().name] += 1
        time.sleep(0.001)  # a consumer takes time, so the two relays overlap

    registry = HandlerRegistry()
    registry.register(ParcelScanned.name, handler)
    relays = [_relay(container, registry, batch_size=10) for _ in range(2)]
    start = threading.Barrier(len(relays))
    errors: list[BaseException] = []

    def run(relay: OutboxRelay) -> None:
        try:
            start.wait()
            relay.drain()
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,), name=f"relay-{i}") for i, r in enumerate(relays)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert sorted(deliveries) == list(range(total)), "every event delivered"
    assert max(deliveries.values()) == 1, "no event delivered twice"
    assert {r.status for r in _rows(container)} == {DONE}
    assert len(by_relay) == 2, f"both relays took part: {dict(by_relay)}"
