from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.api.support import Api, build_api


@pytest.fixture
def sqlite_api(sqlite_engine: Engine, ledger_id: str) -> Api:
    return build_api(sqlite_engine, ledger_id)


@pytest.fixture
def postgres_api(postgres_engine: Engine, ledger_id: str) -> Api:
    return build_api(postgres_engine, ledger_id)
