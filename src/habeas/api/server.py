"""The application as uvicorn loads it in each worker process (``habeas serve --workers N``).

Workers are separate processes, so they are told where the register is through the
environment (``HABEAS_DATABASE_URL``, ``HABEAS_LEDGER``), the same variables the CLI reads.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from habeas.api.app import create_app
from habeas.api.config import REQUEST_CONNECTIONS, ApiConfig
from habeas.store.engine import make_engine, resolve_database_url

LEDGER_ENV = "HABEAS_LEDGER"


def app_from_environment() -> FastAPI:
    url = resolve_database_url(None)
    # Up to REQUEST_CONNECTIONS requests hold one connection each; the rest of the pool is for whatever else
    # checks one out (public pages, services of commands), so nothing waits on a request waiting for a thread.
    engine = make_engine(url, pool_size=2 * REQUEST_CONNECTIONS, max_overflow=2 * REQUEST_CONNECTIONS)
    return create_app(ApiConfig(engine, os.environ.get(LEDGER_ENV) or "main"))
