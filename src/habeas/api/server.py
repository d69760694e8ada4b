"""The application as uvicorn loads it in each worker process (``habeas serve --workers N``).

Workers are separate processes, so they are told where the register is through the
environment (``HABEAS_DATABASE_URL``, ``HABEAS_LEDGER``), the same variables the CLI reads.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from habeas.api.app import create_app
from habeas.api.config import ApiConfig
from habeas.store.engine import make_engine, resolve_database_url

LEDGER_ENV = "HABEAS_LEDGER"


def app_from_environment() -> FastAPI:
    url = resolve_database_url(None)
    # Requests run on Starlette's thread pool (40 threads): let each find a connection.
    pool = {} if url.startswith("sqlite") else {"pool_size": 20, "max_overflow": 20}
    engine = make_engine(url, **pool)
    return create_app(ApiConfig(engine, os.environ.get(LEDGER_ENV) or "main"))
