"""Every transfer contract runs on SQLite and on PostgreSQL (the shared fixtures of tests/conftest.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    name = "postgres_engine" if request.param == "postgres" else "sqlite_engine"
    found: Engine = request.getfixturevalue(name)
    return found
