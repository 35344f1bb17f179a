"""Availability benchmark: the stock read queries at 100k SKUs x 10 warehouses (issue 3).

    python bench/availability.py --database sqlite|URL [--skus 100000 --warehouses 10]

URL is `sqlite` (a temp file, the default) or a PostgreSQL server URL (a throwaway database is created on
it and dropped afterwards). The script migrates the schema, bulk-loads `--skus` products and one balance per
SKU and warehouse with the ledger movements behind it (a receipt per balance with stock, a reservation where
units are reserved; one SKU, HOT-1, has `--hot-movements` receipts of one unit, a long history), runs
ANALYZE on PostgreSQL, and then times the functions the API, the stock screen and `conveyor stock show` call
(`conveyor.inventory.queries`), each run in its own read transaction as the routes do:

- one_sku: `sku_stock` of a random SKU (ATP in every warehouse, totals, the latest 50 movements);
- one_sku_hot: `sku_stock` of HOT-1;
- list_first, list_later: the stock list's first page, and a page deep in the keyset (`after`);
- list_warehouse, list_warehouse_later: filtered by one warehouse;
- list_short: only balances with nothing to promise;
- search_prefix: a SKU prefix matching 100 SKUs (anywhere in the id order); search_sku: one whole SKU;
  search_name: a word of the product names; search_miss: text nothing matches; search_warehouse: a SKU prefix
  in one warehouse; search_typing: the first one to three characters typed into the live search;
- edge_rare_2chars: two characters no product contains, which no index helps with (one pass over the products);
- batch_atp_50: `allocation.lock_free_stock`, the free stock of 50 SKUs in every active warehouse read in one
  statement (what order intake reads, and on PostgreSQL locks, for a batch);
- http_*: the same through FastAPI's TestClient (token auth, routing, the JSON or HTML rendering included).

It prints runs, p50 and p99 in ms per query and ends with one line:
`availability: skus=<n> warehouses=<n> rows=<n> one_sku_p99_ms=<n> list_p99_ms=<n> search_p99_ms=<n> ...`
(list = the worst of the unsearched list queries, search = the worst of the searches, edge =
edge_rare_2chars). `--explain` prints a few list queries' plans once (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN
QUERY PLAN on SQLite). The data is generated from `--seed`, so runs are comparable.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))  # bench.databases

from bench.databases import make_database  # noqa: E402
from conveyor.bootstrap import Container, build  # noqa: E402
from conveyor.catalog.tables import products  # noqa: E402
from conveyor.identity import service as identity  # noqa: E402
from conveyor.inventory import allocation, ledger, queries  # noqa: E402
from conveyor.platform.db import metadata  # noqa: E402
from conveyor.platform.migrations import upgrade  # noqa: E402
from conveyor.settings import Settings  # noqa: E402
from conveyor.testing.factories import add_user, add_warehouse  # noqa: E402

COLOURS = ["Red", "Blue", "Green", "Black", "White", "Grey", "Yellow", "Orange", "Purple", "Brown"]
THINGS = ["Flour", "Yeast", "Sugar", "Salt", "Oats", "Rice", "Beans", "Lentils", "Pasta", "Coffee", "Tea",
          "Cocoa", "Honey", "Jam", "Oil", "Vinegar", "Mustard", "Pepper", "Paprika", "Cumin"]
SIZES = ["250 g", "500 g", "1 kg", "5 kg", "25 kg"]
HOT = "HOT-1"
TYPING = ["s", "sk", "sku", "r", "re", "red", "fl", "flo", "8", "87"]  # the live search's first keystrokes


def gtin13(n: int) -> str:
    body = f"87{n:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@dataclass
class Loaded:
    skus: int
    warehouses: list[str]
    levels: int
    movements: int
    token: str
    seconds: float


def load(c: Container, skus: int, warehouse_count: int, hot_movements: int, seed: int) -> Loaded:
    """Products, balances and their ledger, bulk-loaded: multi-row executemany in one transaction on SQLite,
    COPY on PostgreSQL. Every balance equals the sum of its movements."""
    started = time.monotonic()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    codes = [f"W{n:02d}" for n in range(1, warehouse_count + 1)]
    with c.db.write() as conn:
        warehouse_ids = [add_warehouse(conn, at=now, code=code, priority=10 * (n + 1)) for n, code in enumerate(codes)]
        user = add_user(conn, at=now, role="manager", email="bench@example.com")
        token = identity.create_token(conn, user_id=user, name="bench", at=now).token
        conn.execute(insert(products), [dict(sku=HOT, name="Hot item 1 kg", gtin=None, weight_g=1000, regulated=False,
                                             cold_chain=False, hazardous=False, active=True, created_at=now,
                                             updated_at=now)])

    sqlite = c.db.dialect == "sqlite"
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now.isoformat()
    product_rows = ((f"SKU-{i:06d}", f"{COLOURS[i % 10]} {THINGS[(i // 10) % 20]} {SIZES[(i // 200) % 5]}",
                     gtin13(i), 100 + i % 900) for i in range(1, skus))
    raw = c.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if sqlite:
            cur.execute("BEGIN IMMEDIATE")
            cur.executemany("INSERT INTO products (sku, name, gtin, weight_g, regulated, cold_chain, hazardous, "
                            "active, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0, 0, 1, ?, ?)",
                            [(*p, stamp, stamp) for p in product_rows])
        else:
            copy_rows(cur, "products (sku, name, gtin, weight_g, regulated, cold_chain, hazardous, active, "
                           "created_at, updated_at)",
                      ((*p, "f", "f", "f", "t", stamp, stamp) for p in product_rows))
        cur.execute("SELECT id, sku FROM products ORDER BY id")
        ids = {sku: pid for pid, sku in cur.fetchall()}
        hot_id = ids[HOT]

        hot_wids = [warehouse_ids[n % len(warehouse_ids)] for n in range(hot_movements)]
        levels: list[tuple[Any, ...]] = []
        movements: list[tuple[Any, ...]] = []
        for sku, pid in ids.items():
            for wid in warehouse_ids:
                if sku == HOT:  # a long history of one-unit receipts, spread over the warehouses
                    levels.append((pid, wid, hot_wids.count(wid), 0, 0, 0, stamp))
                    continue
                on_hand = rng.randrange(0, 1000) if rng.random() > 0.05 else 0
                roll = rng.random()
                reserved = on_hand if roll < 0.02 else (rng.randrange(0, on_hand + 1) if roll < 0.2 else 0)
                safety = 5 if rng.random() < 0.1 else 0
                levels.append((pid, wid, on_hand, reserved, safety, 0, stamp))
                if on_hand:
                    movements.append((pid, wid, "receipt", on_hand, 0, "receipt:bench", None, "system:bench", stamp))
                if reserved:
                    movements.append((pid, wid, "reservation", 0, reserved, "hold:bench", None, "system:bench",
                                      stamp))
        movements += [(hot_id, wid, "receipt", 1, 0, f"receipt:DN-{n}", None, "system:bench", stamp)
                      for n, wid in enumerate(hot_wids)]
        if sqlite:
            cur.executemany("INSERT INTO stock_levels (product_id, warehouse_id, on_hand, reserved, safety, "
                            "incoming, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", levels)
            cur.executemany("INSERT INTO stock_movements (product_id, warehouse_id, kind, on_hand_delta, "
                            "reserved_delta, reference, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            movements)
            cur.execute("COMMIT")
        else:
            copy_rows(cur, "stock_levels (product_id, warehouse_id, on_hand, reserved, safety, incoming, updated_at)",
                      levels)
            copy_rows(cur, "stock_movements (product_id, warehouse_id, kind, on_hand_delta, reserved_delta, "
                           "reference, reason, actor, at)", movements)
            raw.commit()
    finally:
        raw.close()
    if not sqlite:
        with c.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE products, stock_levels, stock_movements, warehouses, users, api_tokens"))
    return Loaded(skus=len(ids), warehouses=codes, levels=len(levels), movements=len(movements), token=token,
                  seconds=time.monotonic() - started)


def copy_rows(cur: Any, into: str, rows: Any) -> None:
    """COPY in text format, in chunks of 50k rows (NULL as \\N; the values here hold no tabs or backslashes)."""
    with cur.copy(f"COPY {into} FROM STDIN") as copy:
        buffer = io.StringIO()
        for n, row in enumerate(rows, 1):
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
            buffer.write("\n")
            if n % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


@dataclass
class Timing:
    name: str
    runs: int
    p50_ms: float
    p99_ms: float
    rows: float


def measure(name: str, call: Callable[[], int], runs: int, budget_s: float) -> Timing:
    """`call` returns the rows it got; runs until `runs` runs or `budget_s` seconds (at least 10 runs)."""
    call()  # warm-up (statement caches, pages)
    times: list[float] = []
    rows: list[int] = []
    deadline = time.monotonic() + budget_s
    while len(times) < runs and (len(times) < 10 or time.monotonic() < deadline):
        started = time.perf_counter()
        rows.append(call())
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    timing = Timing(name, len(times), statistics.median(times), p99, statistics.mean(rows))
    print(f"  {name:24s} runs {timing.runs:5d}  p50 {timing.p50_ms:8.2f} ms  p99 {timing.p99_ms:8.2f} ms  "
          f"rows {timing.rows:6.1f}", flush=True)
    return timing


def cases(c: Container, data: Loaded, rng: random.Random) -> dict[str, Callable[[], int]]:
    n = data.skus - 1  # SKU-000001 .. SKU-<n>
    codes = data.warehouses
    with c.db.read() as conn:
        ids = [int(i) for i in conn.execute(select(products.c.id).where(products.c.sku != HOT)).scalars()]
        active = allocation.warehouse_order(conn)
    wids = sorted(active)

    def sku() -> str:
        return f"SKU-{rng.randrange(1, n + 1):06d}"

    def read(fn: Callable[[Any], int]) -> Callable[[], int]:
        def run() -> int:
            with c.db.read() as conn:
                return fn(conn)
        return run

    def page(**kw: Any) -> Callable[[], int]:
        return read(lambda conn: len(queries.list_stock(conn, **{k: v() if callable(v) else v
                                                                 for k, v in kw.items()}).items))

    return {
        "one_sku": read(lambda conn: len(queries.sku_stock(conn, sku()).warehouses)),
        "one_sku_hot": read(lambda conn: len(queries.sku_stock(conn, HOT).movements)),
        "list_first": page(),
        "list_later": page(after=lambda: f"{rng.choice(ids)}:{rng.choice(wids)}"),
        "list_warehouse": page(warehouse=lambda: rng.choice(codes)),
        "list_warehouse_later": page(warehouse=lambda: rng.choice(codes),
                                     after=lambda: f"{rng.choice(ids)}:{rng.choice(wids)}"),
        "list_short": page(short_only=True),
        "search_prefix": page(q=lambda: sku()[:8]),
        "search_sku": page(q=sku),
        "search_name": page(q=lambda: rng.choice(THINGS).lower()),
        "search_miss": page(q=lambda: f"nothing-{rng.randrange(1000)}"),
        "search_warehouse": page(q=lambda: sku()[:8], warehouse=lambda: rng.choice(codes)),
        "search_typing": page(q=lambda: rng.choice(TYPING)),
        "edge_rare_2chars": page(q=lambda: rng.choice(["zq", "qz", "xj", "jx"])),
        "batch_atp_50": read(lambda conn: len(allocation.lock_free_stock(conn, set(rng.sample(ids, 50)), active))),
    }


def http_cases(c: Container, data: Loaded, rng: random.Random) -> Iterator[tuple[str, Callable[[], int]]]:
    from fastapi.testclient import TestClient

    from conveyor.app import create_app

    headers = {"Authorization": f"Bearer {data.token}"}
    n = data.skus - 1
    with TestClient(create_app(container=c)) as client:
        def get(path: str, params: dict[str, str] | None = None, htmx: bool = False) -> int:
            r = client.get(path, params=params, headers={**headers, **({"HX-Request": "true"} if htmx else {})})
            assert r.status_code == 200, r.text[:300]
            return 1

        def sku() -> str:
            return f"SKU-{rng.randrange(1, n + 1):06d}"

        yield "http_one_sku", lambda: get(f"/api/v1/stock/{sku()}")
        yield "http_list_first", lambda: get("/api/v1/stock")
        yield "http_search_prefix", lambda: get("/api/v1/stock", {"q": sku()[:8]})
        yield "http_stock_screen_search", lambda: get("/stock", {"q": sku()[:8]}, htmx=True)


def explain(c: Container, data: Loaded) -> None:
    """Each list query's plan, as the functions build it (captured from the real statements)."""
    from sqlalchemy import event

    captured: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    calls: dict[str, dict[str, Any]] = {
        "list_first": {}, "list_later": {"after": "90000:3"}, "list_warehouse": {"warehouse": data.warehouses[2]},
        "list_short": {"short_only": True}, "search_sku": {"q": "SKU-054321"}, "search_miss": {"q": "nothing"},
        "search_prefix_late": {"q": "SKU-0968"}, "search_typing": {"q": "sk"},
        "search_warehouse": {"q": "SKU-0543", "warehouse": data.warehouses[2]}}
    for name, kw in calls.items():
        captured.clear()
        event.listen(c.db.engine, "before_cursor_execute", grab)
        try:
            with c.db.read() as conn:
                queries.list_stock(conn, **kw)
        finally:
            event.remove(c.db.engine, "before_cursor_execute", grab)
        *before, (statement, parameters) = [(st, p) for st, p in captured if st not in ("BEGIN", "COMMIT")]
        prefix = "EXPLAIN QUERY PLAN " if c.db.dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        raw = c.db.engine.raw_connection()
        try:
            cur = raw.cursor()
            for earlier, earlier_parameters in before:  # the warehouse lookup, the search's SET LOCALs
                cur.execute(earlier, earlier_parameters)
            cur.execute(prefix + statement, parameters)
            plan = [" | ".join(str(v) for v in row) for row in cur.fetchall()]
            raw.rollback()
        finally:
            raw.close()
        print(f"--- {name}: {kw}\n" + "\n".join(plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a PostgreSQL server URL")
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--warehouses", type=int, default=10)
    parser.add_argument("--hot-movements", type=int, default=20_000, help="receipts in HOT-1's history")
    parser.add_argument("--runs", type=int, default=200, help="runs per query (fewer when a query is slow)")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per query at most (after 10 runs)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--no-http", action="store_true", help="skip the requests through the app")
    parser.add_argument("--explain", action="store_true", help="print the list queries' plans")
    args = parser.parse_args()

    target = make_database(args.database, "availability")
    c: Container | None = None
    try:
        c = build(Settings(database_url=target.url, relay_enabled=False, auto_migrate=False,
                           log_level="WARNING"))
        upgrade(c.db)
        assert {t.name for t in metadata.sorted_tables} >= {"stock_levels", "stock_movements"}
        data = load(c, args.skus, args.warehouses, args.hot_movements, args.seed)
        sqlite = c.db.dialect == "sqlite"
        print(f"availability benchmark: {'SQLite' if sqlite else 'PostgreSQL'}, {data.skus} SKUs (incl. {HOT}), "
              f"{len(data.warehouses)} warehouses, {data.levels} balances, {data.movements} movements, loaded in "
              f"{data.seconds:.1f} s", flush=True)
        if args.explain:
            explain(c, data)
        rng = random.Random(args.seed)
        results = {name: measure(name, call, args.runs, args.budget) for name, call in cases(c, data, rng).items()}
        if not args.no_http:
            for name, call in http_cases(c, data, rng):
                results[name] = measure(name, call, min(args.runs, 100), args.budget)
        started = time.monotonic()
        with c.db.read() as conn:
            differences = len(ledger.verify(conn))
        print(f"  ledger.verify: {differences} differences in {time.monotonic() - started:.1f} s")

        def worst(prefix: str) -> float:
            return max(t.p99_ms for name, t in results.items() if name.startswith(prefix))

        fields: dict[str, float | int] = {
            "skus": data.skus, "warehouses": len(data.warehouses), "rows": data.levels, "movements": data.movements,
            "one_sku_p99_ms": results["one_sku"].p99_ms, "one_sku_hot_p99_ms": results["one_sku_hot"].p99_ms,
            "list_p99_ms": worst("list_"), "search_p99_ms": worst("search_"),
            "batch_atp_50_p99_ms": results["batch_atp_50"].p99_ms, "edge_p99_ms": worst("edge_")}
        if not args.no_http:
            fields["http_p99_ms"] = worst("http_")
        fields["ledger_differences"] = differences
        print("availability: " + " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                                          for k, v in fields.items()))
    finally:
        if c is not None:
            c.db.dispose()
        target.cleanup()


if __name__ == "__main__":
    main()
