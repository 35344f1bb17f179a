"""Webhook signatures and headers of Shopify and WooCommerce. Pure: no I/O, no clock.

Both platforms sign the raw request body the same way: base64(HMAC-SHA256(secret, body)), sent in
X-Shopify-Hmac-SHA256 (Shopify) or X-WC-Webhook-Signature (WooCommerce). Verify the bytes exactly as they
arrived, before any JSON parsing: a re-encoded body has another signature. A missing or empty header or
secret never verifies; the comparison takes the same time whatever the header holds (hmac.compare_digest).

WooCommerce sends a ping when a webhook is created: a form body `webhook_id=<id>` without signature or topic.
It must be answered 200 (else WooCommerce refuses to save the webhook) and carries nothing to capture:
`is_woocommerce_ping` recognises it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

SHOPIFY = "shopify"
WOOCOMMERCE = "woocommerce"

SHOPIFY_SIGNATURE_HEADER = "X-Shopify-Hmac-SHA256"
SHOPIFY_DELIVERY_HEADER = "X-Shopify-Webhook-Id"
SHOPIFY_TOPIC_HEADER = "X-Shopify-Topic"
SHOPIFY_SENDER_HEADER = "X-Shopify-Shop-Domain"

WOOCOMMERCE_SIGNATURE_HEADER = "X-WC-Webhook-Signature"
WOOCOMMERCE_DELIVERY_HEADER = "X-WC-Webhook-Delivery-ID"
WOOCOMMERCE_TOPIC_HEADER = "X-WC-Webhook-Topic"
WOOCOMMERCE_SENDER_HEADER = "X-WC-Webhook-Source"


@dataclass(frozen=True)
class HeaderNames:
    signature: str
    delivery_id: str
    topic: str
    sender: str


HEADERS = {
    SHOPIFY: HeaderNames(SHOPIFY_SIGNATURE_HEADER, SHOPIFY_DELIVERY_HEADER, SHOPIFY_TOPIC_HEADER,
                         SHOPIFY_SENDER_HEADER),
    WOOCOMMERCE: HeaderNames(WOOCOMMERCE_SIGNATURE_HEADER, WOOCOMMERCE_DELIVERY_HEADER, WOOCOMMERCE_TOPIC_HEADER,
                             WOOCOMMERCE_SENDER_HEADER),
}


@dataclass(frozen=True)
class WebhookHeaders:
    """What a webhook request says about itself (each None when the header is absent or blank)."""

    signature: str | None
    delivery_id: str | None  # idempotency: the same delivery sent again carries the same id
    topic: str | None  # "orders/create" (Shopify), "order.created" (WooCommerce)
    sender: str | None  # the shop domain (Shopify) or the shop's URL (WooCommerce)


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name; None when absent or blank."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    if value is None:
        return None
    return value.strip() or None


def webhook_headers(platform: str, headers: Mapping[str, str]) -> WebhookHeaders:
    """Reads the signature, delivery id, topic and sender headers of `platform` ("shopify", "woocommerce")."""
    try:
        names = HEADERS[platform]
    except KeyError:
        raise ValueError(f"no webhook headers known for {platform!r} (known: {', '.join(HEADERS)})") from None
    return WebhookHeaders(header_value(headers, names.signature), header_value(headers, names.delivery_id),
                          header_value(headers, names.topic), header_value(headers, names.sender))


def _sign(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _verify(body: bytes, signature: str | None, secret: str) -> bool:
    if not secret or not signature or not signature.strip():
        return False
    expected = _sign(body, secret).encode("ascii")
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def sign_shopify(body: bytes, secret: str) -> str:
    """The X-Shopify-Hmac-SHA256 value Shopify sends for `body` (for tests and the docs' curl example)."""
    return _sign(body, secret)


def sign_woocommerce(body: bytes, secret: str) -> str:
    """The X-WC-Webhook-Signature value WooCommerce sends for `body`."""
    return _sign(body, secret)


def verify_shopify(body: bytes, header: str | None, secret: str) -> bool:
    """True when `header` (X-Shopify-Hmac-SHA256) is the signature of the raw `body` with `secret`."""
    return _verify(body, header, secret)


def verify_woocommerce(body: bytes, header: str | None, secret: str) -> bool:
    """True when `header` (X-WC-Webhook-Signature) is the signature of the raw `body` with `secret`."""
    return _verify(body, header, secret)


def verify(platform: str, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Checks the signature header of `platform` in `headers` against the raw `body`."""
    return _verify(body, webhook_headers(platform, headers).signature, secret)


_PING = re.compile(rb"^\s*webhook_id=\d+\s*$")


def is_woocommerce_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """True for the ping WooCommerce sends when a webhook is saved: body `webhook_id=<id>`, no topic header."""
    return header_value(headers, WOOCOMMERCE_TOPIC_HEADER) is None and bool(_PING.match(body))
