"""Shared fixtures: a fresh, migrated database on SQLite and on PostgreSQL.

PostgreSQL tests read the server's URL from HABEAS_TEST_POSTGRES_URL (``.ci/run``
sets it).  Each test session creates its own database there and drops it after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from habeas.store import migrate
from habeas.store.engine import make_engine, resolve_database_url
from tests.hypothesis_inputs import examples_ignore_imported_modules

POSTGRES_ENV = "HABEAS_TEST_POSTGRES_URL"
T0 = datetime(2025, 3, 15, 22, 4, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    examples_ignore_imported_modules()  # the same examples however the tests are selected


def at(minutes: float = 0) -> datetime:
    """A fixed clock for tests: minutes after 2025-03-15 22:04 UTC."""
    return T0 + timedelta(minutes=minutes)


def postgres_server_url() -> str:
    """The PostgreSQL server's URL from HABEAS_TEST_POSTGRES_URL; skips the test without it."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("HABEAS_REQUIRE_POSTGRES"):
            pytest.fail(f"HABEAS_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not")
        pytest.skip(f"{POSTGRES_ENV} is not set: no PostgreSQL server to test against")
    return resolve_database_url(base)


@contextmanager
def scratch_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the test server, named ``<prefix>_<random>``; dropped after."""
    base = postgres_server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with scratch_postgres_database("habeas_test") as url:
        yield url


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'habeas.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database on each backend in turn: a test that takes ``engine`` runs on SQLite and PostgreSQL."""
    found: Engine = request.getfixturevalue(f"{request.param}_engine")
    return found


@pytest.fixture
def ledger_id() -> str:
    """A ledger of its own for each test, so tests can share one PostgreSQL database."""
    return f"t-{uuid.uuid4().hex[:12]}"
