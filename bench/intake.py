"""Order intake benchmark: 3-line orders with reservation through the real HTTP API, against a plain-SQL floor.

    python bench/intake.py --database URL --clients 64 --seconds 20

URL is `sqlite` (a temp file, the default) or a PostgreSQL server URL (a throwaway database is created on
it and dropped afterwards). The script starts everything itself: schema, data (10k SKUs with stock, a
customer, an API token), the server (uvicorn, `--workers`), and the load generator: Debian's `wrk` with
bench/intake.lua, which costs little CPU; its CPU share is printed because it shares the machine. Then:

1. spread: orders on random SKUs from `--skus`;
2. hot: every line on one SKU (HOT-1);
3. floor: the same order transaction as plain SQL through the driver (no application), `--floor-threads`.

It ends with one line:
`intake: orders_per_s=<n> p50_ms=<n> p99_ms=<n> floor_orders_per_s=<n> floor_ratio=<n> hot_ratio=<n> oversold=<n>`
(floor_ratio = HTTP/floor throughput; hot_ratio = hot/spread throughput; oversold = balances with more reserved
than on hand, plus ledger differences, which must be 0). Traffic goes to 127.0.0.1 only; every phase is
bounded in time.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))  # bench.databases

from bench.databases import make_database, stock_products  # noqa: E402
from conveyor.bootstrap import build  # noqa: E402
from conveyor.identity import service as identity  # noqa: E402
from conveyor.inventory import ledger  # noqa: E402
from conveyor.inventory.tables import stock_levels  # noqa: E402
from conveyor.platform.migrations import upgrade  # noqa: E402
from conveyor.settings import Settings  # noqa: E402
from conveyor.testing.factories import add_channel, add_customer, add_user, add_warehouse  # noqa: E402

STOCK = 10_000_000  # per SKU: the spread case never runs short


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(url: str, skus: int) -> tuple[str, int]:
    """Schema, 10k SKUs (+ HOT-1) with stock booked as ledger receipts, a customer, a token."""
    c = build(Settings(database_url=url, relay_enabled=False))
    upgrade(c.db)
    now = datetime.now(UTC)
    with c.db.write() as conn:
        add_channel(conn, at=now, code="api", kind="api")
        add_customer(conn, at=now, account="C-001")
        warehouse = add_warehouse(conn, at=now, code="BENCH")
        stock_products(conn, [(f"B-{i:05d}", f"Bench {i}") for i in range(skus)] + [("HOT-1", "Hot item")],
                       warehouse_id=warehouse, stock=STOCK, at=now)
        user = add_user(conn, at=now, role="manager", email="bench@example.com")
        token = identity.create_token(conn, user_id=user, name="bench", at=now).token
    if c.db.dialect == "postgresql":
        with c.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # Only the tables that hold data now. ANALYZE of the empty order tables would record "0 rows", and
            # the foreign-key checks planned from that scan `orders` sequentially on every line inserted: a
            # cost that grows with every order (a fresh installation instead has never-analysed tables, which
            # the planner assumes hold some pages, and autovacuum analyses them as they fill).
            conn.execute(text("ANALYZE products, stock_levels, stock_movements, warehouses, customers, channels, "
                              "users, api_tokens"))
    c.db.dispose()
    return token, warehouse


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    # The load repeats identical orders (the hot case: one SKU, one customer), which the probable-duplicate
    # check would hold for review; real orders differ. Its cost, one indexed read per batch, is left out.
    env = {**os.environ, "CONVEYOR_DATABASE_URL": url, "CONVEYOR_LOG_LEVEL": "WARNING",
           "CONVEYOR_RELAY_ENABLED": "false", "CONVEYOR_AUTO_MIGRATE": "false",
           "CONVEYOR_DUPLICATE_WINDOW_HOURS": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "conveyor.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503):
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


@dataclass
class WrkResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_share: float

    @property
    def orders_per_s(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def cpu_seconds(server_pid: int | None = None) -> dict[str, float]:
    """CPU seconds used so far by the server's processes (when `server_pid` is given) and by PostgreSQL's
    (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"server": 0.0, "postgresql": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(pid) == server_pid or int(fields[1]) == server_pid:
            used["server"] += seconds
        elif command.startswith(b"postgres"):
            used["postgresql"] += seconds
    return used


def run_wrk(port: int, token: str, clients: int, seconds: int, skus: int, hot: bool) -> WrkResult:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    threads = min(2, clients)
    env = {**os.environ, "INTAKE_TOKEN": token, "INTAKE_SKUS": str(skus), "INTAKE_HOT": "1" if hot else "0"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    out = subprocess.run([wrk, f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s",
                          "-s", str(HERE / "intake.lua"), f"http://127.0.0.1:{port}"],
                         env=env, capture_output=True, text=True, timeout=seconds + 60)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    match = re.search(r"WRK requests=(\d+) errors_status=(\d+) errors_other=(\d+) duration_us=(\d+) "
                      r"p50_us=(\d+) p99_us=(\d+)", out.stdout)
    if not match:
        raise RuntimeError(f"wrk said: {out.stdout}\n{out.stderr}")
    req, bad, other, dur, p50, p99 = map(int, match.groups())
    return WrkResult(req, bad + other, dur / 1e6, p50 / 1000, p99 / 1000, cpu / (wall * (os.cpu_count() or 1)))


def floor(url: str, warehouse: int, skus: int, threads: int, seconds: float) -> float:
    """The order transaction as plain SQL through the driver: reserve 3 lines, order, lines,
    reservations, movements, timeline, outbox; one transaction per order. Orders per second."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                           if url.startswith("postgresql") else url, pool_size=threads, max_overflow=0)
    ids = {}
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT sku, id FROM products")).all())
        channel = conn.execute(text("SELECT id FROM channels")).scalar()
        customer = conn.execute(text("SELECT id FROM customers")).scalar()
    sqlite = url.startswith("sqlite")
    stop = time.monotonic() + seconds
    done = [0] * threads
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if sqlite else now
    address = '{"name":"B","line1":"L","city":"C","postal_code":"1016 GV","country":"NL"}'

    writer = threading.Lock()  # SQLite: one writer at a time, queued fairly (as the application does)

    def worker(n: int) -> None:
        rng = random.Random(n)
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            ph = "?" if sqlite else "%s"

            def q(sql: str) -> str:
                return sql.replace("%s", ph)

            while time.monotonic() < stop:
                lines = sorted(ids[f"B-{rng.randrange(skus):05d}"] for _ in range(3))
                if sqlite:
                    writer.acquire()
                    cur.execute("BEGIN IMMEDIATE")
                for p in lines:
                    cur.execute(q("UPDATE stock_levels SET reserved = reserved + 1 WHERE product_id = %s AND "
                                  "warehouse_id = %s AND on_hand - reserved - safety >= 1"), (p, warehouse))
                cur.executemany(q("INSERT INTO stock_movements (product_id, warehouse_id, kind, on_hand_delta, "
                                  "reserved_delta, reference, actor, at) VALUES (%s, %s, 'reservation', 0, 1, "
                                  "'floor', 'floor', %s)"), [(p, warehouse, stamp) for p in lines])
                cur.execute(q("INSERT INTO orders (channel_id, external_id, customer_id, currency, stage, "
                              "stage_entered_at, priority, bill_to, ship_to, tags, subtotal_minor, discount_minor, "
                              "tax_minor, shipping_minor, total_minor, created_by, created_at, updated_at) VALUES "
                              "(%s, %s, %s, 'EUR', 'received', %s, 0, %s, %s, '[]', 2997, 0, 0, 0, 2997, 'floor', "
                              "%s, %s) RETURNING id"),
                            (channel, f"F{n}-{done[n]}-{rng.random()}", customer, stamp, address, address, stamp,
                             stamp))
                order_id = cur.fetchone()[0]
                cur.executemany(q("INSERT INTO order_lines (order_id, line_no, product_id, sku, name, quantity, "
                                  "unit_price_minor, discount_minor, tax_minor, total_minor) VALUES "
                                  "(%s, %s, %s, 'x', 'x', 1, 999, 0, 0, 999)"),
                                [(order_id, i + 1, p) for i, p in enumerate(lines)])
                cur.executemany(q("INSERT INTO reservations (kind, order_id, line_no, product_id, warehouse_id, "
                                  "quantity, status, created_at, updated_at) VALUES ('order', %s, %s, %s, %s, 1, "
                                  "'active', %s, %s)"),
                                [(order_id, i + 1, p, warehouse, stamp, stamp) for i, p in enumerate(lines)])
                cur.executemany(q("INSERT INTO order_timeline (order_id, at, actor, kind, to_stage) VALUES "
                                  "(%s, %s, 'floor', %s, 'received')"),
                                [(order_id, stamp, "created"), (order_id, stamp, "decision")])
                cur.execute(q("INSERT INTO outbox (event, key, payload, status, attempts, created_at, "
                              "available_at) VALUES ('order.placed', %s, '{}', 'done', 0, %s, %s)"),
                            (str(order_id), stamp, stamp))
                raw.commit()
                if sqlite:
                    writer.release()
                done[n] += 1
        finally:
            raw.close()

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    engine.dispose()
    return sum(done) / (time.monotonic() - started)


def count_orders(url: str) -> int:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                           if url.startswith("postgresql") else url)
    with engine.connect() as conn:
        n = int(conn.execute(text("SELECT count(*) FROM orders")).scalar_one())
    engine.dispose()
    return n


def oversold(url: str) -> int:
    c = build(Settings(database_url=url, relay_enabled=False))
    with c.db.read() as conn:
        over = conn.execute(select(func.count()).where(stock_levels.c.reserved > stock_levels.c.on_hand)).scalar()
        differences = len(ledger.verify(conn))
    c.db.dispose()
    return int(over or 0) + differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a PostgreSQL server URL")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=0, help="uvicorn workers (default: 1 SQLite, 2 PostgreSQL)")
    parser.add_argument("--floor-threads", type=int, default=8)
    args = parser.parse_args()

    target = make_database(args.database, "intake")
    server = None
    try:
        token, warehouse = seed(target.url, args.skus)
        sqlite = target.url.startswith("sqlite")
        workers = args.workers or (1 if sqlite else 2)
        port = free_port()
        server = start_server(target.url, port, workers)
        print(f"intake benchmark: {os.cpu_count()} CPUs, {'SQLite' if sqlite else 'PostgreSQL'}, "
              f"{workers} worker(s), {args.clients} clients, {args.seconds} s per phase, {args.skus} SKUs")
        run_wrk(port, token, min(8, args.clients), 2, args.skus, hot=False)  # warm-up, untimed
        orders_before = count_orders(target.url)
        cpu_before = cpu_seconds(server.pid)
        spread = run_wrk(port, token, args.clients, args.seconds, args.skus, hot=False)
        cpu_after = cpu_seconds(server.pid)
        new_orders = count_orders(target.url) - orders_before
        print(f"  spread  {spread.orders_per_s:9.1f} orders/s  p50 {spread.p50_ms:7.1f} ms  p99 "
              f"{spread.p99_ms:7.1f} ms  errors {spread.errors}  wrk CPU share {spread.cpu_share:.1%}")
        answered = spread.requests - spread.errors
        per_order = {k: 1000 * (cpu_after[k] - cpu_before[k]) / max(1, answered) for k in cpu_after}
        print(f"          CPU per order: server {per_order['server']:.2f} ms, PostgreSQL "
              f"{per_order['postgresql']:.2f} ms; {new_orders} new orders for {answered} answers "
              f"(fewer orders would mean replays; a few more, requests in flight when wrk stopped)")
        hot = run_wrk(port, token, args.clients, max(5, args.seconds // 2), args.skus, hot=True)
        print(f"  hot SKU {hot.orders_per_s:9.1f} orders/s  p50 {hot.p50_ms:7.1f} ms  p99 {hot.p99_ms:7.1f} ms  "
              f"errors {hot.errors}  wrk CPU share {hot.cpu_share:.1%}")
        server.terminate()
        server.wait(timeout=30)
        server = None
        pg_before = cpu_seconds()["postgresql"]
        floor_seconds = min(10.0, args.seconds)
        floor_rate = floor(target.url, warehouse, args.skus, args.floor_threads, floor_seconds)
        floor_pg = 1000 * (cpu_seconds()["postgresql"] - pg_before) / max(1.0, floor_rate * floor_seconds)
        print(f"  floor   {floor_rate:9.1f} orders/s  (plain SQL, {args.floor_threads} threads, no application; "
              f"PostgreSQL CPU per order {floor_pg:.2f} ms)")
        bad = oversold(target.url)
        floor_ratio = spread.orders_per_s / floor_rate if floor_rate else 0.0
        hot_ratio = hot.orders_per_s / spread.orders_per_s if spread.orders_per_s else 0.0
        print(f"intake: orders_per_s={spread.orders_per_s:.1f} p50_ms={spread.p50_ms:.1f} p99_ms={spread.p99_ms:.1f} "
              f"floor_orders_per_s={floor_rate:.1f} floor_ratio={floor_ratio:.3f} hot_ratio={hot_ratio:.3f} "
              f"oversold={bad}")
    finally:
        if server is not None:
            server.kill()
        target.cleanup()  # type: ignore[operator]


if __name__ == "__main__":
    main()
