"""Schemathesis over the whole API: no 5xx, and every response matches the OpenAPI description.

Each operation is a test of its own, run as the facility director (the widest write
access), as oversight (every read) and without credentials (every guarded route must
answer 401 as documented).  (Schemathesis's pytest loader does not run on pytest 9,
so operations are collected from the schema here and driven with Hypothesis.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import create_engine

from habeas.api.app import create_app
from habeas.api.config import PREFIX, ApiConfig
from habeas.domain.access import Role
from habeas.store.engine import make_engine
from habeas.store.migrate import upgrade
from tests.api.support import Api, build_api

SCHEMA_URL = f"{PREFIX}/openapi.json"
# The description does not depend on the data: read it once to list the operations.
_description = create_app(ApiConfig(create_engine("sqlite://"), "schema-only")).openapi()
OPERATIONS = sorted((method.upper(), path) for path, item in _description["paths"].items() for method in item)
# "Schema-valid request rejected": the domain refuses more than a schema can say (an admission in the
# future, a proof beyond the ledger's size) with a documented 422 naming the rule.  Every other check runs.
DOMAIN_RULES_APPLY = schemathesis.checks.positive_data_acceptance
WHO = {"director": Role.DIRECTOR, "oversight": Role.OVERSIGHT, "anonymous": None}


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Any]]:
    """One register for every operation (the fuzzing accumulates data, as a real server would)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'habeas.db'}")
    upgrade(engine)
    api = build_api(engine, "schemathesis")
    yield api, schemathesis.openapi.from_asgi(SCHEMA_URL, api.client.app)
    engine.dispose()


@pytest.mark.parametrize("who", list(WHO))
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_keeps_its_promises(shared_api: tuple[Api, Any], method: str, path: str, who: str) -> None:
    sqlite_api, schema = shared_api
    operation = schema[path][method]
    role = WHO[who]
    headers = sqlite_api.as_(role) if role else {}

    @given(case=operation.as_strategy())
    @settings(max_examples=6 if role else 2, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=True)  # fmt: skip
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[DOMAIN_RULES_APPLY])

    run()


@pytest.fixture(scope="module")
def shared_postgres_api(postgres_engine: Any) -> tuple[Api, Any]:
    api = build_api(postgres_engine, "schemathesis-pg")
    return api, schemathesis.openapi.from_asgi(SCHEMA_URL, api.client.app)


@pytest.mark.postgres
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_on_postgresql(shared_postgres_api: tuple[Api, Any], method: str, path: str) -> None:
    """PostgreSQL refuses some values SQLite stores (a NUL in text): fuzz it too, as the director."""
    api, schema = shared_postgres_api
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=api.as_(Role.DIRECTOR), excluded_checks=[DOMAIN_RULES_APPLY])

    run()
