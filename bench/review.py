"""Review benchmark: what automatic review adds to placing an order, at 50 rules (issue 5).

    python bench/review.py --database sqlite|URL [--rules 50 --orders 2000 --history 5000]

URL is `sqlite` (a temp file, the default) or a PostgreSQL server URL (a throwaway database is created on it
and dropped afterwards). The script migrates the schema and loads 200 customers (some with licences and saved
addresses), 500 products (some regulated or cold-chain) with plenty of stock, and `--history` earlier orders
spread over 30 days, so history, exposure and velocity queries read real rows. It publishes a rule set of
`--rules` rules: the standard rules plus conditions and thresholds of every kind, all switched on.

Then, in the same process:
- evaluation alone: `review.evaluate` over prepared facts of every order (no database), per order;
- intake: `--orders` orders placed one at a time through `orders.handlers.place_order` (the code every entry
  point uses), alternating between no rules (the baseline: orders wait in 'received') and the rule set, so both
  see the same database; each placement's wall time.

It prints p50/p95/p99 per case and ends with one line:
`review: rules=<n> eval_p50_us=<n> eval_p99_us=<n> baseline_p50_ms=<n> baseline_p99_ms=<n> reviewed_p50_ms=<n>
reviewed_p99_ms=<n> added_p50_ms=<n> added_p99_ms=<n> ratio_p50=<n>` (added = with rules minus without).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.databases import make_database, stock_products  # noqa: E402
from conveyor.bootstrap import Container, build  # noqa: E402
from conveyor.catalog.tables import products  # noqa: E402
from conveyor.customers.tables import customer_addresses, customer_licences, customers  # noqa: E402
from conveyor.kernel.clock import FixedClock  # noqa: E402
from conveyor.orders import handlers  # noqa: E402
from conveyor.orders.commands import PlaceOrder  # noqa: E402
from conveyor.orders.domain import LineDraft, OrderDraft  # noqa: E402
from conveyor.orders.tables import orders  # noqa: E402
from conveyor.platform.migrations import upgrade  # noqa: E402
from conveyor.platform.uow import UnitOfWork  # noqa: E402
from conveyor.review.catalogue import check_rule, fact_needs, rule_from_fields, standard_rules  # noqa: E402
from conveyor.review.evaluate import evaluate  # noqa: E402
from conveyor.review.facts import facts_for_orders  # noqa: E402
from conveyor.review.tables import order_holds  # noqa: E402
from conveyor.settings import Settings  # noqa: E402
from conveyor.testing.factories import add_channel, add_warehouse  # noqa: E402
from conveyor.testing.review import publish_rules  # noqa: E402

COUNTRIES = ["NL", "NL", "NL", "DE", "DE", "BE", "FR", "GB", "US"]
POSTAL = {"NL": "1016 GV", "DE": "10115", "BE": "1000", "FR": "75001", "GB": "SW1A 1AA", "US": "10001"}
SERVICES = [None, "standard", "express", "chilled", "ground"]


def address(rng: random.Random, n: int, country: str | None = None) -> dict[str, Any]:
    country = country or rng.choice(COUNTRIES)
    line1 = f"PO Box {n}" if rng.random() < 0.01 else f"Main Street {n}"
    return {"name": f"Buyer {n}", "line1": line1, "city": "Town", "postal_code": POSTAL[country],
            "country": country, "phone": "+31 20 555 0100" if rng.random() < 0.9 else None}


def fifty_rules(count: int) -> list[dict[str, Any]]:
    """The standard rules plus more of every kind with other thresholds, up to `count`, all valid."""
    rules = [check_rule(**{k: v for k, v in r.items() if k != "enabled"}) for r in standard_rules()]
    extra: list[dict[str, Any]] = []
    n = 0
    while len(rules) + len(extra) < count:
        n += 1
        variants = [
            dict(kind="order_value", params={"threshold": f"{5000 + 250 * n}.00"}, reason="order_value"),
            dict(kind="order_quantity", params={"max_units": 400 + n, "max_line_units": 200 + n}, reason="order_value"),
            dict(kind="velocity", params={"max_orders": 8 + n, "hours": 24, "per": "address"}, reason="fraud"),
            dict(kind="address_fields", params={"fields": ["phone"], "countries": ["US", "GB"]}, reason="address"),
            dict(kind="postal_code", params={}, reason="address"),
            dict(kind="new_ship_to", params={"min_total": f"{3000 + 100 * n}.00"}, reason="address"),
            dict(kind="condition", reason="other", params={"match": "all", "clauses": [
                {"fact": "order.total", "op": "ge", "value": f"{8000 + n}.00"},
                {"fact": "customer.rating", "op": "in", "value": ["D", "E"]}]}),
            dict(kind="condition", reason="compliance", params={"match": "any", "clauses": [
                {"fact": "line.sku", "op": "contains", "value": f"BANNED-{n}"},
                {"fact": "ship_to.country", "op": "in", "value": ["KP", "IR"]}]}),
        ]
        variant = variants[n % len(variants)]
        extra.append(check_rule(name=f"Extra {n}: {variant['kind']}", outcome="hold", check=None,
                                priority=200 + n, **variant))
    return (rules + extra)[:count]


def publish(c: Container, fields: list[dict[str, Any]]) -> None:
    publish_rules(c, [dict(rule_no=no, version=1, name=f["name"], kind=f["kind"], params=f["params"],
                           outcome=f["outcome"], reason=f["reason"], check_name=f["check"], priority=f["priority"])
                      for no, f in enumerate(fields, start=1)], by="system:bench")


def load(c: Container, rng: random.Random, n_customers: int, n_products: int) -> dict[str, Any]:
    at = c.clock.now() - timedelta(days=60)
    with c.db.write() as conn:
        add_channel(conn, at=at, code="api", kind="api", name="REST API")
        warehouse = add_warehouse(conn, at=at, code="WH1")
        stock_products(conn, [(f"SKU-{i:05d}", f"Product {i}") for i in range(n_products)], warehouse_id=warehouse,
                       stock=10_000_000, at=at)
        conn.execute(update(products).where(products.c.sku.like("SKU-0000%")).values(regulated=True))
        conn.execute(update(products).where(products.c.sku.like("SKU-0001%")).values(cold_chain=True))
        rows = [dict(account=f"C-{i:04d}", name=f"Customer {i}", email=f"c{i}@example.com", phone=None,
                     credit_limit_minor=rng.choice([500_000, 20_000_000, 50_000_000, 100_000_000]), currency="EUR",
                     credit_rating=rng.choice("AABBBCCD"), payment_terms=rng.choice(["prepaid", "net30", "net60"]),
                     active=True, created_at=at if i % 10 else c.clock.now() - timedelta(days=3), updated_at=at)
                for i in range(n_customers)]
        conn.execute(insert(customers), rows)
        ids = dict(conn.execute(select(customers.c.account, customers.c.id)).all())
        homes = {account: address(rng, i) for i, account in enumerate(ids)}
        conn.execute(insert(customer_addresses), [dict(customer_id=cid, kind="shipping", is_default=True,
                                                       **homes[account]) for account, cid in ids.items()])
        conn.execute(insert(customer_licences), [dict(customer_id=cid, kind="pharmacy", number=f"L-{cid}",
                                                      valid_from=date(2020, 1, 1), valid_until=date(2030, 1, 1),
                                                      created_at=at, created_by="system:bench")
                                                 for cid in ids.values() if rng.random() < 0.8])
    return {"accounts": list(ids), "homes": homes, "skus": [f"SKU-{i:05d}" for i in range(n_products)]}


def draft(rng: random.Random, world: dict[str, Any], n: int) -> OrderDraft:
    account = rng.choice(world["accounts"])
    ship_to = world["homes"][account] if rng.random() < 0.85 else address(rng, 10_000 + n)
    bill_to = None if rng.random() < 0.97 else address(rng, 20_000 + n, "DE" if ship_to["country"] != "DE" else "NL")
    lines = tuple(LineDraft(sku, rng.randint(1, 5), Decimal(rng.choice(["2.50", "19.99", "149.00", "899.00"])))
                  for sku in rng.sample(world["skus"], rng.randint(1, 4)))
    return OrderDraft(channel="api", customer=account, currency="EUR", lines=lines, ship_to=ship_to, bill_to=bill_to,
                      shipping_service=rng.choice(SERVICES))


def history(c: Container, rng: random.Random, world: dict[str, Any], n: int) -> None:
    """Earlier orders over the last 30 days (placed without rules, through the real path)."""
    clock = c.clock
    assert isinstance(clock, FixedClock)
    now = clock.now()
    for i in range(n):
        clock.set(now - timedelta(days=30) + timedelta(seconds=30 * 86400 * i / n))
        handlers.place_order(PlaceOrder(draft=draft(rng, world, i), actor="system:bench"),
                             uow=UnitOfWork(c.db, clock), config=c.lifecycle)
    clock.set(now)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a PostgreSQL server URL")
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--orders", type=int, default=2000, help="orders placed in each case")
    parser.add_argument("--history", type=int, default=5000, help="earlier orders loaded first")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    target = make_database(args.database, "review")
    c: Container | None = None
    try:
        fixed = FixedClock(datetime.now(UTC))
        c = build(Settings(database_url=target.url, relay_enabled=False, auto_migrate=False, log_level="WARNING",
                           duplicate_window_hours=24), clock=fixed)
        upgrade(c.db)
        started = time.monotonic()
        world = load(c, rng, 200, 500)
        history(c, rng, world, args.history)
        fields = fifty_rules(args.rules)
        name = "SQLite" if c.db.dialect == "sqlite" else "PostgreSQL"
        print(f"review benchmark: {name}, {len(fields)} rules, {args.history} earlier orders, loaded in "
              f"{time.monotonic() - started:.1f} s", flush=True)

        # Evaluation alone, over the facts of the stored orders (no database in the loop).
        rules = [rule_from_fields(no, 1, True, f) for no, f in enumerate(fields, start=1)]
        with c.db.read() as conn:
            ids = list(conn.execute(select(orders.c.id).order_by(orders.c.id.desc()).limit(2000)).scalars())
            facts = list(facts_for_orders(conn, ids, fact_needs(rules)).values())
        evals: list[float] = []
        for f in facts * 5:
            t0 = time.perf_counter_ns()
            evaluate(rules, f)
            evals.append((time.perf_counter_ns() - t0) / 1000)
        e50, e95, e99 = percentiles(evals)
        print(f"  evaluate {len(rules)} rules: {len(evals)} orders, p50 {e50:.1f} µs, p95 {e95:.1f} µs, "
              f"p99 {e99:.1f} µs")

        # Intake: the same placement with and without the rule set, alternating (the rule set is cached as in
        # production; without it, `rules=None` is what a database with no published set does).
        publish(c, fields)
        baseline: list[float] = []
        reviewed: list[float] = []
        outcomes: Counter[str] = Counter()
        for i in range(args.orders * 2):
            with_rules = i % 2 == 1
            fixed.set(fixed.now() + timedelta(seconds=180))  # a busy day's pace per customer
            cmd = PlaceOrder(draft=draft(rng, world, 100_000 + i), actor="system:bench")
            t0 = time.perf_counter()
            placed = handlers.place_order(cmd, uow=c.uow(), config=c.lifecycle,
                                          rules=c.review_rules if with_rules else None,
                                          duplicate_window=c.duplicate_window)
            elapsed = (time.perf_counter() - t0) * 1000
            (reviewed if with_rules else baseline).append(elapsed)
            if with_rules:
                with c.db.read() as conn:
                    held = conn.execute(select(order_holds.c.reason).where(
                        order_holds.c.order_id == placed.order_id)).scalars().all()
                outcomes.update(held or ["approved"])
        b50, b95, b99 = percentiles(baseline)
        r50, r95, r99 = percentiles(reviewed)
        print(f"  place without rules: {len(baseline)} orders, p50 {b50:.2f} ms, p95 {b95:.2f} ms, p99 {b99:.2f} ms")
        print(f"  place with {len(rules)} rules: {len(reviewed)} orders, p50 {r50:.2f} ms, p95 {r95:.2f} ms, "
              f"p99 {r99:.2f} ms")
        approved = outcomes["approved"] / args.orders
        print(f"  holds with rules (synthetic data: a load, not a shop's mix): {dict(outcomes.most_common())} "
              f"(approved {approved:.1%})")
        print(f"review: rules={len(rules)} eval_p50_us={e50:.1f} eval_p99_us={e99:.1f} baseline_p50_ms={b50:.2f} "
              f"baseline_p99_ms={b99:.2f} reviewed_p50_ms={r50:.2f} reviewed_p99_ms={r99:.2f} "
              f"added_p50_ms={r50 - b50:.2f} added_p99_ms={r99 - b99:.2f} ratio_p50={r50 / b50:.2f}")
    finally:
        if c is not None:
            c.close()
            c.db.dispose()
        target.cleanup()


if __name__ == "__main__":
    main()
