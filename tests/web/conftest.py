"""Fixtures for the page tests: a seeded site on SQLite and on PostgreSQL.

``site`` is fresh for each test (for tests that change accounts, sessions or the clock);
``shared_site`` is built once per module and backend, for tests that only read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from habeas.store import migrate
from habeas.store.engine import make_engine
from tests.web.support import Site, build_site

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, ledger_id: str) -> Site:
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return build_site(engine, ledger_id)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('web') / 'habeas.db'}")
        migrate.upgrade(engine)
    else:
        engine = request.getfixturevalue("postgres_engine")
    # Many sign-ins from one test client address: the per-address limits are tested on a site of their own.
    yield build_site(engine, f"t-{uuid.uuid4().hex[:12]}", sign_in_rate="1000/minute", public_rate="1000/minute")
    if request.param == "sqlite":
        engine.dispose()
