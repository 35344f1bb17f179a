"""Operations: the health check, Prometheus metrics, the outbox API and page, and `conveyor outbox`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from typer.testing import CliRunner

from conveyor.app import create_app
from conveyor.bootstrap import Container, build
from conveyor.operations.cli import app as outbox_cli
from conveyor.orders.tables import orders
from conveyor.platform.migrations import head_revision
from conveyor.platform.outbox import DEAD, PENDING, outbox
from conveyor.settings import Settings

ADDRESS = {"name": "Anna de Vries", "line1": "Prinsengracht 263", "city": "Amsterdam",
           "postal_code": "1016 GV", "country": "NL"}


def _add_dead_letter(container: Container, *, event: str = "test.label_requested") -> int:
    now = container.clock.now()
    with container.db.write() as conn:
        return int(conn.execute(insert(outbox).values(
            event=event, key="order-1", payload={"order_id": 1}, status=DEAD, attempts=8, created_at=now,
            available_at=now, last_error="TimeoutError: carrier did not answer",
        ).returning(outbox.c.id)).scalar_one())


def _add_order(container: Container, seeded: dict[str, Any], *, external_id: str, stage: str,
               due_in: timedelta | None) -> None:
    now = container.clock.now()
    with container.db.write() as conn:
        conn.execute(insert(orders).values(
            channel_id=seeded["channels"]["api"], external_id=external_id,
            customer_id=seeded["customers"]["C-001"], currency="EUR", stage=stage, stage_entered_at=now,
            stage_due_at=now + due_in if due_in is not None else None, priority=0, bill_to=ADDRESS,
            ship_to=ADDRESS, tags=[], subtotal_minor=1000, discount_minor=0, tax_minor=210, shipping_minor=0,
            total_minor=1210, created_by="user:test", created_at=now, updated_at=now))


def _outbox_row(container: Container, outbox_id: int) -> Any:
    with container.db.read() as conn:
        return conn.execute(select(outbox).where(outbox.c.id == outbox_id)).one()


# -- health ----------------------------------------------------------------------------------------------

def test_health_is_ok_on_a_current_database(client: TestClient, container: Container) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["dialect"] == container.db.dialect
    assert body["database"]["latency_ms"] >= 0
    head = head_revision(container.db)
    assert body["migrations"] == {"current": head, "head": head, "ok": True}
    assert body["outbox"] == {"pending": 0, "dead": 0, "lag_seconds": 0.0}


def test_health_is_degraded_but_serving_with_dead_letters_or_a_late_outbox(
        client: TestClient, container: Container) -> None:
    _add_dead_letter(container)
    body = client.get("/healthz").json()
    assert (body["status"], body["outbox"]["dead"]) == ("degraded", 1)
    assert client.get("/healthz").status_code == 200


def test_health_is_down_when_the_schema_is_not_current(tmp_path: Path) -> None:
    empty = build(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", relay_enabled=False,
                           auto_migrate=False))
    try:
        response = TestClient(create_app(container=empty)).get("/healthz")
    finally:
        empty.db.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"]["ok"] is True
    assert body["migrations"]["current"] is None
    assert body["migrations"]["ok"] is False
    assert body["migrations"]["head"]


def test_health_is_down_when_the_database_is_unreachable(tmp_path: Path) -> None:
    gone = build(Settings(database_url=f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}", relay_enabled=False,
                          auto_migrate=False))
    response = TestClient(create_app(container=gone)).get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"]["ok"] is False
    assert body["outbox"] == {"pending": None, "dead": None, "lag_seconds": None}


# -- metrics ---------------------------------------------------------------------------------------------

def test_metrics_count_orders_by_stage_and_sla_and_the_requests_served(
        client: TestClient, container: Container, seeded: dict[str, Any], auth: Any) -> None:
    _add_order(container, seeded, external_id="late", stage="received", due_in=timedelta(hours=-1))
    _add_order(container, seeded, external_id="on-time", stage="received", due_in=timedelta(hours=3))
    _add_order(container, seeded, external_id="done", stage="closed", due_in=None)
    _add_dead_letter(container)
    client.get("/healthz")

    response = client.get("/metrics", headers=auth("manager"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'conveyor_orders_by_stage{stage="received"} 2.0' in text
    assert 'conveyor_orders_by_stage{stage="closed"} 1.0' in text
    assert 'conveyor_orders_by_stage{stage="on_hold"} 0.0' in text, "every stage is present, even empty"
    assert 'conveyor_orders_past_sla{stage="received"} 1.0' in text
    assert 'conveyor_orders_past_sla{stage="closed"} 0.0' in text
    assert "conveyor_outbox_pending 0.0" in text
    assert "conveyor_outbox_dead 1.0" in text
    assert "conveyor_outbox_lag_seconds 0.0" in text
    assert "conveyor_intake_batches_total 0.0" in text and "conveyor_intake_orders_total 0.0" in text
    assert 'conveyor_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert "conveyor_http_request_seconds_bucket" in text


def test_metrics_need_ops_read(client: TestClient, auth: Any) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth("warehouse")).status_code == 403


# -- outbox API and page -----------------------------------------------------------------------------------

def test_an_operator_replays_a_dead_letter_and_it_is_pending_again(
        client: TestClient, container: Container, auth: Any) -> None:
    dead_id = _add_dead_letter(container)

    report = client.get("/api/v1/outbox", headers=auth("manager")).json()
    assert (report["pending"], report["dead"]) == (0, 1)
    [letter] = report["dead_letters"]
    assert (letter["id"], letter["event"], letter["attempts"]) == (dead_id, "test.label_requested", 8)
    assert letter["last_error"] == "TimeoutError: carrier did not answer"

    refused = client.post("/api/v1/outbox/replay", headers=auth("manager"), json={"ids": [dead_id]})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")

    assert client.post("/api/v1/outbox/replay", headers=auth("admin"), json={"ids": []}).json() == {"replayed": 0}
    replayed = client.post("/api/v1/outbox/replay", headers=auth("admin"), json={"ids": [dead_id]})
    assert replayed.status_code == 200
    assert replayed.json() == {"replayed": 1}
    row = _outbox_row(container, dead_id)
    assert (row.status, row.attempts, row.last_error) == (PENDING, 0, None)
    assert client.get("/api/v1/outbox", headers=auth("admin")).json()["pending"] == 1


def test_replay_without_ids_replays_every_dead_letter(
        client: TestClient, container: Container, auth: Any) -> None:
    ids = [_add_dead_letter(container), _add_dead_letter(container)]
    assert client.post("/api/v1/outbox/replay", headers=auth("admin")).json() == {"replayed": 2}
    assert {_outbox_row(container, i).status for i in ids} == {PENDING}


def test_the_ops_page_lists_dead_letters_with_a_replay_button_for_those_allowed(
        client: TestClient, container: Container, auth: Any) -> None:
    dead_id = _add_dead_letter(container)
    html = {"Accept": "text/html"}

    admin_page = client.get("/ops", headers={**auth("admin"), **html})
    assert admin_page.status_code == 200
    assert "test.label_requested" in admin_page.text
    assert "TimeoutError: carrier did not answer" in admin_page.text
    assert f'name="outbox_id" value="{dead_id}"' in admin_page.text
    assert 'href="/metrics"' in admin_page.text

    manager_page = client.get("/ops", headers={**auth("manager"), **html})
    assert manager_page.status_code == 200
    assert "test.label_requested" in manager_page.text
    assert 'action="/ops/replay"' not in manager_page.text

    done = client.post("/ops/replay", headers={**auth("admin"), **html}, data={"outbox_id": str(dead_id)},
                       follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/ops?replayed=1")
    assert _outbox_row(container, dead_id).status == PENDING


# -- CLI -------------------------------------------------------------------------------------------------

@pytest.fixture
def cli(container: Container, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CONVEYOR_DATABASE_URL", container.settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_outbox_commands_show_replay_and_drain(cli: CliRunner, container: Container) -> None:
    dead_id = _add_dead_letter(container)

    status = cli.invoke(outbox_cli, ["status"])
    assert status.exit_code == 0, status.output
    assert "pending: 0  dead: 1" in status.output
    assert "test.label_requested" in status.output

    replay = cli.invoke(outbox_cli, ["replay", "--id", str(dead_id)])
    assert replay.exit_code == 0, replay.output
    assert "replayed: 1" in replay.output

    drain = cli.invoke(outbox_cli, ["drain"])
    assert drain.exit_code == 0, drain.output
    assert "delivered: 1  retried: 0  dead: 0" in drain.output
    assert _outbox_row(container, dead_id).status == "done"


def test_metrics_count_the_intake_queues_batches_and_orders(client: TestClient, seeded: dict[str, Any],
                                                            auth: Any) -> None:
    body = {"customer": "C-001", "currency": "EUR", "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "1.00"}],
            "ship_to": {"name": "A", "line1": "Prinsengracht 263", "city": "Amsterdam", "postal_code": "1016 GV",
                        "country": "NL"}}
    for _ in range(2):
        assert client.post("/api/v1/orders", json=body, headers=auth("manager")).status_code == 201
    text = client.get("/metrics", headers=auth("manager")).text
    assert "conveyor_intake_batches_total 2.0" in text and "conveyor_intake_orders_total 2.0" in text
