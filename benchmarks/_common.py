"""Helpers shared by the benchmarks: scratch databases, machine facts, formatting.

Every benchmark works in databases of its own: a file in a temporary directory
for SQLite, and a freshly created (and afterwards dropped) database on the
PostgreSQL server named by ``--postgres-url`` / ``HABEAS_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import os
import platform
import secrets
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from habeas.store.engine import resolve_database_url

POSTGRES_ENV = "HABEAS_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def default_postgres_url() -> str:
    return os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES_URL


def scratch_name(prefix: str = "habeas_bench") -> str:
    """A database name nobody else will pick: ``habeas_bench_<random hex>``."""
    return f"{prefix}_{secrets.token_hex(6)}"


@contextmanager
def scratch_postgres_database(base_url: str, prefix: str = "habeas_bench") -> Iterator[URL]:
    """Create a database next to ``base_url``'s, yield its URL, drop it afterwards.

    The CREATE and DROP run on an autocommit connection to ``base_url``'s database.
    The DROP uses ``WITH (FORCE)`` so a connection left open by a failed run cannot
    leave the scratch database behind.
    """
    base = make_url(resolve_database_url(base_url))
    name = scratch_name(prefix)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def url_string(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info(**extra: Any) -> dict[str, Any]:
    """What a reader needs to compare two runs: CPUs, Python, library versions."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": _version("sqlalchemy"),
        "psycopg": _version("psycopg"),
        "orjson": _version("orjson"),
        "pydantic": _version("pydantic"),
        "eventsourcing": _version("eventsourcing"),
    }
    info.update(extra)
    return info


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def ratio(ours: float, other: float) -> float:
    return ours / other if other > 0 else float("inf")


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ratio(value: float, target: float | None = None, *, strict: bool = False) -> str:
    """``0.73`` or, with a target, ``0.73 ✓`` / ``0.41 ✗`` (strict: must exceed it)."""
    text_ = f"{value:.2f}"
    if target is None:
        return text_
    met = value > target if strict else value >= target
    return f"{text_} {'✓' if met else '✗'}"
