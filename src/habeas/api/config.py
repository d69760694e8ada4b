"""What the API needs from outside: the database, the ledger, the clock, and its limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import Engine

PREFIX = "/api/v1"
# Requests per process that may hold a pooled connection at once (security.request_database);
# the pool must be larger (habeas.api.server), so that whatever else checks one out never waits
# on requests that are themselves waiting for a thread.  Four, not more: a request's database work is
# short, and with ten in flight per process on two cores the lookups' p99 was 157-171 ms against 108 ms
# with four, at the same throughput (benchmarks/api.py --quick, docs/benchmarks.md).
REQUEST_CONNECTIONS = 4


def utc_now() -> datetime:
    """The server is an edge of the system: the one place besides the CLI that reads the clock."""
    return datetime.now(UTC)


@dataclass
class ApiConfig:
    engine: Engine
    ledger_id: str
    clock: Callable[[], datetime] = utc_now
    hasher: PasswordHasher | None = None  # None: argon2-cffi's defaults (argon2id, RFC 9106)
    session_ttl: timedelta = timedelta(minutes=30)
    # Public endpoints (no sign-in) are rate-limited per client address ("limits" notation).
    public_rate: str = "60/minute"
    # Sign-in attempts per client address, on top of the per-account lockout.
    sign_in_rate: str = "20/minute"
    # Aggregate statistics suppress any figure below this (small numbers identify people).
    small_number: int = 5
    trusted_proxies: frozenset[str] = field(default_factory=frozenset)
