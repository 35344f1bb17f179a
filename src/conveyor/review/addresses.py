"""One key per delivery place, so orders to the same address are found whoever the recipient is."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

_SPACE = re.compile(r"[\s,.;#-]+")


def _norm(value: Any) -> str:
    return _SPACE.sub(" ", str(value or "")).strip().lower()


def address_key(address: Mapping[str, Any]) -> str:
    """Street lines, postal code, city and country, normalised (case, spacing, punctuation); not the name."""
    text = "|".join(_norm(address.get(k)) for k in ("line1", "line2", "postal_code", "city", "country"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
