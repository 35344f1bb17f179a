"""The reference-data CLI against a real database: CSV import (all or nothing), the list commands, and
customer licences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from conveyor.catalog.cli import app as products_cli
from conveyor.catalog.tables import products
from conveyor.channels.cli import app as channels_cli
from conveyor.customers.cli import app as customers_cli
from conveyor.testing.factories import seed_basics
from conveyor.warehouses.cli import app as warehouses_cli

HEADER = "sku,name,gtin,weight_g,length_mm,width_mm,height_mm,regulated,cold_chain,hazardous\n"


@pytest.fixture
def run(container: Any) -> Any:
    runner = CliRunner()
    env = {"CONVEYOR_DATABASE_URL": container.db.url}

    def invoke(app: Any, *args: str) -> Any:
        return runner.invoke(app, list(args), env=env)

    return invoke


def product_rows(container: Any) -> list[tuple[Any, ...]]:
    with container.db.read() as conn:
        return [tuple(r) for r in conn.execute(select(
            products.c.sku, products.c.gtin, products.c.weight_g, products.c.cold_chain, products.c.hazardous,
        ).order_by(products.c.id))]


def write(tmp_path: Path, text: str, name: str = "products.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_imports_every_row(run, container, tmp_path):
    path = write(tmp_path, HEADER
                 + "FLOUR-25,Bread flour 25 kg,4006381333931,25000,600,400,120,false,false,false\n"
                 + "YEAST-1,Fresh yeast 1 kg,,1000,,,,no,yes,no\n"
                 + "\n"
                 + "LYE-5,Lye 5 kg,96385074,5000,200,200,300,1,0,1\n")
    result = run(products_cli, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "imported 3 new products" in result.output
    assert product_rows(container) == [
        ("FLOUR-25", "4006381333931", 25000, False, False),
        ("YEAST-1", None, 1000, True, False),
        ("LYE-5", "96385074", 5000, False, True),
    ]
    listed = run(products_cli, "list", "--q", "yeast", "--json")
    assert listed.exit_code == 0, listed.output
    assert [p["sku"] for p in json.loads(listed.stdout)["items"]] == ["YEAST-1"]
    table = run(products_cli, "list")
    assert table.exit_code == 0 and "FLOUR-25" in table.stdout


def test_a_bad_line_is_reported_by_file_and_line_and_nothing_is_written(run, container, tmp_path):
    path = write(tmp_path, HEADER
                 + "GOOD-1,Good,4006381333931,100,,,,false,false,false\n"
                 + "BAD-2,Bad gtin,4006381333932,100,,,,false,false,false\n"
                 + "BAD-3,Negative,,-5,,,,false,perhaps,false\n")
    result = run(products_cli, "import", str(path))
    assert result.exit_code == 2
    assert f"{path}:3: invalid_gtin: " in result.stderr
    assert f"{path}:4: negative_value: " in result.stderr
    assert f"{path}:4: invalid_boolean: " in result.stderr
    assert "nothing imported" in result.stderr
    assert product_rows(container) == []


def test_a_duplicate_sku_in_the_file_or_the_database_rolls_everything_back(run, container, tmp_path):
    first = write(tmp_path, HEADER + "ONE,One,,,,,,,,\n", "first.csv")
    assert run(products_cli, "import", str(first)).exit_code == 0
    path = write(tmp_path, HEADER + "TWO,Two,,,,,,,,\nTWO,Two again,,,,,,,,\nONE,One again,,,,,,,,\n")
    result = run(products_cli, "import", str(path))
    assert result.exit_code == 2
    assert f"{path}:3: sku_taken: " in result.stderr
    assert f"{path}:4: sku_taken: " in result.stderr
    with container.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(products)).scalar_one() == 1
    updated = run(products_cli, "import", str(write(tmp_path, HEADER + "ONE,One renamed,,750,,,,,,\n", "u.csv")),
                  "--update")
    assert updated.exit_code == 0, updated.output
    assert product_rows(container) == [("ONE", None, 750, False, False)]


def test_a_header_with_unknown_columns_is_refused(run, container, tmp_path):
    path = write(tmp_path, "sku,title\nX,Y\n")
    result = run(products_cli, "import", str(path))
    assert result.exit_code == 2
    assert f"{path}:1: missing_column: " in result.stderr
    assert f"{path}:1: unknown_column: " in result.stderr
    assert product_rows(container) == []


def test_channels_are_created_and_listed_from_the_command_line(run, container):
    created = run(channels_cli, "create", "edi-acme", "--kind", "edi_x12", "--name", "ACME EDI")
    assert created.exit_code == 0, created.output
    refused = run(channels_cli, "create", "edi-acme", "--kind", "fax")
    assert refused.exit_code == 2
    assert "invalid_kind" in refused.stderr
    listed = run(channels_cli, "list", "--json")
    assert [(c["code"], c["kind"], c["name"]) for c in json.loads(listed.stdout)["items"]] == [
        ("edi-acme", "edi_x12", "ACME EDI")]


def test_customers_and_warehouses_are_listed(run, container):
    with container.db.write() as conn:
        seed_basics(conn, at=container.clock.now())
    customers = run(customers_cli, "list", "--json")
    assert customers.exit_code == 0, customers.output
    assert [c["account"] for c in json.loads(customers.stdout)["items"]] == ["C-001", "C-002"]
    assert "C-002" in run(customers_cli, "list", "--q", "jansen").stdout
    warehouses = run(warehouses_cli, "list")
    assert warehouses.exit_code == 0 and "RTM" in warehouses.stdout


def test_customer_licences_are_added_listed_and_removed(run, container):
    with container.db.write() as conn:
        seed_basics(conn, at=container.clock.now())
    added = run(customers_cli, "add-licence", "C-001", "--kind", "Pharmacy", "--number", "NL-APO-42",
                "--from", "2020-01-01")
    assert added.exit_code == 0, added.output
    assert "added pharmacy licence NL-APO-42 to C-001" in added.stdout and "valid today" in added.stdout
    assert run(customers_cli, "add-licence", "C-001", "--kind", "alcohol", "--number", "SHV-1",
               "--until", "2001-12-31").exit_code == 0
    assert run(customers_cli, "add-licence", "C-001", "--kind", "tobacco", "--number", "TAB-9",
               "--from", "2999-01-01").exit_code == 0
    table = run(customers_cli, "licences", "C-001")
    assert table.exit_code == 0, table.output
    assert "NL-APO-42" in table.stdout and "2001-12-31" in table.stdout and "not yet valid" in table.stdout
    listed = json.loads(run(customers_cli, "licences", "C-001", "--json").stdout)
    assert [(x["kind"], x["number"], x["status"], x["created_by"]) for x in listed] == [
        ("alcohol", "SHV-1", "expired", "system:cli"), ("pharmacy", "NL-APO-42", "valid", "system:cli"),
        ("tobacco", "TAB-9", "not_yet_valid", "system:cli")]
    shown = json.loads(run(customers_cli, "list", "--q", "C-001", "--json").stdout)["items"][0]
    assert [x["number"] for x in shown["licences"]] == ["SHV-1", "NL-APO-42", "TAB-9"]
    pharmacy = listed[1]["id"]
    elsewhere = run(customers_cli, "remove-licence", "C-002", str(pharmacy))
    assert elsewhere.exit_code == 2 and "licence_not_found" in elsewhere.stderr
    removed = run(customers_cli, "remove-licence", "C-001", str(pharmacy))
    assert removed.exit_code == 0, removed.output
    assert f"removed licence {pharmacy} from C-001" in removed.stdout
    assert [x["number"] for x in json.loads(run(customers_cli, "licences", "C-001", "--json").stdout)] == [
        "SHV-1", "TAB-9"]
    assert "C-002 has no licences" in run(customers_cli, "licences", "C-002").stdout


def test_bad_licence_commands_say_what_is_wrong_and_exit_non_zero(run, container):
    with container.db.write() as conn:
        seed_basics(conn, at=container.clock.now())
    refused = run(customers_cli, "add-licence", "C-001", "--kind", "wine & spirits", "--number", "W-1",
                  "--from", "2026-12-01", "--until", "2026-11-01")
    assert refused.exit_code == 2
    assert "invalid_licence_kind: " in refused.stderr and "(kind)" in refused.stderr
    assert "invalid_period: " in refused.stderr and "(valid_until)" in refused.stderr
    bad_date = run(customers_cli, "add-licence", "C-001", "--kind", "alcohol", "--number", "A-1",
                   "--until", "31-12-2026")
    assert bad_date.exit_code == 2 and "--until" in bad_date.stderr
    for args in (("licences", "C-999"), ("add-licence", "C-999", "--kind", "alcohol", "--number", "A-1"),
                 ("remove-licence", "C-999", "1")):
        unknown = run(customers_cli, *args)
        assert unknown.exit_code == 2, args
        assert "customer_not_found: there is no customer 'C-999' (account)" in unknown.stderr
    missing = run(customers_cli, "remove-licence", "C-001", "12345")
    assert missing.exit_code == 2 and "licence_not_found" in missing.stderr
    assert json.loads(run(customers_cli, "licences", "C-001", "--json").stdout) == []
