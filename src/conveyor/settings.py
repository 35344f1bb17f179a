"""Settings come from the environment (prefix CONVEYOR_) or a .env file; nothing is read at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONVEYOR_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///conveyor.db", description="SQLAlchemy URL")
    secret_key: str = Field(default="dev-insecure-change-me", description="signs nothing yet; reserved")
    secure_cookies: bool = Field(default=False, description="set the Secure flag (true behind HTTPS)")
    session_hours: int = 12
    auto_migrate: bool = Field(default=True, description="upgrade the schema on start (SQLite only)")
    relay_enabled: bool = Field(default=True, description="run the in-process outbox relay thread")
    relay_interval_seconds: float = 0.5
    hold_sweep_interval_seconds: float = Field(default=5.0, gt=0,
                                               description="seconds between sweeps that return expired holds")
    intake_max_batch: int = Field(default=128, ge=1, le=1000,
                                  description="most orders placed together in one transaction (group commit)")
    token_cache_seconds: float = Field(default=5.0, ge=0, description="how long a process trusts an API token "
                                       "it has looked up; revocations elsewhere take effect within this time")
    duplicate_window_hours: float = Field(default=24, ge=0, description="an order with the same customer, ship-to "
                                          "and lines as one placed this many hours before, under another id, is "
                                          "held for review as a probable duplicate; 0 turns the check off")
    db_pool_size: int = Field(default=10, ge=1, description="database connections kept open per process")
    log_json: bool = False
    log_level: str = "INFO"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split("///", 1)[-1]
        return None if raw in ("", ":memory:") else Path(raw)
