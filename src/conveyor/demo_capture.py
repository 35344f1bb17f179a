"""Demo captures: a trading partner on the EDI channel, a Shopify webhook secret, and a few documents imported
through the real capture path, so the channel health screen, the capture log and the acknowledgements have
something to show."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from conveyor.catalog.tables import products
from conveyor.channels.capture.acks import acknowledger_for
from conveyor.channels.capture.documents import read_bytes
from conveyor.channels.capture.service import CaptureRequest, capture
from conveyor.channels.tables import channels, partner_items, trading_partners
from conveyor.customers.tables import customers

if TYPE_CHECKING:
    from conveyor.bootstrap import Container

SHOPIFY_SECRET = "demo-shopify-webhook-secret"
PARTNER = "ZZ:ACMERETAIL"


def _x12(skus: list[str], at: datetime) -> bytes:
    date, time = at.strftime("%Y%m%d"), at.strftime("%H%M")

    def po(control: str, number: str, lines: list[str]) -> list[str]:
        body = [f"ST*850*{control}", f"BEG*00*SA*{number}**{date}", *lines, f"CTT*{len(lines)}"]
        return [*body, f"SE*{len(body) + 1}*{control}"]

    sets = (po("0001", "ACME-4500017", [f"PO1*1*2*CS*54.00**VN*{skus[0]}", f"PO1*2*3*EA*8.95**VN*{skus[1]}"])
            + po("0002", "ACME-4500018", [f"PO1*1*4*EA*8.95**VN*{skus[1]}", "PO1*2*1*EA*12.00**BP*AC-999"])
            + po("0003", "ACME-4500019", ["PO1*1*lots*EA*8.95**VN*" + skus[2]]))
    segments = [f"ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*CONVEYORDEMO   *{at:%y%m%d}*{time}*U*00401"
                "*000000101*0*P*>", f"GS*PO*ACMERETAIL*CONVEYORDEMO*{date}*{time}*101*X*004010", *sets,
                "GE*3*101", "IEA*1*000000101"]
    return ("~\n".join(segments) + "~\n").encode()


def _csv(skus: list[str], accounts: list[str]) -> bytes:
    rows = ["order_id,customer,sku,quantity,unit_price"]
    for n in range(4):
        rows += [f"XLS-{1001 + n},{accounts[n]},{skus[n]},{n + 1},19.90",
                 f"XLS-{1001 + n},{accounts[n]},{skus[n + 4]},1,6.50"]
    rows.append(f"XLS-1005,{accounts[5]},{skus[0]},two,19.90")
    return ("\n".join(rows) + "\n").encode()


def load_captures(c: Container, ref: dict[str, Any]) -> None:
    at = c.clock.now()
    skus = list(ref["prices"])
    with c.db.write() as conn:
        edi = conn.execute(select(channels.c.id).where(channels.c.code == "edi")).scalar_one()
        customer = conn.execute(select(customers.c.id).where(customers.c.account == ref["accounts"][1])).scalar_one()
        partner = conn.execute(insert(trading_partners).values(
            channel_id=edi, partner_id=PARTNER, name="ACME Retail Group", customer_id=customer, our_id=None,
            documents=["997", "855", "856"], units={"CS": 6}, active=True, created_at=at, updated_at=at)
            .returning(trading_partners.c.id)).scalar_one()
        first = conn.execute(select(products.c.id).where(products.c.sku == skus[3])).scalar_one()
        conn.execute(insert(partner_items).values(partner_id=partner, buyer_item="AC-100", product_id=first))
        conn.execute(update(channels).where(channels.c.code == "shopify").values(webhook_secret=SHOPIFY_SECRET))
    for code, fmt, name, body in (("edi", "x12", "acme-850.x12", _x12(skus, at)),
                                  ("csv", "csv", "orders-week-47.csv", _csv(skus, ref["accounts"]))):
        acknowledger = acknowledger_for(fmt)
        items = read_bytes(body, fmt, name=name, hooks=acknowledger.adapter_hooks if acknowledger else None)
        capture(items, CaptureRequest(source=name, format=fmt, actor="system:demo-import", channel=code), c,
                acknowledger=acknowledger)
