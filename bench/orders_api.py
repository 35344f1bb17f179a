"""How fast does Conveyor take orders through its HTTP API, and what does HTTP cost over the handler?

    python bench/orders_api.py                        # SQLite (temp file), 8 clients, 2000 orders
    python bench/orders_api.py --clients 4 --orders 500
    python bench/orders_api.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

For each database it:
1. migrates a fresh database and seeds reference data (seed_basics plus --products extra SKUs) and a
   manager's API token;
2. starts the real app under uvicorn in a child process on a free 127.0.0.1 port (so the clients below do
   not share the server's interpreter);
3. places 3-line orders with random SKUs through `POST /api/v1/orders`: first one client for --serial
   orders (latency without queueing), then --clients threads with an httpx.Client each for --orders orders;
4. stops the server and places --direct orders in this process through
   `conveyor.orders.handlers.place_order` (same bodies, parsed by the same `OrderIn`, no HTTP), the baseline.

It prints orders/s and p50/p95/p99 latencies per phase, and HTTP/direct ratios. Every phase stops at
--orders (or --serial, --direct) orders or after --time-limit seconds, whichever comes first. Traffic goes
only to 127.0.0.1. With --postgres, URL names a server (any database on it, e.g. /postgres): a throwaway
database `conveyor_bench_<random>` is created there and dropped at the end.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ADDRESS = {"name": "Anna de Vries", "company": "De Vries Bakkerij", "line1": "Prinsengracht 263",
           "city": "Amsterdam", "postal_code": "1016 GV", "country": "NL"}
START_TIMEOUT_S = 60.0


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful orders only
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.wall if self.wall else 0.0

    def pct(self, p: float) -> float:
        """The p-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000

    def line(self) -> str:
        mean = statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")
        text = (f"  {self.name:<26} {self.ok:>6} orders in {self.wall:6.2f} s = {self.rate:8.1f} orders/s   "
                f"p50 {self.pct(50):7.2f} ms  p95 {self.pct(95):7.2f} ms  p99 {self.pct(99):7.2f} ms  "
                f"mean {mean:7.2f} ms")
        if self.errors:
            text += f"\n    {len(self.errors)} failed, e.g. {self.errors[0][:200]}"
        return text


# --- the database -------------------------------------------------------------------------------------

@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text

    name = f"conveyor_bench_{uuid.uuid4().hex[:10]}"
    admin_url = server_url.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settings_for(url: str, args: argparse.Namespace) -> Any:
    from conveyor.settings import Settings

    # Identical orders again and again: the probable-duplicate check (which would hold them) is off.
    return Settings(database_url=url, relay_enabled=args.relay, auto_migrate=False, log_level=args.log_level,
                    duplicate_window_hours=0)


def prepare(url: str, args: argparse.Namespace) -> tuple[str, list[str]]:
    """Migrates and seeds the database; returns a manager's API token and every SKU."""
    from conveyor.bootstrap import build
    from conveyor.identity import service as identity
    from conveyor.platform.migrations import upgrade
    from conveyor.testing.factories import add_product, seed_basics

    container = build(settings_for(url, args))
    try:
        upgrade(container.db)
        now = container.clock.now()
        with container.db.write() as conn:
            ids = seed_basics(conn, at=now)
            skus = list(ids["products"])
            for i in range(1, args.products + 1):
                sku = f"BENCH-{i:05d}"
                add_product(conn, at=now, sku=sku, name=f"Bench product {i}")
                skus.append(sku)
            token = identity.create_token(conn, user_id=ids["users"]["manager"], name="bench", at=now)
        return token.token, skus
    finally:
        container.db.dispose()


def order_bodies(skus: list[str], n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    bodies = []
    for _ in range(n):
        lines = [{"sku": sku, "quantity": rng.randint(1, 5), "unit_price": f"{rng.randint(100, 9999) / 100:.2f}",
                  "tax": "0.00"} for sku in rng.sample(skus, 3)]
        bodies.append({"customer": rng.choice(["C-001", "C-002"]), "currency": "EUR", "ship_to": ADDRESS,
                       "lines": lines, "shipping": "4.95", "tags": ["bench"]})
    return bodies


# --- the server -----------------------------------------------------------------------------------------

def _serve(url: str, port: int, args: argparse.Namespace) -> None:
    import uvicorn

    from conveyor.app import create_app
    from conveyor.bootstrap import build

    app = create_app(container=build(settings_for(url, args)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(url: str, args: argparse.Namespace) -> Iterator[str]:
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(url, port, args), daemon=True)
    process.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if not process.is_alive() or time.monotonic() > deadline:
                raise SystemExit(f"the server did not answer on {base}/healthz within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()  # SIGTERM: uvicorn shuts down gracefully
        process.join(timeout=15)
        if process.is_alive():
            process.kill()
            process.join()


# --- the phases -----------------------------------------------------------------------------------------

def http_phase(name: str, base: str, token: str, bodies: list[dict[str, Any]], clients: int,
               time_limit: float) -> Phase:
    phase = Phase(name)
    counter = itertools.count()
    lock = threading.Lock()
    deadline = time.monotonic() + time_limit

    def client() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as http:
            while time.monotonic() < deadline:
                i = next(counter)
                if i >= len(bodies):
                    return
                started = time.perf_counter()
                try:
                    r = http.post("/api/v1/orders", json=bodies[i])
                    ok, error = r.status_code == 201, f"{r.status_code} {r.text}"
                except httpx.HTTPError as exc:
                    ok, error = False, f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - started
                with lock:
                    if ok:
                        phase.latencies.append(elapsed)
                    else:
                        phase.errors.append(error)

    threads = [threading.Thread(target=client, name=f"bench-client-{n}") for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.wall = time.perf_counter() - started
    return phase


def direct_phase(url: str, args: argparse.Namespace, bodies: list[dict[str, Any]]) -> Phase:
    from conveyor.bootstrap import build
    from conveyor.orders import handlers
    from conveyor.orders.commands import PlaceOrder
    from conveyor.orders.schemas import OrderIn

    phase = Phase("direct place_order (1 thr)")
    container = build(settings_for(url, args))
    deadline = time.monotonic() + args.time_limit
    started = time.perf_counter()
    try:
        for body in bodies:
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            try:
                draft = OrderIn.model_validate(body).to_draft()
                handlers.place_order(PlaceOrder(draft=draft, actor="system:bench"), uow=container.uow(),
                                     config=container.lifecycle)
                phase.latencies.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - a benchmark reports failures and goes on
                phase.errors.append(f"{type(exc).__name__}: {exc}")
        phase.wall = time.perf_counter() - started
    finally:
        container.db.dispose()
    return phase


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def run(label: str, database: Callable[[], Any], args: argparse.Namespace) -> None:
    print(f"\n== {label}: {args.clients} clients, {args.orders} orders (+{args.serial} serial, "
          f"{args.direct} direct), {args.products} extra products", flush=True)
    with database() as url:
        t0 = time.perf_counter()
        token, skus = prepare(url, args)
        bodies = order_bodies(skus, args.warmup + args.serial + args.orders + args.direct, args.seed)
        warm, rest = bodies[:args.warmup], bodies[args.warmup:]
        serial, rest = rest[:args.serial], rest[args.serial:]
        loaded, direct = rest[:args.orders], rest[args.orders:]
        print(f"  seeded in {time.perf_counter() - t0:.1f} s", flush=True)
        with running_server(url, args) as base:
            http_phase("warm-up", base, token, warm, 1, args.time_limit)
            one = http_phase("HTTP, 1 client", base, token, serial, 1, args.time_limit)
            print(one.line(), flush=True)
            many = http_phase(f"HTTP, {args.clients} clients", base, token, loaded, args.clients, args.time_limit)
            print(many.line(), flush=True)
        base_line = direct_phase(url, args, direct)
        print(base_line.line(), flush=True)
    print(f"  HTTP/direct time per order (p50, 1 client): {ratio(one.pct(50), base_line.pct(50))}; "
          f"throughput direct/HTTP({args.clients} clients): {ratio(base_line.rate, many.rate)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (default 8)")
    parser.add_argument("--orders", type=int, default=2000, help="orders placed by the concurrent clients")
    parser.add_argument("--serial", type=int, default=200, help="orders placed first by one client")
    parser.add_argument("--direct", type=int, default=500, help="orders placed directly through the handler")
    parser.add_argument("--warmup", type=int, default=20, help="untimed orders before measuring")
    parser.add_argument("--products", type=int, default=1000, help="extra products besides SKU-1..SKU-5")
    parser.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (a server URL; a throwaway "
                                                          "database is created on it)")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false", help="skip the SQLite run")
    parser.add_argument("--relay", action="store_true", help="run the outbox relay thread in the server")
    parser.add_argument("--log-level", default="WARNING", help="the server's log level (INFO logs each request)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds at most per phase")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if min(args.clients, args.orders, args.serial, args.direct) < 1:
        parser.error("--clients, --orders, --serial and --direct must be at least 1")
    print(f"Conveyor order API benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if args.sqlite:
        run("SQLite", sqlite_database, args)
    if args.postgres:
        run("PostgreSQL", lambda: postgres_database(args.postgres), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
