"""Sample order files in the documented CSV layout, for benchmarks and tests. Pure but for the file written.

`write_sample_orders` writes `orders` orders of `lines_per_order` rows each, with valid addresses, prices
and quantities; the same arguments always write the same bytes.
"""

from __future__ import annotations

import csv
import random
import zlib
from collections.abc import Sequence
from pathlib import Path

COLUMNS = ("order_id", "customer", "customer_email", "customer_name", "currency", "sku", "quantity", "unit_price",
           "ship_name", "ship_line1", "ship_city", "ship_postal_code", "ship_country")
_ADDRESSES = (
    ("Coolsingel 40", "Rotterdam", "3011 AD", "NL"),
    ("Unter den Linden 1", "Berlin", "10117", "DE"),
    ("350 Fifth Avenue", "New York", "10118", "US"),
    ("10 Downing Street", "London", "SW1A 2AA", "GB"),
    ("5 Avenue Anatole France", "Paris", "75007", "FR"),
)
_BATCH = 4096  # rows written at a time


def write_sample_orders(path: str | Path, *, orders: int, lines_per_order: int = 3, skus: Sequence[str],
                        customers: Sequence[str], seed: int = 0) -> int:
    """Writes the file and returns how many rows (order lines) it holds.

    A customer holding "@" goes in `customer_email`, any other in `customer` (an account). Order ids are
    "S<seed>-<n>", so files written with different seeds hold different orders. The SKUs of an order differ
    when there are enough of them; a SKU always has the same price.
    """
    if orders < 0 or lines_per_order < 1:
        raise ValueError("orders must be 0 or more and lines_per_order 1 or more")
    if not skus or not customers:
        raise ValueError("skus and customers must not be empty")
    rng = random.Random(seed)
    prices = {sku: f"{1 + zlib.crc32(sku.encode()) % 20000 / 100:.2f}" for sku in skus}
    parties = []
    for n, customer in enumerate(customers):
        line1, city, postal_code, country = _ADDRESSES[n % len(_ADDRESSES)]
        name = f"Customer {n + 1}"
        account, email = ("", customer) if "@" in customer else (customer, "")
        parties.append((account, email, name, "EUR", name, line1, city, postal_code, country))
    distinct = len(skus) >= lines_per_order
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(COLUMNS)
        batch: list[tuple[str, ...]] = []
        for n in range(orders):
            order_id = f"S{seed}-{n + 1:07d}"
            account, email, name, currency, ship_name, line1, city, postal_code, country = rng.choice(parties)
            chosen = rng.sample(skus, lines_per_order) if distinct else rng.choices(skus, k=lines_per_order)
            for sku in chosen:
                batch.append((order_id, account, email, name, currency, sku, str(rng.randint(1, 5)), prices[sku],
                              ship_name, line1, city, postal_code, country))
            if len(batch) >= _BATCH:
                writer.writerows(batch)
                rows += len(batch)
                batch.clear()
        writer.writerows(batch)
        rows += len(batch)
    return rows
