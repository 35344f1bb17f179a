"""Recently looked-up API tokens, per process.

A busy integration sends the same bearer token thousands of times a second; looking it up every time cost a
database round trip per request. A successful lookup is trusted for `ttl` seconds (setting
`token_cache_seconds`, default 5; 0 turns the cache off). Revoking a token or changing its user in this process
clears the cache at once; in other processes (a second server worker, the CLI) the change takes effect within
`ttl`. Unknown or refused tokens are never cached. Keys are SHA-256 digests, not the tokens themselves.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from datetime import datetime, timedelta

from conveyor.identity.principal import Principal
from conveyor.kernel.clock import Clock


class TokenCache:
    def __init__(self, ttl: float, clock: Clock, max_entries: int = 10_000) -> None:
        self.ttl = timedelta(seconds=ttl)
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, datetime]] = {}
        self._lock = threading.Lock()
        self.inflight: dict[tuple[int, str], asyncio.Task[Principal | None]] = {}  # lookups under way

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> Principal | None:
        if not self.ttl:
            return None
        entry = self._entries.get(self.key(token))
        if entry is None or entry[1] <= self.clock.now():
            return None
        return entry[0]

    def put(self, token: str, principal: Principal, expires_at: datetime | None = None) -> None:
        """Trusts the lookup for ttl, and never past the token's own expiry."""
        if not self.ttl:
            return
        until = self.clock.now() + self.ttl
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[self.key(token)] = (principal, min(until, expires_at) if expires_at else until)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
