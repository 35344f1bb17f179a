"""`conveyor stock ...` against a real database: show, verify, bookings and CSV import (all or nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from conveyor.inventory.cli import app as stock_cli
from conveyor.inventory.tables import stock_levels, stock_movements
from conveyor.testing.factories import STOCK_PER_SKU


@pytest.fixture
def run(container: Any, seeded: dict[str, Any]) -> Any:
    runner = CliRunner()
    env = {"CONVEYOR_DATABASE_URL": container.db.url}

    def invoke(*args: str) -> Any:
        return runner.invoke(stock_cli, list(args), env=env)

    return invoke


def movements(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(stock_movements)).scalar_one())


def shown(run: Any, sku: str = "SKU-1") -> dict[str, Any]:
    result = run("show", sku, "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def test_show_prints_a_sku_in_every_warehouse(run):
    result = run("show", "SKU-1")
    assert result.exit_code == 0, result.output
    assert "RTM" in result.output and "receipt:seed" in result.output
    assert shown(run)["totals"]["on_hand"] == STOCK_PER_SKU
    missing = run("show", "NOPE")
    assert missing.exit_code == 2 and "product_not_found" in missing.output


def test_list_and_bookings_change_what_is_shown(run):
    assert run("receive", "SKU-1", "5", "-w", "RTM", "-r", "DN-1").exit_code == 0
    assert run("receive", "SKU-1", "50", "-w", "RTM", "-r", "ASN-1", "--asn").exit_code == 0
    assert run("adjust", "SKU-1", "-w", "RTM", "--reason", "broken", "--", "-2").exit_code == 0
    assert run("safety", "SKU-1", "10", "-w", "RTM").exit_code == 0
    rtm = shown(run)["warehouses"][0]
    assert (rtm["on_hand"], rtm["incoming"], rtm["safety"], rtm["available"]) == (
        STOCK_PER_SKU + 3, 50, 10, STOCK_PER_SKU - 7)
    assert run("count", "SKU-1", "990", "-w", "RTM", "-r", "CC-1").exit_code == 0
    assert shown(run)["totals"]["on_hand"] == 990
    refused = run("receive", "SKU-1", "5", "-w", "NOPE", "-r", "DN-1")
    assert refused.exit_code == 2 and "unknown_warehouse" in refused.output
    listed = run("list", "--q", "SKU-1", "--json")
    assert listed.exit_code == 0 and [i["sku"] for i in json.loads(listed.output)["items"]] == ["SKU-1"]
    assert "SKU-4" in run("list").output


def test_verify_exits_1_when_a_balance_disagrees_with_its_ledger(run, container, seeded):
    ok = run("verify")
    assert ok.exit_code == 0 and "ledger ok" in ok.output
    with container.db.write() as conn:
        conn.execute(update(stock_levels).where(stock_levels.c.product_id == seeded["products"]["SKU-2"])
                     .values(on_hand=3))
    bad = run("verify")
    assert bad.exit_code == 1
    assert f"SKU-2 @ RTM: on hand 3 (ledger {STOCK_PER_SKU})" in bad.output


def test_import_books_a_good_file(run, container, tmp_path: Path):
    path = tmp_path / "counts.csv"
    path.write_text("sku,warehouse,counted,reference\nSKU-1,RTM,995,CC-9\nSKU-2,RTM,1001,CC-9\n", encoding="utf-8")
    result = run("import", "counts", str(path))
    assert result.exit_code == 0, result.output
    assert "booked 2 counts" in result.output
    assert shown(run, "SKU-2")["totals"]["on_hand"] == 1001


def test_import_of_a_bad_file_names_file_and_line_and_writes_nothing(run, container, tmp_path: Path):
    path = tmp_path / "adjust.csv"
    path.write_text("sku,warehouse,delta,reason\nSKU-1,RTM,5,found\nSKU-9,RTM,5,found\nSKU-2,RTM,0,none\n",
                    encoding="utf-8")
    before = movements(container)
    result = run("import", "adjustments", str(path))
    assert result.exit_code == 2
    assert f"{path}:3: unknown_sku: no product has the SKU 'SKU-9' (sku)" in result.output
    assert f"{path}:4: invalid_quantity:" in result.output
    assert "nothing imported" in result.output
    assert movements(container) == before
