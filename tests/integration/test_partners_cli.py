"""`conveyor partners ...` against a real database: add, list, show, and map buyer items from CSV (all or
nothing, problems named by file and line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from conveyor.catalog.tables import products
from conveyor.channels.partners.cli import app as partners_cli
from conveyor.channels.tables import partner_items, trading_partners
from conveyor.testing.factories import add_channel, seed_basics


@pytest.fixture
def run(container: Any) -> Any:
    runner = CliRunner()
    env = {"CONVEYOR_DATABASE_URL": container.db.url}

    def invoke(*args: str) -> Any:
        return runner.invoke(partners_cli, list(args), env=env)

    return invoke


@pytest.fixture
def edi(container: Any) -> None:
    with container.db.write() as conn:
        at = container.clock.now()
        seed_basics(conn, at=at)
        add_channel(conn, at=at, code="edi-acme", kind="edi_x12")
        add_channel(conn, at=at, code="edi-eu", kind="edifact")


def mappings(container: Any) -> list[tuple[str, str]]:
    with container.db.read() as conn:
        return [tuple(r) for r in conn.execute(
            select(partner_items.c.buyer_item, products.c.sku)
            .join(products, products.c.id == partner_items.c.product_id).order_by(partner_items.c.id))]


def write(tmp_path: Path, text: str, name: str = "items.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_partner_is_added_listed_and_shown(run, container, edi):
    added = run("add", "edi-acme", "zz:acme", "--name", "ACME Retail", "--customer", "C-001",
                "--documents", "997, 855", "--unit", "cs=12", "--unit", "PL=480")
    assert added.exit_code == 0, added.output
    assert "added trading partner ZZ:ACME (ACME Retail) to edi-acme for customer C-001" in added.stdout
    with container.db.read() as conn:
        row = conn.execute(select(trading_partners)).one()
    assert (row.partner_id, row.documents, row.units) == ("ZZ:ACME", ["997", "855"], {"CS": 12, "PL": 480})
    listed = run("list", "edi-acme", "--json")
    assert listed.exit_code == 0, listed.output
    assert [(p["partner_id"], p["customer"]) for p in json.loads(listed.stdout)["items"]] == [("ZZ:ACME", "C-001")]
    table = run("list", "edi-acme")
    assert table.exit_code == 0 and "ZZ:ACME" in table.stdout and "CS=12" in table.stdout
    shown = run("show", "edi-acme", "ZZ:ACME")
    assert shown.exit_code == 0, shown.output
    assert "expects back: 997, 855" in shown.stdout and "units: CS=12, PL=480" in shown.stdout
    assert run("list", "edi-eu", "--json").stdout.count("partner_id") == 0


def test_add_reports_every_problem_and_writes_nothing(run, container, edi):
    refused = run("add", "edi-acme", "ACME", "--name", "ACME", "--customer", "C-999", "--documents", "997,ORDRSP",
                  "--unit", "CS=0")
    assert refused.exit_code == 2
    for expected in ("invalid_partner_id: ", "(partner_id)", "invalid_document: ", "(documents.1)",
                     "invalid_eaches: ", "(units.CS)", "unknown_customer: ", "(customer)"):
        assert expected in refused.stderr, expected
    bad_unit = run("add", "edi-acme", "ZZ:ACME", "--name", "ACME", "--customer", "C-001", "--unit", "CS")
    assert bad_unit.exit_code == 2 and "invalid_unit: 'CS': write a unit as CODE=EACHES" in bad_unit.stderr
    webshop = run("add", "webshop", "ZZ:ACME", "--name", "ACME", "--customer", "C-001")
    assert webshop.exit_code == 2 and "not_edi_channel" in webshop.stderr
    missing = run("add", "nope", "ZZ:ACME", "--name", "ACME", "--customer", "C-001")
    assert missing.exit_code == 2 and "channel_not_found" in missing.stderr
    with container.db.read() as conn:
        assert conn.execute(select(trading_partners.c.id)).first() is None


def test_a_csv_file_maps_every_row_or_none(run, container, edi, tmp_path):
    assert run("add", "edi-eu", "14:5412345000013", "--name", "Carrefour", "--customer", "C-002").exit_code == 0
    good = write(tmp_path, "buyer_item,sku\nACME-1,SKU-1\n05412345000020,SKU-2\n\n\"AB,12\",SKU-3\n")
    result = run("map", "edi-eu", "14:5412345000013", str(good))
    assert result.exit_code == 0, result.output
    assert f"{good}: 3 added, 0 changed, 0 unchanged; 3 mappings in all" in result.stdout
    assert mappings(container) == [("ACME-1", "SKU-1"), ("05412345000020", "SKU-2"), ("AB,12", "SKU-3")]
    bad = write(tmp_path, "buyer_item,sku\nACME-1,SKU-4\nACME-2,NOPE\nACME-1,SKU-5\nACME-3\n", "bad.csv")
    refused = run("map", "edi-eu", "14:5412345000013", str(bad))
    assert refused.exit_code == 2
    assert f"{bad}:5: invalid_row: " in refused.stderr and f"{bad}: nothing mapped" in refused.stderr
    fixed = write(tmp_path, "ACME-1,SKU-4\nACME-2,NOPE\nACME-1,SKU-5\n", "fixed.csv")
    refused = run("map", "edi-eu", "14:5412345000013", str(fixed))
    assert refused.exit_code == 2
    assert refused.stderr.index(f"{fixed}:2: unknown_sku: ") < refused.stderr.index(
        f"{fixed}:3: duplicate_buyer_item: ")  # every problem at once, by line
    unknown = write(tmp_path, "ACME-1,SKU-4\nACME-2,NOPE\n", "unknown.csv")
    refused = run("map", "edi-eu", "14:5412345000013", str(unknown))
    assert refused.exit_code == 2 and f"{unknown}:2: unknown_sku: " in refused.stderr and "(sku)" in refused.stderr
    assert mappings(container) == [("ACME-1", "SKU-1"), ("05412345000020", "SKU-2"), ("AB,12", "SKU-3")]
    replaced = run("map", "edi-eu", "14:5412345000013", str(write(tmp_path, "ACME-1;SKU-4\n", "r.csv")), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "0 added, 1 changed, 0 unchanged, 2 removed; 1 mappings in all" in replaced.stdout
    assert mappings(container) == [("ACME-1", "SKU-4")]
    shown = run("show", "edi-eu", "14:5412345000013", "--json")
    assert [(m["buyer_item"], m["sku"]) for m in json.loads(shown.stdout)["mappings"]] == [("ACME-1", "SKU-4")]


def test_map_names_the_file_when_it_cannot_be_used(run, container, edi, tmp_path):
    assert run("add", "edi-acme", "ZZ:ACME", "--name", "ACME", "--customer", "C-001").exit_code == 0
    binary = tmp_path / "latin1.csv"
    binary.write_bytes("caf\xe9,SKU-1\n".encode("latin-1"))
    result = run("map", "edi-acme", "ZZ:ACME", str(binary))
    assert result.exit_code == 2 and f"{binary}: invalid_encoding: " in result.stderr
    empty = write(tmp_path, "buyer_item,sku\n", "empty.csv")
    assert f"{empty}: no_rows: " in run("map", "edi-acme", "ZZ:ACME", str(empty)).stderr
    missing = run("map", "edi-acme", "ZZ:ACME", str(tmp_path / "missing.csv"))
    assert missing.exit_code == 2 and "no_file" in missing.stderr
    unknown = run("map", "edi-acme", "ZZ:NOBODY", str(write(tmp_path, "A,SKU-1\n")))
    assert unknown.exit_code == 2 and "partner_not_found" in unknown.stderr
    assert mappings(container) == []
