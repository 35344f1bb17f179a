"""Bulk capture: 100,000 CSV orders (3 lines each) through the one intake path, and the largest EDIFACT order.

    python bench/capture.py --database sqlite --orders 100000
    python bench/capture.py --database postgresql://postgres@127.0.0.1:5432/postgres --orders 100000

Each run makes a throwaway database (10k SKUs with stock, 1,000 customers, a CSV channel), writes the CSV with
conveyor.channels.capture.sample_csv, and imports it exactly as `conveyor import orders FILE` does: the
streaming CSV reader, customer and item resolution, and `place_orders` (validation, idempotency, reservation,
timeline, outbox) in batches of 500. It prints orders/s and the process's peak memory after a small and after
the big import (flat memory: the second peak is not 10x the first), then the parse-only rate of the same file
as the baseline of the ratio, then the EDIFACT file from the shared corpus. The last line:

    capture: orders_per_s=<n> parse_orders_per_s=<n> ratio=<n> peak_mib_small=<n> peak_mib_big=<n>
             edifact_lines_per_s=<n>   (on one line)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from databases import make_database, stock_products  # noqa: E402

from conveyor.bootstrap import build  # noqa: E402
from conveyor.channels.capture.csv_orders import capture_csv  # noqa: E402
from conveyor.channels.capture.model import CapturedOrder  # noqa: E402
from conveyor.channels.capture.sample_csv import write_sample_orders  # noqa: E402
from conveyor.channels.capture.service import CaptureRequest, capture  # noqa: E402
from conveyor.customers.tables import customer_addresses, customers  # noqa: E402
from conveyor.platform.migrations import upgrade  # noqa: E402
from conveyor.settings import Settings  # noqa: E402
from conveyor.testing.factories import add_channel, add_warehouse  # noqa: E402

SKUS = 10_000
CUSTOMERS = 1_000
STOCK = 10_000_000
CORPUS = Path(os.environ.get("CONVEYOR_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
HUGE = CORPUS / "edifact" / "orders" / "pydifact__huge_file2.edi"


def peak_mib() -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def seed(url: str) -> None:
    c = build(Settings(database_url=url, relay_enabled=False))
    upgrade(c.db)
    now = datetime.now(UTC)
    with c.db.write() as conn:
        add_channel(conn, at=now, code="csv-in", kind="csv")
        warehouse = add_warehouse(conn, at=now, code="BENCH")
        stock_products(conn, [(f"B-{i:05d}", f"Bench {i}") for i in range(SKUS)], warehouse_id=warehouse,
                       stock=STOCK, at=now)
        conn.execute(insert(customers), [dict(account=f"C-{i:04d}", name=f"Customer {i + 1}", email=None,
                                              credit_limit_minor=0, currency="EUR", credit_rating="B",
                                              payment_terms="net30", active=True, created_at=now, updated_at=now)
                                         for i in range(CUSTOMERS)])
    if c.db.dialect == "postgresql":
        with c.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE products, stock_levels, stock_movements, warehouses, customers, channels"))
    c.db.dispose()


def import_file(url: str, path: Path) -> tuple[int, float]:
    c = build(Settings(database_url=url, relay_enabled=False, duplicate_window_hours=0))
    started = time.perf_counter()
    with path.open("rb") as f:
        report = capture(capture_csv(f, name=path.name), CaptureRequest(
            source=path.name, format="csv", actor="system:bench", channel="csv-in"), c)
    elapsed = time.perf_counter() - started
    c.db.dispose()
    if report.rejected:
        raise SystemExit(f"bench: {len(report.rejected)} orders rejected, first: {report.rejected[0]}")
    return len(report.orders), elapsed


def parse_only(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as f:
        n = sum(1 for item in capture_csv(f, name=path.name) if isinstance(item, CapturedOrder))
    return n / (time.perf_counter() - started)


def edifact() -> tuple[int, float] | None:
    """The corpus's largest ORDERS file, read and mapped (it is rejected whole: its UNT count is wrong and it
    has no UNZ; see docs/edifact.md), and the same lines re-enveloped as one sound message."""
    if not HUGE.is_file():
        print(f"edifact: skipped, {HUGE} is not there (set CONVEYOR_CORPUS)")
        return None
    from conveyor.channels.capture.edifact_orders import capture_edifact

    started = time.perf_counter()
    items = list(capture_edifact(HUGE.read_bytes(), name=HUGE.name))
    as_is = time.perf_counter() - started
    print(f"edifact as is: {len(items)} items ({', '.join(type(i).__name__ for i in items)}) in {as_is:.2f} s")
    from conveyor.testing.corpus import reenveloped

    sound = reenveloped(HUGE)
    started = time.perf_counter()
    lines = sum(len(i.lines) for i in capture_edifact(sound, name="re-enveloped") if isinstance(i, CapturedOrder))
    elapsed = time.perf_counter() - started
    print(f"edifact re-enveloped: {lines} lines read and mapped in {elapsed:.2f} s")
    return lines, elapsed


def import_edifact(url: str) -> None:
    """The re-enveloped huge order through the whole path: a partner profile for its buyer, then placed."""
    if not HUGE.is_file():
        return
    from conveyor.channels.capture.edifact_orders import capture_edifact
    from conveyor.channels.tables import trading_partners
    from conveyor.testing.corpus import reenveloped

    sound = reenveloped(HUGE)
    [order] = [i for i in capture_edifact(sound, name="huge.edi") if isinstance(i, CapturedOrder)]
    c = build(Settings(database_url=url, relay_enabled=False, duplicate_window_hours=0))
    now = datetime.now(UTC)
    with c.db.write() as conn:
        channel = add_channel(conn, at=now, code="edifact-in", kind="edifact")
        customer = conn.execute(select(customers.c.id).limit(1)).scalar_one()
        conn.execute(insert(customer_addresses).values(  # the file's delivery party has no address
            customer_id=customer, kind="shipping", is_default=True, name="Bench DC", line1="Damrak 1",
            city="Amsterdam", postal_code="1012 LG", country="NL"))
        conn.execute(insert(trading_partners).values(
            channel_id=channel, partner_id=order.customer.partner_id or "", name="Bench buyer", customer_id=customer,
            documents=[], units={}, active=True, created_at=now, updated_at=now))
    before = peak_mib()
    started = time.perf_counter()
    report = capture(capture_edifact(sound, name="huge.edi"), CaptureRequest(
        source="huge.edi", format="edifact", actor="system:bench", channel="edifact-in"), c)
    elapsed = time.perf_counter() - started
    c.db.dispose()
    placed = report.orders[0] if report.orders else report.rejected
    print(f"edifact import: 1 order of {len(order.lines)} lines placed in {elapsed:.2f} s "
          f"({len(order.lines) / elapsed:,.0f} lines/s), peak {before:.0f} -> {peak_mib():.0f} MiB: {placed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a PostgreSQL server URL")
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="capture-bench-"))
    skus = [f"B-{i:05d}" for i in range(SKUS)]
    accounts = [f"C-{i:04d}" for i in range(CUSTOMERS)]
    small, big = folder / "small.csv", folder / "orders.csv"
    write_sample_orders(small, orders=max(args.orders // 10, 1), skus=skus, customers=accounts, seed=1)
    write_sample_orders(big, orders=args.orders, skus=skus, customers=accounts, seed=2)
    target = make_database(args.database, "capture")
    try:
        seed(target.url)
        n_small, t_small = import_file(target.url, small)
        peak_small = peak_mib()
        print(f"import {n_small} orders: {n_small / t_small:,.0f} orders/s, peak {peak_small:.0f} MiB")
        n_big, t_big = import_file(target.url, big)
        peak_big = peak_mib()
        rate = n_big / t_big
        print(f"import {n_big} orders ({big.stat().st_size / 1e6:.1f} MB): {rate:,.0f} orders/s "
              f"({t_big:.1f} s), peak {peak_big:.0f} MiB")
        import_edifact(target.url)
    finally:
        target.cleanup()
    parse_rate = parse_only(big)
    print(f"parse only (baseline, same file): {parse_rate:,.0f} orders/s; import/parse ratio {rate / parse_rate:.3f}")
    found = edifact()
    lines_rate = found[0] / found[1] if found else 0
    for f in (small, big):
        f.unlink()
    folder.rmdir()
    print(f"capture: orders_per_s={rate:.0f} parse_orders_per_s={parse_rate:.0f} ratio={rate / parse_rate:.3f} "
          f"peak_mib_small={peak_small:.0f} peak_mib_big={peak_big:.0f} edifact_lines_per_s={lines_rate:.0f}")


if __name__ == "__main__":
    main()
