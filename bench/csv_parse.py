"""CSV order import, parsing only: orders/s on one core, and peak memory for 10,000 vs 100,000 orders.

    .venv/bin/python bench/csv_parse.py [--orders 100000] [--repeat 3]

Writes the documented layout (3 lines an order) to a temporary file with `write_sample_orders`, reads it
back with `capture_csv` (no database), and prints the best of `--repeat` runs. Memory is measured with
tracemalloc in separate runs (tracing slows Python down), for 10,000 and for `--orders` orders: the reader
streams the file, so the peak must not follow the file's size. Ends with one line:

    csv_parse: orders_per_s=<n> peak_kib_10k=<n> peak_kib_100k=<n>
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from conveyor.channels.capture.csv_orders import capture_csv
from conveyor.channels.capture.model import CapturedOrder
from conveyor.channels.capture.sample_csv import write_sample_orders

SKUS = [f"SKU-{n:05d}" for n in range(2000)]
CUSTOMERS = [f"C{n:05d}" for n in range(1000)] + [f"buyer{n}@example.com" for n in range(1000)]


def read_all(path: Path) -> int:
    """How many orders were captured; anything else fails the benchmark."""
    orders = 0
    for item in capture_csv(path, name=path.name):
        if not isinstance(item, CapturedOrder):
            raise SystemExit(f"unexpected {item!r}")
        orders += 1
    return orders


def peak_kib(path: Path) -> int:
    tracemalloc.start()
    try:
        read_all(path)
        return tracemalloc.get_traced_memory()[1] // 1024
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder, "orders-10k.csv"), Path(folder, "orders-large.csv")
        started = time.perf_counter()
        write_sample_orders(small, orders=10_000, skus=SKUS, customers=CUSTOMERS, seed=1)
        rows = write_sample_orders(large, orders=args.orders, skus=SKUS, customers=CUSTOMERS, seed=2)
        print(f"wrote {args.orders} orders ({rows} rows, {os.path.getsize(large) / 2**20:.1f} MiB) "
              f"in {time.perf_counter() - started:.2f} s")
        best = float("inf")
        for run in range(args.repeat):
            started = time.process_time()
            orders = read_all(large)
            elapsed = time.process_time() - started
            best = min(best, elapsed)
            print(f"run {run + 1}: {orders} orders in {elapsed:.2f} s CPU = {orders / elapsed:,.0f} orders/s")
            if orders != args.orders:
                raise SystemExit(f"expected {args.orders} orders, read {orders}")
        peak_small, peak_large = peak_kib(small), peak_kib(large)
        print(f"tracemalloc peak: {peak_small} KiB for 10,000 orders, {peak_large} KiB for {args.orders:,} "
              f"(the file: {os.path.getsize(large) // 1024} KiB)")
        print(f"csv_parse: orders_per_s={args.orders / best:.0f} peak_kib_10k={peak_small} "
              f"peak_kib_100k={peak_large}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
