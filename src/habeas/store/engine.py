"""Engines for the embedded default (SQLite file) and production (PostgreSQL).

SQLite: WAL so readers never block the writer, ``synchronous=FULL`` so an
acknowledged append survives a power cut, and a write transaction that starts
with ``BEGIN IMMEDIATE`` so two appenders queue instead of failing half-way.
PostgreSQL: psycopg 3; appends lock the ledger's head row instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

DATABASE_URL_ENV = "HABEAS_DATABASE_URL"
DATA_DIR_ENV = "HABEAS_DATA_DIR"
WRITE = "habeas_write"  # execution option: this connection will append
SQLITE_CACHE_KIB = 65536
SQLITE_MMAP_BYTES = 2**31


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
        # 64 MiB of page cache per connection instead of SQLite's 2 MiB: a sweep or a headcount over a
        # million people reads a few hundred MiB of index pages, and re-reading them from the operating
        # system's cache page by page costs more than the reads themselves.  Pages are allocated as used.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # Reads through a memory map of the file (shared by every connection through the operating
        # system's page cache) instead of a read() and a copy per page: a third less time for the full
        # sweep at a million people.  SQLite caps the size at its compile-time limit (2 GiB by default).
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
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


# Rows SQLite's ANALYZE reads per index (0 = all): enough for the planner to tell a selective
# index from a poor one, in a fifth of a second on a register of a million people.  Not 1,000: its
# estimates then capped every ledger at ~1,000 rows, so the safeguards after a one-person command
# read a rule's whole candidate range (60 ms a check at 1M) instead of the person's own rows.
ANALYSIS_LIMIT = 20_000
# When the statistics are stale: the table has more than doubled (or halved) since ANALYZE
# last saw it, beyond a floor.  Plans go wrong when the planner thinks a big table is empty,
# not when it is off by 10 %; refreshing at each doubling costs O(log n) ANALYZEs for a
# register built by mass intakes (on PostgreSQL autovacuum usually gets there first).
STALE_SHARE = 1.0
STALE_FLOOR = 500


def refresh_statistics(engine: Engine, tables: Sequence[str] = ()) -> None:
    """Give the query planner statistics after bulk work (a mass intake) or a migration.

    Without them SQLite plans the register's queries blind (a safeguard re-check once
    scanned every held episode of the facility), and PostgreSQL keeps the estimates of the
    empty tables it started with until autovacuum gets round to them (a nested loop over
    every person for the duplicate check).  Sampling-based on both, so it stays cheap;
    ``tables`` (default: all) keeps it to the tables the work changed.
    """
    statements = [f"ANALYZE {name}" for name in tables] or ["ANALYZE"]
    with write_transaction(engine) as conn:
        if is_sqlite(conn):
            conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
            try:
                for statement in statements:
                    conn.exec_driver_sql(statement)
            finally:
                conn.exec_driver_sql("PRAGMA analysis_limit=0")
        else:
            for statement in statements:
                conn.exec_driver_sql(statement)


def statistics_are_stale(engine: Engine, table: str, rows_now: int) -> bool:
    """Whether ``table`` holds so many more (or fewer) rows than its last ANALYZE saw that plans mislead.

    ``rows_now`` is the caller's count (the register keeps counters, so nothing is scanned);
    the rows ANALYZE saw are in ``sqlite_stat1`` (SQLite) or ``pg_class.reltuples``
    (PostgreSQL, -1 before the first ANALYZE).
    """
    with engine.connect() as conn:
        if is_sqlite(conn):
            has_stats = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
            ).first()
            stat = (
                conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1", (table,)).scalar()
                if has_stats
                else None
            )
            seen = float(str(stat).split()[0]) if stat else 0.0
        else:
            reltuples = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE relname = %s AND relkind = 'r'", (table,)
            ).scalar()
            seen = max(0.0, float(reltuples or 0))
    return abs(rows_now - seen) > STALE_SHARE * seen + STALE_FLOOR
