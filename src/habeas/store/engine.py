"""Engines for the embedded default (SQLite file) and production (PostgreSQL).

SQLite: WAL so readers never block the writer, ``synchronous=FULL`` so an
acknowledged append survives a power cut, and a write transaction that starts
with ``BEGIN IMMEDIATE`` so two appenders queue instead of failing half-way.
PostgreSQL: psycopg 3; appends lock the ledger's head row instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

DATABASE_URL_ENV = "HABEAS_DATABASE_URL"
DATA_DIR_ENV = "HABEAS_DATA_DIR"
WRITE = "habeas_write"  # execution option: this connection will append


def data_dir() -> Path:
    """Where habeas keeps its default database and signing keys."""
    return Path(os.environ.get(DATA_DIR_ENV) or user_data_dir("habeas", appauthor=False))


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'habeas.db'}"


def resolve_database_url(url: str | None) -> str:
    """The --database-url option, else HABEAS_DATABASE_URL, else the default file."""
    chosen = url or os.environ.get(DATABASE_URL_ENV) or default_database_url()
    parsed = make_url(chosen)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = resolve_database_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it takes the write lock up front."""
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        yield conn


def is_sqlite(engine_or_conn: Engine | Connection) -> bool:
    return engine_or_conn.dialect.name == "sqlite"
