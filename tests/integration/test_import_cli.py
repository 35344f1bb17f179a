"""`conveyor import orders FILE` against a real database, and as a dry run on an empty one."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from conveyor.cli import app as conveyor_cli
from conveyor.orders.tables import orders
from conveyor.testing.factories import add_channel

HEADER = "order_id,customer,sku,quantity,unit_price,ship_name,ship_line1,ship_city,ship_postal_code,ship_country\n"
ROWS = [
    "CSV-1,C-001,SKU-1,2,3.50,Anna,Damrak 1,Amsterdam,1012 LG,NL\n",
    "CSV-1,C-001,SKU-2,1,1.00,Anna,Damrak 1,Amsterdam,1012 LG,NL\n",
    "CSV-2,C-002,SKU-3,x,1.00,Piet,Dam 2,Amsterdam,1012 JS,NL\n",
    "CSV-3,C-002,NOT-A-SKU,4,1.00,Piet,Dam 2,Amsterdam,1012 JS,NL\n",
]
X12 = ("ISA*00*          *00*          *ZZ*ACME           *ZZ*CONVEYOR       *261118*1000*U*00401*000000001*0*P*>~"
       "GS*PO*ACME*CONVEYOR*20261118*1000*1*X*004010~ST*850*0001~BEG*00*SA*PO-1**20261118~"
       "PO1*1*3*EA*2.50**VN*SKU-1~PO1*2*2*CS*24**BP*A-100~CTT*2~SE*6*0001~"
       "ST*810*0002~BIG*20261118*INV-1**PO-1~SE*3*0002~GE*2*1~IEA*1*000000001~")


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "".join(ROWS))
    return path


def invoke(url: str, *args: str) -> Any:
    return CliRunner().invoke(conveyor_cli, ["import", "orders", *args], env={"CONVEYOR_DATABASE_URL": url})


def count_orders(container: Any) -> int:
    with container.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(orders)).scalar_one())


def test_import_places_good_orders_and_writes_the_rejects_file(container, seeded, orders_csv) -> None:
    with container.db.write() as conn:
        add_channel(conn, at=container.clock.now(), code="csv-in", kind="csv")
    result = invoke(container.db.url, str(orders_csv), "--json")
    assert result.exit_code == 1, result.output  # some rejected
    body = json.loads(result.stdout)
    assert [(o["external_id"], o["lines"], o["units"], o["unmapped_lines"]) for o in body["orders"]] == [
        ("CSV-1", 2, 3, 0), ("CSV-3", 1, 4, 1)]
    assert body["rejected"][0]["where"].startswith("orders.csv line 4")
    with (orders_csv.parent / "orders.csv.rejects.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["file", "where", "external_id", "reason"] and rows[1][0] == "orders.csv"
    assert count_orders(container) == 2
    again = invoke(container.db.url, str(orders_csv), "--json")
    assert [d["external_id"] for d in json.loads(again.stdout)["duplicates"]] == ["CSV-1", "CSV-3"]
    assert count_orders(container) == 2


def test_a_human_summary_without_json(container, seeded, orders_csv) -> None:
    with container.db.write() as conn:
        add_channel(conn, at=container.clock.now(), code="csv-in", kind="csv")
    result = invoke(container.db.url, str(orders_csv), "--channel", "csv-in")
    assert "2 orders created, 0 duplicates skipped, 1 rejected, 0 ignored" in result.stdout
    assert "rejected orders.csv line 4" in result.stdout


def test_dry_run_json_on_an_empty_database_writes_nothing(tmp_path: Path) -> None:
    from conveyor.bootstrap import build
    from conveyor.platform.migrations import upgrade
    from conveyor.settings import Settings

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    container = build(Settings(database_url=url))
    upgrade(container.db)
    path = tmp_path / "po.x12"
    path.write_text(X12)
    result = invoke(url, str(path), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["orders"] == [{"external_id": "PO-1", "lines": 2, "units": 5, "unmapped_lines": 2,
                               "warnings": [body["orders"][0]["warnings"][0]]}]
    assert "unknown trading partner 'ZZ:ACME'" in body["orders"][0]["warnings"][0]
    assert body["duplicates"] == [] and body["rejected"] == []
    assert body["ignored"][0]["reason"].startswith("transaction set 810")
    assert count_orders(container) == 0
    container.db.dispose()


def test_dry_run_needs_no_database_at_all(tmp_path: Path) -> None:
    path = tmp_path / "po.x12"
    path.write_text(X12)
    result = invoke(f"sqlite:///{tmp_path / 'never-created' / 'x.db'}", str(path), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["orders"][0]["external_id"] == "PO-1"


def test_unusable_input_names_the_file_and_the_reason(tmp_path: Path) -> None:
    missing = invoke("sqlite:///:memory:", str(tmp_path / "nope.csv"), "--dry-run")
    assert missing.exit_code == 2 and "nope.csv: no such file" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("x")
    wrong = invoke("sqlite:///:memory:", str(bad), "--format", "pdf", "--dry-run")
    assert wrong.exit_code == 2 and "unknown format 'pdf'" in wrong.stderr
