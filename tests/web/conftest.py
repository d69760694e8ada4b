"""Fixtures for the page tests: a seeded site on SQLite and on PostgreSQL.

``site`` is fresh for each test (for tests that change accounts, sessions or the clock);
``shared_site`` is built once per module and backend, for tests that only read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.web.support import BACKENDS, GENEROUS_LIMITS, Site, build_site, module_engine


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, ledger_id: str) -> Site:
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return build_site(engine, ledger_id)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with module_engine(request, tmp_path_factory, "web") as engine:
        yield build_site(engine, f"t-{uuid.uuid4().hex[:12]}", **GENEROUS_LIMITS)
