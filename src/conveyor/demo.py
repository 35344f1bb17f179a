"""Demo data: warehouses in several cities, a few hundred products, a hundred customers and about a
thousand orders with a believable 30-day history.

Orders are replayed through the real handlers with a clock set to each moment, so their timelines, SLA
due times and outbox events are exactly what the product itself would have written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, insert, select

from conveyor.bootstrap import Container
from conveyor.catalog.tables import products
from conveyor.channels.tables import channels
from conveyor.customers.tables import customer_addresses, customer_contacts, customer_licences, customers
from conveyor.identity import service as identity
from conveyor.identity.permissions import Role
from conveyor.inventory import ledger
from conveyor.inventory.ledger import Move
from conveyor.kernel.clock import FixedClock
from conveyor.orders import handlers
from conveyor.orders.commands import MoveOrder, PlaceOrder
from conveyor.orders.domain import LineDraft, OrderDraft
from conveyor.orders.lifecycle import Action
from conveyor.orders.tables import orders
from conveyor.platform.console import make_console
from conveyor.platform.uow import UnitOfWork
from conveyor.review import actions as review_actions
from conveyor.review import rulesets
from conveyor.review.tables import review_cases
from conveyor.warehouses.tables import warehouses

DEMO_PASSWORD = "conveyor-demo"
DEMO_USERS: list[tuple[str, str]] = [
    ("admin@conveyor.demo", Role.ADMIN.value),
    ("manager@conveyor.demo", Role.MANAGER.value),
    ("service@conveyor.demo", Role.CUSTOMER_SERVICE.value),
    ("finance@conveyor.demo", Role.FINANCE.value),
    ("warehouse@conveyor.demo", Role.WAREHOUSE.value),
    ("customer@conveyor.demo", Role.CUSTOMER.value),
    ("partner@conveyor.demo", Role.PARTNER.value),
]
_NAMES = {
    "admin@conveyor.demo": "Alex Admin", "manager@conveyor.demo": "Mira Manager",
    "service@conveyor.demo": "Sam Service", "finance@conveyor.demo": "Femke Finance",
    "warehouse@conveyor.demo": "Wout Warehouse", "customer@conveyor.demo": "Carla Customer",
    "partner@conveyor.demo": "Pieter Partner",
}

WAREHOUSES = [
    ("RTM", "Rotterdam Port DC", "Waalhaven Oostzijde 1", "Rotterdam", "3087 BM", "NL", 51.8950, 4.4300, 10),
    ("VNL", "Venlo Fulfilment", "Celsiusweg 20", "Venlo", "5928 PR", "NL", 51.3800, 6.1700, 20),
    ("LEJ", "Leipzig Hub", "Am Exer 10", "Leipzig", "04158", "DE", 51.4200, 12.2300, 30),
    ("LYS", "Lyon Saint-Exupéry", "Rue de Finlande 5", "Colombier-Saugnieu", "69124", "FR", 45.7250, 5.0810, 40),
    ("MXP", "Milano Logistica", "Via Roma 100", "Lonate Pozzolo", "21015", "IT", 45.6000, 8.7500, 50),
]

CHANNELS = [
    ("api", "REST API", "api"), ("webshop", "Own web shop", "webshop"), ("shopify", "Shopify store", "shopify"),
    ("amazon", "Amazon EU", "amazon"), ("edi", "EDI trading partners", "edi_x12"), ("phone", "Phone orders", "phone"),
    ("csv", "Spreadsheet uploads", "csv"),
]
CHANNEL_WEIGHTS = [10, 35, 20, 15, 10, 5, 5]

CATEGORIES: list[tuple[str, list[str], list[str], tuple[int, int], dict[str, bool]]] = [
    ("COF", ["Espresso beans", "Filter coffee", "Decaf beans", "Cold brew concentrate"],
     ["Colombia", "Ethiopia Yirgacheffe", "Brazil Santos", "Guatemala", "House blend", "Sumatra"], (799, 2999), {}),
    ("TEA", ["Green tea", "Black tea", "Herbal infusion", "Matcha"],
     ["Sencha", "Assam", "Earl Grey", "Rooibos", "Chamomile", "Ceremonial"], (399, 2499), {}),
    ("KIT", ["Pour-over kettle", "Burr grinder", "Milk jug", "Scale", "French press"],
     ["0.6 l", "1.0 l", "steel", "black", "copper", "pro"], (1499, 18999), {}),
    ("DAI", ["Oat milk", "Whole milk", "Cream", "Butter"],
     ["1 l", "6 × 1 l", "barista", "organic", "250 g"], (149, 1899), {"cold_chain": True}),
    ("FRZ", ["Croissants", "Pain au chocolat", "Bagels"], ["12 pcs", "24 pcs", "48 pcs"], (899, 3999),
     {"cold_chain": True}),
    ("SUP", ["Vitamin D3", "Melatonin", "Caffeine tablets"], ["60 tabs", "120 tabs"], (599, 2499),
     {"regulated": True}),
    ("CLN", ["Descaler", "Grinder cleaner", "Espresso machine cleaner"], ["250 ml", "1 l", "tablets"], (499, 1999),
     {"hazardous": True}),
    ("PKG", ["Paper cups", "Lids", "Stirrers", "Napkins"], ["100 pcs", "500 pcs", "1000 pcs"], (299, 4999), {}),
]

FIRST = ["Anna", "Bram", "Chloé", "Daan", "Elif", "Finn", "Greta", "Hugo", "Ines", "Jonas", "Katja", "Lars",
         "Marta", "Noah", "Olga", "Pim", "Quentin", "Rosa", "Sven", "Tess", "Umut", "Vera", "Wim", "Xenia",
         "Yara", "Zoë", "Luca", "Sofia", "Matteo", "Léa"]
LAST = ["de Vries", "Jansen", "Müller", "Schmidt", "Dubois", "Rossi", "Bakker", "Visser", "Weber", "Martin",
        "Bianchi", "Peeters", "Meijer", "Fischer", "Bernard", "Romano", "Claes", "Smit", "Wagner", "Leroy"]
BUSINESS = ["Koffiebar", "Café", "Hotel", "Bakkerij", "Kantine", "Espresso Lab", "Bistro", "Coworking",
            "Trattoria", "Brasserie"]
ADDRESSES = [  # (street, city, postal code, country, region)
    ("Prinsengracht {n}", "Amsterdam", "10{a}{b} GV", "NL", None),
    ("Oudegracht {n}", "Utrecht", "35{a}{b} AB", "NL", None),
    ("Coolsingel {n}", "Rotterdam", "30{a}{b} AD", "NL", None),
    ("Grote Markt {n}", "Groningen", "97{a}{b} LV", "NL", None),
    ("Meir {n}", "Antwerpen", "20{a}{b}", "BE", None),
    ("Rue Neuve {n}", "Bruxelles", "10{a}{b}", "BE", None),
    ("Torstraße {n}", "Berlin", "101{a}{b}", "DE", None),
    ("Schanzenstraße {n}", "Hamburg", "203{a}{b}", "DE", None),
    ("Zeil {n}", "Frankfurt am Main", "603{a}{b}", "DE", None),
    ("Rue de la République {n}", "Lyon", "690{a}{b}", "FR", None),
    ("Rue Oberkampf {n}", "Paris", "750{a}{b}", "FR", None),
    ("Via Torino {n}", "Milano", "201{a}{b}", "IT", None),
    ("Carrer de Mallorca {n}", "Barcelona", "080{a}{b}", "ES", None),
    ("Mariahilfer Straße {n}", "Wien", "10{a}{b}", "AT", None),
]

# How long each step usually takes (minutes: low, high); a few orders take much longer (SLA breaches).
STEP_MINUTES: list[tuple[Action, tuple[int, int], str]] = [
    (Action.REVIEW, (2, 40), "service@conveyor.demo"),
    (Action.APPROVE, (5, 70), "service@conveyor.demo"),
    (Action.RESERVE, (5, 90), "warehouse@conveyor.demo"),
    (Action.PICK, (30, 220), "warehouse@conveyor.demo"),
    (Action.PACK, (20, 200), "warehouse@conveyor.demo"),
    (Action.SHIP, (30, 110), "warehouse@conveyor.demo"),
    (Action.DELIVER, (18 * 60, 60 * 60), "system:carrier-tracking"),
    (Action.CLOSE, (4 * 60, 30 * 60), "finance@conveyor.demo"),
]
APPROVE_COMMENTS = ["Called the customer: order confirmed", "Known customer, credit checked with finance",
                    "Address confirmed by phone", "Licence copy received by e-mail", "Payment received"]
TAGS = ["b2b", "gift", "express", "first-order", "repeat"]
HOLD_REASONS = ["Address could not be verified", "Credit limit exceeded", "Customer asked to wait",
                "Payment not received", "Possible duplicate order"]
CANCEL_REASONS = ["Customer cancelled", "Duplicate order", "Out of stock, customer declined backorder",
                  "Payment failed"]


def _gtin13(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(12)]
    digits[0:3] = [8, 7, rng.randint(0, 9)]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def _address(rng: random.Random, name: str, company: str | None) -> dict[str, Any]:
    street, city, postal, country, region = rng.choice(ADDRESSES)
    return {"name": name, "company": company, "line1": street.format(n=rng.randint(1, 300)), "city": city,
            "postal_code": postal.format(a=rng.randint(1, 9), b=rng.randint(0, 9)), "country": country,
            "region": region, "email": None, "phone": f"+31 6 {rng.randint(10000000, 99999999)}"}


@dataclass
class DemoSummary:
    warehouses: int
    products: int
    customers: int
    orders: int
    skipped: bool

    def __rich__(self) -> str:
        if self.skipped:
            return "[yellow]Demo data already loaded; nothing added.[/]"
        return (f"[green]Loaded demo data:[/] {self.warehouses} warehouses, {self.products} products, "
                f"{self.customers} customers, {self.orders} orders")


def _reference_data(conn: Any, rng: random.Random, at: datetime, n_customers: int) -> dict[str, Any]:
    conn.execute(insert(warehouses), [
        dict(code=c, name=n, line1=l1, city=city, postal_code=pc, country=cc, latitude=lat, longitude=lon,
             priority=prio, timezone="Europe/Amsterdam", active=True, created_at=at, updated_at=at)
        for c, n, l1, city, pc, cc, lat, lon, prio in WAREHOUSES])
    conn.execute(insert(channels), [
        dict(code=code, name=name, kind=kind, default_currency="EUR", active=True, created_at=at, updated_at=at)
        for code, name, kind in CHANNELS])
    rows, seen = [], set()
    for prefix, kinds, variants, (low, high), flags in CATEGORIES:
        for kind in kinds:
            for variant in variants:
                for size in ("", "XL", "Bulk") if prefix in ("COF", "PKG", "TEA") else ("", "XL"):
                    sku = f"{prefix}-{len([r for r in rows if r['sku'].startswith(prefix)]) + 1:04d}"
                    name = f"{kind} {variant}{' ' + size if size else ''}"
                    if name in seen:
                        continue
                    seen.add(name)
                    rows.append(dict(
                        sku=sku, name=name, description=None, gtin=_gtin13(rng),
                        weight_g=rng.randint(50, 5000), length_mm=rng.randint(50, 400),
                        width_mm=rng.randint(50, 300), height_mm=rng.randint(20, 300),
                        regulated=flags.get("regulated", False), cold_chain=flags.get("cold_chain", False),
                        hazardous=flags.get("hazardous", False), active=True, created_at=at, updated_at=at,
                        _price=rng.randint(low, high)))
    prices = {r["sku"]: r.pop("_price") for r in rows}
    conn.execute(insert(products), rows)
    customer_rows = []
    for i in range(1, n_customers + 1):
        person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        b2b = rng.random() < 0.6
        company = f"{rng.choice(BUSINESS)} {rng.choice(LAST)}" if b2b else None
        customer_rows.append(dict(
            account=f"C-{i:04d}", name=company or person,
            email=f"orders{i}@{'example.com' if b2b else 'mail.example'}", phone=None,
            credit_limit_minor=rng.choice([500_000, 1_000_000, 2_500_000, 5_000_000]) if b2b else 0,
            currency="EUR", credit_rating=rng.choice("AAAABBBBBBCCCC" + ("D" if i > 20 else "")),
            payment_terms=rng.choice(["net30", "net30", "net15", "net60"]) if b2b else "prepaid",
            # Most accounts are years old; a few opened this month (review watches new accounts).
            active=True, created_at=at - timedelta(days=rng.randint(40, 1500)) if rng.random() < 0.92 else
            at + timedelta(days=rng.randint(0, 20)), updated_at=at, _person=person, _company=company))
    people = [(r.pop("_person"), r.pop("_company")) for r in customer_rows]
    conn.execute(insert(customers), customer_rows)
    ids = dict(conn.execute(select(customers.c.account, customers.c.id)).all())
    addresses, contacts, ship_to = [], [], {}
    for row, (person, company) in zip(customer_rows, people, strict=True):
        address = _address(rng, person, company)
        ship_to[row["account"]] = address
        cid = ids[row["account"]]
        for kind in ("billing", "shipping"):
            addresses.append(dict(customer_id=cid, kind=kind, is_default=True, **address))
        contacts.append(dict(customer_id=cid, name=person, email=row["email"], phone=address["phone"],
                             role="purchasing" if company else None))
    conn.execute(insert(customer_addresses), addresses)
    conn.execute(insert(customer_contacts), contacts)
    # Pharmacy licences (regulated products need one valid on the order date): most business customers hold
    # one, a few have let it lapse.
    conn.execute(insert(customer_licences), [
        dict(customer_id=ids[row["account"]], kind="pharmacy", number=f"NL-APO-{rng.randint(10000, 99999)}",
             valid_from=(at - timedelta(days=700)).date(),
             valid_until=(at + timedelta(days=rng.choice([400, 700, 900]))).date() if rng.random() < 0.93
             else (at - timedelta(days=20)).date(),
             created_at=at, created_by="system:demo")
        for row in customer_rows if row["payment_terms"] != "prepaid" or rng.random() < 0.5])
    _stock(conn, rng, at)
    return {"prices": prices, "ship_to": ship_to, "accounts": list(ids),
            "cold_chain": {r["sku"]: r["cold_chain"] for r in rows}}


def _stock(conn: Any, rng: random.Random, at: datetime) -> None:
    """Opening stock through the real ledger: plenty of most SKUs in the two Dutch warehouses, some in the
    others, and a few scarce SKUs so that holds and backorders show up; safety stock on fast movers."""
    product_ids = [r.id for r in conn.execute(select(products.c.id).order_by(products.c.id))]
    warehouse_ids = [r.id for r in conn.execute(select(warehouses.c.id).order_by(warehouses.c.priority))]
    move = Move(actor="system:demo-import", at=at, reference="receipt:opening-stock", reason="Opening stock")
    for product_id in product_ids:
        scarce = rng.random() < 0.04
        for rank, warehouse_id in enumerate(warehouse_ids):
            if scarce:
                quantity = rng.choice([0, 0, 2, 5]) if rank == 0 else 0
            elif rank < 2:
                quantity = rng.randint(60, 400)
            else:
                quantity = rng.choice([0, 0, rng.randint(10, 120)])
            if quantity:
                ledger.receive(conn, product_id, warehouse_id, quantity, move)
                if quantity > 100:
                    ledger.set_safety(conn, product_id, warehouse_id, rng.choice([5, 10, 20]), at)


def _users(conn: Any, at: datetime) -> None:
    customer_id = conn.execute(select(customers.c.id).where(customers.c.account == "C-0001")).scalar_one()
    edi_id = conn.execute(select(channels.c.id).where(channels.c.code == "edi")).scalar_one()
    for email, role in DEMO_USERS:
        identity.create_user(conn, email=email, name=_NAMES[email], password=DEMO_PASSWORD, role=role, at=at,
                             customer_id=customer_id if role == Role.CUSTOMER else None,
                             channel_id=edi_id if role == Role.PARTNER else None)


def _draft(rng: random.Random, ref: dict[str, Any], number: int) -> OrderDraft:
    account = rng.choice(ref["accounts"][:20]) if rng.random() < 0.4 else rng.choice(ref["accounts"])
    channel = rng.choices([c[0] for c in CHANNELS], CHANNEL_WEIGHTS)[0]
    skus = rng.sample(list(ref["prices"]), k=rng.choice([1, 1, 2, 2, 3, 4, 6]))
    lines = []
    for sku in skus:
        quantity = rng.choice([1, 1, 1, 2, 2, 3, 5, 10, 24])
        price = Decimal(ref["prices"][sku]) / 100
        discount = (price * quantity * Decimal("0.1")).quantize(Decimal("0.01")) if rng.random() < 0.15 else 0
        tax = ((price * quantity - discount) * Decimal("0.21")).quantize(Decimal("0.01"))
        lines.append(LineDraft(sku, quantity, price, Decimal(discount), tax))
    cold = any(ref["cold_chain"].get(line.sku) for line in lines)
    service = (rng.choice(["chilled"] * 39 + ["standard"]) if cold
               else rng.choice(["standard", "standard", "standard", "express", "ground"]))
    ship_to = dict(ref["ship_to"][account])
    if rng.random() < 0.01:
        ship_to["line1"] = f"PO Box {rng.randint(100, 9999)}"
    bill_to = None
    if rng.random() < 0.015:  # billed abroad: a fraud signal review looks at
        bill_to = {**ship_to, "line1": "Bahnhofstraße 7", "city": "Zürich", "postal_code": "8001", "country": "CH"}
    return OrderDraft(
        channel=channel, customer=account, currency="EUR", lines=tuple(lines), ship_to=ship_to, bill_to=bill_to,
        shipping_service=service,
        external_id=f"{channel.upper()}-{100000 + number}",
        shipping=Decimal(rng.choice(["0", "4.95", "6.95", "12.50"])),
        tags=tuple(rng.sample(TAGS, k=rng.choice([0, 0, 1, 2]))),
        priority=rng.choice([0, 0, 0, 0, 1, 5]),
        notes=rng.choice([None, None, None, "Deliver to the back entrance", "Call before delivery"]),
    )


def _work_minute(rng: random.Random, start: datetime, low: int, high: int) -> datetime:
    return start + timedelta(minutes=rng.randint(low, high))


def _replay_order(c: Container, clock: FixedClock, rng: random.Random, ref: dict[str, Any], number: int,
                  created: datetime, now: datetime) -> None:
    clock.set(created)
    placed = handlers.place_order(PlaceOrder(draft=_draft(rng, ref, number), actor="system:demo-import"),
                                  uow=UnitOfWork(c.db, clock), config=c.lifecycle,
                                  duplicate_window=c.duplicate_window, rules=c.review_rules)
    at = created
    slow = rng.random() < 0.07  # a few orders get stuck: the board shows SLA breaches
    hold_at = rng.randrange(0, 6) if rng.random() < 0.06 else None
    cancel_at = rng.randrange(0, 5) if rng.random() < 0.04 else None

    def move(action: Action, when: datetime, actor: str, reason: str | None = None) -> None:
        clock.set(when)
        handlers.move_order(MoveOrder(order_id=placed.order_id, action=action.value, actor=actor, reason=reason),
                            uow=UnitOfWork(c.db, clock), config=c.lifecycle)

    with c.db.read() as conn:
        stage = conn.execute(select(orders.c.stage).where(orders.c.id == placed.order_id)).scalar()
        in_queue = conn.execute(select(review_cases.c.order_id).where(
            review_cases.c.order_id == placed.order_id)).first() is not None
    if in_queue:  # review held it: someone works the exception queue, unless it arrived lately
        stage = _work_case(c, clock, rng, placed.order_id, created, now)
    if stage != "reserved":
        return  # waiting for stock, or still in the exception queue: it stays, as a real one would
    first = 3  # the rules approved it and its stock is reserved: the warehouse takes it from here
    for step, (action, (low, high), who) in enumerate(STEP_MINUTES):
        if step < first:
            continue
        actor = who if who.startswith("system:") else f"user:{who}"
        if cancel_at == step:
            when = _work_minute(rng, at, 10, 300)
            if when < now:
                move(Action.CANCEL, when, "user:service@conveyor.demo", rng.choice(CANCEL_REASONS))
            return
        if hold_at == step:
            when = _work_minute(rng, at, 5, 60)
            if when >= now:
                return
            move(Action.HOLD, when, "user:service@conveyor.demo", rng.choice(HOLD_REASONS))
            at = _work_minute(rng, when, 60, 20 * 60)
            if at >= now:
                return
            move(Action.RELEASE, at, "user:manager@conveyor.demo", "Checked and cleared")
        factor = rng.uniform(3, 8) if slow and step < 6 else 1
        when = _work_minute(rng, at, int(low * factor), int(high * factor))
        if when >= now:
            return
        move(action, when, actor)
        at = when


def _work_case(c: Container, clock: FixedClock, rng: random.Random, order_id: int, created: datetime,
               now: datetime) -> str:
    """A person works the held order's case some business hours later: most are approved with a comment,
    some cancelled; the latest ones are still waiting in the queue."""
    when = _work_minute(rng, created, 20, 26 * 60)
    if when >= now:
        return "on_hold"
    clock.set(when)
    uow = UnitOfWork(c.db, clock)
    if rng.random() < 0.8:
        done = review_actions.approve(order_id, actor="user:manager@conveyor.demo",
                                      comment=rng.choice(APPROVE_COMMENTS), can_override=True, uow=uow,
                                      config=c.lifecycle)
    else:
        done = review_actions.cancel(order_id, actor="user:service@conveyor.demo",
                                     reason=rng.choice(CANCEL_REASONS), uow=uow, config=c.lifecycle)
    return done.stage


def load_demo(c: Container, *, orders: int = 1000, seed: int = 11, console: Console | None = None) -> DemoSummary:
    """Loads the demo world once; a database that already has products is left alone."""
    rng = random.Random(seed)
    now = c.clock.now()
    start = now - timedelta(days=30)
    with c.db.write() as conn:
        if conn.execute(select(func.count()).select_from(products)).scalar_one():
            return DemoSummary(0, 0, 0, 0, skipped=True)
        ref = _reference_data(conn, rng, start, n_customers=100)
        _users(conn, start)
    clock = FixedClock(start)
    # The manager started from the standard review rules a month ago.
    rulesets.use_standard_rules("user:manager@conveyor.demo", uow=UnitOfWork(c.db, clock))
    rulesets.publish("Standard rules to start with", "user:manager@conveyor.demo", uow=UnitOfWork(c.db, clock),
                     cache=c.review_rules)
    # More orders lately (a growing shop), mostly in daytime, Europe/Amsterdam.
    moments = [now - timedelta(days=30 * rng.random() ** 2.2) for _ in range(orders)]
    moments = [m.replace(hour=rng.randint(7, 21)) if not 7 <= m.hour <= 21 else m for m in moments]
    progress = Progress(console=console or make_console(), transient=True)
    with progress:
        task = progress.add_task("Replaying 30 days of orders", total=len(moments))
        moments = sorted(m for m in moments if m < now)
        for number, created in enumerate(moments):
            _replay_order(c, clock, rng, ref, number, created, now)
            progress.advance(task)
    c.lifecycle.invalidate()
    from conveyor.demo_capture import load_captures

    load_captures(c, ref)
    return DemoSummary(len(WAREHOUSES), len(ref["prices"]), len(ref["accounts"]), len(moments), skipped=False)

